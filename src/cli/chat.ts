// `kubemend chat`: the chat bot in a terminal. On the sandbox (replaying a
// scenario, with the shipped rules detecting so `det:` links work) it is the
// way to try the bot; against real clusters it is a chat client with the
// same checks as Slack: RBAC, justification, confirmation, approval, audit.
import type { Command } from 'commander';
import type { Readable, Writable } from 'node:stream';
import { hostname, tmpdir, userInfo } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import { join } from 'node:path';
import { KubemendError, Errors } from '../common/index.ts';
import { openStore } from '../store/index.ts';
import { Authorizer } from '../authz/index.ts';
import { loadRules } from '../rules/index.ts';
import { chatSettings, loadChatConfig, type ChatSettings, type ChatUser, TerminalAdapter, trialUser } from '../chat/index.ts';
import { KubeHttp, whoAmI } from '../kube/index.ts';
import { LinePrinter, Pipeline, subjectText } from '../pipeline/index.ts';
import { parseSpeed } from './flags.ts';
import { DEFAULT_POLICY, SHIPPED_RULES } from './shared.ts';
import { HELP, collect } from './options.ts';
import { clusterTarget, sandboxTarget, type Target } from './targets.ts';

export interface ChatFlags {
  sandbox?: boolean;
  scenario?: string;
  speed?: number;
  rules?: string;
  kubeconfig?: string;
  context: string[];
  config?: string;
  policy?: string;
  user?: string;
  groups?: string;
  room: string;
  production: string[];
  db?: string;
  dataDir?: string;
}


/** Settings for trying the bot on the sandbox: prod-like namespaces need approval; DEMO-1 is an approved ticket; det: ids of the shipped rules' detections justify too (there is no Alertmanager). */
export const SANDBOX_SETTINGS = {
  defaultCluster: 'sandbox',
  production: [{ cluster: 'sandbox', namespaces: ['prod', 'prod-*', 'production'] }],
  approval: { groups: ['sre-leads'], timeout: '30m' },
  justification: { tickets: { 'DEMO-1': 'Approved', 'DEMO-2': 'In Review' } },
};

export function registerChat(program: Command): void {
  program
    .command('chat')
    .description('Talk to the chat bot in a terminal (on the sandbox, or on clusters with a chat config)')
    .option('--sandbox', 'run on the embedded sandbox cluster')
    .option('--scenario <name|file>', 'with --sandbox: the scenario to replay', 'crashloop')
    .option('--speed <x>', 'with --sandbox: virtual time runs x times faster (default 1: requests expire in real minutes)', parseSpeed)
    .option('--rules <dir>', 'with --sandbox: rules that detect (their det: ids justify actions); default the shipped rules')
    .option('--kubeconfig <path>', 'kubeconfig of the clusters to act on (needs --config)')
    .option('--context <name>', HELP.context, collect, [])
    .option('--config <file>', 'chat settings (kind ChatConfig, see docs/chat.md)')
    .option('--policy <file>', 'RBAC policy, CSV or YAML (default: the config\'s, else config/chat-policy.csv)')
    .option('--user <name>', 'with --sandbox: who you are (default alice); on clusters you are the kubeconfig\'s user')
    .option('--groups <a,b>', 'with --sandbox: your groups, comma-separated (in addition to the policy\'s g lines)')
    .option('--room <name>', 'the room you talk in', 'ops')
    .option('--production <namespace>', 'also treat this namespace of the default cluster as production (repeatable)', collect, [])
    .option('--db <url>', HELP.db)
    .option('--data-dir <dir>', HELP.dataDir)
    .action(async (f: ChatFlags) => runChat(f));
}

/**
 * Who a terminal on real clusters is: the default cluster's kubeconfig user,
 * as the API server reports it; the platform identity is the OS user at this
 * host, and so is the session, so one terminal (or two of one OS user) never
 * makes both halves of a four-eyes approval.
 */
export async function terminalUser(kc: KubeConfig): Promise<{ user: ChatUser; source: string }> {
  const me = await whoAmI(new KubeHttp(kc));
  const seat = `${userInfo().username}@${hostname()}`;
  const source = me.source === 'selfsubjectreview' ? 'the API server\'s SelfSubjectReview' : 'the kubeconfig context\'s user name (the API server serves no SelfSubjectReview)';
  return { user: { platform: 'terminal', id: seat, displayName: seat, name: me.user, groups: me.groups, mapping: 'mapped', session: `terminal:${seat}` }, source };
}

export interface ChatIo {
  input: Readable;
  output: Writable;
  interactive: boolean;
}

