// `kubemend run`: detection plus remediation and incident tracking, on
// clusters (real time) or on the sandbox replaying a scenario (virtual time).
// Parse flags → assemble the pipeline → print. Runs are stored, so every
// start resumes the runs that were in flight.
import type { Command } from 'commander';
import { realClock, KubemendError, Errors, ConfigError } from '../common/index.ts';
import { openStore, type Store } from '../store/index.ts';
import { loadContexts } from '../kube/index.ts';
import { loadRules } from '../rules/index.ts';
import { ACTIONS, loadRunbooks, checkRuleRunbooks, LineNotifier } from '../runbooks/index.ts';
import { Pipeline, ScenarioSession, LinePrinter, printRuns } from '../pipeline/index.ts';
import { resolveScenario } from '../sandbox/index.ts';
import { SHIPPED_RULES, SHIPPED_RUNBOOKS, untilSignal } from './shared.ts';
import { clusterOptions, storeOptions } from './options.ts';

export interface RunFlags {
  kubeconfig?: string;
  context: string[];
  sandbox?: boolean;
  scenario?: string;
  rules?: string;
  runbooks?: string;
  dryRun?: boolean;
  exitWhenDone?: boolean;
  db?: string;
  dataDir?: string;
}

export function registerRun(program: Command): void {
  const cmd = clusterOptions(program
    .command('run')
    .description('Detect and remediate: rules trigger runbooks, on clusters or on the sandbox'))
    .option('--sandbox', 'run on the embedded sandbox cluster instead')
    .option('--scenario <name|file>', 'with --sandbox: the scenario to replay', 'crashloop')
    .option('--rules <dir>', 'directory of rule files (default: the shipped rules/)')
    .option('--runbooks <dir>', 'directory of runbook files (default: the shipped runbooks/)')
    .option('--dry-run', 'plan every step and print the would-be API calls; change nothing')
    .option('--exit-when-done', 'exit when the scenario has finished (sandbox) or no run is in flight (clusters), after a summary');
  storeOptions(cmd).action(async (f: RunFlags) => runCommand(f));
}

export async function runCommand(f: RunFlags, out: (l: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<void> {
  if (!f.sandbox && !f.kubeconfig) throw new KubemendError(Errors.BAD_FLAG, 'pass --kubeconfig PATH to remediate clusters, or --sandbox to try it on the embedded sandbox');
  const rules = loadRules(f.rules ?? SHIPPED_RULES);
  const runbooks = loadRunbooks(f.runbooks ?? SHIPPED_RUNBOOKS, { actions: ACTIONS });
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
  // Every replay starts at the same virtual time, so earlier replays in the same store are told apart by id, not time.
  const before = await seen(store);
  const s = await ScenarioSession.start({ scenario, rules, runbooks, store, dryRun: f.dryRun, out, incidents: {} });
  try {
    await s.runToEnd();
    await printSummary(store, out, before);
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
  const clusters = loadContexts(f.kubeconfig, f.context);
  const pipeline = new Pipeline({
    clock: realClock,
    clusters,
    rules,
    store,
    remediation: { runbooks, dryRun: f.dryRun, notifiers: [new LineNotifier(out)] },
    incidents: {},
    sinks: [new LinePrinter(out)],
    log: out,
  });
  printRuns(pipeline.remediation!.executor, out);
  const before = await seen(store);
  await pipeline.start();
  out(`remediating ${clusters.map((c) => c.name).join(', ')}${f.dryRun ? ' (dry run)' : ''}`);
  const stop = untilSignal();
  if (f.exitWhenDone) {
    const poll = setInterval(() => {
      if (pipeline.remediation!.executor.activeCount === 0) stop.resolve();
    }, 200);
    await stop.promise;
    clearInterval(poll);
    await pipeline.remediation!.executor.idle().catch(() => {});
  } else {
    await stop.promise;
  }
  await pipeline.stop();
  await printSummary(store, out, before);
}

/** The runs and incidents already in the store (incidents with their content: a replay upserts the same ids). */
async function seen(store: Store): Promise<Map<string, string>> {
  return new Map([...(await store.listRuns({})).map((r) => [r.id, ''] as const), ...(await store.listIncidents({})).map((i) => [i.id, JSON.stringify(i)] as const)]);
}

async function printSummary(store: Store, out: (l: string) => void, before: Map<string, string>): Promise<void> {
  const runs = (await store.listRuns({})).filter((r) => !before.has(r.id));
  out('');
  out(`RUN       RUNBOOK          TARGET                                  STATUS      STEPS`);
  for (const r of runs) {
    const ts = await store.transitions(r.id);
    const steps = ts.filter((t) => t.status !== 'started').map((t) => `${t.stepId}:${t.status}`).join(' ');
    const target = `${(r.target.kind ?? '').toLowerCase()}/${r.target.namespace ? `${r.target.namespace}/` : ''}${r.target.name}`;
    out(`${r.id.slice(0, 8)}  ${r.runbook.padEnd(15)}  ${target.padEnd(38)}  ${r.status.padEnd(10)}  ${steps}`);
  }
  out(`${runs.length} run(s)`);
  // A replay's incidents have the same ids every time and are upserted: the ones this run wrote differ from what was there.
  const incidents = (await store.listIncidents({})).filter((i) => before.get(i.id) !== JSON.stringify(i));
  for (const i of incidents) out(`incident ${i.id} (${i.status}, ${i.severity}): ${i.title} — kubemend incidents postmortem ${i.id}`);
}
