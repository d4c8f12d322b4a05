// Groups detections into incidents as they happen. Feed it every signal
// (observe) and every detection change (onDetection); it persists incidents
// through the store and audits incident.opened / updated / resolved.
//
// A warning or critical detection opens an incident unless it relates to an
// open one whose last activity is within the join window; related to several,
// it joins the oldest and the others merge into it. Info and silenced
// detections never open an incident: they wait in a pool while open and join
// the first incident they relate to (a pod without a memory limit found hours
// before the node it runs on ran out of memory). An incident resolves after
// a quiet period with no new or repeated detection.
//
// A run that changed the cluster and succeeded on one of an incident's
// detections mitigates it once every warning or critical detection of the
// incident has settled: resolved by the engine (its condition stopped
// holding), about an object the run changed (the run is its fix), or an
// occurrence (an Event, a webhook: never resolved by the engine) that has not
// fired again since the run ended. A new warning or critical detection about
// anything but what that run changed reopens it. Detections about the object
// the run contained (a limited leaker now OOM-killed inside its own limit)
// are the containment working, not new harm.
//
// People act through ack, assign, note and resolve (lifecycle.ts): each is a
// read-modify-write of the stored record, so it holds whichever replica
// drives the live incident; the tracker's own writes carry the people's
// fields over from the store (docs/incidents.md, "Lifecycle").
import type { Clock, TimerHandle } from '../common/index.ts';
import type { Actor, AuditInput } from '../audit/index.ts';
import type { IncidentRecord, Store } from '../store/index.ts';
import type { DetectionChange, Detection, Signal } from '../rules/index.ts';
import { ChangeFeed, type ChangeFeedOptions } from './change-feed.ts';
import { relation, touchOf } from './correlate.ts';
import { IncidentIndex } from './incident-index.ts';
import { ObservationLog } from './observations.ts';
import { buildData, detectionRef, incidentTouch } from './snapshot.ts';
import { CHANGES, incidentId, mitigable, opens, subjectKeys, titleOf } from './tracker-parts.ts';
import type { CacheLookup, DetectionRef, GuardrailFinding } from './types.ts';
import { RESOLVED_MERGED, RESOLVED_QUIET, actionAudit, applyAction, closedByPerson, findIncident, isClosed, isOccurrence, markPostmortem, mergePeople, reopenedStatus, type ActionEffect, type IncidentChange, type PersonAction } from './lifecycle.ts';

export interface IncidentTrackerOptions {
  store: Store;
  clock: Clock;
  /** The informer caches (for guardrails and HPA targets); undefined for a kind nobody watches. */
  lookup: CacheLookup;
  /** A detection joins an open incident whose last activity is at most this long ago. Default 15m. */
  windowMs?: number;
  /** How far before an incident opened its changes and signals are kept. Default 30m. */
  lookbackMs?: number;
  /** Quiet time after which an incident resolves. Default 30m. */
  resolveAfterMs?: number;
  /** How long repeats may go unpersisted (they are batched). Default 15s. */
  persistEveryMs?: number;
  feed?: ChangeFeed;
  /** How the tracker's own feed is built (when `feed` is not given): expected managers, the audit trail. */
  changes?: ChangeFeedOptions;
  observations?: ObservationLog;
  onIncident?: (incident: IncidentRecord, change: IncidentChange) => void;
  onError?: (err: unknown) => void;
  /** Whether a runbook run is under way on any of these detections: an incident does not resolve quietly while one is. */
  busy?: (detectionIds: readonly string[]) => boolean;
}

/** A run that ended, as the incident tracker needs it. */
export interface EndedRun {
  id: string;
  runbook: string;
  status: string;
  detectionId?: string;
  /** Objects its steps changed: `resource/namespace/name` (namespace empty for cluster-scoped). */
  changed: string[];
}

interface Live {
  record: IncidentRecord;
  /** The last snapshot's guardrail findings (a finding fixed during the incident still belongs to it). */
  guardrails?: GuardrailFinding[];
  /** Objects the mitigating run changed; detections about them do not reopen the incident. */
  contained?: Set<string>;
  /** The succeeded run that will mitigate the incident once its detections settle. */
  mitigation?: { run: string; runbook: string; changed: string[]; endedAt: number };
  /** Members the engine resolved (and that have not fired since). */
  resolved: Set<string>;
  /** When each member last fired (opened or repeated). */
  firedAt: Map<string, number>;
  members: Detection[];
  refs: Map<string, DetectionRef>;
  lastActivity: number;
  resolveTimer?: TimerHandle;
  persistTimer?: TimerHandle;
}

