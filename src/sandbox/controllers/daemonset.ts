// The DaemonSet controller: one pod per node that matches the template's
// nodeSelector / node affinity and whose NoSchedule/NoExecute taints the pod
// tolerates (with the tolerations the real controller always adds). Pods are
// pinned with node affinity on metadata.name and placed by the scheduler, as
// in Kubernetes 1.32. RollingUpdate replaces old pods within maxUnavailable;
// failed pods are killed and recreated with a back-off.
import { matchesSelector } from '../selectors.ts';
import type { K8sObject, StoreEvent } from '../types.ts';
import { QueueController } from './base.ts';
import { objectKey, splitKey } from './workqueue.ts';
import { canonicalJson } from './hash.ts';
import { isControlledBy } from './owners.ts';
import { isPodAvailable, isPodReady, msUntilAvailable, podFromTemplate, scaledValue } from './podutil.ts';
import { nodeShouldRunDaemonPod, pinToNode, targetNode } from './daemonset-placement.ts';
import { REVISIONS, isUpdated, syncRevisions, templateGeneration } from './daemonset-revisions.ts';

export { nodeShouldRunDaemonPod } from './daemonset-placement.ts';

const DS = 'apps/daemonsets';
const SOURCE = { component: 'daemonset-controller' };
const FAILED_BACKOFF_INITIAL_MS = 1000;
const FAILED_BACKOFF_MAX_MS = 15 * 60_000;

export class DaemonSetController extends QueueController {
  readonly name = 'daemonset-controller';
  protected readonly storage = DS;
  private readonly failedBackoff = new Map<string, { delay: number; at: number }>();

  /** The back-off between replacing failed daemon pods doubles per node. */
  saveState(): [string, { delay: number; at: number }][] {
    return [...this.failedBackoff];
  }

  restoreState(state: unknown): void {
    for (const [k, b] of state as [string, { delay: number; at: number }][]) this.failedBackoff.set(k, b);
  }

  protected onEvent(ev: StoreEvent): void {
    if (ev.storage === DS) {
      this.queue.add(objectKey(ev.object.metadata));
    } else if (ev.storage === 'pods' || ev.storage === REVISIONS) {
      this.queueController('DaemonSet', ev.object, ev.old);
    } else if (ev.storage === 'nodes') {
      // Heartbeats change only status; placement depends on labels, taints and existence.
      const changed = ev.type !== 'MODIFIED' ||
        canonicalJson(ev.old?.metadata.labels) !== canonicalJson(ev.object.metadata.labels) ||
        canonicalJson(ev.old?.spec?.taints) !== canonicalJson(ev.object.spec?.taints);
      if (changed) this.queueAll();
    }
  }

