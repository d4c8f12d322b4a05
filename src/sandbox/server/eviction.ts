// POST pods/{name}/eviction: the PodDisruptionBudget-respecting delete that
// `kubectl drain` and remediation runbooks use. Follows the API server's
// eviction REST: terminal, pending or already-deleting pods are deleted
// directly; otherwise the one PDB selecting the pod must allow a disruption,
// which is then spent (disruptionsAllowed--, disruptedPods[pod]) before the
// pod is deleted with the eviction's deleteOptions.
import { k8sTime } from '../../common/index.ts';
import { matchesSelector } from '../selectors.ts';
import { ApiError } from '../status.ts';
import type { K8sObject } from '../types.ts';
import { decodeObject, checkKind } from './body.ts';
import type { Call, Outcome, ResourceRequest, ServerContext } from './context.ts';
import { dryRunParam } from './negotiate.ts';
import type { DeleteOptions } from '../store.ts';

const PDBS = 'policy/poddisruptionbudgets';

function tooManyRequests(message: string, retryAfterSeconds: number): ApiError {
  return new ApiError(429, 'TooManyRequests', "Cannot evict pod as it would violate the pod's disruption budget.", {
    causes: [{ reason: 'DisruptionBudget', message }],
    ...(retryAfterSeconds ? { retryAfterSeconds } : {}),
  });
}

const isReady = (pod: K8sObject) => (pod.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');

function canIgnorePDB(pod: K8sObject): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || Boolean(pod.metadata.deletionTimestamp);
}

/** Spends one disruption of `pdb`, or throws the 429/403 a real API server gives. */
function checkAndDecrement(ctx: ServerContext, pdb: K8sObject, podName: string, dryRun: boolean): void {
  const st = pdb.status ?? {};
  const name = pdb.metadata.name!;
  if ((st.observedGeneration ?? 0) < (pdb.metadata.generation ?? 0)) {
    throw tooManyRequests(`The disruption budget ${name} is still being processed by the server.`, 10);
  }
  const allowed = st.disruptionsAllowed ?? 0;
  if (allowed < 0) {
    throw new ApiError(403, 'Forbidden', `poddisruptionbudgets.policy "${name}" is forbidden: pdb disruptions allowed is negative`, { name, group: 'policy', kind: 'poddisruptionbudgets' });
  }
  if (allowed === 0) {
    throw tooManyRequests(`The disruption budget ${name} needs ${st.desiredHealthy ?? 0} healthy pods and has ${st.currentHealthy ?? 0} currently`, 0);
  }
  if (dryRun) return;
  const now = k8sTime(ctx.clock.now());
  ctx.store.mutate(PDBS, pdb.metadata.namespace, name, (p) => {
    p.status ??= {};
    p.status.disruptionsAllowed = allowed - 1;
    p.status.disruptedPods = { ...(p.status.disruptedPods ?? {}), [podName]: now };
    if (allowed - 1 === 0) {
      const conditions: any[] = (p.status.conditions ?? []).filter((c: any) => c.type !== 'DisruptionAllowed');
      conditions.push({ type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods', message: '', observedGeneration: p.status.observedGeneration, lastTransitionTime: now });
      p.status.conditions = conditions;
    }
  }, { subresource: 'status' });
}

export function handleEviction(ctx: ServerContext, call: Call, r: ResourceRequest): Outcome {
  const eviction = decodeObject(call);
  const expected = eviction.apiVersion === 'policy/v1beta1' ? 'policy/v1beta1' : 'policy/v1';
  checkKind(eviction, r.type, { apiVersion: expected, kind: 'Eviction' });
  if (eviction.metadata.name && eviction.metadata.name !== r.name) throw ApiError.badRequest('name in URL does not match name in Eviction object');
  const ns = r.namespace!;
  const podName = r.name!;
  const pod = ctx.store.get('pods', ns, podName);
  if (!pod) throw ApiError.notFound('', 'pods', podName);

  const d = eviction.deleteOptions ?? {};
  const dryRun = dryRunParam(call.query.getAll('dryRun').length ? call.query.getAll('dryRun') : d.dryRun);
  const opts: DeleteOptions & { dryRun: boolean } = {
    gracePeriodSeconds: d.gracePeriodSeconds,
    propagationPolicy: d.propagationPolicy,
    preconditions: d.preconditions,
    dryRun,
  };

  if (!canIgnorePDB(pod)) {
    const pdbs = ctx.store.list(PDBS, ns).items.filter((p) => matchesSelector(p.spec?.selector, pod.metadata.labels));
    if (pdbs.length > 1) {
      throw new ApiError(500, 'InternalError', 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
    }
    const pdb = pdbs[0];
    if (pdb) {
      const st = pdb.status ?? {};
      // An unready pod does not count as healthy: evicting it spends nothing
      // when the policy says so or the budget is already met.
      const spare = !isReady(pod) && (
        pdb.spec?.unhealthyPodEvictionPolicy === 'AlwaysAllow' ||
        ((st.currentHealthy ?? 0) >= (st.desiredHealthy ?? 0) && (st.desiredHealthy ?? 0) > 0)
      );
      if (!spare) checkAndDecrement(ctx, pdb, podName, dryRun);
    }
  }
  try {
    ctx.store.delete('pods', ns, podName, opts);
  } catch (err) {
    if (!(err instanceof ApiError && err.code === 404)) throw err;
  }
  return { code: 201, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 } };
}