const ACTOR = { type: 'system', name: 'incident-tracker' } as const;
const SEVERITY = { info: 0, warning: 1, critical: 2 } as const;

export class IncidentTracker {
  readonly feed: ChangeFeed;
  readonly observations: ObservationLog;
  private readonly o: IncidentTrackerOptions;
  private readonly open = new Map<string, Live>();
  private readonly byDetection = new Map<string, Live>();
  /** Info and silenced detections not (yet) in an incident. */
  private readonly pool = new Map<string, Detection>();
  private writes: Promise<void> = Promise.resolve();
  private readonly unlisten?: () => void;
  /** What the open incidents are about, so a detection finds its related ones without a pass over all of them. */
  private readonly index: IncidentIndex<Live>;
  private readonly unplace: () => void;

  constructor(o: IncidentTrackerOptions) {
    this.o = o;
    this.feed = o.feed ?? new ChangeFeed(o.changes);
    this.observations = o.observations ?? new ObservationLog();
    this.index = new IncidentIndex<Live>(o.lookup);
    this.unplace = this.observations.onPlacement((cluster, key) => this.index.refreshPod(cluster, key, this.observations.table(cluster)));
    // Audit events arrive in batches after the changes: open incidents are written again (batched) so their changes gain a user.
    this.unlisten = o.changes?.audit?.onAdded(() => {
      for (const l of this.open.values()) this.later(l);
    });
  }

  private get windowMs() { return this.o.windowMs ?? 15 * 60_000; }
  private get lookbackMs() { return this.o.lookbackMs ?? 30 * 60_000; }

  /** Every signal the engine's caller receives (object changes and events). */
  observe(signal: Signal): void {
    try {
      this.feed.observe(signal);
      this.observations.observe(signal);
    } catch (err) {
      this.o.onError?.(err);
    }
  }

  /** The engine's onDetection hook. Never throws into the engine. */
  onDetection(d: Detection, change: DetectionChange): void {
    try {
      this.handle(d, change);
    } catch (err) {
      this.o.onError?.(err);
    }
  }

  /** Open incidents, oldest first. */
  openIncidents(): IncidentRecord[] {
    return [...this.open.values()].map((l) => l.record);
  }

  /** Re-checks every open incident (guardrails, changes, signals), persists it, and waits for every write. */
  async flush(): Promise<void> {
    for (const l of this.open.values()) this.persist(l);
    await this.writes;
  }

  stop(): void {
    this.unlisten?.();
    this.unplace();
    for (const l of this.open.values()) {
      l.resolveTimer?.cancel();
      l.persistTimer?.cancel();
    }
  }

  private handle(d: Detection, change: DetectionChange): void {
    const now = this.o.clock.now();
    const mine = this.byDetection.get(d.id);
    if (change === 'resolved') {
      this.pool.delete(d.id);
      if (mine) {
        mine.resolved.add(d.id);
        if (!this.checkMitigated(mine)) this.later(mine);
      }
      return;
    }
    if (mine) {
      mine.resolved.delete(d.id);
      mine.firedAt.set(d.id, now);
      if (opens(d)) {
        mine.lastActivity = now;
        this.armResolve(mine);
      }
      // A repeat of an occurrence (another OOM, another eviction) is new harm too; a condition repeats while it holds.
      if (change === 'opened' || change === 'reopened' || isOccurrence(d)) this.reopenIfNew(mine, d);
      this.later(mine);
      return;
    }
    if (change === 'repeated' && !opens(d)) return;
    const since = now - this.lookbackMs;
    const table = this.observations.table(d.cluster);
    const t = touchOf(d.subject, table.view(since), this.o.lookup);
    this.index.refreshVolatile(d.cluster, table);
    const related = [...this.index.candidates(d.cluster, t, table, since)]
      .filter((l) => this.open.get(l.record.id) === l && l.record.cluster === d.cluster && now - l.lastActivity <= this.windowMs)
      .map((l) => ({ l, via: relation(t, this.index.touch(l, table, since)) }))
      .filter((x): x is { l: Live; via: string } => x.via !== undefined);
    if (!related.length) {
      if (!opens(d)) return void this.pool.set(d.id, d);
      const l = this.start(d, now);
      this.pullPool(l, since, now);
      this.persist(l, { action: 'incident.opened', detectionId: d.id });
      return;
    }
    const [target, ...others] = related.sort((a, b) => a.l.record.openedAt - b.l.record.openedAt || a.l.record.id.localeCompare(b.l.record.id));
    this.join(target.l, d, target.via, now);
    this.reopenIfNew(target.l, d);
    if (opens(d)) {
      target.l.lastActivity = now;
      this.armResolve(target.l);
    }
    for (const o of others) this.merge(target.l, o.l, now);
    const pulled = this.pullPool(target.l, since, now);
    this.persist(target.l, { action: 'incident.updated', detectionId: d.id, data: { joined: [d.id, ...pulled], via: target.via, merged: others.map((o) => o.l.record.id) } });
  }

