// metadata.managedFields as kube-apiserver's field manager keeps them
// (k8s.io/apimachinery/pkg/util/managedfields): one entry per manager, with
// the set of fields it owns in FieldsV1. An Update owns what it changed and
// takes those fields from everyone else; an Apply owns what its configuration
// sets, conflicts with other owners of fields it changes (409 unless forced,
// which takes them), and removes the fields it stopped applying that nobody
// else owns. Server-side apply itself is in applyConfiguration below.
import { k8sTime } from '../../common/index.ts';
import { ApiError } from '../status.ts';
import type { K8sObject } from '../types.ts';
import type { Call } from './context.ts';
import { FieldSet, field, pathString, type Path } from './fieldpath.ts';
import { shapeForKind } from './ssa-schema.ts';
import { compare, deepEqual, merge, removeItems, toFieldSet } from './ssa-typed.ts';

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time?: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

export interface Who {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  subresource?: string;
}

interface Managed {
  who: Who;
  time?: string;
  set: FieldSet;
}

/** `fieldManager` from the query, else the user agent up to its first '/' (kubectl, node-fetch …). */
export function fieldManager(call: Call, required = false): string {
  const given = call.query.get('fieldManager');
  if (given) {
    if (given.length > 128) {
      throw ApiError.invalid('PatchOptions', '', 'meta.k8s.io', [{ field: 'fieldManager', message: `Too long: may not be more than 128 bytes`, reason: 'FieldValueTooLong' }]);
    }
    return given;
  }
  if (required) {
    throw new ApiError(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch', {
      group: 'meta.k8s.io', kind: 'PatchOptions', causes: [{ reason: 'FieldValueRequired', message: 'Required value: is required for apply patch', field: 'fieldManager' }],
    });
  }
  return (call.userAgent.split('/')[0] || 'unknown').slice(0, 128);
}

/** BuildManagerIdentifier: appliers are one manager whatever version they apply; updaters are one per version. */
const identity = (w: Who) => JSON.stringify([w.manager, w.operation, w.operation === 'Apply' ? '' : w.apiVersion, w.subresource ?? '']);

