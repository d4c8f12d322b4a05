// What happened in the cluster whether or not a rule fired: Warning events
// (aggregated over their repeats), state transitions (a node's Ready and
// pressure conditions, a container OOMKilled) and where every pod ran. The
// tracker relates detections through it (a pod evicted from the node that
// ran out of memory), and the post-mortem lists from it what no rule caught.
// Like the change feed it reads only signals: no request to the API server.
// Messages are masked by the process's redactor: an Event can quote what a
// failing container printed, and incidents and post-mortems are kept.
import { redact } from '../common/index.ts';
import type { KubeObject } from '../kube/index.ts';
import type { Signal } from '../rules/index.ts';
import { PlacementTable } from './placements.ts';
import type { Observation, Placement } from './types.ts';

/** Names (app.kubernetes.io/name, app, or the workload's name) that mark a pod as part of the monitoring stack. */
export const MONITORING_NAMES: readonly string[] = ['prometheus', 'alertmanager', 'grafana', 'kube-state-metrics', 'node-exporter', 'thanos', 'loki', 'victoria-metrics', 'mimir'];
export const MONITORING_NAMESPACES: readonly string[] = ['monitoring', 'observability'];
/** Events that say a pod was put off its node. */
export const EVICTION_REASONS: readonly string[] = ['Evicted', 'TaintManagerEviction', 'Preempted', 'Preempting'];

const NODE_CONDITIONS: Record<string, { bad: (status: string) => boolean; reason: string }> = {
  Ready: { bad: (s) => s !== 'True', reason: 'NotReady' },
  MemoryPressure: { bad: (s) => s === 'True', reason: 'MemoryPressure' },
  DiskPressure: { bad: (s) => s === 'True', reason: 'DiskPressure' },
  PIDPressure: { bad: (s) => s === 'True', reason: 'PIDPressure' },
  NetworkUnavailable: { bad: (s) => s === 'True', reason: 'NetworkUnavailable' },
};

export interface ObservationLogOptions {
  /** Observations kept (oldest dropped). Default 5000. */
  capacity?: number;
  /** Pods remembered, deleted ones forgotten first. Default 5000. */
  placementCapacity?: number;
}

export class ObservationLog {
  private readonly capacity: number;
  private readonly placementCapacity: number;
  private readonly list: Observation[] = [];
  /** Aggregation of an Event's repeats: the Event's namespace/name → its observation. */
  private readonly byEvent = new Map<string, Observation>();
  /** cluster/namespace/pod → placement, in the order first seen (trimming follows it). */
  private readonly pods = new Map<string, Placement>();
  /** The same placements by cluster, indexed for correlation. */
  private readonly tables = new Map<string, PlacementTable>();
  private readonly placementListeners: ((cluster: string, key: string) => void)[] = [];

  constructor(opts: ObservationLogOptions = {}) {
    this.capacity = opts.capacity ?? 5000;
    this.placementCapacity = opts.placementCapacity ?? 5000;
  }

  observe(signal: Signal): void {
    if (signal.source === 'event' && signal.event && signal.operation !== 'delete') this.onEvent(signal, signal.event);
    else if (signal.source === 'object' && signal.object?.kind === 'Pod') this.onPod(signal, signal.object);
    else if (signal.source === 'object' && signal.object?.kind === 'Node' && signal.operation === 'update') this.onNode(signal, signal.object, signal.oldObject);
  }

  observations(q: { since?: number; until?: number; cluster?: string } = {}): Observation[] {
    return this.list.filter((o) => (q.since === undefined || o.lastTime >= q.since) && (q.until === undefined || o.time <= q.until) && (!q.cluster || o.cluster === q.cluster));
  }

  placement(cluster: string, namespace: string, pod: string): Placement | undefined {
    return this.pods.get(`${cluster}/${namespace}/${pod}`);
  }

  /** Every remembered pod of a cluster (live and deleted). */
  placements(cluster: string): Placement[] {
    return this.tables.get(cluster)?.all() ?? [];
  }

  /** A cluster's placements, indexed (read-only: the log keeps it current). */
  table(cluster: string): PlacementTable {
    let t = this.tables.get(cluster);
    if (!t) this.tables.set(cluster, (t = new PlacementTable((key) => this.placementListeners.forEach((f) => f(cluster, key)))));
    return t;
  }

  /** Told each `namespace/pod` whose placement was added or forgotten, with its cluster. */
  onPlacement(listener: (cluster: string, key: string) => void): () => void {
    this.placementListeners.push(listener);
    return () => {
      const i = this.placementListeners.indexOf(listener);
      if (i >= 0) this.placementListeners.splice(i, 1);
    };
  }

