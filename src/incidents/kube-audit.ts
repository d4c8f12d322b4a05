// What the API server's audit webhook tells that managedFields cannot: the
// user behind a write. kube-apiserver (--audit-webhook-config-file) POSTs
// batches of audit.k8s.io/v1 Events as an EventList; only completed,
// successful writes of an object are kept — create, update, patch, delete at
// stage ResponseComplete with a 2xx answer, never a status write — in a
// bounded store keyed by object and time. The change feed asks it who made a
// change: the same object, a compatible verb, a time within a tolerance.
import { type Clock, kubeAuditEventsTotal } from '../common/index.ts';
import { kindRef } from '../kube/index.ts';

/** One kept audit event: a write and who made it. */
export interface KubeAuditEntry {
  auditID: string;
  cluster: string;
  /** objectRef.resource (plural) and apiGroup ("" for the core group). */
  resource: string;
  apiGroup: string;
  namespace?: string;
  name: string;
  verb: 'create' | 'update' | 'patch' | 'delete';
  subresource?: string;
  user: string;
  /** The user `user` impersonated, when the request impersonated one. */
  impersonated?: string;
  /** The fieldManager of the request, else the user agent's first word (as the API server names managers). */
  manager?: string;
  /** stageTimestamp: when the write completed. */
  time: number;
}

export interface KubeAuditTrailOptions {
  clock: Clock;
  /** Events kept (oldest dropped first). Default 5000. */
  capacity?: number;
  /** How long an event is kept after it arrived. Default 1h. */
  retentionMs?: number;
  /** How far apart a change and its audit event may be (clock skew, watch delay). Default 5s. */
  toleranceMs?: number;
}

/** What the change feed asks: who wrote this object at about this time. */
export interface AuditQuery {
  cluster: string;
  kind: string;
  namespace?: string;
  name: string;
  operation: 'create' | 'update' | 'delete';
  /** When the informer saw the change. */
  time: number;
  /** When managedFields say it was written (to the second), when they say. */
  writtenAt?: number;
  /** The manager managedFields name: an event naming another writer is not this change's. */
  manager?: string;
}

const VERBS = new Set(['create', 'update', 'patch', 'delete']);
const FOR_OPERATION: Record<AuditQuery['operation'], string[]> = { create: ['create', 'patch', 'update'], update: ['update', 'patch'], delete: ['delete'] };
/** Subresources whose writes change the object itself (status is state; eviction, binding… are other objects). */
const CHANGING_SUBRESOURCES = new Set(['', 'scale']);

export class KubeAuditTrail {
  private readonly o: Required<KubeAuditTrailOptions>;
  private readonly byObject = new Map<string, KubeAuditEntry[]>();
  private readonly order: { key: string; id: string; at: number }[] = [];
  private readonly ids = new Set<string>();
  /** Events already matched to a change: one write is one change. */
  private readonly claimed = new Set<string>();
  private readonly listeners = new Set<() => void>();

  constructor(o: KubeAuditTrailOptions) {
    this.o = { capacity: 5000, retentionMs: 3_600_000, toleranceMs: 5000, ...o };
  }

  /** Keeps the writes among a batch's events (duplicates of a resent batch once); returns how many it kept and ignored. */
  add(cluster: string, events: readonly unknown[]): { kept: number; ignored: number } {
    const now = this.o.clock.now();
    let kept = 0;
    for (const ev of events) {
      const e = normalize(cluster, ev);
      if (!e || this.ids.has(e.auditID)) continue;
      const key = objectKey(cluster, e.resource, e.apiGroup, e.namespace, e.name);
      const list = this.byObject.get(key) ?? [];
      list.push(e);
      this.byObject.set(key, list);
      this.order.push({ key, id: e.auditID, at: now });
      this.ids.add(e.auditID);
      kept++;
    }
    this.evict(now);
    kubeAuditEventsTotal.inc({ result: 'kept' }, kept);
    kubeAuditEventsTotal.inc({ result: 'ignored' }, events.length - kept);
    if (kept) for (const fn of this.listeners) fn();
    return { kept, ignored: events.length - kept };
  }

