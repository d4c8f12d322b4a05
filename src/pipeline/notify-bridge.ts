// What happens in the loop, as notification events: incidents changing
// state, runs and their steps, approvals asked for and decided, runbook
// `notify` steps, escalations and offers. The bridge only describes; routes
// and the outbox (src/notify/) decide who hears of it and deliver it.
//
// Every event carries the labels routes match on: cluster, namespace,
// severity, rule, runbook, team (the kubemend.dev/team annotation of the
// detection's subject, else of its namespace, when the informers hold them)
// and kind; and the incident's state as it is now, so a thread's parent and a
// PagerDuty incident follow it.
import type { Clock, ConsoleLinks } from '../common/index.ts';
import type { IncidentRecord, RunRecord, StepTransition } from '../store/index.ts';
import type { Detection, DetectionChange } from '../rules/index.ts';
import type { RunbookNotification as Notification, Notifier, PendingApproval } from '../runbooks/index.ts';
import type { IncidentState, NotifyEvent, NotifyEventKind } from '../notify/index.ts';
import { closedByPerson } from '../incidents/index.ts';
import type { Sink } from './sink.ts';

export const TEAM_ANNOTATION = 'kubemend.dev/team';
// Labels of this many recent detections are kept for the runs and incidents that name them.
const REMEMBERED = 10_000;
// Step outcomes worth a line in the thread; `started` only says a step began.
const STEP_NEWS = new Set(['succeeded', 'failed', 'timed-out', 'abandoned', 'unknown']);
// Incident changes only people make, on the replica they talk to.
const PERSONAL = new Set(['acknowledged', 'assigned', 'noted']);

export interface NotifyBridgeOptions {
  clock: Clock;
  /**
   * Queues the event durably (the outbox); calls are made one at a time, in
   * order. `personal`: a person's action on this replica (an acknowledgement,
   * a note), which no other replica sees: queued even where this one follows.
   */
  emit: (e: NotifyEvent, personal: boolean) => unknown;
  log?: (line: string) => void;
  /** The open incidents (the tracker's live state), to find a run's incident. */
  openIncidents?: () => IncidentRecord[];
  /** Links into the web console (server.publicUrl): events about an incident carry its page. */
  links?: ConsoleLinks;
  /** An object's annotations from the informer caches, when watched. */
  annotations?: (cluster: string, kind: string, namespace: string, name: string) => Record<string, string> | undefined;
}

export class NotifyBridge implements Sink, Notifier {
  readonly name = 'notify-bridge';
  private readonly o: NotifyBridgeOptions;
  private readonly labels = new Map<string, Record<string, string>>();
  private readonly incidentsSeen = new Map<string, { members: number; severity: string }>();
  private readonly runsStarted = new Set<string>();
  /** The last state of each incident and the incident of each detection, for events that come after it closed. */
  private readonly incidentStates = new Map<string, IncidentState>();
  private readonly incidentByDetection = new Map<string, string>();
  // One emit at a time: a thread's parent is queued before its replies, a PagerDuty trigger before its resolve.
  private chain: Promise<void> = Promise.resolve();

  constructor(o: NotifyBridgeOptions) {
    this.o = o;
  }

  onDetection(d: Detection, _change: DetectionChange): void {
    const s = d.subject;
    const team = this.team(d.cluster, s.kind, s.namespace ?? '', s.name);
    this.labels.delete(d.id);
    this.labels.set(d.id, { cluster: d.cluster, namespace: s.namespace ?? '', severity: d.severity, rule: d.rule, kind_of_subject: s.kind, ...(team ? { team } : {}) });
    if (this.labels.size > REMEMBERED) this.labels.delete(this.labels.keys().next().value!);
  }

  incidentChanged(i: IncidentRecord, change: string): void {
    if (change === 'updated') {
      // A repeat of a member is not news; a new member or a worse severity is.
      const seen = this.incidentsSeen.get(i.id);
      if (seen && seen.members === i.detectionIds.length && seen.severity === i.severity) return;
    }
    this.incidentsSeen.set(i.id, { members: i.detectionIds.length, severity: i.severity });
    if (change === 'resolved' || change === 'postmortem') this.incidentsSeen.delete(i.id);
    const state = incidentState(i);
    this.remember(i, state);
    const personal = PERSONAL.has(change) || (change === 'resolved' && closedByPerson(i));
    const base = this.detectionLabels(i.detectionIds[0]);
    const who = i.owner;
    this.push(`incident.${change}` as NotifyEventKind, {
      title: `Incident ${i.id} ${change}: ${i.title}`,
      text: change === 'assigned' && who ? `owner: ${who}` : `${i.detectionIds.length} detection${i.detectionIds.length === 1 ? '' : 's'}; status ${state.status}`,
      severity: i.severity,
      labels: { ...base, cluster: i.cluster, severity: i.severity },
      incident: state,
      ...(i.detectionIds[0] ? { detectionId: i.detectionIds[0] } : {}),
    }, personal);
  }