  protected sync(key: string): void {
    const { namespace: ns, name } = splitKey(key);
    const ds = this.ctx.store.get(DS, ns, name);
    if (!ds) {
      for (const k of this.failedBackoff.keys()) if (k.startsWith(`${key}/`)) this.failedBackoff.delete(k);
      return;
    }
    if (ds.metadata.deletionTimestamp) return;
    const hash = syncRevisions(this.ctx.store, ds, () => this.pods(ds));
    const nodes = this.ctx.store.list('nodes').items;
    const acted = this.manage(ds, nodes, hash);
    // Like the real controller's expectations: roll only once earlier creates/deletes are observed.
    if (!acted && (ds.spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') this.rollingUpdate(ds, nodes, hash);
    this.updateStatus(ds, nodes, hash);
  }

  private pods(ds: K8sObject): K8sObject[] {
    return this.ctx.store.list('pods', ds.metadata.namespace).items.filter(
      (p) => isControlledBy(p, ds) && matchesSelector(ds.spec.selector, p.metadata.labels),
    );
  }

  /** Pods by the node they run on or are pinned to (getNodesToDaemonPods). */
  private podsByNode(ds: K8sObject): Map<string, K8sObject[]> {
    const out = new Map<string, K8sObject[]>();
    for (const p of this.pods(ds)) {
      if (p.metadata.deletionTimestamp && (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed')) continue;
      const node = p.spec?.nodeName || targetNode(p);
      if (!node) continue;
      if (!out.has(node)) out.set(node, []);
      out.get(node)!.push(p);
    }
    for (const list of out.values()) list.sort(byCreationAndPhase);
    return out;
  }

  /** Creates missing daemon pods and deletes misplaced, failed or duplicate ones. Returns whether it acted. */
  private manage(ds: K8sObject, nodes: K8sObject[], hash: string): boolean {
    const byNode = this.podsByNode(ds);
    const key = objectKey(ds.metadata);
    const now = this.ctx.clock.now();
    const create: string[] = [];
    const remove: K8sObject[] = [];
    for (const node of nodes) {
      const nodeName = node.metadata.name!;
      const { shouldRun, shouldContinueRunning } = nodeShouldRunDaemonPod(node, ds);
      const pods = byNode.get(nodeName);
      if (shouldRun && !pods) {
        create.push(nodeName);
      } else if (shouldContinueRunning && pods) {
        const running: K8sObject[] = [];
        for (const pod of pods) {
          if (pod.metadata.deletionTimestamp) continue;
          if (pod.status?.phase === 'Failed') {
            const bk = `${key}/${nodeName}`;
            const b = this.failedBackoff.get(bk);
            if (b && now - b.at < b.delay) {
              this.queue.addAfter(key, b.delay - (now - b.at));
              continue;
            }
            this.failedBackoff.set(bk, { delay: b ? Math.min(b.delay * 2, FAILED_BACKOFF_MAX_MS) : FAILED_BACKOFF_INITIAL_MS, at: now });
            this.ctx.events.emit(ds, 'Warning', 'FailedDaemonPod', `Found failed daemon pod ${pod.metadata.namespace}/${pod.metadata.name} on node ${nodeName}, will try to kill it`, SOURCE);
            remove.push(pod);
          } else if (pod.status?.phase === 'Succeeded') {
            remove.push(pod);
          } else {
            running.push(pod);
          }
        }
        // Without surge, only the oldest pod on a node survives.
        remove.push(...running.slice(1));
      } else if (!shouldContinueRunning && pods) {
        remove.push(...pods.filter((p) => !p.metadata.deletionTimestamp));
      }
    }
    // Unscheduled pods pinned to nodes that no longer exist.
    const names = new Set(nodes.map((n) => n.metadata.name));
    for (const [node, pods] of byNode) {
      if (names.has(node)) continue;
      remove.push(...pods.filter((p) => !p.spec?.nodeName && !p.metadata.deletionTimestamp));
    }
    for (const nodeName of create) this.createPod(ds, nodeName, hash);
    for (const pod of remove) this.deletePod(ds, pod);
    return create.length + remove.length > 0;
  }

  /** rollingUpdate without surge: replace old pods while at most maxUnavailable are unavailable. */
  private rollingUpdate(ds: K8sObject, nodes: K8sObject[], hash: string): void {
    const byNode = this.podsByNode(ds);
    const now = this.ctx.clock.now();
    const minReady = ds.spec.minReadySeconds ?? 0;
    const desired = nodes.filter((n) => nodeShouldRunDaemonPod(n, ds).shouldRun).length;
    const maxUnavailable = Math.max(scaledValue(ds.spec.updateStrategy?.rollingUpdate?.maxUnavailable, desired, true, 1), 0);
    let unavailable = 0;
    const replaceNow: K8sObject[] = [];
    const candidates: K8sObject[] = [];
    for (const node of nodes) {
      if (!nodeShouldRunDaemonPod(node, ds).shouldRun) continue;
      const pods = (byNode.get(node.metadata.name!) ?? []).filter((p) => !p.metadata.deletionTimestamp);
      const fresh = pods.filter((p) => isUpdated(p, ds, hash));
      const old = pods.filter((p) => !isUpdated(p, ds, hash));
      if (fresh.length > 1 || old.length > 1 || fresh.length + old.length !== 1) {
        unavailable++;
      } else if (fresh.length) {
        if (!isPodAvailable(fresh[0], minReady, now)) {
          unavailable++;
          const wait = msUntilAvailable(fresh[0], minReady, now);
          if (wait !== undefined) this.queue.addAfter(objectKey(ds.metadata), wait);
        }
      } else if (!isPodAvailable(old[0], minReady, now)) {
        replaceNow.push(old[0]);
      } else if (unavailable < maxUnavailable) {
        candidates.push(old[0]);
      }
    }
    const budget = Math.min(Math.max(maxUnavailable - unavailable, 0), candidates.length);
    for (const pod of [...replaceNow, ...candidates.slice(0, budget)]) this.deletePod(ds, pod);
  }

  private createPod(ds: K8sObject, nodeName: string, hash: string): void {
    const pod = podFromTemplate(ds, ds.spec.template);
    pod.metadata.labels = {
      ...pod.metadata.labels,
      'controller-revision-hash': hash,
      'pod-template-generation': String(templateGeneration(ds)),
    };
    pinToNode(pod.spec, nodeName);
    try {
      const created = this.ctx.store.create('pods', pod);
      this.ctx.events.emit(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`, SOURCE);
    } catch (err) {
      this.ctx.events.emit(ds, 'Warning', 'FailedCreate', `Error creating: ${(err as Error).message}`, SOURCE);
    }
  }

  private deletePod(ds: K8sObject, pod: K8sObject): void {
    try {
      this.ctx.store.delete('pods', pod.metadata.namespace, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid } });
      this.ctx.events.emit(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`, SOURCE);
    } catch (err) {
      this.ctx.events.emit(ds, 'Warning', 'FailedDelete', `Error deleting: ${(err as Error).message}`, SOURCE);
    }
  }

  private updateStatus(ds: K8sObject, nodes: K8sObject[], hash: string): void {
    const byNode = this.podsByNode(ds);
    const now = this.ctx.clock.now();
    const minReady = ds.spec.minReadySeconds ?? 0;
    let desired = 0, current = 0, ready = 0, available = 0, updated = 0, misscheduled = 0;
    for (const node of nodes) {
      const pods = byNode.get(node.metadata.name!) ?? [];
      if (nodeShouldRunDaemonPod(node, ds).shouldRun) {
        desired++;
        if (!pods.length) continue;
        current++;
        const pod = pods[0];
        if (isPodReady(pod)) {
          ready++;
          if (isPodAvailable(pod, minReady, now)) available++;
          else {
            const wait = msUntilAvailable(pod, minReady, now);
            if (wait !== undefined) this.queue.addAfter(objectKey(ds.metadata), wait);
          }
        }
        if (isUpdated(pod, ds, hash)) updated++;
      } else if (pods.length) {
        misscheduled++;
      }
    }
    this.ctx.store.mutate(DS, ds.metadata.namespace, ds.metadata.name!, (d) => {
      const s: any = {
        ...(d.status ?? {}),
        currentNumberScheduled: current,
        desiredNumberScheduled: desired,
        numberMisscheduled: misscheduled,
        numberReady: ready,
        observedGeneration: ds.metadata.generation,
        updatedNumberScheduled: updated,
        numberAvailable: available,
        numberUnavailable: desired - available,
      };
      for (const f of ['updatedNumberScheduled', 'numberAvailable', 'numberUnavailable']) if (!s[f]) delete s[f];
      d.status = s;
    }, { subresource: 'status' });
  }
}

/** Oldest first; among equals, running before pending (podByCreationTimestampAndPhase). */
function byCreationAndPhase(a: K8sObject, b: K8sObject): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  const rank = (p: K8sObject) => (p.status?.phase === 'Running' ? 0 : 1);
  return rank(a) - rank(b) || (a.metadata.name! < b.metadata.name! ? -1 : 1);
}
