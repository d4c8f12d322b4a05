// The chat engine over a given executor: the pipeline builds one executor per
// process (one set of locks and budgets for chat and detections alike) and
// hands it here with its approval book. The ticket and alert checkers are
// the ones the settings name.
import { type ConsoleLinks, type Clock, redactor } from '../common/index.ts';
import type { Store } from '../store/index.ts';
import type { KubeHttp } from '../kube/index.ts';
import type { ApprovalBook, RunbookExecutor } from '../runbooks/index.ts';
import type { Authorizer } from '../authz/index.ts';
import { KubemendChatEngine } from './engine.ts';
import type { IncidentDesk } from './desk.ts';
import { JiraTicketChecker } from './jira.ts';
import { JiraWriter } from './jira-write.ts';
import { TicketTrace } from './ticket-trace.ts';
import { StaticTicketChecker, type TicketChecker } from './justification.ts';
import { AlertmanagerChecker, type AlertChecker } from './alerts.ts';
import type { ChatSettings } from './settings.ts';
import type { RunbookApprovalListener } from './runbook-approvals.ts';

export interface ChatEngineWiring {
  store: Store;
  clock: Clock;
  settings: ChatSettings;
  executor: RunbookExecutor;
  /** Pending runbook `approval` steps, decided in chat. */
  approvals?: ApprovalBook;
  /** Told of runbook approval requests and decisions. */
  onRunbookApproval?: RunbookApprovalListener;
  authorizer: Authorizer;
  kube: (cluster: string) => KubeHttp | undefined;
  clusters?: string[];
  /** Default: Jira when configured, else the settings' static ticket list. */
  tickets?: TicketChecker;
  /** Default: the settings' Alertmanagers, tokens from the environment. */
  alerts?: AlertChecker;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  /** Other replicas share the store (leader election): their requests in progress are not this process's orphans. */
  replicas?: boolean;
  /** The incident tracker as chat sees it (the pipeline implements it over its incident sink). */
  incidents?: IncidentDesk;
  /** Default: Jira comments when the settings name a Jira with comment on (the default); false for none. */
  ticketTrace?: TicketTrace | false;
  /** Links into the web console, for incident replies. */
  links?: ConsoleLinks;
}

/** The engine, not yet started (call `start()` before serving). */
export function buildChatEngine(o: ChatEngineWiring): KubemendChatEngine {
  return new KubemendChatEngine({
    store: o.store,
    clock: o.clock,
    executor: o.executor,
    authorizer: o.authorizer,
    settings: o.settings,
    kube: o.kube,
    clusters: o.clusters,
    tickets: o.tickets ?? ticketChecker(o.settings, o.env ?? process.env),
    alerts: o.alerts ?? alertChecker(o.settings, o.env ?? process.env),
    runbookApprovals: o.approvals,
    onRunbookApproval: o.onRunbookApproval,
    log: o.log,
    replicas: o.replicas,
    incidents: o.incidents,
    links: o.links,
    ticketTrace: o.ticketTrace === false ? undefined : (o.ticketTrace ?? ticketTrace(o.settings, o.env ?? process.env, o)),
  });
}

/** The Jira comment writer when the settings name a Jira and leave `comment` on; credentials as for the checker. */
export function ticketTrace(s: ChatSettings, env: NodeJS.ProcessEnv, o: { store: Store; clock: Clock; log?: (line: string) => void; links?: ConsoleLinks }): TicketTrace | undefined {
  const jira = s.justification.jira;
  if (!jira?.comment) return undefined;
  const token = jira.tokenEnv ? env[jira.tokenEnv] : undefined;
  const user = jira.userEnv ? env[jira.userEnv] : undefined;
  redactor.addSecret(token);
  if (user && token) redactor.addSecret(Buffer.from(`${user}:${token}`).toString('base64'));
  const writer = new JiraWriter({ url: jira.url, token, user, apiVersion: jira.apiVersion, timeoutMs: jira.timeout, retries: jira.retries, minTimeoutMs: jira.minBackoff, maxTimeoutMs: jira.maxBackoff });
  return new TicketTrace({ writer, store: o.store, clock: o.clock, redact: (t) => redactor.redact(t), transitionOnSuccess: jira.transitionOnSuccess, log: o.log, links: o.links });
}

/** The settings' Alertmanagers, with their API tokens read from the environment. */
export function alertChecker(s: ChatSettings, env: NodeJS.ProcessEnv): AlertChecker {
  const sites = s.justification.alertmanagers.map((a) => ({ url: a.url, apiUrl: a.apiUrl, token: a.bearerTokenEnv ? env[a.bearerTokenEnv] : undefined, timeoutMs: a.timeout }));
  return new AlertmanagerChecker(sites, { windowMs: s.justification.recentWindow });
}

/** Jira when the settings name it (credentials from the environment), else the static list when it has entries. */
export function ticketChecker(s: ChatSettings, env: NodeJS.ProcessEnv): TicketChecker | undefined {
  const jira = s.justification.jira;
  if (jira) {
    const token = jira.tokenEnv ? env[jira.tokenEnv] : undefined;
    const user = jira.userEnv ? env[jira.userEnv] : undefined;
    // Never shown anywhere, nor the basic-auth header built from it.
    redactor.addSecret(token);
    if (user && token) redactor.addSecret(Buffer.from(`${user}:${token}`).toString('base64'));
    return new JiraTicketChecker({
      url: jira.url,
      allowedStatuses: jira.allowedStatuses,
      token,
      user,
      timeoutMs: jira.timeout,
    });
  }
  if (Object.keys(s.justification.tickets).length) return new StaticTicketChecker(s.justification.tickets, ['Approved']);
  return undefined;
}
