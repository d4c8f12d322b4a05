// The DaemonSet controller: one pod per node that matches the template's
// nodeSelector / node affinity and whose NoSchedule/NoExecute taints the pod
// tolerates (with the tolerations the real controller always adds). Pods are
// pinned with node affinity on metadata.name and placed by the scheduler, as
// in Kubernetes 1.32. RollingUpdate replaces old pods within maxUnavailable;
// failed pods are killed and recreated with a back-off.
import { matchesSelector } from '../selectors.ts';
import type { K8sObject, StoreEvent } from '../types.ts';
import type { Controller, ControllerContext } from './controller.ts';
import { WorkQueue, objectKey, splitKey } from './workqueue.ts';
import {
  controllerRefOf, isControlledBy, isPodAvailable, isPodReady, msUntilAvailable, newControllerRef, ownedBy,
  podFromTemplate, revisionData, revisionHash, scaledValue, stableStringify,
} from './podutil.ts';

const DS = 'apps/daemonsets';
const REVISIONS = 'apps/controllerrevisions';
const SOURCE = { component: 'daemonset-controller' };
const FAILED_BACKOFF_INITIAL_MS = 1000;
const FAILED_BACKOFF_MAX_MS = 15 * 60_000;

/** AddOrUpdateDaemonPodTolerations: daemons keep running through node trouble and cordons. */
export const DAEMON_TOLERATIONS = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];

export class DaemonSetController implements Controller {
  readonly name = 'daemonset-controller';
  private ctx!: ControllerContext;
  private queue?: WorkQueue;
  private unsubscribe?: () => void;
  private readonly failedBackoff = new Map<string, { delay: number; at: number }>();

  start(ctx: ControllerContext): void {
    this.ctx = ctx;
    this.queue = new WorkQueue(ctx.clock, (k) => this.sync(k));
    this.unsubscribe = ctx.store.subscribe((ev) => this.onEvent(ev));
    this.queueAll();
  }

  stop(): void {
    this.unsubscribe?.();
    this.queue?.stop();
  }

  private queueAll(): void {
    for (const ds of this.ctx.store.list(DS).items) this.queue!.add(objectKey(ds.metadata));
  }

  private onEvent(ev: StoreEvent): void {
    if (ev.storage === DS) {
      this.queue!.add(objectKey(ev.object.metadata));
    } else if (ev.storage === 'pods' || ev.storage === REVISIONS) {
      for (const o of [ev.object, ev.old]) {
        const ref = o && controllerRefOf(o);
        if (ref?.kind === 'DaemonSet') this.queue!.add(`${o!.metadata.namespace}/${ref.name}`);
      }
    } else if (ev.storage === 'nodes') {
      // Heartbeats change only status; placement depends on labels, taints and existence.
      const changed = ev.type !== 'MODIFIED' ||
        stableStringify(ev.old?.metadata.labels) !== stableStringify(ev.object.metadata.labels) ||
        stableStringify(ev.old?.spec?.taints) !== stableStringify(ev.object.spec?.taints);
      if (changed) this.queueAll();
    }
  }

  private sync(key: string): void {
    const { namespace: ns, name } = splitKey(key);
    const ds = this.ctx.store.get(DS, ns, name);
    if (!ds) {
      for (const k of this.failedBackoff.keys()) if (k.startsWith(`${key}/`)) this.failedBackoff.delete(k);
      return;
    }
    if (ds.metadata.deletionTimestamp) return;
    const hash = this.syncRevisions(ds);
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

  private syncRevisions(ds: K8sObject): string {
    const store = this.ctx.store;
    const ns = ds.metadata.namespace;
    const revisions = ownedBy(store.list(REVISIONS, ns).items, ds).sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0));
    const data = revisionData(ds);
    const hash = revisionHash(data, ds.status?.collisionCount ?? 0);
    const name = `${ds.metadata.name}-${hash}`;
    const max = revisions[revisions.length - 1]?.revision ?? 0;
    const cur = revisions.find((r) => r.metadata.name === name);
    if (!cur) {
      store.create(REVISIONS, {
        metadata: {
          name,
          namespace: ns,
          labels: { ...(ds.spec.template?.metadata?.labels ?? {}), 'controller.kubernetes.io/hash': hash },
          ownerReferences: [newControllerRef(ds)],
        },
        data,
        revision: max + 1,
      });
    } else if (cur.revision < max) {
      store.mutate(REVISIONS, ns, name, (r) => { r.revision = max + 1; });
    }
    // cleanupHistory: drop unused old revisions beyond revisionHistoryLimit.
    const live = new Set([name, ...this.pods(ds).map((p) => `${ds.metadata.name}-${p.metadata.labels?.['controller-revision-hash']}`)]);
    const old = revisions.filter((r) => !live.has(r.metadata.name!));
    const limit = ds.spec.revisionHistoryLimit ?? 10;
    for (const r of old.slice(0, Math.max(0, old.length - limit))) store.remove(REVISIONS, r);
    return hash;
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
              this.queue!.addAfter(key, b.delay - (now - b.at));
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
          if (wait !== undefined) this.queue!.addAfter(objectKey(ds.metadata), wait);
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
            if (wait !== undefined) this.queue!.addAfter(objectKey(ds.metadata), wait);
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

function templateGeneration(ds: K8sObject): number {
  const a = ds.metadata.annotations?.['deprecated.daemonset.template.generation'];
  return a !== undefined ? Number(a) : ds.metadata.generation ?? 1;
}

/** util.IsPodUpdated: the pod carries the current template hash or template generation. */
function isUpdated(pod: K8sObject, ds: K8sObject, hash: string): boolean {
  const l = pod.metadata.labels ?? {};
  return l['controller-revision-hash'] === hash || l['pod-template-generation'] === String(templateGeneration(ds));
}

/** Oldest first; among equals, running before pending (podByCreationTimestampAndPhase). */
function byCreationAndPhase(a: K8sObject, b: K8sObject): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  const rank = (p: K8sObject) => (p.status?.phase === 'Running' ? 0 : 1);
  return rank(a) - rank(b) || (a.metadata.name! < b.metadata.name! ? -1 : 1);
}