/** stripMetaManager's fields, and the half of the object the other endpoint owns (status vs the rest). */
const STRIPPED_META = new Set(['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'clusterName', 'generation', 'managedFields', 'resourceVersion']);

function scopeFilter(subresource: string | undefined): (p: Path) => boolean {
  return (p) => {
    if (p[0] === field('apiVersion') || p[0] === field('kind')) return false;
    if (p[0] === field('metadata') && (p.length === 1 || STRIPPED_META.has(p[1].slice(2)))) return false;
    return subresource === 'status' ? p[0] === field('status') : p[0] !== field('status');
  };
}

function decode(entries: unknown): Map<string, Managed> {
  const out = new Map<string, Managed>();
  if (!Array.isArray(entries)) return out;
  for (const e of entries as Partial<ManagedFieldsEntry>[]) {
    if (!e || typeof e !== 'object' || !e.manager || (e.operation !== 'Apply' && e.operation !== 'Update')) continue;
    const who: Who = { manager: e.manager, operation: e.operation, apiVersion: e.apiVersion ?? '', ...(e.subresource ? { subresource: e.subresource } : {}) };
    // metav1.Time: whatever the client sent, it is kept to the second.
    const t = e.time ? Date.parse(e.time) : NaN;
    out.set(identity(who), { who, time: Number.isNaN(t) ? undefined : k8sTime(t), set: FieldSet.fromFieldsV1(e.fieldsV1) });
  }
  return out;
}

/** Entries sorted as the API server writes them: Apply before Update, then by time, manager, version, subresource. */
function encode(managers: Map<string, Managed>): ManagedFieldsEntry[] {
  const seconds = (t?: string) => (t ? Math.floor(Date.parse(t) / 1000) : 0);
  const sorted = [...managers.values()].filter((m) => !m.set.isEmpty()).sort((a, b) =>
    a.who.operation.localeCompare(b.who.operation) || seconds(a.time) - seconds(b.time) || cmp(a.who.manager, b.who.manager)
    || cmp(a.who.apiVersion, b.who.apiVersion) || cmp(a.who.subresource ?? '', b.who.subresource ?? ''));
  return sorted.map((m) => ({
    manager: m.who.manager,
    operation: m.who.operation,
    apiVersion: m.who.apiVersion,
    ...(m.time ? { time: m.time } : {}),
    fieldsType: 'FieldsV1',
    fieldsV1: m.set.toFieldsV1(),
    ...(m.who.subresource ? { subresource: m.who.subresource } : {}),
  }));
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Entries as this server would write them (canonical order and FieldsV1), to tell a real change from a re-encoding. */
export function canonicalManagedFields(entries: unknown): ManagedFieldsEntry[] | undefined {
  return entries === undefined ? undefined : orNothing(encode(decode(entries)));
}

/** isResetManagedFields: `[]` or `[{}]` in a request clears the entries. */
function isReset(entries: unknown): boolean {
  if (!Array.isArray(entries)) return false;
  return entries.length === 0 || (entries.length === 1 && deepEqual(entries[0], {}));
}

/**
 * The managers an update starts from: the request's own managedFields when it
 * sets them (kubectl edit sends them back; `[{}]` clears them), else the live
 * object's, so clients that do not know them cannot drop them by accident.
 */
function startingManagers(live: K8sObject | undefined, requested: unknown, subresource: string | undefined): Map<string, Managed> {
  if (subresource) return decode(live?.metadata.managedFields);
  if (isReset(requested)) return new Map();
  const fromRequest = decode(requested);
  return fromRequest.size ? fromRequest : decode(live?.metadata.managedFields);
}

/**
 * An Update (create, update, non-apply patch, subresource write): the writer
 * owns what it changed, taken from every other manager, and nobody owns
 * fields that went away.
 */
export function recordUpdate(live: K8sObject | undefined, next: K8sObject, who: Who, now: number): ManagedFieldsEntry[] | undefined {
  const managers = startingManagers(live, next.metadata.managedFields, who.subresource);
  const keep = scopeFilter(who.subresource);
  const c = compare(strip(live), strip(next), shapeForKind(next.kind ?? live?.kind));
  const changed = c.added.union(c.modified).filter(keep);
  const removed = c.removed.filter(keep);
  const id = identity(who);
  for (const [k, m] of managers) if (k !== id) m.set = m.set.difference(changed).difference(removed);
  if (!changed.isEmpty()) {
    const own = managers.get(id);
    managers.set(id, { who, time: k8sTime(now), set: (own?.set ?? new FieldSet()).difference(removed).union(changed) });
  } else {
    const own = managers.get(id);
    if (own) own.set = own.set.difference(removed);
  }
  return orNothing(encode(managers));
}

/** An object nobody manages has no managedFields at all. */
const orNothing = (entries: ManagedFieldsEntry[]) => (entries.length ? entries : undefined);

/** The object as the field manager compares it: no managedFields (they are not fields anyone owns). */
function strip(obj: K8sObject | undefined): unknown {
  if (!obj) return {};
  const { managedFields: _m, ...metadata } = obj.metadata ?? {};
  return { ...obj, metadata };
}

export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

export interface Applied {
  object: K8sObject;
  /** False when the configuration changed nothing but ownership. */
  changed: boolean;
}

/**
 * Server-side apply of `config` over `live` (structured-merge-diff's
 * Updater.Apply, with the API server's field manager layers around it).
 */
export function applyConfiguration(live: K8sObject, config: K8sObject, who: Who, force: boolean, now: number): Applied {
  const shape = shapeForKind(live.kind);
  const keep = scopeFilter(who.subresource);
  // Typed decoding drops nulls (`creationTimestamp: null` from `kubectl create --dry-run -o yaml`).
  const cfg = scoped(dropNulls(strip(config)) as K8sObject, who.subresource);
  let managers = decode(live.metadata.managedFields);
  if (!managers.size) {
    // ProbabilisticSkipNonAppliedManager: what was there before the first apply belongs to "before-first-apply".
    const before: Who = { manager: 'before-first-apply', operation: 'Update', apiVersion: who.apiVersion };
    const set = toFieldSet(strip(live), shape).filter(scopeFilter(undefined));
    managers = new Map([[identity(before), { who: before, time: k8sTime(now), set }]]);
  }
  const liveValue = strip(live);
  let merged = merge(liveValue, cfg, shape) as K8sObject;
  const id = identity(who);
  const last = managers.get(id)?.set;
  const applied = toFieldSet(cfg, shape).filter(keep);
  managers.set(id, { who, time: managers.get(id)?.time, set: applied });

  if (last && !last.isEmpty()) {
    // prune: what this applier applied last time, no longer applies, and no manager owns.
    let owned = new FieldSet();
    for (const m of managers.values()) owned = owned.union(m.set);
    const gone = toFieldSet(merged, shape).intersection(last).difference(owned);
    if (!gone.isEmpty()) merged = removeItems(merged, gone, shape) as K8sObject;
  }

  const c = compare(liveValue, merged, shape);
  const changed = c.added.union(c.modified).filter(keep);
  const removed = c.removed.filter(keep);
  const conflicts: [Managed, Path][] = [];
  for (const [k, m] of managers) {
    if (k === id) continue;
    for (const p of m.set.intersection(changed).toPaths()) conflicts.push([m, p]);
  }
  let open = conflicts;
  if (!force && open.length && who.manager === 'kubectl') open = withoutLastApplied(open, live, shape);
  if (!force && open.length) throw conflictError(open);
  for (const [k, m] of managers) if (k !== id) m.set = m.set.difference(changed).difference(removed);

  const dataChanged = !deepEqual(liveValue, merged);
  const own = managers.get(id)!;
  if (dataChanged) own.time = k8sTime(now);
  const object = structuredClone(merged);
  object.metadata = { ...(object.metadata ?? {}), managedFields: orNothing(encode(managers)) };
  if (who.manager === 'kubectl' && live.metadata.annotations?.[LAST_APPLIED]) {
    // lastAppliedUpdater keeps client-side apply's annotation in step with kubectl's server-side applies.
    object.metadata.annotations = { ...object.metadata.annotations, [LAST_APPLIED]: sortedJson(withoutAnnotation(config)) };
  }
  return { object, changed: dataChanged };
}

function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.filter((x) => x !== null).map(dropNulls);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, dropNulls(x)]));
  return v;
}

