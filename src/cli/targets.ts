// Where a long-running command acts: a sandbox replaying a scenario in real
// (or scaled) time, or the clusters of a kubeconfig. Shared by `serve` and
// `chat`, so both reach clusters the same way.
import { writeFileSync } from 'node:fs';
import { realClock, type Clock } from '../common/index.ts';
import { kubeConfigFromYaml, loadContexts } from '../kube/index.ts';
import { Sandbox, resolveScenario, ScenarioRunner, sandboxOptionsFor, type Scenario } from '../sandbox/index.ts';
import { SANDBOX_CLUSTER, type ClusterConn } from '../pipeline/index.ts';

export interface Target {
  clock: Clock;
  clusters: ClusterConn[];
  /** Stops what the target started (the sandbox), after the pipeline has stopped. */
  stop(): Promise<void>;
}

/** A sandbox replaying `scenarioName` at `speed`, its kubeconfig written to `kubeconfigPath` (mode 0600) for kubectl. */
export async function sandboxTarget(scenarioName: string, speed: number, kubeconfigPath: string, out: (l: string) => void, stateFile?: string): Promise<Target & { sandbox: Sandbox; scenario: Scenario }> {
  const { scenario } = resolveScenario(scenarioName);
  const sandbox = new Sandbox(sandboxOptionsFor(scenario, { speed, stateFile }));
  if (sandbox.restored) out(`sandbox restored from ${stateFile}: ${sandbox.restored.objectCount} objects at ${new Date(sandbox.restored.savedAt).toISOString()} (virtual); the scenario continues`);
  await sandbox.listen();
  writeFileSync(kubeconfigPath, sandbox.kubeconfig(), { mode: 0o600 });
  const kc = kubeConfigFromYaml(sandbox.kubeconfig());
  const runner = new ScenarioRunner(sandbox, scenario, { onStep: (s) => s.name && out(`· scenario ${scenario.metadata.name}: ${s.name}`) }).start();
  return {
    sandbox,
    scenario,
    clock: sandbox.clock,
    clusters: [{ name: SANDBOX_CLUSTER, kubeconfig: kc, durable: stateFile ? () => sandbox.flushState() : undefined }],
    async stop() {
      runner.stop();
      await sandbox.stop();
    },
  };
}

/** One connection per kubeconfig context (no contexts: the current one). */
export function clusterTarget(kubeconfig: string | undefined, contexts: string[]): Target {
  return { clock: realClock, clusters: loadContexts(kubeconfig, contexts), async stop() {} };
}