/** ReplaceDaemonSetPodNodeNameNodeAffinity: required terms become `metadata.name In [node]`. */
function pinToNode(spec: any, nodeName: string): void {
  spec.affinity ??= {};
  spec.affinity.nodeAffinity ??= {};
  spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = {
    nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }],
  };
  const tolerations: any[] = spec.tolerations ?? [];
  for (const t of DAEMON_TOLERATIONS) {
    if (!tolerations.some((x) => x.key === t.key && x.effect === t.effect)) tolerations.push({ ...t });
  }
  if (spec.hostNetwork && !tolerations.some((x) => x.key === 'node.kubernetes.io/network-unavailable')) {
    tolerations.push({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
  }
  spec.tolerations = tolerations;
}

function targetNode(pod: K8sObject): string | undefined {
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  for (const t of terms) {
    for (const f of t.matchFields ?? []) {
      if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
    }
  }
  return undefined;
}

function tolerates(tolerations: any[], taint: any): boolean {
  return tolerations.some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (t.operator === 'Exists') return !t.key || t.key === taint.key;
    return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
  });
}

function matchExpression(e: any, value: string | undefined): boolean {
  const vals: string[] = e.values ?? [];
  switch (e.operator) {
    case 'In': return value !== undefined && vals.includes(value);
    case 'NotIn': return value === undefined || !vals.includes(value);
    case 'Exists': return value !== undefined;
    case 'DoesNotExist': return value === undefined;
    case 'Gt': return value !== undefined && Number(value) > Number(vals[0]);
    case 'Lt': return value !== undefined && Number(value) < Number(vals[0]);
    default: return false;
  }
}

/** nodeSelector plus required node affinity (terms ORed, expressions ANDed). */
export function nodeMatchesPod(spec: any, node: K8sObject): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const terms = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!terms) return true;
  return terms.some((t: any) => {
    const exprs = t.matchExpressions ?? [];
    const fields = t.matchFields ?? [];
    if (!exprs.length && !fields.length) return false;
    return exprs.every((e: any) => matchExpression(e, labels[e.key])) &&
      fields.every((f: any) => matchExpression(f, f.key === 'metadata.name' ? node.metadata.name : undefined));
  });
}

/** NodeShouldRunDaemonPod: whether to place a pod, and whether an existing one may stay. */
export function nodeShouldRunDaemonPod(node: K8sObject, ds: K8sObject): { shouldRun: boolean; shouldContinueRunning: boolean } {
  const spec = structuredClone(ds.spec.template?.spec ?? {});
  if (spec.nodeName && spec.nodeName !== node.metadata.name) return { shouldRun: false, shouldContinueRunning: false };
  if (!nodeMatchesPod(spec, node)) return { shouldRun: false, shouldContinueRunning: false };
  pinToNode(spec, node.metadata.name!);
  const taints: any[] = node.spec?.taints ?? [];
  const untolerated = (effect: string) => taints.some((t) => t.effect === effect && !tolerates(spec.tolerations, t));
  if (untolerated('NoSchedule') || untolerated('NoExecute')) {
    return { shouldRun: false, shouldContinueRunning: !untolerated('NoExecute') };
  }
  return { shouldRun: true, shouldContinueRunning: true };
}
