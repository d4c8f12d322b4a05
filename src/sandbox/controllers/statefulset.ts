// The StatefulSet controller: stable pod names <set>-<ordinal>, ordered
// creation and scale-down (OrderedReady waits for each predecessor to be
// Running and Ready; Parallel does not), ControllerRevisions for the pod
// template, and rolling updates from the highest ordinal down to the
// partition, one pod at a time. Follows statefulset/stateful_set_control.go.
// volumeClaimTemplates are not materialised: the sandbox has no PVCs.
import { matchesSelector } from '../selectors.ts';
import type { K8sObject, StoreEvent } from '../types.ts';
import { QueueController } from './base.ts';
import { objectKey, splitKey } from './workqueue.ts';
import { canonicalJson, revisionData, revisionHash } from './hash.ts';
import { isControlledBy, newControllerRef, ownedBy } from './owners.ts';
import { isPodAvailable, isPodReady, msUntilAvailable, podFromTemplate } from './podutil.ts';

const STS = 'apps/statefulsets';
const REVISIONS = 'apps/controllerrevisions';
const SOURCE = { component: 'statefulset-controller' };

export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';
export const REVISION_LABEL = 'controller-revision-hash';
export const REVISION_HASH_LABEL = 'controller.kubernetes.io/hash';

const isCreated = (p: K8sObject | undefined): p is K8sObject => !!p?.status?.phase;
const isTerminating = (p: K8sObject) => !!p.metadata.deletionTimestamp;
const isRunningAndReady = (p: K8sObject) => p.status?.phase === 'Running' && isPodReady(p);
const isHealthy = (p: K8sObject) => isRunningAndReady(p) && !isTerminating(p);
const isFinished = (p: K8sObject) => p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded';

export class StatefulSetController extends QueueController {
  readonly name = 'statefulset-controller';
  protected readonly storage = STS;

  protected onEvent(ev: StoreEvent): void {
    if (ev.storage === STS) {
      this.queue.add(objectKey(ev.object.metadata));
    } else if (ev.storage === 'pods' || ev.storage === REVISIONS) {
      this.queueController('StatefulSet', ev.object, ev.old);
    }
  }

  protected sync(key: string): void {
    const { namespace: ns, name } = splitKey(key);
    const set = this.ctx.store.get(STS, ns, name);
    if (!set || set.metadata.deletionTimestamp) return;
    const { current, update, collisionCount } = this.syncRevisions(set);
    this.reconcilePods(set, current, update);
    this.updateStatus(set, current, update, collisionCount);
    this.truncateHistory(set, current, update);
  }

  private ownedPods(set: K8sObject): K8sObject[] {
    return this.ctx.store.list('pods', set.metadata.namespace).items.filter(
      (p) => isControlledBy(p, set) && matchesSelector(set.spec.selector, p.metadata.labels),
    );
  }

