// Assembles the chat bot: the runbook executor (with the chat runbooks, and
// any others the caller runs), the ticket checker named by the settings, and
// the engine. The terminal REPL, the chat adapters' servers and the tests
// all build it here, so they exercise the same thing.
import type { Store } from '../store/types.ts';
import type { Clock } from '../common/clock.ts';
import type { KubeHttp } from '../kube/http.ts';
import type { LoadedRunbook } from '../runbooks/loader.ts';
import type { Notifier } from '../runbooks/types.ts';
import { wireRemediation, type Remediation } from '../runbooks/wiring.ts';
import { Authorizer } from '../authz/authorizer.ts';
import { KubemendChatEngine } from './engine.ts';
import { JiraTicketChecker } from './jira.ts';
import { StaticTicketChecker, type TicketChecker } from './justification.ts';
import { chatRunbooks } from './operations.ts';
import type { ChatSettings } from './settings.ts';

export interface ChatWiringOptions {
  store: Store;
  clock: Clock;
  settings: ChatSettings;
  kube: (cluster: string) => KubeHttp | undefined;
  clusters?: string[];
  /** Default: the policy file named by the settings. */
  authorizer?: Authorizer;
  /** Default: Jira when configured, else the settings' static ticket list. */
  tickets?: TicketChecker;
  /** Runbooks besides the chat ones (e.g. for remediation in the same process). */
  runbooks?: LoadedRunbook[];
  notifiers?: Notifier[];
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

export interface ChatWiring {
  engine: KubemendChatEngine;
  remediation: Remediation;
}

export async function wireChat(o: ChatWiringOptions): Promise<ChatWiring> {
  const authorizer = o.authorizer ?? (o.settings.policy ? await Authorizer.fromFile(o.settings.policy) : undefined);
  if (!authorizer) throw new Error('the chat bot needs an RBAC policy: set `policy` in the chat settings or pass an authorizer');
  const remediation = wireRemediation({
    store: o.store,
    clock: o.clock,
    runbooks: [...chatRunbooks(), ...(o.runbooks ?? [])],
    kube: o.kube,
    notifiers: o.notifiers,
    // Membership and RBAC are checked by the chat engine before it decides.
    approvers: () => true,
    log: o.log,
  });
  const engine = new KubemendChatEngine({
    store: o.store,
    clock: o.clock,
    executor: remediation.executor,
    authorizer,
    settings: o.settings,
    kube: o.kube,
    clusters: o.clusters,
    tickets: o.tickets ?? ticketChecker(o.settings, o.env ?? process.env),
    runbookApprovals: remediation.approvals,
    log: o.log,
  });
  await engine.start();
  return { engine, remediation };
}

/** Jira when the settings name it (credentials from the environment), else the static list when it has entries. */
export function ticketChecker(s: ChatSettings, env: NodeJS.ProcessEnv): TicketChecker | undefined {
  const jira = s.justification.jira;
  if (jira) {
    return new JiraTicketChecker({
      url: jira.url,
      allowedStatuses: jira.allowedStatuses,
      token: jira.tokenEnv ? env[jira.tokenEnv] : undefined,
      user: jira.userEnv ? env[jira.userEnv] : undefined,
      timeoutMs: jira.timeout,
    });
  }
  if (Object.keys(s.justification.tickets).length) return new StaticTicketChecker(s.justification.tickets, ['Approved']);
  return undefined;
}
