// kube-controller-manager's ReplicaSet controller: keeps spec.replicas active
// pods, adopting matching orphans, replacing failed or deleted pods, and
// choosing which pods to delete on scale-down with the upstream ranking.
import { k8sTime } from '../../common/index.ts';
import { ApiError } from '../status.ts';
import { matchesSelector } from '../selectors.ts';
import type { K8sObject, StoreEvent } from '../types.ts';
import { QueueController } from './base.ts';
import { objectKey, splitKey } from './workqueue.ts';
import { canonicalJson } from './hash.ts';
import { claimChildren, controllerRef, creationTime, newControllerRef } from './owners.ts';
import { isPodActive, isPodAvailable, isPodReady, msUntilAvailable, podReadyTime } from './podutil.ts';
import { cloneObject } from '../clone.ts';

const SOURCE = { component: 'replicaset-controller' };
// controller.BurstReplicas: the most pods one sync creates or deletes.
const BURST_REPLICAS = 500;
const DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';

export class ReplicaSetController extends QueueController {
  readonly name = 'replicaset-controller';
  protected readonly storage = 'apps/replicasets';

  protected onEvent(ev: StoreEvent): void {
    if (ev.storage === 'apps/replicasets') {
      this.queue.add(objectKey(ev.object.metadata));
      return;
    }
    if (ev.storage !== 'pods') return;
    const ns = ev.object.metadata.namespace;
    for (const p of [ev.object, ev.old]) {
      const ref = controllerRef(p);
      if (ref?.kind === 'ReplicaSet' && ref.apiVersion.startsWith('apps/')) this.queue.add(`${ns}/${ref.name}`);
    }
    // An orphan may be adopted by any ReplicaSet whose selector matches it.
    const pod = ev.object;
    if (ev.type !== 'DELETED' && !controllerRef(pod) && !pod.metadata.deletionTimestamp) {
      for (const rs of this.ctx.store.list('apps/replicasets', ns).items) {
        if (matchesSelector(rs.spec?.selector, pod.metadata.labels)) this.queue.add(objectKey(rs.metadata));
      }
    }
  }

  protected sync(key: string): void {
    const { namespace, name } = splitKey(key);
    const store = this.ctx.store;
    const rs = store.get('apps/replicasets', namespace, name);
    if (!rs) {
      this.forgetFailures(key);
      return;
    }
    const allPods = store.list('pods', namespace).items;
    const pods = claimChildren(store, 'pods', rs, allPods.filter(isPodActive), (p) => matchesSelector(rs.spec?.selector, p.metadata.labels));
    let failure: { reason: string; message: string } | undefined;
    if (!rs.metadata.deletionTimestamp) failure = this.manageReplicas(rs, pods, allPods);
    const updated = this.updateStatus(rs, pods, failure);

    if (failure) {
      this.retryWithBackoff(key);
      return;
    }
    this.forgetFailures(key);
    // Availability changes only with time once pods are ready: look again
    // when the next ready pod passes minReadySeconds.
    const minReady = updated.spec?.minReadySeconds ?? 0;
    if (minReady > 0) {
      const now = this.ctx.clock.now();
      const waits = pods.map((p) => msUntilAvailable(p, minReady, now)).filter((x): x is number => x !== undefined);
      if (waits.length) this.queue.addAfter(key, Math.min(...waits));
    }
  }

  private manageReplicas(rs: K8sObject, pods: K8sObject[], allPods: K8sObject[]): { reason: string; message: string } | undefined {
    const diff = pods.length - (rs.spec?.replicas ?? 1);
    if (diff < 0) {
      const want = Math.min(-diff, BURST_REPLICAS);
      for (let i = 0; i < want; i++) {
        try {
          const pod = this.ctx.store.create('pods', podFromTemplate(rs));
          this.ctx.events.emit(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`, SOURCE);
        } catch (err) {
          // Like slowStartBatch, the first failure stops this round.
          const message = errorText(err, `${rs.metadata.name}-`);
          this.ctx.events.emit(rs, 'Warning', 'FailedCreate', `Error creating: ${message}`, SOURCE);
          return { reason: 'FailedCreate', message };
        }
      }
      return undefined;
    }
    if (diff > 0) {
      const victims = podsToDelete(pods, relatedPods(this.ctx.store.list('apps/replicasets', rs.metadata.namespace).items, rs, allPods), Math.min(diff, BURST_REPLICAS));
      for (const pod of victims) {
        try {
          this.ctx.store.delete('pods', pod.metadata.namespace, pod.metadata.name!);
          this.ctx.events.emit(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`, SOURCE);
        } catch (err) {
          if (err instanceof ApiError && err.code === 404) continue;
          const message = errorText(err, pod.metadata.name!);
          this.ctx.events.emit(rs, 'Warning', 'FailedDelete', `Error deleting: ${message}`, SOURCE);
          return { reason: 'FailedDelete', message };
        }
      }
    }
    return undefined;
  }