  /** getStatefulSetRevisions: find or create the revision for the current template. */
  private syncRevisions(set: K8sObject): { current: K8sObject; update: K8sObject; collisionCount: number } {
    const store = this.ctx.store;
    const ns = set.metadata.namespace;
    const revisions = ownedBy(store.list(REVISIONS, ns).items, set).sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0));
    const collisionCount = set.status?.collisionCount ?? 0;
    const data = revisionData(set);
    const same = canonicalJson(data);
    const latest = revisions[revisions.length - 1];
    const nextRevision = (latest?.revision ?? 0) + 1;
    const equal = revisions.filter((r) => canonicalJson(r.data) === same);
    let update: K8sObject;
    if (equal.length && equal[equal.length - 1] === latest) {
      update = latest;
    } else if (equal.length) {
      // Rolling back to an older template reuses its revision with a new number.
      const e = equal[equal.length - 1];
      update = store.mutate(REVISIONS, ns, e.metadata.name!, (r) => { r.revision = nextRevision; })!;
    } else {
      const hash = revisionHash(data, collisionCount);
      update = store.create(REVISIONS, {
        metadata: {
          name: `${set.metadata.name}-${hash}`,
          namespace: ns,
          labels: { ...(set.spec.template?.metadata?.labels ?? {}), [REVISION_HASH_LABEL]: hash },
          ownerReferences: [newControllerRef(set)],
        },
        data,
        revision: nextRevision,
      });
    }
    const current = revisions.find((r) => r.metadata.name === set.status?.currentRevision) ?? update;
    return { current, update, collisionCount };
  }

  private newPod(set: K8sObject, revision: K8sObject, ordinal: number): K8sObject {
    const podName = `${set.metadata.name}-${ordinal}`;
    const { $patch: _p, ...template } = revision.data?.spec?.template ?? set.spec.template;
    const pod = podFromTemplate(set, template, podName);
    pod.metadata.labels = {
      ...pod.metadata.labels,
      [POD_NAME_LABEL]: podName,
      [POD_INDEX_LABEL]: String(ordinal),
      [REVISION_LABEL]: revision.metadata.name!,
    };
    pod.spec.hostname = podName;
    if (set.spec.serviceName) pod.spec.subdomain = set.spec.serviceName;
    return pod;
  }

  /** newVersionedStatefulSetPod: ordinals below the partition keep the current revision. */
  private revisionFor(set: K8sObject, current: K8sObject, update: K8sObject, ordinal: number): K8sObject {
    const strategy = set.spec.updateStrategy ?? {};
    const start = set.spec.ordinals?.start ?? 0;
    const keepCurrent =
      (strategy.type !== 'OnDelete' && !strategy.rollingUpdate && ordinal < start + (set.status?.currentReplicas ?? 0)) ||
      (strategy.rollingUpdate && ordinal < start + (strategy.rollingUpdate.partition ?? 0));
    return keepCurrent ? current : update;
  }

  private reconcilePods(set: K8sObject, current: K8sObject, update: K8sObject): void {
    const name = set.metadata.name!;
    const start = set.spec.ordinals?.start ?? 0;
    const count = set.spec.replicas ?? 1;
    const monotonic = set.spec.podManagementPolicy !== 'Parallel';
    const minReady = set.spec.minReadySeconds ?? 0;
    const now = this.ctx.clock.now();
    const replicas: (K8sObject | undefined)[] = new Array(count).fill(undefined);
    const condemned: K8sObject[] = [];
    for (const pod of this.ownedPods(set)) {
      const ord = ordinalOf(name, pod.metadata.name!);
      if (ord === undefined) continue;
      if (ord >= start && ord < start + count) replicas[ord - start] = pod;
      else condemned.push(pod);
    }
    condemned.sort((a, b) => ordinalOf(name, b.metadata.name!)! - ordinalOf(name, a.metadata.name!)!);
    const firstUnhealthy = [...replicas, ...condemned].find((p) => p && !isHealthy(p));

    for (let i = 0; i < count; i++) {
      const pod = replicas[i];
      if (pod && isFinished(pod)) {
        // A failed or succeeded pod is deleted; the next sync recreates it.
        if (!isTerminating(pod)) this.deletePod(set, pod);
        if (monotonic) return;
        continue;
      }
      if (!isCreated(pod)) {
        this.createPod(set, this.newPod(set, this.revisionFor(set, current, update, start + i), start + i));
        if (monotonic) return;
        continue;
      }
      if (!monotonic) continue;
      if (isTerminating(pod) || !isRunningAndReady(pod)) return;
      if (!isPodAvailable(pod, minReady, now)) {
        this.requeueWhenAvailable(set, pod, minReady, now);
        return;
      }
    }

    for (const pod of condemned) {
      if (isTerminating(pod)) {
        if (monotonic) return;
        continue;
      }
      if (monotonic && pod !== firstUnhealthy && !isRunningAndReady(pod)) return;
      if (monotonic && pod !== firstUnhealthy && !isPodAvailable(pod, minReady, now)) {
        this.requeueWhenAvailable(set, pod, minReady, now);
        return;
      }
      this.deletePod(set, pod);
      if (monotonic) return;
    }

    const strategy = set.spec.updateStrategy ?? {};
    if (strategy.type === 'OnDelete') return;
    const partition = strategy.rollingUpdate?.partition ?? 0;
    for (let target = count - 1; target >= partition; target--) {
      const pod = replicas[target];
      if (!pod) return;
      if (pod.metadata.labels?.[REVISION_LABEL] !== update.metadata.name && !isTerminating(pod)) {
        this.deletePod(set, pod);
        return;
      }
      if (!isHealthy(pod)) return;
    }
  }

  private requeueWhenAvailable(set: K8sObject, pod: K8sObject, minReady: number, now: number): void {
    const wait = msUntilAvailable(pod, minReady, now);
    if (wait !== undefined) this.queue.addAfter(objectKey(set.metadata), wait);
  }

  private createPod(set: K8sObject, pod: K8sObject): void {
    const podName = pod.metadata.name!;
    try {
      this.ctx.store.create('pods', pod);
      this.ctx.events.emit(set, 'Normal', 'SuccessfulCreate', `create Pod ${podName} in StatefulSet ${set.metadata.name} successful`, SOURCE);
    } catch (err) {
      this.ctx.events.emit(set, 'Warning', 'FailedCreate', `create Pod ${podName} in StatefulSet ${set.metadata.name} failed error: ${(err as Error).message}`, SOURCE);
    }
  }

  private deletePod(set: K8sObject, pod: K8sObject): void {
    const podName = pod.metadata.name!;
    try {
      this.ctx.store.delete('pods', pod.metadata.namespace, podName, { preconditions: { uid: pod.metadata.uid } });
      this.ctx.events.emit(set, 'Normal', 'SuccessfulDelete', `delete Pod ${podName} in StatefulSet ${set.metadata.name} successful`, SOURCE);
    } catch (err) {
      this.ctx.events.emit(set, 'Warning', 'FailedDelete', `delete Pod ${podName} in StatefulSet ${set.metadata.name} failed error: ${(err as Error).message}`, SOURCE);
    }
  }

  private updateStatus(set: K8sObject, current: K8sObject, update: K8sObject, collisionCount: number): void {
    const minReady = set.spec.minReadySeconds ?? 0;
    const now = this.ctx.clock.now();
    const status = {
      observedGeneration: set.metadata.generation,
      replicas: 0,
      readyReplicas: 0,
      currentReplicas: 0,
      updatedReplicas: 0,
      currentRevision: current.metadata.name,
      updateRevision: update.metadata.name,
      collisionCount,
      availableReplicas: 0,
    };
    for (const pod of this.ownedPods(set)) {
      if (ordinalOf(set.metadata.name!, pod.metadata.name!) === undefined) continue;
      if (isCreated(pod)) status.replicas++;
      if (isRunningAndReady(pod)) {
        status.readyReplicas++;
        if (isPodAvailable(pod, minReady, now)) status.availableReplicas++;
      }
      if (isCreated(pod) && !isTerminating(pod)) {
        const rev = pod.metadata.labels?.[REVISION_LABEL];
        if (rev === current.metadata.name) status.currentReplicas++;
        if (rev === update.metadata.name) status.updatedReplicas++;
      }
    }
    // completeRollingUpdate: once every pod runs the update revision it becomes current.
    if ((set.spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate' &&
      status.updatedReplicas === status.replicas && status.readyReplicas === status.replicas) {
      status.currentReplicas = status.updatedReplicas;
      status.currentRevision = status.updateRevision;
    }
    this.ctx.store.mutate(STS, set.metadata.namespace, set.metadata.name!, (s) => {
      const prev = s.status ?? {};
      const next: any = { ...prev, ...status };
      for (const f of ['readyReplicas', 'currentReplicas', 'updatedReplicas']) if (!next[f]) delete next[f];
      s.status = next;
    }, { subresource: 'status' });
  }

  /** Keeps revisionHistoryLimit old revisions that no pod still uses. */
  private truncateHistory(set: K8sObject, current: K8sObject, update: K8sObject): void {
    const store = this.ctx.store;
    const ns = set.metadata.namespace;
    const live = new Set([current.metadata.name, update.metadata.name]);
    for (const p of this.ownedPods(set)) live.add(p.metadata.labels?.[REVISION_LABEL]);
    const history = ownedBy(store.list(REVISIONS, ns).items, set)
      .filter((r) => !live.has(r.metadata.name))
      .sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0));
    const limit = set.spec.revisionHistoryLimit ?? 10;
    for (const r of history.slice(0, Math.max(0, history.length - limit))) store.remove(REVISIONS, r);
  }
}

/** The ordinal in `<set>-<ordinal>`, or undefined for a name that is not one of the set's. */
export function ordinalOf(setName: string, podName: string): number | undefined {
  if (!podName.startsWith(`${setName}-`)) return undefined;
  const rest = podName.slice(setName.length + 1);
  return /^(0|[1-9]\d*)$/.test(rest) ? Number(rest) : undefined;
}
