// `kubemend run`: detection plus remediation. Against clusters (real time)
// or on the sandbox replaying a scenario (virtual time). Runs are stored, so
// a restarted `kubemend run` resumes the runs that were in flight.
import { loadContexts } from '../kube/contexts.ts';
import type { Command } from 'commander';
import { realClock } from '../common/clock.ts';
import { KubemendError, Errors } from '../common/errors.ts';
import { openStore } from '../store/index.ts';
import type { Store } from '../store/types.ts';
import { DetectionEngine } from '../rules/engine.ts';
import { loadRules } from '../rules/loader.ts';
import { kindsToWatch } from '../rules/kinds-needed.ts';
import { KubeSource } from '../rules/sources/kube-source.ts';
import { ACTIONS } from '../runbooks/actions/index.ts';
import { loadRunbooks, checkRuleRunbooks } from '../runbooks/loader.ts';
import { LineNotifier } from '../runbooks/notifiers.ts';
import { RemediationSession } from '../runbooks/session.ts';
import { wireRemediation } from '../runbooks/wiring.ts';
import { ConfigError } from '../common/config.ts';
import { resolveScenario } from '../sandbox/scenarios/index.ts';
import { attachIncidents, contextRule, IncidentTracker } from '../incidents/index.ts';

export interface RunFlags {
  kubeconfig?: string;
  context: string[];
  sandbox?: boolean;
  scenario?: string;
  rules: string;
  runbooks: string;
  dryRun?: boolean;
  exitWhenDone?: boolean;
  db?: string;
  dataDir?: string;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('Detect and remediate: rules trigger runbooks, on clusters or on the sandbox')
    .option('--kubeconfig <path>', 'kubeconfig of the clusters to remediate')
    .option('--context <name>', 'kubeconfig context (repeatable; default: the current one)', collect, [])
    .option('--sandbox', 'run on the embedded sandbox cluster instead')
    .option('--scenario <name|file>', 'with --sandbox: the scenario to replay', 'crashloop')
    .requiredOption('--rules <dir>', 'directory of rule files')
    .requiredOption('--runbooks <dir>', 'directory of runbook files')
    .option('--dry-run', 'plan every step and print the would-be API calls; change nothing')
    .option('--exit-when-done', 'exit when the scenario has finished (sandbox) or no run is in flight (clusters), after a summary')
    .option('--db <url>', 'postgres://… for PostgreSQL (or $KUBEMEND_DB); default SQLite in the data directory')
    .option('--data-dir <dir>', 'data directory (default $KUBEMEND_HOME or ~/.kubemend)')
    .action(async (f: RunFlags) => runCommand(f));
}