  /** The executor's listener: a run's first step, each step's outcome, and its end. */
  onTransition(run: RunRecord, t: StepTransition): void {
    if (t.status === 'started' && !this.runsStarted.has(run.id)) {
      this.runsStarted.add(run.id);
      this.runEvent('run.started', run, `Run ${run.id.slice(0, 8)} started: ${run.runbook} on ${target(run)}`, `started by ${run.startedBy.type} ${run.startedBy.name}${run.dryRun ? ' (dry run)' : ''}`, 'info');
      return;
    }
    if (!STEP_NEWS.has(t.status)) return;
    this.runEvent('run.step', run, `Step ${t.stepId}: ${t.status}`, t.error ?? '', t.status === 'succeeded' ? 'info' : 'warning');
  }

  onRunEnd(run: RunRecord): void {
    this.runsStarted.delete(run.id);
    // An escalation is announced by the executor's notifier with its reason.
    if (run.status === 'escalated') return;
    this.runEvent('run.ended', run, `Run ${run.id.slice(0, 8)} ${run.status}: ${run.runbook} on ${target(run)}`, '', run.status === 'succeeded' || run.status === 'dry-run' ? 'info' : 'warning');
  }

  /** Runbook `notify` steps, rules whose action is notify, escalations and offers. */
  async send(n: Notification): Promise<void> {
    const kind: NotifyEventKind = n.kind === 'escalation' ? 'run.escalated' : 'notify';
    const run = n.runId;
    const incident = this.incidentOf(n.detectionId);
    this.push(kind, {
      title: n.title,
      text: n.text,
      severity: n.severity ?? 'info',
      labels: { ...this.detectionLabels(n.detectionId), channel: n.channel, ...(n.kind === 'offer' ? { offer: 'true' } : {}), ...(n.severity ? { severity: n.severity } : {}) },
      ...(incident ? { incident } : {}),
      ...(run ? { runId: run } : {}),
      ...(n.detectionId ? { detectionId: n.detectionId } : {}),
    });
  }

  private push(kind: NotifyEventKind, e: Omit<NotifyEvent, 'kind' | 'time'>, personal = false): void {
    const time = this.o.clock.now();
    this.chain = this.chain
      .then(async () => {
        // The incident is looked up when the event is queued, not when it was made: a detection's first
        // news (an offer) comes from remediation, which sees the detection before the tracker files it.
        const incident = e.incident ?? this.incidentOf(e.detectionId);
        const url = incident && this.o.links?.('incidents', incident.id);
        const runUrl = e.runId && this.o.links?.('runs', e.runId);
        const console = [...(url ? [{ href: url, text: 'Incident in the kubemend console' }] : []), ...(runUrl ? [{ href: runUrl, text: 'Run in the kubemend console' }] : [])];
        const links = console.length ? [...(e.links ?? []), ...console] : e.links;
        const event: NotifyEvent = { kind, time, ...e, ...(incident ? { incident } : {}), ...(links ? { links } : {}), labels: { ...e.labels, kind } };
        try {
          await this.o.emit(event, personal);
        } catch (err) {
          this.o.log?.(`error: could not queue the notification "${event.title}": ${(err as Error).message}`);
        }
      });
  }

  /** Resolves once every event so far is queued. */
  async flush(): Promise<void> {
    await this.chain;
  }

  /** The chat engine's listener of runbook approvals, reading each approval's run from the store. */
  approvalListener(getRun: (id: string) => Promise<RunRecord | undefined>): { requested(p: PendingApproval, short: string): void; decided(p: PendingApproval, decision: 'approved' | 'denied', by: string): void } {
    const withRun = (id: string, f: (run: RunRecord | undefined) => void) => void getRun(id).then(f, (err: unknown) => this.o.log?.(`warning: approval notification: ${(err as Error).message}`));
    return {
      requested: (p, short) => withRun(p.runId, (run) => this.approvalRequested(p, short, run)),
      decided: (p, decision, by) => withRun(p.runId, (run) => this.approvalDecided(p, decision, by, run)),
    };
  }