  /** The pipeline's report of a run's end; only a succeeded run that changed something mitigates, once the detections settle. */
  onRunEnd(run: EndedRun): void {
    try {
      if (run.status !== 'succeeded' || !run.changed.length || !run.detectionId) return;
      const l = this.byDetection.get(run.detectionId);
      if (!l || !mitigable(l.record)) return;
      l.contained = new Set(run.changed);
      l.mitigation = { run: run.id, runbook: run.runbook, changed: run.changed, endedAt: this.o.clock.now() };
      if (this.checkMitigated(l)) return;
      this.persist(l, { action: 'incident.updated', data: { mitigation: 'waiting for the detections to resolve', run: run.id, runbook: run.runbook, waitingFor: this.unsettled(l).map((d) => d.id) } });
    } catch (err) {
      this.o.onError?.(err);
    }
  }

  /** Warning and critical members that keep the incident from being mitigated (see the header). */
  private unsettled(l: Live): Detection[] {
    const m = l.mitigation!;
    return l.members.filter(opens).filter((d) => {
      if (l.resolved.has(d.id)) return false;
      if (subjectKeys(d.subject).some((k) => l.contained?.has(k))) return false;
      return !(isOccurrence(d) && (l.firedAt.get(d.id) ?? 0) <= m.endedAt);
    });
  }

  private checkMitigated(l: Live): boolean {
    const m = l.mitigation;
    if (!m || !mitigable(l.record) || this.unsettled(l).length) return false;
    l.record.status = 'mitigated';
    l.record.mitigatedAt = this.o.clock.now();
    this.persist(l, { action: 'incident.mitigated', data: { run: m.run, runbook: m.runbook, changed: m.changed } }, { mitigatedBy: { run: m.run, runbook: m.runbook, changed: m.changed } });
    return true;
  }

  /** A person acknowledges: open → acknowledged (a mitigated incident keeps its status). */
  ack(id: string, by: string): Promise<IncidentRecord> {
    return this.act(id, { kind: 'ack', by });
  }

  assign(id: string, owner: string, by: string): Promise<IncidentRecord> {
    return this.act(id, { kind: 'assign', owner, by });
  }

  /** Redacted; at most NOTE_MAX_CHARS characters and NOTES_MAX notes. */
  note(id: string, by: string, text: string): Promise<IncidentRecord> {
    return this.act(id, { kind: 'note', by, text });
  }

  /** A person resolves it; the next warning or critical detection opens a new incident. */
  resolve(id: string, by: string, reason?: string): Promise<IncidentRecord> {
    return this.act(id, { kind: 'resolve', by, reason });
  }

  /** A post-mortem draft was made: a resolved incident becomes `postmortem` (undefined when it is not resolved, or was marked before). */
  async postmortemDrafted(id: string, by: Actor): Promise<IncidentRecord | undefined> {
    await this.writes;
    const after = await markPostmortem(this.o.store, id, by, this.o.clock.now());
    if (after) this.o.onIncident?.(after, 'postmortem');
    return after;
  }

  /**
   * A person's action: the tracker's pending writes land first, then the
   * stored record is changed under its row lock, audited, and the live
   * incident (when this process drives it) takes the result. Rejects with
   * a KubemendError (KM-INCIDENT-0xx) when it cannot apply.
   */
  private async act(idOrPrefix: string, a: PersonAction): Promise<IncidentRecord> {
    const live = this.open.get(idOrPrefix);
    if (live && a.kind === 'resolve') this.persist(live);
    await this.writes;
    const { id } = await findIncident(this.o.store, idOrPrefix);
    const job = this.writes.then(async () => {
      const now = this.o.clock.now();
      let effect!: ActionEffect;
      const after = (await this.o.store.updateIncident(id, (cur) => {
        if (!cur) return undefined;
        const r = structuredClone(cur);
        effect = applyAction(r, a, now);
        return r;
      }))!;
      await this.o.store.audit.append(actionAudit(after, effect, a.by, now));
      const l = this.open.get(id);
      if (l) {
        mergePeople(l.record, after);
        if (a.kind === 'resolve') this.forget(l, after);
      }
      this.o.onIncident?.(after, effect.change);
      return after;
    });
    this.writes = job.then(() => undefined, () => undefined);
    return job;
  }

