// What people do to an incident — acknowledge, assign, note, resolve — and
// the post-mortem mark, as pure changes of an IncidentRecord plus the audit
// record each makes. The tracker (live incidents) and the CLI (a post-mortem
// drafted from the store) both apply them inside Store.updateIncident, so a
// person's change and the tracker's own writes never overwrite each other,
// whichever replica makes them.
//
// People own some fields of the record (owner, acknowledgement, notes, a
// person's resolution); the tracker owns the rest (detections, severity,
// the snapshot in `data`). mergePeople carries the people's fields from the
// stored record into the one the tracker is about to write.
import { Errors, KubemendError, redact } from '../common/index.ts';
import type { Actor, AuditInput } from '../audit/index.ts';
import type { IncidentRecord, Store } from '../store/index.ts';
import type { Detection } from '../rules/index.ts';

/** How an incident changed, as `onIncident` reports it (notifications use `incident.<change>`). */
export type IncidentChange = 'opened' | 'updated' | 'acknowledged' | 'assigned' | 'noted' | 'mitigated' | 'reopened' | 'resolved' | 'postmortem';

export const NOTE_MAX_CHARS = 2000;
export const NOTES_MAX = 200;
/** resolvedBy when nobody resolved it: the resolve period passed, or it joined another incident. */
export const RESOLVED_QUIET = 'quiet';
export const RESOLVED_MERGED = 'merged';

export type PersonAction =
  | { kind: 'ack'; by: string }
  | { kind: 'assign'; by: string; owner: string }
  | { kind: 'note'; by: string; text: string }
  | { kind: 'resolve'; by: string; reason?: string };

/** What an action did: the change to announce and what the audit record says. */
export interface ActionEffect {
  change: IncidentChange;
  action: string;
  data: Record<string, unknown>;
}

export function isClosed(r: Pick<IncidentRecord, 'status'>): boolean {
  return r.status === 'resolved' || r.status === 'postmortem';
}

const iso = (t: number | undefined) => (t === undefined ? 'an unknown time' : new Date(t).toISOString().replace('.000Z', 'Z'));

/** Applies a person's action to `r` (mutated); a KubemendError when it cannot apply, with `r` untouched. */
export function applyAction(r: IncidentRecord, a: PersonAction, now: number): ActionEffect {
  switch (a.kind) {
    case 'ack': {
      if (isClosed(r)) throw new KubemendError(Errors.INCIDENT_RESOLVED, `${r.id} is ${r.status} (by ${r.resolvedBy ?? 'quiet'} at ${iso(r.resolvedAt)}); there is nothing to acknowledge`);
      if (r.acknowledgedBy) throw new KubemendError(Errors.INCIDENT_ALREADY, `${r.id} was already acknowledged by ${r.acknowledgedBy} at ${iso(r.acknowledgedAt)}`);
      r.acknowledgedBy = a.by;
      r.acknowledgedAt = now;
      // A mitigated incident stays mitigated: the acknowledgement is kept beside it.
      if (r.status === 'open') r.status = 'acknowledged';
      return { change: 'acknowledged', action: 'incident.acknowledged', data: { by: a.by, status: r.status } };
    }
    case 'assign': {
      if (r.owner === a.owner) throw new KubemendError(Errors.INCIDENT_ALREADY, `${r.id} is already assigned to ${a.owner}`);
      const previous = r.owner;
      r.owner = a.owner;
      return { change: 'assigned', action: 'incident.assigned', data: { by: a.by, owner: a.owner, ...(previous ? { previous } : {}) } };
    }
    case 'note': {
      const raw = a.text.trim();
      if (!raw) throw new KubemendError(Errors.INCIDENT_NOTE, 'the note is empty');
      if (raw.length > NOTE_MAX_CHARS) throw new KubemendError(Errors.INCIDENT_NOTE, `the note has ${raw.length} characters; at most ${NOTE_MAX_CHARS}`);
      if ((r.notes?.length ?? 0) >= NOTES_MAX) throw new KubemendError(Errors.INCIDENT_NOTE, `${r.id} already has ${NOTES_MAX} notes`);
      const text = redact(raw);
      (r.notes ??= []).push({ by: a.by, time: now, text });
      return { change: 'noted', action: 'incident.noted', data: { by: a.by, text } };
    }
    case 'resolve': {
      if (isClosed(r)) throw new KubemendError(Errors.INCIDENT_RESOLVED, `${r.id} is already ${r.status} (by ${r.resolvedBy ?? 'quiet'} at ${iso(r.resolvedAt)})`);
      const reason = a.reason?.trim() ? redact(a.reason.trim()).slice(0, NOTE_MAX_CHARS) : undefined;
      r.status = 'resolved';
      r.resolvedAt = now;
      r.resolvedBy = a.by;
      if (reason) r.resolveReason = reason;
      else delete r.resolveReason;
      return { change: 'resolved', action: 'incident.resolved', data: { by: a.by, ...(reason ? { reason } : {}) } };
    }
  }
}

