// `kubemend serve`: the service. One process runs detection, remediation,
// incidents, the chat adapters, the web console, the webhooks, /metrics,
// /healthz and /readyz, from one configuration file (kind Config), on real
// clusters or on the embedded sandbox. Rules, runbooks, the policy and the
// config itself are reloaded when they change on disk.
import type { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { realClock, KubemendError, Errors, ConfigError, leaderStatus, formatDuration, consoleLinks } from '../common/index.ts';
import { openStore, type Store } from '../store/index.ts';
import { type Notifications, AuditShipper, resolveEsConnection } from '../notify/index.ts';
import { Authorizer } from '../authz/index.ts';
import { chatSettings, loadChatConfig, type ChatSettings } from '../chat/index.ts';
import { loadRules } from '../rules/index.ts';
import { ACTIONS, checkRuleRunbooks, loadRunbooks, LineNotifier } from '../runbooks/index.ts';
import { LinePrinter, Pipeline, printRuns, Reloader, fingerprint } from '../pipeline/index.ts';
import { createApp, serviceNotifications, loadServerConfig, resolveAdapters, type ServerSpec, loadServiceConfig, type ServiceConfig, resolveWebhooks, auditRefusals, auditStoreOptions, leaseNamespace } from '../server/index.ts';
import { parseSpeed } from './flags.ts';
import { DEFAULT_POLICY, SHIPPED_RULES, SHIPPED_RUNBOOKS, splitListen, untilSignal } from './shared.ts';
import { clusterTarget, sandboxTarget, type Target } from './targets.ts';
import { collect, storeOptions } from './options.ts';
import { SANDBOX_SETTINGS } from './chat.ts';

export interface ServeFlags {
  config?: string;
  listen?: string;
  sandbox?: boolean;
  scenario: string;
  speed?: number;
  stateFile?: string;
  kubeconfig?: string;
  context: string[];
  chatConfig?: string;
  serverConfig?: string;
  policy?: string;
  publicUrl?: string;
  consoleUser?: string;
  logLevel?: string;
  db?: string;
  dataDir?: string;
}

export function registerServe(program: Command): void {
  const cmd = program
    .command('serve')
    .description('The service: detection, remediation, incidents, chat, web console, webhooks, /metrics, /healthz, /readyz')
    .option('--config <file>', 'the service config (kind Config, see docs/serve.md); flags below override it')
    .option('--sandbox', 'act on the embedded sandbox cluster (to try it)')
    .option('--scenario <name|file>', 'with --sandbox: the scenario to replay', 'crashloop')
    .option('--speed <x>', 'with --sandbox: virtual time runs x times faster', parseSpeed)
    .option('--state-file <path>', 'with --sandbox: keep the sandbox cluster in this file, so a restart (even after kill -9) continues it and resumes its runs')
    .option('--listen <host:port>', 'address to listen on (default: the config\'s server.listen, 127.0.0.1:8080)')
    .option('--kubeconfig <path>', 'kubeconfig of the clusters (default: the config\'s clusters.kubeconfig, else $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context (repeatable; default: the config\'s clusters.contexts, else the current one)', collect, [])
    .option('--chat-config <file>', 'chat settings from a ChatConfig file instead of the config\'s spec.chat')
    .option('--server-config <file>', 'adapters from a ServerConfig file instead of the config\'s spec.server')
    .option('--policy <file>', 'RBAC policy, CSV or YAML (default: the config\'s, else config/chat-policy.csv)')
    .option('--public-url <url>', 'kubemend\'s URL as people and Mattermost reach it: console links in chat and notifications (or $KUBEMEND_PUBLIC_URL)')
    .option('--console-user <name>', 'with no console users configured: the one user this run creates (default alice on the sandbox, else your login)')
    .option('--log-level <level>', 'server log level (request logs at info)');
  storeOptions(cmd).action(async (f: ServeFlags) => runServe(f));
}

export async function runServe(f: ServeFlags, out: (l: string) => void = (l) => process.stdout.write(`${l}\n`), env: NodeJS.ProcessEnv = process.env): Promise<void> {
  // Listen for the stop signal first: a SIGTERM during start-up still shuts down cleanly, once started.
  const stopSignal = untilSignal();
  // Fingerprints before anything is read: a file changed while kubemend starts is reloaded, not missed.
  const configPrint = f.config ? fingerprint(f.config) : undefined;
  const config = loadServiceConfig(f.config, { rules: SHIPPED_RULES, runbooks: SHIPPED_RUNBOOKS, policy: f.policy ?? DEFAULT_POLICY });
  const kubeconfig = f.kubeconfig ?? config.clusters.kubeconfig;
  const onClusters = !f.sandbox;
  if (f.stateFile && !f.sandbox) throw new KubemendError(Errors.BAD_FLAG, '--state-file keeps the embedded sandbox\'s state: use it with --sandbox');
  if (onClusters && !kubeconfig && !f.config) throw new KubemendError(Errors.BAD_FLAG, 'pass --sandbox to try kubemend on the embedded sandbox, or --config FILE (kind Config) naming the clusters, what is production and who approves');
  if (onClusters && !f.config && !f.chatConfig) throw new KubemendError(Errors.BAD_FLAG, 'on real clusters pass --config FILE (or --chat-config): production and approvers must be configured, never assumed');
  // Replicas elect a leader on a Lease in a cluster they share; each --sandbox process has a cluster of its own.
  if (config.leaderElection.enabled && f.sandbox) throw new KubemendError(Errors.BAD_FLAG, 'leaderElection.enabled needs a cluster the replicas share, and --sandbox embeds one per process: run `kubemend sandbox --kubeconfig-out PATH` and point every replica at PATH (clusters.kubeconfig)');
  const [host, port] = splitListen(f.listen ?? config.server.listen);
  const spec: ServerSpec = f.serverConfig ? loadServerConfig(f.serverConfig) : structuredClone(config.server) as ServerSpec;
  // On the sandbox the console talks in #ops, where the shipped policy lets SREs act.
  if (f.sandbox && !f.serverConfig && !f.config) spec.console.room = 'ops';
  // Deep links in chat replies and notifications need the address people reach kubemend at; without it, none.
  const links = consoleLinks(f.publicUrl ?? spec.publicUrl ?? env.KUBEMEND_PUBLIC_URL);
  const adapters = resolveAdapters(spec, env, f.publicUrl);
  const hooks = resolveWebhooks(config.webhooks, env);
  const problems = [...adapters.problems, ...hooks.problems];
  if (hooks.kubernetesAudit && !config.incidents.enabled) problems.push('webhooks.kubernetesAudit: its events name the users behind the incidents\' changes, and incidents.enabled is false');
  if (problems.length) throw new KubemendError(Errors.SERVE_ADAPTERS, `the service is half configured:\n  ${problems.join('\n  ')}`);
  // The trace's credentials and CA are read now, so a missing one (KM-TRACE-005) stops start-up before anything is opened.
  if (config.trace.elasticsearch?.enabled) resolveEsConnection(config.trace.elasticsearch, env);
  let oneTimeToken: string | undefined;
  if (adapters.console && !adapters.console.users.length) {
    oneTimeToken = randomBytes(24).toString('base64url');
    adapters.console.users.push({ name: f.consoleUser ?? (f.sandbox ? 'alice' : userInfo().username), token: oneTimeToken });
  }
  let settings: ChatSettings = f.chatConfig ? loadChatConfig(f.chatConfig) : f.config || onClusters ? config.chatSettings : chatSettings(SANDBOX_SETTINGS);
  const policy = f.policy ?? (f.chatConfig ? settings.policy : undefined) ?? config.policy;
  settings = { ...settings, policy };
  if (f.sandbox) settings = { ...settings, defaultCluster: 'sandbox' };
  const prints = { rules: fingerprint(config.rules), runbooks: fingerprint(config.runbooks), policy: fingerprint(policy), config: configPrint };
  const cost = config.cel;
  const rules = loadRules(config.rules, { cost });
  const runbooks = loadRunbooks(config.runbooks, { actions: ACTIONS, cost });
  const wiring = checkRuleRunbooks(rules, runbooks);
  if (wiring.length) throw new ConfigError(wiring);
  const authorizer = await Authorizer.fromFile(policy);

  const db = f.db ?? config.store.db ?? (config.store.dbEnv ? env[config.store.dbEnv] : undefined);
  // On the sandbox there is no cluster yet for a ConfigMap witness: only a file witness applies there.
  const auditStore = config.store.auditWitness?.configMap && f.sandbox ? { ...config.store, auditWitness: { ...config.store.auditWitness, configMap: undefined } } : config.store;
  const audit = auditStoreOptions(auditStore, { kubeconfig, contexts: f.context.length ? f.context : [...config.clusters.contexts] });
  const store = await openStore({ db, dataDir: f.dataDir ?? config.store.dataDir, log: out, ...audit });
  let target: Target | undefined;
  let pipeline: Pipeline | undefined;
  let reloader: Reloader | undefined;
  let app: Awaited<ReturnType<typeof createApp>>['app'] | undefined;
  let served: Awaited<ReturnType<typeof createApp>> | undefined;
  let notifications: Notifications | undefined;
  let shipper: AuditShipper | undefined;
  try {
    if (f.sandbox) {
      const kcPath = join(tmpdir(), `kubemend-serve-sandbox-${process.pid}.kubeconfig`);
      const t = await sandboxTarget(f.scenario, f.speed ?? 1, kcPath, out, f.stateFile);
      out(`sandbox at ${t.sandbox.url} (kubectl: export KUBECONFIG=${kcPath}), replaying ${t.scenario.metadata.name}`);
      target = t;
    } else {
      target = clusterTarget(kubeconfig, f.context.length ? f.context : [...config.clusters.contexts]);
    }
    if (!target.clusters.some((c) => c.name === settings.defaultCluster)) {
      throw new KubemendError(Errors.BAD_FLAG, `the chat settings' defaultCluster "${settings.defaultCluster}" is not one of the clusters (${target.clusters.map((c) => c.name).join(', ')})`);
    }
    const le = config.leaderElection;
    if (le.enabled && le.context && !target.clusters.some((c) => c.name === le.context)) {
      throw new KubemendError(Errors.BAD_FLAG, `leaderElection.context "${le.context}" is not one of the clusters (${target.clusters.map((c) => c.name).join(', ')})`);
    }
    const auditCluster = hooks.kubernetesAudit?.cluster;
    if (auditCluster && !target.clusters.some((c) => c.name === auditCluster)) {
      throw new KubemendError(Errors.BAD_FLAG, `webhooks.kubernetesAudit.cluster "${auditCluster}" is not one of the clusters (${target.clusters.map((c) => c.name).join(', ')})`);
    }
    if (config.notifications) {
      notifications = serviceNotifications({
        config: config.notifications, store, clock: target.clock, env, adapters,
        mattermost: () => served?.mattermost,
        canDeliver: () => pipeline?.leading ?? false,
        log: out,
      });
    }
    const notify = notifications;
    pipeline = new Pipeline({
      clock: target.clock,
      clusters: target.clusters,
      rules,
      store,
      remediation: config.remediation.enabled && {
        runbooks,
        dryRun: config.remediation.dryRun,
        escalationChannel: config.remediation.escalationChannel,
        budgets: { ...config.budgets, failureWindowMs: config.budgets.failureWindow },
        retriggerAfterMs: config.budgets.coolDown,
        notifiers: [new LineNotifier(out)],
      },
      smoke: { windowMs: config.smoke.window },
      incidents: config.incidents.enabled && {
        windowMs: config.incidents.window,
        resolveAfterMs: config.incidents.resolveAfter,
        onIncident: (i, change) => change !== 'updated' && out(`incident ${change}: ${i.id} ${i.title}`),
        expectedManagers: config.changes.expectedManagers,
        ...(hooks.kubernetesAudit ? { kubeAudit: { toleranceMs: config.changes.auditTolerance } } : {}),
      },
      webhooks: hooks.options ? {} : false,
      silences: { intervalMs: config.silences.syncInterval },
      chat: { settings, authorizer, env, links },
      ...(notify ? { notify: { emit: (e) => notify.emit(e), links } } : {}),
      sinks: [new LinePrinter(out)],
      log: out,
      ...(le.enabled ? {
        leaderElection: {
          namespace: leaseNamespace(le.namespace, env),
          name: le.name,
          cluster: le.context,
          leaseDurationMs: le.leaseDuration,
          renewDeadlineMs: le.renewDeadline,
          retryPeriodMs: le.retryPeriod,
        },
      } : {}),
    });
    printRuns(pipeline.remediation!.executor, out);
    await pipeline.start();
    if (!le.enabled) leaderStatus.set(1);
    const p = pipeline;
    const trace = config.trace.elasticsearch;
    if (trace?.enabled) {
      // Shipping is wall-clock I/O whatever clock the sandbox runs on; only the leader ships, from the shared checkpoint.
      shipper = new AuditShipper({ store, clock: realClock, config: trace, env, log: out, canShip: () => p.leading });
      await shipper.start();
    }
    (served = await createApp({
      engine: p.chat,
      slack: adapters.slack,
      mattermost: adapters.mattermost,
      console: adapters.console,
      consoleServices: { store, clock: target.clock, authorizer, runbooks: () => p.runbooks(), clusters: target.clusters.map((c) => c.name), runbookApprovals: () => p.chat?.pendingRunbookApprovals() ?? [], ...(p.incidents ? { changes: (q) => p.incidents!.tracker.feed.entries(q) } : {}) },
      webhooks: hooks.options && {
        ...hooks.options,
        source: p.webhooks!,
        ...(hooks.kubernetesAudit ? { kubernetesAudit: { ...hooks.kubernetesAudit, trail: p.kubeAudit!, clusters: [...p.kubeSources.keys()] } } : {}),
      },
      ready: () => readiness(p, store),
      leader: () => ({ ...p.leaderInfo() }),
      // Refusals are counted in real time: a flood arrives at wall-clock speed, even on the sandbox.
      refusals: auditRefusals(store.audit, { clock: realClock, log: out }),
      logger: { level: f.logLevel ?? config.server.logLevel, stream: process.stderr },
    }));
    app = served.app;
    notify?.start();
    const server = app;
    try {
      await server.listen({ host, port });
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'EACCES') throw new KubemendError(Errors.SERVE_LISTEN, `cannot listen on ${host}:${port}: ${code}`, { cause: err });
      throw err;
    }
    const base = `http://${host.includes(':') ? `[${host}]` : host}:${(server.server.address() as { port: number }).port}`;
    announce(out, base, config, p, policy, adapters.console?.room, oneTimeToken && adapters.console?.users[0].name, oneTimeToken, adapters.slack ? (adapters.slack.socketMode ? 'socket' : 'http') : false, Boolean(adapters.mattermost), Boolean(hooks.options));
    if (config.notifications) out(`  notify      ${config.notifications.receivers.map((r) => r.name).join(', ')} (routes in the config; failures in /metrics and the audit log)`);
    if (config.reload.enabled) {
      reloader = watchForChanges({ config, flags: f, pipeline: p, authorizer, policy, store, out, interval: config.reload.interval, prints });
      reloader.start();
    }
    await stopSignal.promise;
    out('stopping…');
  } finally {
    stopSignal.resolve();
    reloader?.stop();
    await app?.close();
    await pipeline?.stop();
    // After the pipeline: its last events are queued; what is not yet delivered waits in the store for the next start.
    await notifications?.stop();
    await shipper?.stop({ drainMs: 5_000 });
    await target?.stop();
    await store.close();
  }
}

