// k8s.waitRollout: `kubectl rollout status` as an action. The per-kind
// completion rules follow kubectl's rollout_status.go; a Deployment past its
// progress deadline fails at once instead of waiting out the timeout.
import { z } from 'zod';
import { Duration } from '../../common/index.ts';
import { type KubeObject, pathOf } from '../../kube/index.ts';
import { ActionError } from '../types.ts';
import { Name, WorkloadKind, kube, objName, poll, readOnly, allow } from './util.ts';

export type RolloutState = { done: true; message: string } | { done: false; message: string };

/** Whether a workload's latest rollout is finished; throws for a rollout that cannot finish. */
export function rolloutStatus(kind: WorkloadKind, o: KubeObject): RolloutState {
  const st = o.status ?? {};
  const gen = o.metadata.generation ?? 0;
  const name = o.metadata.name;
  if (kind === 'Deployment') {
    if (gen > (st.observedGeneration ?? 0)) return { done: false, message: 'Waiting for deployment spec update to be observed...' };
    const progressing = (st.conditions ?? []).find((c: any) => c.type === 'Progressing');
    if (progressing?.reason === 'ProgressDeadlineExceeded') {
      throw new ActionError('PROGRESS_DEADLINE_EXCEEDED', `deployment "${name}" exceeded its progress deadline`);
    }
    const replicas = o.spec?.replicas ?? 1;
    const updated = st.updatedReplicas ?? 0;
    if (updated < replicas) return { done: false, message: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${replicas} new replicas have been updated...` };
    if ((st.replicas ?? 0) > updated) return { done: false, message: `Waiting for deployment "${name}" rollout to finish: ${(st.replicas ?? 0) - updated} old replicas are pending termination...` };
    if ((st.availableReplicas ?? 0) < updated) return { done: false, message: `Waiting for deployment "${name}" rollout to finish: ${st.availableReplicas ?? 0} of ${updated} updated replicas are available...` };
    return { done: true, message: `deployment "${name}" successfully rolled out` };
  }
  if (kind === 'DaemonSet') {
    if ((o.spec?.updateStrategy?.type ?? 'RollingUpdate') !== 'RollingUpdate') throw new ActionError('INVALID', 'rollout status is only available for RollingUpdate strategy type');
    if (gen > (st.observedGeneration ?? 0)) return { done: false, message: 'Waiting for daemon set spec update to be observed...' };
    const desired = st.desiredNumberScheduled ?? 0;
    if ((st.updatedNumberScheduled ?? 0) < desired) return { done: false, message: `Waiting for daemon set "${name}" rollout to finish: ${st.updatedNumberScheduled ?? 0} out of ${desired} new pods have been updated...` };
    if ((st.numberAvailable ?? 0) < desired) return { done: false, message: `Waiting for daemon set "${name}" rollout to finish: ${st.numberAvailable ?? 0} of ${desired} updated pods are available...` };
    return { done: true, message: `daemon set "${name}" successfully rolled out` };
  }
  const strategy = o.spec?.updateStrategy ?? {};
  if ((strategy.type ?? 'RollingUpdate') !== 'RollingUpdate') throw new ActionError('INVALID', 'rollout status is only available for RollingUpdate strategy type');
  if (!st.observedGeneration || gen > st.observedGeneration) return { done: false, message: 'Waiting for statefulset spec update to be observed...' };
  const replicas = o.spec?.replicas ?? 1;
  if ((st.readyReplicas ?? 0) < replicas) return { done: false, message: `Waiting for ${replicas - (st.readyReplicas ?? 0)} pods to be ready...` };
  const partition = strategy.rollingUpdate?.partition;
  if (partition !== undefined) {
    if ((st.updatedReplicas ?? 0) < replicas - partition) return { done: false, message: `Waiting for partitioned roll out to finish: ${st.updatedReplicas ?? 0} out of ${replicas - partition} new pods have been updated...` };
    return { done: true, message: `partitioned roll out complete: ${st.updatedReplicas ?? 0} new pods have been updated...` };
  }
  if (st.updateRevision !== st.currentRevision) return { done: false, message: `waiting for statefulset rolling update to complete ${st.updatedReplicas ?? 0} pods at revision ${st.updateRevision}...` };
  return { done: true, message: `statefulset rolling update complete ${st.currentReplicas ?? 0} pods at revision ${st.currentRevision}...` };
}

const Params = z.object({
  kind: WorkloadKind.default('Deployment'),
  namespace: Name,
  name: Name,
  timeout: Duration.prefault('5m'),
  /** Poll interval in cluster time. */
  interval: Duration.prefault('2s'),
});
export type WaitRolloutParams = z.infer<typeof Params>;

export const waitRollout = readOnly<WaitRolloutParams>({
  name: 'k8s.waitRollout',
  description: 'Wait until a workload has rolled out (kubectl rollout status); fails on a progress deadline or after the timeout.',
  params: Params,
  access: [allow('apps', ['daemonsets', 'deployments', 'statefulsets'], ['get'])],
  async plan(p) {
    return [{ method: 'WAIT', path: pathOf(p.kind, p.namespace, p.name), description: `wait up to ${Math.round(p.timeout / 1000)}s for ${objName(p.kind, p.namespace, p.name)} to roll out` }];
  },
  async run(p, ctx) {
    const path = pathOf(p.kind, p.namespace, p.name);
    const started = ctx.clock.now();
    const message = await poll(ctx, { timeoutMs: p.timeout, intervalMs: p.interval, what: `${objName(p.kind, p.namespace, p.name)} to roll out` }, async () => {
      const st = rolloutStatus(p.kind, await kube<KubeObject>(ctx, 'GET', path));
      return st.done ? { done: true, value: st.message } : { done: false, progress: st.message };
    });
    ctx.log(message);
    return { outputs: { message, waitedMs: ctx.clock.now() - started }, mutated: false, calls: [{ method: 'WAIT', path, description: message }] };
  },
});