  private onEvent(signal: Signal, e: KubeObject): void {
    const io = e.involvedObject ?? {};
    const key = `${signal.cluster}/${e.metadata.namespace ?? ''}/${e.metadata.name ?? ''}`;
    const pod = io.kind === 'Pod' && io.namespace ? this.placement(signal.cluster, io.namespace, io.name) : undefined;
    if (pod && EVICTION_REASONS.includes(e.reason)) pod.evicted = true;
    if (e.type !== 'Warning') return;
    const seen = this.byEvent.get(key);
    if (seen) {
      seen.lastTime = signal.time;
      seen.count = Number(e.count) > 0 ? Number(e.count) : seen.count + 1;
      return;
    }
    const obs: Observation = {
      time: signal.time,
      lastTime: signal.time,
      count: Number(e.count ?? 1) || 1,
      cluster: signal.cluster,
      source: 'event',
      reason: String(e.reason ?? ''),
      object: { kind: String(io.kind ?? ''), ...(io.namespace ? { namespace: io.namespace } : {}), name: String(io.name ?? '') },
      message: redact(String(e.message ?? '')),
      ...(pod?.node ? { node: pod.node } : {}),
      ...(pod ? { workload: pod.workload } : {}),
    };
    this.byEvent.set(key, obs);
    this.push(obs);
  }

  private onPod(signal: Signal, pod: KubeObject): void {
    const ns = pod.metadata.namespace ?? '';
    const name = pod.metadata.name ?? '';
    const key = `${signal.cluster}/${ns}/${name}`;
    const table = this.table(signal.cluster);
    let p = this.pods.get(key);
    if (!p) {
      p = { pod: name, namespace: ns, workload: workloadOf(pod), monitoring: isMonitoringPod(pod), firstSeen: signal.time };
      this.pods.set(key, p);
      table.add(p);
      this.trim();
    }
    if (pod.spec?.nodeName) table.setNode(p, pod.spec.nodeName);
    if (signal.operation === 'delete') p.deletedAt = signal.time;
    else if (signal.oldObject) {
      for (const c of (pod.status?.containerStatuses ?? []) as any[]) {
        const reason = c.state?.terminated?.reason ?? c.lastState?.terminated?.reason;
        const before = ((signal.oldObject.status?.containerStatuses ?? []) as any[]).find((o) => o.name === c.name);
        const restarted = (c.restartCount ?? 0) > (before?.restartCount ?? 0) || (c.state?.terminated && !before?.state?.terminated);
        if (reason === 'OOMKilled' && restarted) {
          this.push({ time: signal.time, lastTime: signal.time, count: 1, cluster: signal.cluster, source: 'state', reason: 'OOMKilled', object: { kind: 'Pod', namespace: ns, name }, message: `container ${c.name} was OOMKilled`, ...(p.node ? { node: p.node } : {}), workload: p.workload });
        }
      }
    }
  }

  private onNode(signal: Signal, node: KubeObject, old?: KubeObject): void {
    const status = (o: KubeObject | undefined, type: string) => ((o?.status?.conditions ?? []) as any[]).find((c) => c.type === type);
    for (const [type, def] of Object.entries(NODE_CONDITIONS)) {
      const now = status(node, type);
      if (!now) continue;
      const was = status(old, type);
      if (!def.bad(now.status) || (was && def.bad(was.status))) continue;
      this.push({
        time: signal.time,
        lastTime: signal.time,
        count: 1,
        cluster: signal.cluster,
        source: 'state',
        reason: def.reason,
        object: { kind: 'Node', name: node.metadata.name ?? '' },
        message: redact(`${type} ${now.status}${now.reason ? ` (${now.reason})` : ''}${now.message ? `: ${now.message}` : ''}`),
      });
    }
  }

  private push(o: Observation): void {
    this.list.push(o);
    if (this.list.length <= this.capacity) return;
    for (const gone of this.list.splice(0, this.list.length - this.capacity)) {
      for (const [k, v] of this.byEvent) if (v === gone) this.byEvent.delete(k);
    }
  }

  private trim(): void {
    if (this.pods.size <= this.placementCapacity) return;
    for (const [k, p] of this.pods) {
      if (this.pods.size <= this.placementCapacity) break;
      if (p.deletedAt !== undefined) this.forget(k, p);
    }
    while (this.pods.size > this.placementCapacity) {
      const [k, p] = this.pods.entries().next().value!;
      this.forget(k, p);
    }
  }

  private forget(key: string, p: Placement): void {
    this.pods.delete(key);
    this.tables.get(key.slice(0, key.length - p.namespace.length - p.pod.length - 2))?.remove(p);
  }
}

/** "Deployment/ns/name" for a pod of a Deployment's ReplicaSet (by pod-template-hash), else its controller, else the pod. */
export function workloadOf(pod: KubeObject): string {
  const ns = pod.metadata.namespace ?? '';
  const refs = pod.metadata.ownerReferences ?? [];
  const ref = refs.find((r) => r.controller) ?? refs[0];
  if (!ref) return `Pod/${ns}/${pod.metadata.name}`;
  const hash = pod.metadata.labels?.['pod-template-hash'];
  if (ref.kind === 'ReplicaSet' && hash && ref.name.endsWith(`-${hash}`)) return `Deployment/${ns}/${ref.name.slice(0, -hash.length - 1)}`;
  return `${ref.kind}/${ns}/${ref.name}`;
}

export function isMonitoringPod(pod: KubeObject): boolean {
  const l = pod.metadata.labels ?? {};
  const names = [l['app.kubernetes.io/name'], l['app.kubernetes.io/part-of'], l.app, workloadOf(pod).split('/')[2]];
  return names.some((n) => n && MONITORING_NAMES.some((m) => n === m || n.startsWith(`${m}-`))) || MONITORING_NAMESPACES.includes(pod.metadata.namespace ?? '');
}