/** Whether a person (not the quiet period, nor a merge) closed it. */
export function closedByPerson(r: IncidentRecord): boolean {
  return isClosed(r) && r.resolvedBy !== undefined && r.resolvedBy !== RESOLVED_QUIET && r.resolvedBy !== RESOLVED_MERGED;
}

/**
 * The people's fields of `stored` copied into `into` (the tracker's record):
 * owner, acknowledgement, notes, the post-mortem mark. An acknowledgement
 * made elsewhere turns an open incident acknowledged.
 */
export function mergePeople(into: IncidentRecord, stored: IncidentRecord | undefined): void {
  if (!stored) return;
  for (const k of ['owner', 'acknowledgedBy', 'acknowledgedAt', 'notes', 'postmortemAt', 'postmortemBy'] as const) {
    if (stored[k] !== undefined) (into as unknown as Record<string, unknown>)[k] = stored[k];
  }
  if (into.status === 'open' && into.acknowledgedBy) into.status = 'acknowledged';
  if (stored.status === 'postmortem' && into.status === 'resolved') into.status = 'postmortem';
}

/** The status an incident returns to when new harm follows its mitigation: acknowledged if a person took it (they still have it). */
export function reopenedStatus(r: IncidentRecord): 'open' | 'acknowledged' {
  return r.acknowledgedBy ? 'acknowledged' : 'open';
}

/**
 * A detection of something that happened — an Event, a webhook, a smoke
 * window's verdict on a rollout — rather than a condition that holds: the
 * engine never resolves the first two, and a rollout's only when a later
 * window of the workload passes (which a fix that is not a rollout never
 * brings). It is over once it has not fired again.
 */
export function isOccurrence(d: Detection): boolean {
  return d.evidence.length > 0 && d.evidence.every((e) => e.type === 'event' || e.type === 'webhook' || e.type === 'rollout');
}

/** An incident by id or unique prefix, from the store (KM-INCIDENT-001 when none or several match). */
export async function findIncident(store: Store, idOrPrefix: string): Promise<IncidentRecord> {
  const exact = await store.getIncident(idOrPrefix);
  if (exact) return exact;
  const found = idOrPrefix ? (await store.listIncidents({})).filter((i) => i.id.startsWith(idOrPrefix)) : [];
  if (found.length > 1) throw new KubemendError(Errors.INCIDENT_NOT_FOUND, `${idOrPrefix} matches ${found.length} incidents (${found.slice(0, 3).map((i) => i.id).join(', ')}…): give more of the id`);
  if (!found.length) throw new KubemendError(Errors.INCIDENT_NOT_FOUND, `no incident ${idOrPrefix}`);
  return found[0];
}

/** The audit record of a person's action on an incident. */
export function actionAudit(r: IncidentRecord, e: ActionEffect, by: string, now: number): AuditInput {
  const root = (r.data as { detections?: { subject: { kind: string; namespace?: string; name: string } }[] }).detections?.[0]?.subject;
  return {
    time: now,
    actor: { type: 'user', name: by },
    action: e.action,
    target: root ? { cluster: r.cluster, kind: root.kind, namespace: root.namespace, name: root.name } : { cluster: r.cluster },
    outcome: 'success',
    incidentId: r.id,
    data: { title: r.title, severity: r.severity, status: r.status, ...e.data },
  };
}

/**
 * A post-mortem draft was made of `idOrPrefix`: a resolved incident becomes
 * `postmortem` (once; a later draft changes nothing), audited as
 * incident.postmortem.drafted. Undefined when it is not resolved yet (a
 * draft of an incident under way is only a look at it).
 */
export async function markPostmortem(store: Store, idOrPrefix: string, by: Actor, now: number): Promise<IncidentRecord | undefined> {
  const found = await findIncident(store, idOrPrefix);
  let changed = false;
  const after = await store.updateIncident(found.id, (cur) => {
    changed = false;
    if (!cur || cur.status !== 'resolved') return undefined;
    changed = true;
    return { ...cur, status: 'postmortem', postmortemAt: now, postmortemBy: by.name };
  });
  if (!changed || !after) return undefined;
  await store.audit.append({ ...actionAudit(after, { change: 'postmortem', action: 'incident.postmortem.drafted', data: { by: by.name } }, by.name, now), actor: by });
  return after;
}
