// `kubemend serve`: the chat bot over HTTP — the web console, Slack and
// Mattermost endpoints, /metrics and /healthz — on the same engine as
// `kubemend chat`, either on the embedded sandbox (to try it) or on real
// clusters (with a chat config saying what is production and who approves).
import type { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { KubemendError, Errors } from '../common/errors.ts';
import { openStore } from '../store/index.ts';
import { chatSettings, loadChatConfig, type ChatSettings } from '../chat/settings.ts';
import { wireChat } from '../chat/wiring.ts';
import { createApp } from '../server/app.ts';
import { loadServerConfig, resolveAdapters } from '../server/serve-config.ts';
import { DEFAULT_POLICY, SANDBOX_SETTINGS } from './chat.ts';
import { parseSpeed } from './flags.ts';
import { clusterTarget, sandboxTarget, type ChatTarget, type Stops } from './chat-targets.ts';

export interface ServeFlags {
  listen: string;
  sandbox?: boolean;
  scenario: string;
  speed?: number;
  kubeconfig?: string;
  context: string[];
  config?: string;
  serverConfig?: string;
  policy?: string;
  publicUrl?: string;
  consoleUser?: string;
  logLevel: string;
  db?: string;
  dataDir?: string;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Serve the chat bot over HTTP: web console, Slack, Mattermost, /metrics, /healthz')
    .option('--listen <host:port>', 'address to listen on', '127.0.0.1:8080')
    .option('--sandbox', 'act on the embedded sandbox cluster (to try it)')
    .option('--scenario <name|file>', 'with --sandbox: the scenario to replay', 'crashloop')
    .option('--speed <x>', 'with --sandbox: virtual time runs x times faster', parseSpeed)
    .option('--kubeconfig <path>', 'kubeconfig of the clusters to act on (needs --config)')
    .option('--context <name>', 'kubeconfig context (repeatable; default: the current one)', collect, [])
    .option('--config <file>', 'chat settings (kind ChatConfig, see docs/chat.md)')
    .option('--server-config <file>', 'adapters: console users, Slack/Mattermost rooms and users (kind ServerConfig, see docs/chat-adapters.md)')
    .option('--policy <file>', 'RBAC policy, CSV or YAML (default: the chat config\'s, else config/chat-policy.csv)')
    .option('--public-url <url>', 'kubemend\'s URL as Mattermost reaches it (or $KUBEMEND_PUBLIC_URL)')
    .option('--console-user <name>', 'with no console users configured: the one user this run creates (default alice on the sandbox, else your login)')
    .option('--log-level <level>', 'server log level (request logs at info)', 'warn')
    .option('--db <url>', 'postgres://… for PostgreSQL (or $KUBEMEND_DB); default SQLite in the data directory')
    .option('--data-dir <dir>', 'data directory (default $KUBEMEND_HOME or ~/.kubemend)')
    .action(async (f: ServeFlags) => runServe(f));
}

export async function runServe(f: ServeFlags, out: (l: string) => void = (l) => process.stdout.write(`${l}\n`), env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (!f.sandbox && !f.kubeconfig) throw new KubemendError(Errors.BAD_FLAG, 'pass --sandbox to try the bot on the embedded sandbox, or --kubeconfig PATH --config FILE to act on clusters');
  if (f.kubeconfig && !f.config) throw new KubemendError(Errors.BAD_FLAG, '--kubeconfig needs --config FILE: on real clusters, production and approvers must be configured, never assumed');
  const [host, port] = splitListen(f.listen);
  const spec = loadServerConfig(f.serverConfig);
  // On the sandbox the console talks in #ops, where the shipped policy lets SREs act.
  if (f.sandbox && !f.serverConfig) spec.console.room = 'ops';
  const adapters = resolveAdapters(spec, env, f.publicUrl);
  if (adapters.problems.length) throw new KubemendError(Errors.SERVE_ADAPTERS, `the chat adapters are half configured:\n  ${adapters.problems.join('\n  ')}`);
  let oneTimeToken: string | undefined;
  if (adapters.console && !adapters.console.users.length) {
    oneTimeToken = randomBytes(24).toString('base64url');
    adapters.console.users.push({ name: f.consoleUser ?? (f.sandbox ? 'alice' : userInfo().username), token: oneTimeToken });
  }

  let settings: ChatSettings = f.config ? loadChatConfig(f.config) : chatSettings(SANDBOX_SETTINGS);
  settings = { ...settings, policy: f.policy ?? settings.policy ?? DEFAULT_POLICY };
  const store = await openStore({ db: f.db, dataDir: f.dataDir });
  const stops: (() => Promise<void> | void)[] = [() => store.close()];
  try {
    const target = f.sandbox ? await onSandbox(f, out, stops) : onClusters(f, settings);
    if (f.sandbox) settings = { ...settings, defaultCluster: 'sandbox' };
    const { engine, remediation } = await wireChat({ store, clock: target.clock, settings, kube: target.kube, clusters: target.clusters, env, log: (l) => out(`log: ${l}`) });
    stops.unshift(async () => {
      engine.stop();
      await remediation.executor.idle();
    });
    const logger = { level: f.logLevel, stream: process.stderr };
    const server = await createApp({ engine, slack: adapters.slack, mattermost: adapters.mattermost, console: adapters.console, logger });
    stops.unshift(() => server.app.close());
    try {
      await server.app.listen({ host, port });
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'EACCES') throw new KubemendError(Errors.SERVE_LISTEN, `cannot listen on ${f.listen}: ${code}`, { cause: err });
      throw err;
    }
    const base = `http://${host.includes(':') ? `[${host}]` : host}:${(server.app.server.address() as { port: number }).port}`;
    if (server.mattermost && !adapters.mattermost?.publicUrl) server.mattermost.publicUrl = base;
    out(`kubemend serving on ${base} (policy ${settings.policy})`);
    if (server.console) {
      out(`  console     ${base}/console/  (room ${server.console.room})`);
      if (oneTimeToken) out(`              sign in as ${adapters.console!.users[0].name} with the token ${oneTimeToken} (valid for this run only)`);
    }
    if (server.slack) out(`  slack       ${base}/slack/events, /slack/commands, /slack/interactions`);
    if (server.mattermost) out(`  mattermost  ${base}/mattermost/command (buttons call ${server.mattermost.publicUrl}/mattermost/actions)`);
    out(`  metrics     ${base}/metrics   health ${base}/healthz`);
    const stop = Promise.withResolvers<void>();
    const onSignal = () => stop.resolve();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    await stop.promise;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    out('stopping…');
  } finally {
    for (const s of stops) await s();
  }
}

async function onSandbox(f: ServeFlags, out: (l: string) => void, stops: Stops): Promise<ChatTarget> {
  const kcPath = join(tmpdir(), `kubemend-serve-sandbox-${process.pid}.kubeconfig`);
  const t = await sandboxTarget(f.scenario, f.speed ?? 1, kcPath, out, stops);
  out(`sandbox at ${t.sandbox.url} (kubectl: export KUBECONFIG=${kcPath}), replaying ${t.scenario.metadata.name}`);
  return t;
}

function onClusters(f: ServeFlags, settings: ChatSettings): ChatTarget {
  return clusterTarget(f.kubeconfig, f.context, settings);
}

export function splitListen(v: string): [string, number] {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(v);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new KubemendError(Errors.BAD_FLAG, `--listen "${v}" is not HOST:PORT (e.g. 127.0.0.1:8080, or port 0 for a free one)`);
  return [m[1] ?? m[2], port];
}
