// Smoke windows after every rollout, whoever made it. The watcher sees the
// signals the informers hand the engine, queues the workload each is about,
// and re-reads that workload's current state from the caches (level-based:
// what it decides never depends on having seen every event). A changed pod
// template is a rollout: it opens a window of cluster time during which the
// new revision's pods must not restart, be OOMKilled or lose readiness, and
// must be ready by its end. Each phase of a window — started, passed,
// failed, skipped, superseded, cancelled — is emitted as a `rollout` signal:
// rules decide what a failure means, the recorder audits every phase.
import type { Clock, TimerHandle } from '../../common/index.ts';
import type { KubeObject } from '../../kube/index.ts';
import type { Signal, SmokePhase, SmokeReport, Regression } from '../types.ts';
import type { Emit, Source } from './source.ts';
import { SmokeCheck } from './smoke-check.ts';
import {
  ROLLOUT_WORKLOADS, currentRevision, desiredReplicas, describeTemplateChange, imagesOfTemplate, keyOfTemplate, lastWriter,
  noRollout, podsOf, previousRevisionLabel, readyCount, readyReplicas, relabel, templateOf, windowSetting, type Revision,
} from './rollout-state.ts';

export const DEFAULT_SMOKE_WINDOW_MS = 5 * 60_000;
const HISTORY = 1000;

export interface RolloutWatcherOptions {
  clock: Clock;
  /** Objects of a kind in a cluster (and namespace), from the informer caches. */
  lookup: (cluster: string, kind: string, namespace?: string) => KubeObject[];
  /** One cached object by name (cheaper than a list per look); default: found in lookup's list. */
  get?: (cluster: string, kind: string, namespace: string | undefined, name: string) => KubeObject | undefined;
  /** Window length when neither the workload nor its namespace has the annotation (default 5m; 0: none). */
  defaultWindowMs?: number;
  log?: (line: string) => void;
}

interface OpenWindow {
  report: SmokeReport;
  check: SmokeCheck;
  timer: TimerHandle;
  rev?: Revision;
  /** The window's time is up: the next look is the last. */
  due: boolean;
}

interface Tracked {
  cluster: string;
  kind: string;
  namespace: string;
  name: string;
  uid?: string;
  /** The template last rolled out (or found at start), and its key. */
  template: unknown;
  key: string;
  /** The last object seen, for the signal of a window whose workload is gone. */
  object: KubeObject;
  window?: OpenWindow;
  /** How the last window of the current template ended. */
  lastPhase?: SmokePhase;
}

const keyOf = (cluster: string, kind: string, namespace: string, name: string) => `${cluster}\u0000${kind}\u0000${namespace}\u0000${name}`;

export class RolloutWatcher implements Source {
  readonly name = 'rollouts';
  defaultWindowMs: number;
  private readonly o: RolloutWatcherOptions;
  private readonly tracked = new Map<string, Tracked>();
  /** Workloads created while watching: their first revision is a rollout too (with nothing before it). */
  private readonly createdLive = new Set<string>();
  private readonly queued = new Set<string>();
  private readonly finished: SmokeReport[] = [];
  private emit: Emit | null = null;
  private draining = false;

  constructor(o: RolloutWatcherOptions) {
    this.o = o;
    this.defaultWindowMs = o.defaultWindowMs ?? DEFAULT_SMOKE_WINDOW_MS;
  }

  /**
   * Starts watching with the caches synced: every workload cached now is the
   * baseline (it was there before kubemend, or before a rule asked for smoke
   * windows), so only changes from here on open a window.
   */
  start(emit: Emit, clusters: readonly string[] = []): void {
    this.emit = emit;
    for (const cluster of clusters) {
      for (const kind of ROLLOUT_WORKLOADS) for (const w of this.o.lookup(cluster, kind)) this.baseline(cluster, w);
    }
  }

  stop(): void {
    this.emit = null;
    for (const t of this.tracked.values()) t.window?.timer.cancel();
    this.tracked.clear();
    this.createdLive.clear();
    this.queued.clear();
  }

  get running(): boolean {
    return this.emit !== null;
  }

  /** Every signal from the informers, before or after the engine sees it: only keys are queued here. */
  observe(signal: Signal): void {
    if (!this.emit || signal.source !== 'object') return;
    const o = signal.object ?? signal.oldObject;
    if (!o?.kind || !o.metadata.namespace) return;
    const ns = o.metadata.namespace;
    if (ROLLOUT_WORKLOADS.includes(o.kind)) {
      const key = keyOf(signal.cluster, o.kind, ns, o.metadata.name!);
      if (signal.operation === 'create' && !signal.initial && !this.tracked.has(key)) this.createdLive.add(key);
      this.queue(key);
      return;
    }
    // Pods and ReplicaSets only matter to a workload with an open window: the rest cost a lookup, no more.
    const owner = ownerWorkload(o);
    if (!owner) return;
    const key = keyOf(signal.cluster, owner.kind, ns, owner.name);
    if (this.tracked.get(key)?.window) this.queue(key);
  }