/** The part of an applied configuration the endpoint takes: status through /status, the rest elsewhere. */
function scoped(cfg: K8sObject, subresource: string | undefined): K8sObject {
  if (subresource === 'status') return { apiVersion: cfg.apiVersion, kind: cfg.kind, metadata: cfg.metadata, status: cfg.status } as K8sObject;
  const { status: _s, ...rest } = cfg as K8sObject & { status?: unknown };
  return rest as K8sObject;
}

/**
 * lastAppliedManager: kubectl moving from client-side to server-side apply
 * does not conflict over fields its last-applied annotation set to the value
 * they still have.
 */
function withoutLastApplied(conflicts: [Managed, Path][], live: K8sObject, shape: ReturnType<typeof shapeForKind>): [Managed, Path][] {
  const raw = live.metadata.annotations?.[LAST_APPLIED];
  let lastApplied: K8sObject;
  try {
    lastApplied = JSON.parse(raw ?? '');
  } catch {
    return conflicts;
  }
  if (!lastApplied || lastApplied.apiVersion !== live.apiVersion) return conflicts;
  const c = compare(lastApplied, strip(live), shape);
  const allowed = toFieldSet(lastApplied, shape).difference(c.modified).difference(c.added).difference(c.removed);
  return conflicts.filter(([, p]) => !allowed.has(p));
}

function conflictError(conflicts: [Managed, Path][]): ApiError {
  const name = (m: Managed) => {
    let s = JSON.stringify(m.who.manager);
    if (m.who.subresource) s += ` with subresource ${JSON.stringify(m.who.subresource)}`;
    return m.who.operation === 'Update' ? `${s} using ${m.who.apiVersion}` : s;
  };
  const causes = conflicts.map(([m, p]) => ({ reason: 'FieldManagerConflict', message: `conflict with ${name(m)}`, field: pathString(p) }));
  let message: string;
  if (conflicts.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${name(conflicts[0][0])}: ${pathString(conflicts[0][1])}`;
  } else {
    const byManager = new Map<string, [Managed, Path[]]>();
    for (const [m, p] of conflicts) {
      const k = identity(m.who);
      if (!byManager.has(k)) byManager.set(k, [m, []]);
      byManager.get(k)![1].push(p);
    }
    const lines: string[] = [];
    for (const k of [...byManager.keys()].sort()) {
      const [m, paths] = byManager.get(k)!;
      lines.push(`conflicts with ${name(m)}:`, ...paths.map((p) => `- ${pathString(p)}`));
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return new ApiError(409, 'Conflict', message, { causes });
}

function withoutAnnotation(config: K8sObject): K8sObject {
  const copy = structuredClone(config);
  if (copy.metadata?.annotations) delete copy.metadata.annotations[LAST_APPLIED];
  return copy;
}

/** JSON with object keys sorted, as Go marshals maps. */
export function sortedJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(sortedJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${sortedJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