  private updateStatus(rs: K8sObject, pods: K8sObject[], failure: { reason: string; message: string } | undefined): K8sObject {
    const now = this.ctx.clock.now();
    const minReady = rs.spec?.minReadySeconds ?? 0;
    const templateLabels = rs.spec?.template?.metadata?.labels ?? {};
    let fully = 0;
    let ready = 0;
    let available = 0;
    for (const p of pods) {
      const labels = p.metadata.labels ?? {};
      if (Object.entries(templateLabels).every(([k, v]) => labels[k] === v)) fully++;
      if (isPodReady(p)) {
        ready++;
        if (isPodAvailable(p, minReady, now)) available++;
      }
    }
    const status: any = cloneObject(rs.status ?? {});
    // ReplicaSetStatus fields other than replicas are omitempty.
    status.replicas = pods.length;
    setOrDrop(status, 'fullyLabeledReplicas', fully);
    setOrDrop(status, 'readyReplicas', ready);
    setOrDrop(status, 'availableReplicas', available);
    setOrDrop(status, 'observedGeneration', rs.metadata.generation ?? 0);
    const conditions: any[] = status.conditions ?? [];
    const hasFailure = conditions.some((c) => c.type === 'ReplicaFailure');
    if (failure && !hasFailure) {
      conditions.push({ type: 'ReplicaFailure', status: 'True', lastTransitionTime: k8sTime(now), reason: failure.reason, message: failure.message });
    }
    const next = !failure && hasFailure ? conditions.filter((c) => c.type !== 'ReplicaFailure') : conditions;
    if (next.length) status.conditions = next;
    else delete status.conditions;
    if (canonicalJson(status) === canonicalJson(rs.status ?? {})) return rs;
    return this.ctx.store.mutate('apps/replicasets', rs.metadata.namespace, rs.metadata.name!, (o) => {
      o.status = status;
    }, { subresource: 'status' }) ?? rs;
  }
}

function setOrDrop(obj: Record<string, unknown>, key: string, value: number): void {
  if (value) obj[key] = value;
  else delete obj[key];
}

function errorText(err: unknown, name: string): string {
  if (err instanceof ApiError && err.code === 403 && !err.message.includes('is forbidden')) {
    return `pods "${name}" is forbidden: ${err.message}`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** controller.GetPodFromTemplate: the pod a workload controller creates. */
export function podFromTemplate(owner: K8sObject): K8sObject {
  const tpl = owner.spec?.template ?? {};
  const meta = tpl.metadata ?? {};
  return {
    metadata: {
      generateName: `${owner.metadata.name}-`,
      namespace: owner.metadata.namespace,
      labels: { ...(meta.labels ?? {}) },
      ...(meta.annotations ? { annotations: { ...meta.annotations } } : {}),
      ...(meta.finalizers ? { finalizers: [...meta.finalizers] } : {}),
      ownerReferences: [newControllerRef(owner)],
    },
    spec: cloneObject(tpl.spec ?? {}),
  };
}

/**
 * getIndirectlyRelatedPods: pods of every ReplicaSet with the same controller
 * as `rs` (all revisions of one Deployment), used to spot doubled-up nodes.
 */
function relatedPods(replicaSets: K8sObject[], rs: K8sObject, pods: K8sObject[]): K8sObject[] {
  const owner = controllerRef(rs);
  const uids = new Set(owner ? replicaSets.filter((x) => controllerRef(x)?.uid === owner.uid).map((x) => x.metadata.uid) : [rs.metadata.uid]);
  return pods.filter((p) => uids.has(controllerRef(p)?.uid));
}

const PHASE_ORDINAL: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

function maxRestarts(pod: K8sObject): number {
  const all = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  return all.reduce((m: number, c: any) => Math.max(m, c.restartCount ?? 0), 0);
}

/** "Later first, unset first", controller.afterOrZero. */
function afterOrZero(t1: number | undefined, t2: number | undefined): boolean {
  if (!t1 || !t2) return !t1;
  return t1 > t2;
}

/**
 * ActivePodsWithRanks ordering: the first pods are the cheapest to lose.
 * Ready times and ages compare directly (as with LogarithmicScaleDown off),
 * which keeps the choice deterministic for replayable scenarios.
 */
export function podsToDelete(pods: K8sObject[], related: K8sObject[], count: number): K8sObject[] {
  const onNode = new Map<string, number>();
  for (const p of related) if (isPodActive(p)) onNode.set(p.spec?.nodeName ?? '', (onNode.get(p.spec?.nodeName ?? '') ?? 0) + 1);
  const rank = (p: K8sObject) => onNode.get(p.spec?.nodeName ?? '') ?? 0;
  const cost = (p: K8sObject) => Number(p.metadata.annotations?.[DELETION_COST] ?? 0) || 0;
  const less = (a: K8sObject, b: K8sObject): number => {
    const na = a.spec?.nodeName ?? '';
    const nb = b.spec?.nodeName ?? '';
    if (na !== nb && (!na || !nb)) return !na ? -1 : 1;
    const pa = PHASE_ORDINAL[a.status?.phase] ?? 0;
    const pb = PHASE_ORDINAL[b.status?.phase] ?? 0;
    if (pa !== pb) return pa - pb;
    const ra = isPodReady(a);
    const rb = isPodReady(b);
    if (ra !== rb) return ra ? 1 : -1;
    if (cost(a) !== cost(b)) return cost(a) - cost(b);
    if (rank(a) !== rank(b)) return rank(b) - rank(a);
    if (ra && rb) {
      const ta = podReadyTime(a);
      const tb = podReadyTime(b);
      if (ta !== tb) return afterOrZero(ta, tb) ? -1 : 1;
    }
    if (maxRestarts(a) !== maxRestarts(b)) return maxRestarts(b) - maxRestarts(a);
    const ca = creationTime(a);
    const cb = creationTime(b);
    if (ca !== cb) return afterOrZero(ca, cb) ? -1 : 1;
    return 0;
  };
  return [...pods].sort(less).slice(0, count);
}