export async function runChat(f: ChatFlags, io: ChatIo = { input: process.stdin, output: process.stdout, interactive: Boolean(process.stdin.isTTY) }): Promise<void> {
  if (!f.sandbox && !f.kubeconfig) throw new KubemendError(Errors.BAD_FLAG, 'pass --sandbox to try the bot on the embedded sandbox, or --kubeconfig PATH --config FILE to act on clusters');
  if (f.kubeconfig && !f.config) throw new KubemendError(Errors.BAD_FLAG, '--kubeconfig needs --config FILE: on real clusters, production and approvers must be configured, never assumed');
  if (!f.sandbox && (f.user || f.groups)) {
    throw new KubemendError(Errors.BAD_FLAG, '--user and --groups work only with --sandbox: on clusters you act as the kubeconfig\'s user (its SelfSubjectReview, else the context\'s user name), whom the RBAC policy names');
  }
  const out = (l: string) => io.output.write(`${l}\n`);
  let settings: ChatSettings = f.config ? loadChatConfig(f.config) : chatSettings(SANDBOX_SETTINGS);
  if (f.production.length) settings = { ...settings, production: [...settings.production, { cluster: settings.defaultCluster, namespaces: f.production }] };
  const policy = f.policy ?? settings.policy ?? DEFAULT_POLICY;
  settings = { ...settings, policy };
  const store = await openStore({ db: f.db, dataDir: f.dataDir });
  let target: Target | undefined;
  let pipeline: Pipeline | undefined;
  try {
    if (f.sandbox) {
      // One kubeconfig per process: two trial chats must not point each other's kubectl at the wrong sandbox.
      const kcPath = join(tmpdir(), `kubemend-chat-sandbox-${process.pid}.kubeconfig`);
      const t = await sandboxTarget(f.scenario ?? 'crashloop', f.speed ?? 1, kcPath, out);
      out(`sandbox at ${t.sandbox.url} (kubectl: export KUBECONFIG=${kcPath}), replaying ${t.scenario.metadata.name} at ${f.speed ?? 1}x`);
      target = t;
      settings = { ...settings, defaultCluster: 'sandbox' };
    } else {
      target = clusterTarget(f.kubeconfig, f.context);
      if (!target.clusters.some((c) => c.name === settings.defaultCluster)) {
        throw new KubemendError(Errors.BAD_FLAG, `the chat config's defaultCluster "${settings.defaultCluster}" is not one of the contexts (${target.clusters.map((c) => c.name).join(', ')})`);
      }
    }
    // On the sandbox the shipped rules detect, so `det:` links justify actions; on clusters this is a chat client only.
    const rules = f.sandbox ? loadRules(f.rules ?? SHIPPED_RULES) : [];
    pipeline = new Pipeline({
      clock: target.clock,
      clusters: target.clusters,
      rules,
      store,
      chat: { settings, authorizer: await Authorizer.fromFile(policy) },
      sinks: [new LinePrinter(out, (d, change) => (change === 'opened' ? `· detection: ${d.rule} on ${subjectText(d)} — justify with det:${d.id.slice(0, 8)}` : undefined))],
      log: (l) => out(`log: ${l}`),
    });
    await pipeline.start();
    const executor = pipeline.remediation!.executor;
    const me = f.sandbox
      ? { user: trialUser(f.user ?? 'alice', f.groups ? f.groups.split(',').map((g) => g.trim()).filter(Boolean) : []), source: '' }
      : await terminalUser(target.clusters.find((c) => c.name === settings.defaultCluster)!.kubeconfig);
    const { user } = me;
    const groups = user.groups ?? [];
    const terminal = new TerminalAdapter({ input: io.input, output: io.output, user, room: f.room.replace(/^#/, ''), prompt: io.interactive, trial: f.sandbox });
    out(`kubemend chat: you are ${user.name}${groups.length ? ` (groups: ${groups.join(', ')})` : ''} in #${terminal.room}; policy ${policy}`);
    if (me.source) out(`identity: ${user.name} from ${me.source}, at terminal:${user.id}; another person approves from their own terminal or chat`);
    if (!settings.production.length) out('warning: the chat config marks nothing as production, so no request needs an approval');
    out('type help for commands, /help for terminal commands; Ctrl-D to leave');
    await terminal.start(pipeline.chat!);
    const signal = Promise.withResolvers<void>();
    const onSignal = () => signal.resolve();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    await Promise.race([terminal.closed, signal.promise]);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    // Runs already started finish (and report) before the process exits.
    if (executor.activeCount) out(`waiting for ${executor.activeCount} run(s) to finish…`);
    await executor.idle();
  } finally {
    await pipeline?.stop();
    await target?.stop();
    await store.close();
  }
}