async function readiness(p: Pipeline, store: Store): Promise<{ ready: boolean; checks: Record<string, boolean> }> {
  let storeOk = false;
  try {
    await store.audit.list({ limit: 1, order: 'desc' });
    storeOk = true;
  } catch {
    storeOk = false;
  }
  const checks = { informersSynced: p.synced, store: storeOk };
  return { ready: checks.informersSynced && checks.store, checks };
}

function announce(out: (l: string) => void, base: string, c: ServiceConfig, p: Pipeline, policy: string, room: string | undefined, user: string | false | undefined, token: string | undefined, slack: false | 'http' | 'socket', mattermost: boolean, webhooks: boolean): void {
  out(`kubemend serving on ${base} (policy ${policy})`);
  out(`  detection   ${p.currentRules().length} rules from ${c.rules}; clusters ${[...p.kubeSources.keys()].join(', ')}`);
  out(`  remediation ${c.remediation.enabled ? `${p.remediation!.executor.runbookNames().length} runbooks from ${c.runbooks}${c.remediation.dryRun ? ' (dry run)' : ''}` : 'off'}`);
  if (p.rollouts.running) out(`  smoke       ${c.smoke.window ? formatDuration(c.smoke.window) : 'no'} window after every rollout (annotation kubemend.dev/smoke-window overrides)`);
  if (room) out(`  console     ${base}/console/  (room ${room})`);
  if (user && token) out(`              sign in as ${user} with the token ${token} (valid for this run only)`);
  if (slack === 'http') out(`  slack       ${base}/slack/events, /slack/commands, /slack/interactions`);
  if (slack === 'socket') out('  slack       Socket Mode (connected to Slack; no HTTP endpoints)');
  if (mattermost) out(`  mattermost  ${base}/mattermost/command`);
  if (webhooks) out(`  webhooks    ${base}/webhooks/alertmanager, ${base}/webhooks/<name>${c.webhooks.kubernetesAudit ? `, ${base}/webhooks/kubernetes-audit (the API server's audit log)` : ''}`);
  if (c.trace.elasticsearch?.enabled) out(`  trace       audit records to ${c.trace.elasticsearch.dataStream} at ${(c.trace.elasticsearch.urls ?? [c.trace.elasticsearch.url]).join(', ')}`);
  if (c.leaderElection.enabled) out(`  leader      ${base}/leader   (replicas elect one on ${p.leaderInfo().lease}; only the leader remediates)`);
  out(`  metrics     ${base}/metrics   health ${base}/healthz   ready ${base}/readyz`);
}

/** Rules, runbooks, policy and the config file, each validated as a whole before it replaces the running one. */
function watchForChanges(o: { config: ServiceConfig; flags: ServeFlags; pipeline: Pipeline; authorizer: Authorizer; policy: string; store: Store; out: (l: string) => void; interval: number; prints: Record<'rules' | 'runbooks' | 'policy' | 'config', string | undefined> }): Reloader {
  const r = new Reloader({ clock: realClock, store: o.store, intervalMs: o.interval, log: o.out });
  const cost = o.config.cel;
  let runbooks = loadRunbooks(o.config.runbooks, { actions: ACTIONS, cost });
  r.watch({
    what: 'rules',
    path: o.config.rules,
    async apply() {
      const rules = loadRules(o.config.rules, { cost });
      const wiring = checkRuleRunbooks(rules, runbooks);
      if (wiring.length) throw new ConfigError(wiring);
      await o.pipeline.setRules(rules);
      return `${rules.length} rules`;
    },
  }, o.prints.rules);
  r.watch({
    what: 'runbooks',
    path: o.config.runbooks,
    apply() {
      const next = loadRunbooks(o.config.runbooks, { actions: ACTIONS, cost });
      const wiring = checkRuleRunbooks(o.pipeline.currentRules(), next);
      if (wiring.length) throw new ConfigError(wiring);
      o.pipeline.setRunbooks(next);
      runbooks = next;
      return `${next.length} runbooks`;
    },
  }, o.prints.runbooks);
  r.watch({
    what: 'policy',
    path: o.policy,
    async apply() {
      o.authorizer.adopt(await Authorizer.fromFile(o.policy));
      return `${o.authorizer.policy.rules.length} rules, ${o.authorizer.policy.groups.length} group lines`;
    },
  }, o.prints.policy);
  if (o.flags.config) {
    r.watch({
      what: 'config',
      path: o.flags.config,
      apply() {
        const next = loadServiceConfig(o.flags.config, { rules: o.config.rules, runbooks: o.config.runbooks, policy: o.policy });
        const applied = o.pipeline.setBudgets({ ...next.budgets, failureWindowMs: next.budgets.failureWindow }, next.budgets.coolDown);
        o.pipeline.setSmokeWindow(next.smoke.window);
        const restart = ['clusters', 'server', 'store', 'webhooks', 'rules', 'runbooks', 'policy', 'chat', 'incidents', 'changes', 'remediation', 'cel', 'leaderElection', 'trace']
          .filter((k) => JSON.stringify((next as unknown as Record<string, unknown>)[k]) !== JSON.stringify((o.config as unknown as Record<string, unknown>)[k]));
        return `${applied}; smoke window ${next.smoke.window ? formatDuration(next.smoke.window) : 'off'}${restart.length ? `; changes to ${restart.join(', ')} take effect at the next restart` : ''}`;
      },
    }, o.prints.config);
  }
  return r;
}