  /** Drops a live incident closed in the store (by a person, here or on another replica). */
  private forget(l: Live, closed: IncidentRecord): void {
    l.resolveTimer?.cancel();
    l.persistTimer?.cancel();
    l.persistTimer = undefined;
    this.open.delete(l.record.id);
    this.index.remove(l);
    for (const d of l.members) if (this.byDetection.get(d.id) === l) this.byDetection.delete(d.id);
    Object.assign(l.record, { status: closed.status, resolvedAt: closed.resolvedAt, resolvedBy: closed.resolvedBy, resolveReason: closed.resolveReason });
  }

  private reopenIfNew(l: Live, d: Detection): void {
    if (l.record.status !== 'mitigated' || !opens(d)) return;
    if (l.contained && subjectKeys(d.subject).some((k) => l.contained!.has(k))) return;
    l.record.status = reopenedStatus(l.record);
    delete l.record.mitigatedAt;
    l.contained = undefined;
    l.mitigation = undefined;
    this.persist(l, { action: 'incident.reopened', detectionId: d.id, data: { reason: `${d.rule} opened on ${d.subject.kind}/${d.subject.namespace ? `${d.subject.namespace}/` : ''}${d.subject.name} after the mitigation` } });
  }

  private start(d: Detection, now: number): Live {
    const id = incidentId(d.cluster, d.fingerprint, now);
    const record: IncidentRecord = { id, title: '', cluster: d.cluster, status: 'open', severity: d.severity, openedAt: now, detectionIds: [], data: {} };
    const l: Live = { record, members: [], refs: new Map(), lastActivity: now, resolved: new Set(), firedAt: new Map() };
    this.open.set(id, l);
    this.join(l, d, 'opened the incident', now);
    this.armResolve(l);
    return l;
  }

  private join(l: Live, d: Detection, via: string, now: number): void {
    if (l.refs.has(d.id)) return;
    l.members.push(d);
    l.refs.set(d.id, detectionRef(d, via, now));
    l.record.detectionIds.push(d.id);
    l.firedAt.set(d.id, now);
    this.byDetection.set(d.id, l);
    this.index.add(l, l.record.cluster, d, this.observations.table(l.record.cluster));
    this.pool.delete(d.id);
  }

  /** Pool detections related to the incident join it, until none is left to join (each join widens the incident). */
  private pullPool(l: Live, since: number, now: number): string[] {
    const joined: string[] = [];
    const table = this.observations.table(l.record.cluster);
    const view = table.view(since);
    // The index follows each join, so the incident's touch widens as members join.
    const it = this.index.touch(l, table, since);
    for (let again = true; again; ) {
      again = false;
      for (const p of [...this.pool.values()].filter((x) => x.cluster === l.record.cluster).sort((a, b) => a.firstSeen - b.firstSeen || a.id.localeCompare(b.id))) {
        const via = relation(touchOf(p.subject, view, this.o.lookup), it);
        if (!via) continue;
        this.join(l, p, via, now);
        joined.push(p.id);
        again = true;
        break;
      }
    }
    return joined;
  }

  private merge(into: Live, from: Live, now: number): void {
    for (const d of from.members) this.join(into, d, `merged from ${from.record.id}: ${from.refs.get(d.id)?.joinedVia ?? ''}`, now);
    into.lastActivity = Math.max(into.lastActivity, from.lastActivity);
    this.close(from, `merged into ${into.record.id}`, { mergedInto: into.record.id });
  }

  private armResolve(l: Live): void {
    l.resolveTimer?.cancel();
    const after = this.o.resolveAfterMs ?? 30 * 60_000;
    l.resolveTimer = this.o.clock.setTimeout(() => {
      // A remediation still at work on it is not quiet: its steps and verdict belong to this incident.
      const working = this.o.busy?.(l.members.map((d) => d.id)) ?? false;
      if (!working && this.o.clock.now() - l.lastActivity >= after) this.close(l, `no new detection for ${Math.round(after / 60_000)}m`);
      else this.armResolve(l);
    }, after);
  }