export async function runCommand(f: RunFlags, out: (l: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<void> {
  if (!f.sandbox && !f.kubeconfig) throw new KubemendError(Errors.BAD_FLAG, 'pass --kubeconfig PATH to remediate clusters, or --sandbox to try it on the embedded sandbox');
  const rules = loadRules(f.rules);
  const runbooks = loadRunbooks(f.runbooks, { actions: ACTIONS });
  const wiring = checkRuleRunbooks(rules, runbooks);
  if (wiring.length) throw new ConfigError(wiring);
  const store = await openStore({ db: f.db, dataDir: f.dataDir, clock: f.sandbox ? undefined : realClock });
  try {
    if (f.sandbox) await onSandbox(f, rules, runbooks, store, out);
    else await onClusters(f, rules, runbooks, store, out);
  } finally {
    await store.close();
  }
}

async function onSandbox(f: RunFlags, rules: ReturnType<typeof loadRules>, runbooks: ReturnType<typeof loadRunbooks>, store: Store, out: (l: string) => void): Promise<void> {
  const { scenario } = resolveScenario(f.scenario ?? 'crashloop');
  out(`${f.dryRun ? 'dry run: ' : ''}replaying ${scenario.metadata.name} on the sandbox with ${rules.length} rules and ${runbooks.length} runbooks`);
  const s = await RemediationSession.start({ scenario, rules: [...rules, ...contextRule(rules)], runbooks, store, dryRun: f.dryRun, out });
  const tracker = attachIncidents(s, { store });
  try {
    await s.runToEnd();
    await tracker.flush();
    tracker.stop();
    await printSummary(store, out, s.session.startedAt);
    if (!f.exitWhenDone) {
      out(`the sandbox keeps serving its final state at ${s.sandbox.url} (kubeconfig below); Ctrl-C to stop`);
      out(s.sandbox.kubeconfig());
      await untilSignal();
    }
  } finally {
    await s.stop();
  }
}

async function onClusters(f: RunFlags, rules: ReturnType<typeof loadRules>, runbooks: ReturnType<typeof loadRunbooks>, store: Store, out: (l: string) => void): Promise<void> {
  const ctxs = loadContexts(f.kubeconfig, f.context);
  const contexts = ctxs.map((c) => c.name);
  const sources = new Map(ctxs.map((c) => [c.name, new KubeSource({ cluster: c.name, kubeconfig: c.kubeconfig, clock: realClock, kinds: kindsToWatch([...rules, ...contextRule(rules)]) })]));
  const clients = new Map(ctxs.map((c) => [c.name, c.http]));
  const rem = wireRemediation({
    store,
    clock: realClock,
    runbooks,
    kube: (c) => clients.get(c),
    dryRun: f.dryRun,
    notifiers: [new LineNotifier(out)],
    log: out,
  });
  rem.executor.on({
    onTransition: (run, t) => out(`run ${run.id.slice(0, 8)} ${run.runbook} step ${t.stepId}: ${t.status}${t.error ? ` (${t.error})` : ''}`),
    onRunEnd: (run) => out(`run ${run.id.slice(0, 8)} ${run.runbook} ${run.status}`),
  });
  const tracker = new IncidentTracker({ store, clock: realClock, lookup: (c, kind, ns) => (sources.get(c)?.informer(kind) ? sources.get(c)!.list(kind, ns) : undefined) });
  const engine = new DetectionEngine({
    clock: realClock,
    rules,
    lookup: (c, kind, ns) => sources.get(c)?.list(kind, ns) ?? [],
    hooks: {
      onDetection: (d, change) => {
        if (change !== 'repeated') out(`detection ${change}: ${d.rule} ${d.cluster} ${d.subject.kind.toLowerCase()}/${d.subject.namespace ? `${d.subject.namespace}/` : ''}${d.subject.name}`);
        rem.hooks.onDetection?.(d, change);
        tracker.onDetection(d, change);
      },
    },
  });
  const resumed = await rem.executor.resumeInFlight();
  if (resumed) out(`resuming ${resumed} run(s) that were in flight`);
  await Promise.all([...sources.values()].map((s) => s.start((sig) => {
    tracker.observe(sig);
    engine.ingest(sig);
  })));
  out(`remediating ${contexts.join(', ')}${f.dryRun ? ' (dry run)' : ''}`);
  const stop = Promise.withResolvers<void>();
  process.once('SIGINT', () => stop.resolve());
  process.once('SIGTERM', () => stop.resolve());
  if (f.exitWhenDone) {
    const poll = setInterval(() => {
      if (rem.executor.activeCount === 0) stop.resolve();
    }, 200);
    await stop.promise;
    clearInterval(poll);
  } else {
    await stop.promise;
  }
  await rem.executor.idle().catch(() => {});
  for (const s of sources.values()) s.stop();
  engine.stop();
  await tracker.flush();
  tracker.stop();
  await printSummary(store, out);
}

async function printSummary(store: Store, out: (l: string) => void, since = 0): Promise<void> {
  const runs = (await store.listRuns({})).filter((r) => r.createdAt >= since);
  out('');
  out(`RUN       RUNBOOK          TARGET                                  STATUS      STEPS`);
  for (const r of runs) {
    const ts = await store.transitions(r.id);
    const steps = ts.filter((t) => t.status !== 'started').map((t) => `${t.stepId}:${t.status}`).join(' ');
    const target = `${(r.target.kind ?? '').toLowerCase()}/${r.target.namespace ? `${r.target.namespace}/` : ''}${r.target.name}`;
    out(`${r.id.slice(0, 8)}  ${r.runbook.padEnd(15)}  ${target.padEnd(38)}  ${r.status.padEnd(10)}  ${steps}`);
  }
  out(`${runs.length} run(s)`);
  const incidents = (await store.listIncidents({})).filter((i) => i.openedAt >= since);
  for (const i of incidents) out(`incident ${i.id} (${i.status}, ${i.severity}): ${i.title} — kubemend incidents postmortem ${i.id}`);
}

function untilSignal(): Promise<void> {
  return new Promise((r) => {
    process.once('SIGINT', () => r());
    process.once('SIGTERM', () => r());
  });
}