  /** Windows still open, oldest first. */
  open(): SmokeReport[] {
    return [...this.tracked.values()].flatMap((t) => (t.window ? [structuredClone(t.window.report)] : [])).sort((a, b) => a.window.opensAt - b.window.opensAt);
  }

  /** Windows that ended (passed, failed, skipped, superseded, cancelled), oldest first; the last 1000. */
  history(q: { cluster?: string; kind?: string; namespace?: string; name?: string; since?: number } = {}): SmokeReport[] {
    return this.finished.filter((r) => {
      const w = r.change.workload;
      return (!q.cluster || r.cluster === q.cluster) && (!q.kind || w.kind === q.kind) && (!q.namespace || w.namespace === q.namespace) && (!q.name || w.name === q.name) && (q.since === undefined || r.time >= q.since);
    }).map((r) => structuredClone(r));
  }

  private queue(key: string): void {
    this.queued.add(key);
    if (this.draining) return;
    this.draining = true;
    // After the informer's event (and any others it is delivering) is handled: one look per workload however many events came.
    queueMicrotask(() => {
      this.draining = false;
      const keys = [...this.queued];
      this.queued.clear();
      for (const key of keys) {
        try {
          this.process(key);
        } catch (err) {
          this.o.log?.(`warning: smoke window of ${key.replaceAll('\u0000', '/')}: ${(err as Error).message}`);
        }
      }
    });
  }

  private get(cluster: string, kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    if (this.o.get) return this.o.get(cluster, kind, namespace, name);
    return this.o.lookup(cluster, kind, namespace).find((x) => x.metadata.name === name);
  }

  private list(cluster: string) {
    return (kind: string, namespace?: string) => this.o.lookup(cluster, kind, namespace);
  }

  private baseline(cluster: string, w: KubeObject): Tracked {
    const t: Tracked = { cluster, kind: w.kind!, namespace: w.metadata.namespace!, name: w.metadata.name!, uid: w.metadata.uid, template: templateOf(w), key: keyOfTemplate(w), object: w };
    this.tracked.set(keyOf(cluster, t.kind, t.namespace, t.name), t);
    return t;
  }

  private process(key: string): void {
    if (!this.emit) return;
    const [cluster, kind, namespace, name] = key.split('\u0000');
    const w = this.get(cluster, kind, namespace, name);
    let t = this.tracked.get(key);
    if (!w) {
      if (t?.window) this.finish(t, 'cancelled', [], 'the workload was deleted');
      this.tracked.delete(key);
      this.createdLive.delete(key);
      return;
    }
    if (t && t.uid !== w.metadata.uid) {
      // Deleted and created again between two looks: another workload under the same name.
      if (t.window) this.finish(t, 'cancelled', [], 'the workload was deleted (and created again)');
      t = undefined;
      this.createdLive.add(key);
    }
    if (!t) {
      if (!this.createdLive.delete(key)) {
        this.baseline(cluster, w);
        return;
      }
      // Created while watching: a rollout of its first revision, with no template before it.
      t = { cluster, kind, namespace, name, uid: w.metadata.uid, template: undefined, key: '', object: w };
      this.tracked.set(key, t);
    }
    t.object = w;
    // A paused Deployment rolls nothing out: the window opens when it is resumed.
    if (keyOfTemplate(w) !== t.key && !(kind === 'Deployment' && w.spec?.paused)) this.rollout(t, w);
    if (t.window) this.look(t, w);
  }

