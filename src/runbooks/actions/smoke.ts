// k8s.smokeCheck: after a change, watch the workload's current pods for a
// window of cluster time and fail on the first sign the change did not take:
// a container restart, an OOMKill, a pod that was ready going unready, or a
// container stuck unable to start. The first look is the baseline, so damage
// done before the window (the bad rollout being fixed) does not count.
import { z } from 'zod';
import { Duration } from '../../common/index.ts';
import { type KubeObject, isPodReady, pathOf, currentPods, readWorkload } from '../../kube/index.ts';
import { ActionError } from '../types.ts';
import { Name, WorkloadKind, objName, readOnly, reads, sleep, allow } from './util.ts';

const STUCK = new Set(['CrashLoopBackOff', 'ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

const Params = z.object({
  kind: WorkloadKind.default('Deployment'),
  namespace: Name,
  name: Name,
  window: Duration.prefault('2m'),
  interval: Duration.prefault('5s'),
});
export type SmokeCheckParams = z.infer<typeof Params>;

interface Seen {
  restarts: Map<string, number>;
  wasReady: boolean;
}

const statusesOf = (pod: KubeObject): any[] => [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];

/** Problems visible in one look at a pod, given what was seen of it before (undefined: first look). */
function inspect(pod: KubeObject, before: Seen | undefined, since: number, baseline: boolean): string[] {
  const name = pod.metadata.name;
  const problems: string[] = [];
  for (const s of statusesOf(pod)) {
    // A pod first seen after the baseline was born in the window: all its restarts are new.
    const prev = before ? (before.restarts.get(s.name) ?? 0) : baseline ? (s.restartCount ?? 0) : 0;
    const term = s.lastState?.terminated ?? s.state?.terminated;
    if ((s.restartCount ?? 0) > prev) {
      const why = term?.reason ? ` (last ${term.reason}${term.exitCode !== undefined ? `, exit ${term.exitCode}` : ''})` : '';
      problems.push(`pod ${name} container ${s.name} restarted ${s.restartCount - prev} time(s)${why}`);
    } else if (term?.reason === 'OOMKilled' && Date.parse(term.finishedAt ?? '') >= since) {
      problems.push(`pod ${name} container ${s.name} was OOMKilled`);
    }
    const waiting = s.state?.waiting?.reason;
    if (waiting && STUCK.has(waiting)) problems.push(`pod ${name} container ${s.name} is ${waiting}`);
  }
  if (before?.wasReady && !isPodReady(pod)) problems.push(`pod ${name} was ready and is now not ready`);
  return problems;
}

export const smokeCheck = readOnly<SmokeCheckParams>({
  name: 'k8s.smokeCheck',
  description: "For a window after a change, fail if the workload's pods restart, get OOMKilled or lose readiness.",
  params: Params,
  access: [
    allow('apps', ['daemonsets', 'deployments', 'statefulsets'], ['get']),
    allow('apps', ['replicasets'], ['list']),
    allow('', ['pods'], ['list']),
  ],
  async plan(p) {
    return [{ method: 'WAIT', path: pathOf(p.kind, p.namespace, p.name), description: `watch ${objName(p.kind, p.namespace, p.name)} for ${Math.round(p.window / 1000)}s: no restarts, OOMKills or readiness failures` }];
  },
  async run(p, ctx) {
    const since = ctx.clock.now();
    const deadline = since + p.window;
    const seen = new Map<string, Seen>();
    let looks = 0;
    let ready = 0;
    for (;;) {
      const view = await readWorkload(reads(ctx), p.kind, p.namespace, p.name);
      const pods = currentPods(view).filter((pod) => !pod.metadata.deletionTimestamp);
      const problems: string[] = [];
      for (const pod of pods) {
        const uid = pod.metadata.uid!;
        const before = seen.get(uid);
        problems.push(...inspect(pod, before, since, looks === 0));
        seen.set(uid, {
          restarts: new Map(statusesOf(pod).map((s) => [s.name, s.restartCount ?? 0])),
          wasReady: (before?.wasReady ?? false) || isPodReady(pod),
        });
      }
      looks++;
      ready = pods.filter(isPodReady).length;
      if (problems.length) {
        throw new ActionError('SMOKE_FAILED', `smoke check of ${objName(p.kind, p.namespace, p.name)} failed after ${Math.round((ctx.clock.now() - since) / 1000)}s: ${problems.join('; ')}`);
      }
      const left = deadline - ctx.clock.now();
      if (left <= 0) {
        const desired = p.kind === 'DaemonSet' ? view.obj.status?.desiredNumberScheduled ?? 0 : view.obj.spec?.replicas ?? 1;
        if (desired > 0 && ready === 0) throw new ActionError('SMOKE_FAILED', `smoke check of ${objName(p.kind, p.namespace, p.name)} failed: no ready pods at the end of the window`);
        break;
      }
      await sleep(ctx, Math.min(p.interval, left));
    }
    const message = `${objName(p.kind, p.namespace, p.name)}: no restarts, OOMKills or readiness failures in ${Math.round(p.window / 1000)}s across ${seen.size} pods`;
    ctx.log(message);
    return { outputs: { pods: seen.size, readyPods: ready, looks, message }, mutated: false, calls: [{ method: 'WAIT', path: pathOf(p.kind, p.namespace, p.name), description: message }] };
  },
});
