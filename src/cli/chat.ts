// `kubemend chat`: the chat bot in a terminal. On the sandbox (replaying a
// scenario, with the shipped rules detecting so `det:` links work) it is the
// way to try the bot; against real clusters it is a chat client with the
// same checks as Slack: RBAC, justification, confirmation, approval, audit.
import type { Command } from 'commander';
import type { Readable, Writable } from 'node:stream';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubemendError, Errors } from '../common/errors.ts';
import { openStore } from '../store/index.ts';
import type { Store } from '../store/types.ts';
import { DetectionEngine } from '../rules/engine.ts';
import { loadRules } from '../rules/loader.ts';
import { kindsToWatch } from '../rules/kinds-needed.ts';
import { KubeSource } from '../rules/sources/kube-source.ts';
import { chatSettings, loadChatConfig, type ChatSettings } from '../chat/settings.ts';
import { TerminalAdapter } from '../chat/terminal.ts';
import { wireChat } from '../chat/wiring.ts';
import { parseSpeed } from './flags.ts';
import { clusterTarget, sandboxTarget, type ChatTarget, type Stops } from './chat-targets.ts';

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

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DEFAULT_POLICY = join(ROOT, 'config/chat-policy.csv');
const collect = (v: string, prev: string[] = []) => [...prev, v];

/** Settings for trying the bot on the sandbox: prod-like namespaces need approval; DEMO-1 is an approved ticket. */
export const SANDBOX_SETTINGS = {
  defaultCluster: 'sandbox',
  production: [{ cluster: 'sandbox', namespaces: ['prod', 'prod-*', 'production'] }],
  approval: { groups: ['sre-leads'], timeout: '30m' },
  justification: { alertHosts: ['alertmanager.example.com', 'grafana.example.com'], tickets: { 'DEMO-1': 'Approved', 'DEMO-2': 'In Review' } },
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
    .option('--context <name>', 'kubeconfig context (repeatable; default: the current one)', collect, [])
    .option('--config <file>', 'chat settings (kind ChatConfig, see docs/chat.md)')
    .option('--policy <file>', 'RBAC policy, CSV or YAML (default: the config\'s, else config/chat-policy.csv)')
    .option('--user <name>', 'who you are (default: alice on the sandbox, else your login name)')
    .option('--groups <a,b>', 'your groups, comma-separated (in addition to the policy\'s g lines)')
    .option('--room <name>', 'the room you talk in', 'ops')
    .option('--production <namespace>', 'also treat this namespace of the default cluster as production (repeatable)', collect, [])
    .option('--db <url>', 'postgres://… for PostgreSQL (or $KUBEMEND_DB); default SQLite in the data directory')
    .option('--data-dir <dir>', 'data directory (default $KUBEMEND_HOME or ~/.kubemend)')
    .action(async (f: ChatFlags) => runChat(f));
}

export interface ChatIo {
  input: Readable;
  output: Writable;
  interactive: boolean;
}

export async function runChat(f: ChatFlags, io: ChatIo = { input: process.stdin, output: process.stdout, interactive: Boolean(process.stdin.isTTY) }): Promise<void> {
  if (!f.sandbox && !f.kubeconfig) throw new KubemendError(Errors.BAD_FLAG, 'pass --sandbox to try the bot on the embedded sandbox, or --kubeconfig PATH --config FILE to act on clusters');
  if (f.kubeconfig && !f.config) throw new KubemendError(Errors.BAD_FLAG, '--kubeconfig needs --config FILE: on real clusters, production and approvers must be configured, never assumed');
  const out = (l: string) => io.output.write(`${l}\n`);
  let settings: ChatSettings = f.config ? loadChatConfig(f.config) : chatSettings(SANDBOX_SETTINGS);
  if (f.production.length) settings = { ...settings, production: [...settings.production, { cluster: settings.defaultCluster, namespaces: f.production }] };
  const policy = f.policy ?? settings.policy ?? DEFAULT_POLICY;
  settings = { ...settings, policy };
  const store = await openStore({ db: f.db, dataDir: f.dataDir });
  const stops: (() => Promise<void> | void)[] = [() => store.close()];
  try {
    const env = f.sandbox ? await onSandbox(f, store, out, stops) : onClusters(f, settings);
    if (f.sandbox) settings = { ...settings, defaultCluster: 'sandbox' };
    const { engine, remediation } = await wireChat({ store, clock: env.clock, settings, kube: env.kube, clusters: env.clusters, log: (l) => out(`log: ${l}`) });
    stops.unshift(async () => {
      engine.stop();
      await remediation.executor.idle();
    });
    const user = f.user ?? (f.sandbox ? 'alice' : userInfo().username);
    const groups = f.groups ? f.groups.split(',').map((g) => g.trim()).filter(Boolean) : [];
    const terminal = new TerminalAdapter({ input: io.input, output: io.output, user: { id: `terminal:${user}`, name: user, groups }, room: f.room.replace(/^#/, ''), prompt: io.interactive });
    out(`kubemend chat: you are ${user}${groups.length ? ` (groups: ${groups.join(', ')})` : ''} in #${terminal.room}; policy ${policy}`);
    if (!settings.production.length) out('warning: the chat config marks nothing as production, so no request needs an approval');
    out('type help for commands, /help for terminal commands; Ctrl-D to leave');
    await terminal.start(engine);
    const signal = Promise.withResolvers<void>();
    const onSignal = () => signal.resolve();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    await Promise.race([terminal.closed, signal.promise]);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    // Runs already started finish (and report) before the process exits.
    if (remediation.executor.activeCount) out(`waiting for ${remediation.executor.activeCount} run(s) to finish…`);
  } finally {
    for (const stop of stops) await stop();
  }
}

async function onSandbox(f: ChatFlags, store: Store, out: (l: string) => void, stops: Stops): Promise<ChatTarget> {
  const kcPath = join(tmpdir(), 'kubemend-chat-sandbox.kubeconfig');
  const t = await sandboxTarget(f.scenario ?? 'crashloop', f.speed ?? 1, kcPath, out, stops);
  const { sandbox, scenario, kubeconfig: kc } = t;
  const rules = loadRules(f.rules ?? join(ROOT, 'rules')).filter((r) => r.rule.spec.source !== 'schedule');
  const source = new KubeSource({ cluster: 'sandbox', kubeconfig: kc, clock: sandbox.clock, kinds: kindsToWatch(rules) });
  const detection = new DetectionEngine({
    clock: sandbox.clock,
    rules,
    lookup: (_c, kind, ns) => source.list(kind, ns),
    hooks: {
      onDetection: (d, change) => {
        if (change !== 'opened') return;
        void store.putDetection(d).then(() => out(`· detection: ${d.rule} on ${d.subject.kind.toLowerCase()} ${d.subject.namespace ? `${d.subject.namespace}/` : ''}${d.subject.name} — justify with det:${d.id.slice(0, 8)}`)).catch(() => undefined);
      },
    },
  });
  await source.start((sig) => detection.ingest(sig));
  stops.unshift(() => {
    detection.stop();
    source.stop();
  });
  out(`sandbox at ${sandbox.url} (kubectl: export KUBECONFIG=${kcPath}), replaying ${scenario.metadata.name} at ${f.speed ?? 1}x`);
  return t;
}

function onClusters(f: ChatFlags, settings: ChatSettings): ChatTarget {
  return clusterTarget(f.kubeconfig, f.context, settings);
}
