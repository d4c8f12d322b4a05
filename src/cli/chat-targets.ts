// Where the chat bot acts: a sandbox replaying a scenario, or the clusters of
// a kubeconfig. Shared by `kubemend chat` (terminal) and `kubemend serve`
// (console, Slack, Mattermost), so both reach clusters the same way.
import { writeFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { realClock, type Clock } from '../common/clock.ts';
import { KubemendError, Errors } from '../common/errors.ts';
import { loadContexts } from '../kube/contexts.ts';
import { KubeHttp } from '../kube/http.ts';
import { Sandbox } from '../sandbox/cluster.ts';
import { resolveScenario, ScenarioRunner, sandboxOptionsFor } from '../sandbox/scenarios/index.ts';
import type { Scenario } from '../sandbox/scenarios/schema.ts';
import type { ChatSettings } from '../chat/settings.ts';

export interface ChatTarget {
  clock: Clock;
  kube: (cluster: string) => KubeHttp | undefined;
  clusters: string[];
}

export type Stops = (() => Promise<void> | void)[];

/** A sandbox replaying `scenarioName` at `speed`, its kubeconfig written to `kubeconfigPath` for kubectl. */
export async function sandboxTarget(scenarioName: string, speed: number, kubeconfigPath: string, out: (l: string) => void, stops: Stops): Promise<ChatTarget & { sandbox: Sandbox; kubeconfig: KubeConfig; scenario: Scenario }> {
  const { scenario } = resolveScenario(scenarioName);
  const sandbox = new Sandbox(sandboxOptionsFor(scenario, { speed }));
  await sandbox.listen();
  stops.push(() => sandbox.stop());
  writeFileSync(kubeconfigPath, sandbox.kubeconfig(), { mode: 0o600 });
  const kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  const kube = new KubeHttp(kc);
  const runner = new ScenarioRunner(sandbox, scenario, { onStep: (s) => s.name && out(`· scenario ${scenario.metadata.name}: ${s.name}`) }).start();
  stops.unshift(() => runner.stop());
  return { sandbox, kubeconfig: kc, scenario, clock: sandbox.clock, kube: (c) => (c === 'sandbox' ? kube : undefined), clusters: ['sandbox'] };
}

/** One client per kubeconfig context; the chat config's default cluster must be one of them. */
export function clusterTarget(kubeconfig: string | undefined, contexts: string[], settings: ChatSettings): ChatTarget {
  const ctxs = loadContexts(kubeconfig, contexts);
  const names = ctxs.map((c) => c.name);
  const clients = new Map(ctxs.map((c) => [c.name, c.http]));
  if (!clients.has(settings.defaultCluster)) throw new KubemendError(Errors.BAD_FLAG, `the chat config's defaultCluster "${settings.defaultCluster}" is not one of the contexts (${names.join(', ')})`);
  return { clock: realClock, kube: (c) => clients.get(c), clusters: names };
}