  private rollout(t: Tracked, w: KubeObject): void {
    const now = this.o.clock.now();
    const list = this.list(t.cluster);
    const created = t.key === '';
    const writer = lastWriter(w);
    if (t.window) this.finish(t, 'superseded', [], `a newer rollout of the workload replaced it before its window ended`);
    const previousLabel = created ? undefined : previousRevisionLabel(w, t.key, list);
    const ready = readyReplicas(w);
    const change: SmokeReport['change'] = {
      workload: { kind: t.kind, namespace: t.namespace, name: t.name, ...(w.metadata.uid ? { uid: w.metadata.uid } : {}) },
      ...(created ? {} : {
        previous: {
          ...(previousLabel ? { revision: previousLabel } : {}),
          images: imagesOfTemplate(t.template),
          healthy: ready > 0 && t.lastPhase !== 'failed',
          readyReplicas: ready,
        },
      }),
      images: imagesOfTemplate(templateOf(w)),
      summary: created ? 'created' : describeTemplateChange(t.template, templateOf(w)),
      ...(writer ? { author: writer.manager } : {}),
      at: writer?.time ?? now,
      observedAt: now,
      ...(w.metadata.generation !== undefined ? { generation: w.metadata.generation } : {}),
    };
    t.template = templateOf(w);
    t.key = keyOfTemplate(w);
    t.lastPhase = undefined;
    const ns = this.get(t.cluster, 'Namespace', undefined, t.namespace);
    const setting = windowSetting(w, ns, this.defaultWindowMs);
    for (const p of setting.problems) this.o.log?.(`warning: ${p}`);
    const report: SmokeReport = {
      id: `${t.cluster}/${t.kind}/${t.namespace}/${t.name}@${now}`,
      cluster: t.cluster,
      phase: 'started',
      change,
      window: { ms: setting.ms, opensAt: now, closesAt: now + setting.ms, setBy: setting.setBy },
      regressions: [],
      pods: 0,
      readyPods: 0,
      time: now,
    };
    const skip = setting.ms <= 0 ? `no smoke window: ${setting.setBy} turns it off` : noRollout(w);
    if (skip) {
      t.lastPhase = 'skipped';
      return this.record(t, { ...report, window: { ...report.window, ms: 0, closesAt: now }, phase: 'skipped', reason: skip });
    }
    const key = keyOf(t.cluster, t.kind, t.namespace, t.name);
    const open: OpenWindow = {
      report,
      check: new SmokeCheck(now),
      due: false,
      timer: this.o.clock.setTimeout(() => {
        open.due = true;
        this.queue(key);
      }, setting.ms),
    };
    t.window = open;
    this.send(t, report);
  }

  /** One look at the new revision's pods: the first regression fails the window; at its end, a clean window passes. */
  private look(t: Tracked, w: KubeObject): void {
    const win = t.window!;
    const list = this.list(t.cluster);
    const now = this.o.clock.now();
    win.rev = win.rev ? relabel(w, win.rev, list) : currentRevision(w, list);
    if (win.rev) win.report.change.revision = win.rev.label;
    const pods = win.rev ? podsOf(w, win.rev, list) : [];
    win.report.pods = pods.length;
    win.report.readyPods = readyCount(pods);
    const found = win.check.look(pods, now);
    if (found.length) return this.finish(t, 'failed', found);
    if (!win.due && now < win.report.window.closesAt) return;
    const end = win.check.atEnd(pods, now, win.report.window.ms, desiredReplicas(w), win.rev?.label);
    this.finish(t, end.length ? 'failed' : 'passed', end);
  }

  private finish(t: Tracked, phase: SmokePhase, regressions: Regression[], reason?: string): void {
    const win = t.window!;
    win.timer.cancel();
    t.window = undefined;
    t.lastPhase = phase;
    this.record(t, { ...win.report, phase, regressions, time: this.o.clock.now(), ...(reason ? { reason } : {}) });
  }

  private record(t: Tracked, report: SmokeReport): void {
    this.finished.push(report);
    if (this.finished.length > HISTORY) this.finished.splice(0, this.finished.length - HISTORY);
    this.send(t, report);
  }

  private send(t: Tracked, report: SmokeReport): void {
    const signal: Signal = { source: 'rollout', cluster: t.cluster, time: report.time, object: t.object, rollout: structuredClone(report) };
    this.emit?.(signal);
  }
}

/** The workload a Pod or ReplicaSet belongs to, from its owner references and labels alone (no lookup). */
function ownerWorkload(o: KubeObject): { kind: string; name: string } | undefined {
  const ref = o.metadata.ownerReferences?.find((r) => r.controller);
  if (!ref) return undefined;
  if (o.kind === 'ReplicaSet') return ref.kind === 'Deployment' ? { kind: 'Deployment', name: ref.name } : undefined;
  if (o.kind !== 'Pod') return undefined;
  if (ref.kind === 'StatefulSet' || ref.kind === 'DaemonSet') return { kind: ref.kind, name: ref.name };
  if (ref.kind !== 'ReplicaSet') return undefined;
  // A Deployment's ReplicaSet is named <deployment>-<pod-template-hash>.
  const hash = o.metadata.labels?.['pod-template-hash'];
  return hash && ref.name.endsWith(`-${hash}`) ? { kind: 'Deployment', name: ref.name.slice(0, -hash.length - 1) } : undefined;
}
