// The disruption controller (disruption/disruption.go): keeps each
// PodDisruptionBudget's status current so the eviction endpoint can decide.
// desiredHealthy comes from minAvailable or maxUnavailable; percentages (and
// maxUnavailable) are scaled against the replicas of the pods' controllers,
// an integer minAvailable against the number of matching pods. Pods the API
// server has just evicted (status.disruptedPods) are not counted as healthy
// for two minutes or until their deletion shows up.
import { k8sTime } from '../../common/index.ts';
import { matchesSelector, selectorToString } from '../selectors.ts';
import type { K8sObject, OwnerReference, StoreEvent } from '../types.ts';
import { QueueController } from './base.ts';
import { objectKey, splitKey } from './workqueue.ts';
import { controllerRef } from './owners.ts';
import { isPodReady, scaledValue } from './podutil.ts';

const PDB = 'policy/poddisruptionbudgets';
const SOURCE = { component: 'controllermanager' };
/** How long an eviction may take to show up as a deletion before the pod counts again. */
export const DELETION_TIMEOUT_MS = 2 * 60_000;

/** Controllers whose scale the PDB uses as the expected pod count, by controller kind. */
const SCALED: Record<string, { storage: string; resource: string }> = {
  'apps/ReplicaSet': { storage: 'apps/replicasets', resource: 'replicasets.apps' },
  'apps/Deployment': { storage: 'apps/deployments', resource: 'deployments.apps' },
  'apps/StatefulSet': { storage: 'apps/statefulsets', resource: 'statefulsets.apps' },
};

export class DisruptionController extends QueueController {
  readonly name = 'disruption-controller';
  protected readonly storage = PDB;

  protected onEvent(ev: StoreEvent): void {
    if (ev.storage === PDB) {
      if (ev.type !== 'DELETED') this.queue.add(objectKey(ev.object.metadata));
      return;
    }
    if (ev.storage !== 'pods') return;
    const ns = ev.object.metadata.namespace;
    for (const pdb of this.ctx.store.list(PDB, ns).items) {
      if (matchesSelector(pdb.spec?.selector, ev.object.metadata.labels) || (ev.old && matchesSelector(pdb.spec?.selector, ev.old.metadata.labels))) {
        this.queue.add(objectKey(pdb.metadata));
      }
    }
  }

  protected sync(key: string): void {
    const { namespace: ns, name } = splitKey(key);
    const pdb = this.ctx.store.get(PDB, ns, name);
    if (!pdb || pdb.metadata.deletionTimestamp) return;
    const pods = this.ctx.store.list('pods', ns).items.filter((p) => matchesSelector(pdb.spec?.selector, p.metadata.labels));
    if (!pods.length) this.ctx.events.emit(pdb, 'Normal', 'NoPods', 'No matching pods found', SOURCE);
    let expected: { expectedCount: number; desiredHealthy: number; unmanaged: string[] };
    try {
      expected = this.expectedPodCount(pdb, pods);
    } catch (err) {
      const message = (err as Error).message;
      this.ctx.events.emit(pdb, 'Warning', 'CalculateExpectedPodCountFailed', `Failed to calculate the number of expected pods: ${message}`, SOURCE);
      this.failSafe(pdb, message);
      return;
    }
    if (expected.unmanaged.length) {
      this.ctx.events.emit(pdb, 'Warning', 'UnmanagedPods',
        `Pods selected by this PodDisruptionBudget (selector: ${selectorToString(pdb.spec.selector)}) were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.`,
        SOURCE);
    }
    const now = this.ctx.clock.now();
    const disrupted = this.disruptedPods(pdb, pods, now, key);
    let currentHealthy = 0;
    for (const pod of pods) {
      if (pod.metadata.deletionTimestamp) continue;
      const at = disrupted[pod.metadata.name!];
      if (at && Date.parse(at) + DELETION_TIMEOUT_MS > now) continue;
      if (isPodReady(pod)) currentHealthy++;
    }
    const { expectedCount, desiredHealthy } = expected;
    let disruptionsAllowed = currentHealthy - desiredHealthy;
    // A PDB that matches nothing yet must not allow disruptions when its first pods appear.
    if (expectedCount <= 0 || disruptionsAllowed <= 0) disruptionsAllowed = 0;
    const generation = pdb.metadata.generation;
    this.ctx.store.mutate(PDB, ns, name, (o) => {
      const conditions = setDisruptionAllowed(o.status?.conditions ?? [], disruptionsAllowed > 0
        ? { status: 'True', reason: 'SufficientPods', message: '' }
        : { status: 'False', reason: 'InsufficientPods', message: '' }, generation, now);
      const status: any = {
        ...(o.status ?? {}),
        currentHealthy,
        desiredHealthy,
        expectedPods: expectedCount,
        disruptionsAllowed,
        observedGeneration: generation,
        conditions,
      };
      if (Object.keys(disrupted).length) status.disruptedPods = disrupted;
      else delete status.disruptedPods;
      o.status = status;
    }, { subresource: 'status' });
  }