  approvalRequested(p: PendingApproval, short: string, run: RunRecord | undefined): void {
    const incident = this.incidentOf(run?.detectionId);
    this.push('approval.requested', {
      title: `Approval needed from ${p.group}: ${p.summary}`,
      text: `run ${p.runId.slice(0, 8)}, step ${p.stepId}; reply approve ${short} or deny ${short} [reason], or press a button`,
      severity: 'warning',
      labels: { ...this.detectionLabels(run?.detectionId), ...(run ? { runbook: run.runbook, cluster: run.cluster, namespace: run.target.namespace ?? '' } : {}), group: p.group },
      ...(incident ? { incident } : {}),
      runId: p.runId,
      ...(run?.detectionId ? { detectionId: run.detectionId } : {}),
      buttons: [{ label: 'Approve', value: `approve ${short}`, style: 'primary' }, { label: 'Deny', value: `deny ${short}`, style: 'danger' }],
    });
  }

  approvalDecided(p: PendingApproval, decision: 'approved' | 'denied', by: string, run: RunRecord | undefined): void {
    const incident = this.incidentOf(run?.detectionId);
    this.push('approval.decided', {
      title: `Approval ${decision} by ${by}: ${p.summary}`,
      text: `run ${p.runId.slice(0, 8)}, step ${p.stepId}`,
      severity: 'info',
      labels: { ...this.detectionLabels(run?.detectionId), ...(run ? { runbook: run.runbook, cluster: run.cluster, namespace: run.target.namespace ?? '' } : {}), group: p.group },
      ...(incident ? { incident } : {}),
      runId: p.runId,
    });
  }

  private runEvent(kind: NotifyEventKind, run: RunRecord, title: string, text: string, severity: NotifyEvent['severity']): void {
    const incident = this.incidentOf(run.detectionId);
    this.push(kind, {
      title,
      text,
      severity,
      labels: { ...this.detectionLabels(run.detectionId), runbook: run.runbook, cluster: run.cluster, namespace: run.target.namespace ?? '' },
      ...(incident ? { incident } : {}),
      runId: run.id,
      ...(run.detectionId ? { detectionId: run.detectionId } : {}),
    });
  }

  /**
   * The incident a detection belongs to, as it is now: an open one, else the
   * last one it was part of, so a run's last steps still reach the thread
   * of an incident that resolved meanwhile.
   */
  private incidentOf(detectionId: string | undefined): IncidentState | undefined {
    if (!detectionId) return undefined;
    const open = this.o.openIncidents?.().find((i) => i.detectionIds.includes(detectionId));
    if (open) return incidentState(open);
    const id = this.incidentByDetection.get(detectionId);
    return id ? this.incidentStates.get(id) : undefined;
  }

  private remember(i: IncidentRecord, state: IncidentState): void {
    this.incidentStates.delete(i.id);
    this.incidentStates.set(i.id, state);
    for (const d of i.detectionIds) {
      this.incidentByDetection.delete(d);
      this.incidentByDetection.set(d, i.id);
    }
    for (const m of [this.incidentStates, this.incidentByDetection] as Map<string, unknown>[]) {
      while (m.size > REMEMBERED) m.delete(m.keys().next().value!);
    }
  }

  private detectionLabels(id: string | undefined): Record<string, string> {
    const l = id ? this.labels.get(id) : undefined;
    if (!l) return {};
    const { kind_of_subject: _k, ...rest } = l;
    return rest;
  }

  private team(cluster: string, kind: string, namespace: string, name: string): string | undefined {
    const a = this.o.annotations;
    if (!a) return undefined;
    return a(cluster, kind, namespace, name)?.[TEAM_ANNOTATION] ?? (namespace ? a(cluster, 'Namespace', '', namespace)?.[TEAM_ANNOTATION] : undefined);
  }
}

export function incidentState(i: IncidentRecord): IncidentState {
  return { id: i.id, title: i.title, status: i.status, severity: i.severity, cluster: i.cluster, openedAt: i.openedAt, ...(i.owner ? { owner: i.owner } : {}) };
}

function target(run: RunRecord): string {
  const t = run.target;
  return `${(t.kind ?? '').toLowerCase()}/${t.namespace ? `${t.namespace}/` : ''}${t.name ?? ''}`;
}