  /** The audit event of a change: unclaimed, of the same writer, the closest in time; claimed once found. */
  match(q: AuditQuery): KubeAuditEntry | undefined {
    const ref = kindRef(q.kind);
    const resource = ref?.plural ?? `${q.kind.toLowerCase()}s`;
    const group = ref?.apiVersion.includes('/') ? ref.apiVersion.split('/')[0] : '';
    const list = this.byObject.get(objectKey(q.cluster, resource, group, q.namespace, q.name));
    if (!list) return undefined;
    // managedFields times are whole seconds: the write happened within the second after.
    const at = q.writtenAt !== undefined ? q.writtenAt + 500 : q.time;
    const slack = this.o.toleranceMs + (q.writtenAt !== undefined ? 500 : 0);
    const verbs = FOR_OPERATION[q.operation];
    // Both name the writer the same way (fieldManager, else the user agent's first word): when both name one, it must agree.
    const sameWriter = (e: KubeAuditEntry) => !q.manager || !e.manager || e.manager === q.manager;
    const best = list
      .filter((e) => !this.claimed.has(e.auditID) && verbs.includes(e.verb) && sameWriter(e) && Math.abs(e.time - at) <= slack)
      .sort((a, b) => Number(b.manager === q.manager) - Number(a.manager === q.manager) || Math.abs(a.time - at) - Math.abs(b.time - at))[0];
    if (best) this.claimed.add(best.auditID);
    return best;
  }

  /** Called after a batch added events (the tracker re-writes open incidents whose changes may now have a user). */
  onAdded(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  get size(): number {
    return this.ids.size;
  }

  private evict(now: number): void {
    let drop = 0;
    while (drop < this.order.length && (this.order.length - drop > this.o.capacity || this.order[drop].at < now - this.o.retentionMs)) drop++;
    for (const { key, id } of this.order.splice(0, drop)) {
      const rest = (this.byObject.get(key) ?? []).filter((e) => e.auditID !== id);
      if (rest.length) this.byObject.set(key, rest);
      else this.byObject.delete(key);
      this.ids.delete(id);
      this.claimed.delete(id);
    }
  }
}

function objectKey(cluster: string, resource: string, group: string, ns: string | undefined, name: string): string {
  return [cluster, group, resource, ns ?? '', name].join('\u0000');
}

/** A kept entry from one untrusted Event, or undefined when it is not a completed, successful write of a named object. */
export function normalize(cluster: string, ev: unknown): KubeAuditEntry | undefined {
  if (!ev || typeof ev !== 'object') return undefined;
  const e = ev as Record<string, any>;
  if (e.stage !== 'ResponseComplete' || !VERBS.has(e.verb)) return undefined;
  const code = e.responseStatus?.code;
  if (typeof code === 'number' && (code < 200 || code > 299)) return undefined;
  const ref = e.objectRef;
  if (!ref || typeof ref !== 'object' || !str(ref.resource) || !str(ref.name)) return undefined;
  const subresource = str(ref.subresource) ?? '';
  if (!CHANGING_SUBRESOURCES.has(subresource)) return undefined;
  const user = str(e.user?.username);
  const auditID = str(e.auditID);
  const time = Date.parse(str(e.stageTimestamp) ?? str(e.requestReceivedTimestamp) ?? '');
  if (!user || !auditID || !Number.isFinite(time)) return undefined;
  const impersonated = str(e.impersonatedUser?.username);
  const manager = fieldManagerOf(str(e.requestURI)) ?? str(e.userAgent)?.split('/')[0];
  return {
    auditID: auditID.slice(0, 64),
    cluster,
    resource: ref.resource.slice(0, 63),
    apiGroup: (str(ref.apiGroup) ?? '').slice(0, 253),
    ...(str(ref.namespace) ? { namespace: ref.namespace.slice(0, 63) } : {}),
    name: ref.name.slice(0, 253),
    verb: e.verb,
    ...(subresource ? { subresource } : {}),
    user: user.slice(0, 256),
    ...(impersonated ? { impersonated: impersonated.slice(0, 256) } : {}),
    ...(manager ? { manager: manager.slice(0, 128) } : {}),
    time,
  };
}

function fieldManagerOf(uri: string | undefined): string | undefined {
  const q = uri?.indexOf('?') ?? -1;
  return q >= 0 ? new URLSearchParams(uri!.slice(q + 1)).get('fieldManager') || undefined : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v : undefined;
}

/** The EventList's shape, checked before anything is kept: a problem names what the API server should have sent. */
export function checkEventList(body: unknown, maxEvents: number): { ok: true; items: unknown[] } | { ok: false; status: 400 | 413; reason: string; error: string } {
  const b = body as { kind?: unknown; apiVersion?: unknown; items?: unknown } | null;
  if (!b || typeof b !== 'object' || b.kind !== 'EventList' || b.apiVersion !== 'audit.k8s.io/v1' || !Array.isArray(b.items)) {
    return { ok: false, status: 400, reason: 'invalid_payload', error: 'expected an audit.k8s.io/v1 EventList (kind: EventList, items: […]), as kube-apiserver\'s audit webhook sends it' };
  }
  if (b.items.length > maxEvents) {
    return { ok: false, status: 413, reason: 'too_many_events', error: `${b.items.length} events in one batch, more than the ${maxEvents} allowed: set kube-apiserver's --audit-webhook-batch-max-size to at most ${maxEvents} (or raise webhooks.kubernetesAudit.maxEvents)` };
  }
  return { ok: true, items: b.items };
}
