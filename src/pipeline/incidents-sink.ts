// The incident tracker as a sink: it sees every signal before the engine
// does (so a detection fired by a signal finds that signal's pod placement
// already known) and every detection change after remediation has seen it.
import type { Clock } from '../common/index.ts';
import type { IncidentRecord, RunRecord, Store } from '../store/index.ts';
import type { DetectionChange, Detection, Signal } from '../rules/index.ts';
import { IncidentTracker, changedObjects, type IncidentTrackerOptions, type CacheLookup, type IncidentChange } from '../incidents/index.ts';
import type { KubeObject } from '../kube/index.ts';
import type { Sink } from './sink.ts';

export interface IncidentSinkOptions extends Partial<IncidentTrackerOptions> {
  store: Store;
  clock: Clock;
  lookup: CacheLookup;
  /** Pods already cached at start: where placements begin (they are not changes). */
  podsAtStart: () => { cluster: string; pods: KubeObject[] }[];
  onIncident?: (incident: IncidentRecord, change: IncidentChange) => void;
}

export class IncidentSink implements Sink {
  readonly name = 'incidents';
  readonly tracker: IncidentTracker;
  private readonly o: IncidentSinkOptions;
  /** What the informers list at start is where placements begin, not a change: the feed starts with what happens while kubemend watches. */
  private watching = false;
  private pendingRuns: Promise<void> = Promise.resolve();

  /** Runs under way, by the detection they remediate. */
  private readonly working = new Map<string, Set<string>>();

  constructor(o: IncidentSinkOptions) {
    this.o = o;
    this.tracker = new IncidentTracker({ ...o, busy: (ids) => ids.some((id) => this.working.has(id)) });
  }

  /** A run's step began: the incident of its detection is not quiet until the run ends. */
  runActive(run: RunRecord): void {
    if (!run.detectionId || this.working.get(run.detectionId)?.has(run.id)) return;
    const set = this.working.get(run.detectionId) ?? new Set<string>();
    set.add(run.id);
    this.working.set(run.detectionId, set);
  }

  start(): void {
    const now = this.o.clock.now();
    for (const { cluster, pods } of this.o.podsAtStart()) {
      for (const object of pods) this.tracker.observations.observe({ source: 'object', cluster, time: now, operation: 'create', object });
    }
    this.watching = true;
  }

  observe(signal: Signal): void {
    if (this.watching) this.tracker.observe(signal);
  }

  onDetection(d: Detection, change: DetectionChange): void {
    this.tracker.onDetection(d, change);
  }

  /** A run's end: the objects its mutating steps changed, read from its transitions, tell the tracker what it contained. */
  runEnded(run: RunRecord): void {
    const set = run.detectionId ? this.working.get(run.detectionId) : undefined;
    set?.delete(run.id);
    if (set?.size === 0) this.working.delete(run.detectionId!);
    if (run.status !== 'succeeded' || run.dryRun || !run.detectionId) return;
    this.pendingRuns = this.pendingRuns
      .then(async () => {
        const changed = changedObjects(await this.o.store.transitions(run.id));
        this.tracker.onRunEnd({ id: run.id, runbook: run.runbook, status: run.status, detectionId: run.detectionId, changed });
      })
      .catch((err: unknown) => this.o.onError?.(err));
  }

  /** People's actions (see IncidentTracker): by id or unique prefix; KM-INCIDENT-0xx when they cannot apply. */
  ack(id: string, by: string): Promise<IncidentRecord> {
    return this.tracker.ack(id, by);
  }

  assign(id: string, owner: string, by: string): Promise<IncidentRecord> {
    return this.tracker.assign(id, owner, by);
  }

  note(id: string, by: string, text: string): Promise<IncidentRecord> {
    return this.tracker.note(id, by, text);
  }

  resolve(id: string, by: string, reason?: string): Promise<IncidentRecord> {
    return this.tracker.resolve(id, by, reason);
  }

  async flush(): Promise<void> {
    await this.pendingRuns;
    return this.tracker.flush();
  }

  async stop(): Promise<void> {
    await this.pendingRuns;
    await this.tracker.flush();
    this.tracker.stop();
  }
}