  /** getExpectedPodCount. */
  private expectedPodCount(pdb: K8sObject, pods: K8sObject[]): { expectedCount: number; desiredHealthy: number; unmanaged: string[] } {
    const { minAvailable, maxUnavailable } = pdb.spec ?? {};
    if (maxUnavailable !== undefined && maxUnavailable !== null) {
      const { expectedCount, unmanaged } = this.expectedScale(pods);
      const max = scaledValue(maxUnavailable, expectedCount, true, 0);
      return { expectedCount, desiredHealthy: Math.max(expectedCount - max, 0), unmanaged };
    }
    if (typeof minAvailable === 'number') return { expectedCount: pods.length, desiredHealthy: minAvailable, unmanaged: [] };
    if (typeof minAvailable === 'string') {
      const { expectedCount, unmanaged } = this.expectedScale(pods);
      return { expectedCount, desiredHealthy: scaledValue(minAvailable, expectedCount, true, 0), unmanaged };
    }
    return { expectedCount: 0, desiredHealthy: 0, unmanaged: [] };
  }

  /** getExpectedScale: the sum of the scales of the pods' controllers. */
  private expectedScale(pods: K8sObject[]): { expectedCount: number; unmanaged: string[] } {
    const scales = new Map<string, number>();
    const unmanaged: string[] = [];
    for (const pod of pods) {
      const ref = controllerRef(pod);
      if (!ref) {
        unmanaged.push(pod.metadata.name!);
        continue;
      }
      if (scales.has(ref.uid)) continue;
      const found = this.controllerScale(ref, pod.metadata.namespace!);
      if (!found) throw new Error(`found no controllers for pod "${pod.metadata.name}"`);
      scales.set(found.uid, found.scale);
    }
    let expectedCount = 0;
    for (const s of scales.values()) expectedCount += s;
    return { expectedCount, unmanaged };
  }

  /** The finders: a ReplicaSet owned by a Deployment answers with the Deployment's scale. */
  private controllerScale(ref: OwnerReference, ns: string): { uid: string; scale: number } | undefined {
    const group = ref.apiVersion.includes('/') ? ref.apiVersion.split('/')[0] : '';
    const kind = SCALED[`${group}/${ref.kind}`];
    if (!kind) throw new Error(`${ref.kind.toLowerCase()}s${group ? `.${group}` : ''} does not implement the scale subresource`);
    const obj = this.ctx.store.get(kind.storage, ns, ref.name);
    if (!obj || obj.metadata.uid !== ref.uid) return undefined;
    if (ref.kind === 'ReplicaSet') {
      const owner = controllerRef(obj);
      if (owner?.kind === 'Deployment') return this.controllerScale(owner, ns);
    }
    return { uid: obj.metadata.uid!, scale: obj.spec?.replicas ?? 1 };
  }

  /** buildDisruptedPodMap: keeps evictions still expected to turn into deletions, and rechecks when they expire. */
  private disruptedPods(pdb: K8sObject, pods: K8sObject[], now: number, key: string): Record<string, string> {
    const recorded: Record<string, string> = pdb.status?.disruptedPods ?? {};
    const out: Record<string, string> = {};
    let recheck: number | undefined;
    for (const pod of pods) {
      if (pod.metadata.deletionTimestamp) continue;
      const at = recorded[pod.metadata.name!];
      if (!at) continue;
      const expires = Date.parse(at) + DELETION_TIMEOUT_MS;
      if (expires <= now) {
        // The real controller formats this with the namespace twice; kept for fidelity.
        this.ctx.events.emit(pod, 'Warning', 'NotDeleted', `Pod was expected by PDB ${pdb.metadata.namespace}/${pdb.metadata.namespace} to be deleted but it wasn't`, SOURCE);
        continue;
      }
      out[pod.metadata.name!] = at;
      if (recheck === undefined || expires < recheck) recheck = expires;
    }
    if (recheck !== undefined) this.queue.addAfter(key, recheck - now);
    return out;
  }

  private failSafe(pdb: K8sObject, message: string): void {
    const now = this.ctx.clock.now();
    this.ctx.store.mutate(PDB, pdb.metadata.namespace, pdb.metadata.name!, (o) => {
      const status = o.status ?? {};
      o.status = {
        ...status,
        disruptionsAllowed: 0,
        conditions: setDisruptionAllowed(status.conditions ?? [], { status: 'False', reason: 'SyncFailed', message }, status.observedGeneration, now),
      };
    }, { subresource: 'status' });
  }
}

/** meta.SetStatusCondition for the DisruptionAllowed condition. */
function setDisruptionAllowed(conditions: any[], c: { status: string; reason: string; message: string }, generation: number | undefined, now: number): any[] {
  const i = conditions.findIndex((x) => x.type === 'DisruptionAllowed');
  const prev = conditions[i];
  const next: any = {
    type: 'DisruptionAllowed',
    status: c.status,
    observedGeneration: generation,
    lastTransitionTime: prev && prev.status === c.status ? prev.lastTransitionTime : k8sTime(now),
    reason: c.reason,
    message: c.message,
  };
  if (next.observedGeneration === undefined) delete next.observedGeneration;
  if (i < 0) return [...conditions, next];
  const copy = [...conditions];
  copy[i] = next;
  return copy;
}