  /** Resolved by nobody: the quiet period passed, or it merged into another incident. */
  private close(l: Live, because: string, extra: Record<string, unknown> = {}): void {
    if (isClosed(l.record)) return;
    l.resolveTimer?.cancel();
    l.persistTimer?.cancel();
    this.open.delete(l.record.id);
    this.index.remove(l);
    for (const d of l.members) if (this.byDetection.get(d.id) === l) this.byDetection.delete(d.id);
    l.record.status = 'resolved';
    l.record.resolvedAt = this.o.clock.now();
    l.record.resolvedBy = extra.mergedInto ? RESOLVED_MERGED : RESOLVED_QUIET;
    this.persist(l, { action: 'incident.resolved', data: { reason: because, ...extra } }, { resolvedBecause: because, ...extra });
  }

  /** What the incident is about, as its snapshot's `entities` says (the index has them unless the incident was just closed). */
  private entities(l: Live): string[] {
    const table = this.observations.table(l.record.cluster);
    if (!this.index.has(l)) return [...incidentTouch(l.record.cluster, l.members, table.view(0), this.o.lookup).own].sort();
    this.index.refreshVolatile(l.record.cluster, table);
    return this.index.ownKeys(l).sort();
  }

  /** Repeats and resolutions are batched: persist at most once per persistEveryMs. */
  private later(l: Live): void {
    if (l.persistTimer || isClosed(l.record)) return;
    l.persistTimer = this.o.clock.setTimeout(() => {
      l.persistTimer = undefined;
      this.persist(l);
    }, this.o.persistEveryMs ?? 15_000);
  }

  private persist(l: Live, audit?: Pick<AuditInput, 'action' | 'detectionId' | 'data'>, extra: Record<string, unknown> = {}): void {
    const now = this.o.clock.now();
    l.persistTimer?.cancel();
    l.persistTimer = undefined;
    const opening = l.members.filter(opens);
    l.record.severity = opening.reduce<IncidentRecord['severity']>((s, d) => (SEVERITY[d.severity] > SEVERITY[s] ? d.severity : s), 'info');
    l.record.title = titleOf(l.members[0], this.entities(l));
    const members = [...l.members];
    const lastActivityAt = l.lastActivity;
    const record: IncidentRecord = { ...l.record, detectionIds: [...l.record.detectionIds], data: {} };
    const root = l.members[0]?.subject;
    const input: AuditInput | undefined = audit && {
      time: now,
      actor: ACTOR,
      ...audit,
      data: { title: record.title, severity: record.severity, detections: record.detectionIds.length, ...audit.data },
      target: root && { cluster: record.cluster, kind: root.kind, namespace: root.namespace, name: root.name },
      outcome: 'info',
      incidentId: record.id,
    };
    const change = CHANGES[audit?.action ?? ''] ?? 'updated';
    this.writes = this.writes
      .then(async () => {
        // The snapshot (changes, observations, placements and guardrails in scope) is the heavy part: it is
        // made after the detection's other sinks and the runs it starts have had their turn, as of `now`.
        await new Promise<void>((resolve) => setImmediate(resolve));
        const data = buildData({ cluster: record.cluster, members, refs: l.refs, since: record.openedAt - this.lookbackMs, now, lastActivityAt, feed: this.feed, observations: this.observations, lookup: this.o.lookup, previousGuardrails: l.guardrails });
        l.guardrails = data.guardrails;
        record.data = { ...data, ...extra };
        // A person's fields come from the store; a person's resolution (perhaps on another replica) wins.
        let closedElsewhere: IncidentRecord | undefined;
        const written = await this.o.store.updateIncident(record.id, (stored) => {
          closedElsewhere = stored && closedByPerson(stored) && !isClosed(record) ? stored : undefined;
          if (closedElsewhere) return undefined;
          const r = { ...record };
          mergePeople(r, stored);
          return r;
        });
        if (closedElsewhere) return void (this.open.get(record.id) === l && this.forget(l, closedElsewhere));
        mergePeople(l.record, written);
        if (input) await this.o.store.audit.append({ ...input, data: { ...input.data, status: written!.status } });
        this.o.onIncident?.(written!, change);
      })
      .catch((err) => this.o.onError?.(err));
  }
}
