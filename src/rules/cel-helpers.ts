// The plain functions behind the CEL helpers rules use (docs/rules.md lists
// them with examples). Kept apart from the cel-js wiring so each can be read
// and tested as ordinary TypeScript.
import type { KubeObject } from '../kube/index.ts';
import { parseQuantity } from '../common/index.ts';
import { diffObjects, getPath } from './diff.ts';

/** Objects of `kind` in `namespace` (all namespaces when undefined) from the watch cache of `cluster`. */
export type Lookup = (kind: string, namespace: string | undefined, cluster: string) => readonly KubeObject[];

/**
 * One object of `kind` by name from the watch cache of `cluster`, in
 * `namespace` (undefined for a cluster-scoped kind): what `Lookup(…).find`
 * by name answers, from the cache's key instead of a scan.
 */
export type GetObject = (kind: string, namespace: string | undefined, name: string, cluster: string) => KubeObject | undefined;

/** The cached pods whose spec.nodeName is `node` in `cluster`, from the cache's node index. */
export type PodsOnNode = (node: string, cluster: string) => readonly KubeObject[];

type Obj = Record<string, unknown>;

/**
 * Objects converted lately, most recent last. Bounded, not one per cached
 * object: a WeakMap keyed by the cached object kept a converted copy of
 * every pod alive as long as the cache held it, doubling the cache's memory
 * (issue 16). What repeats is recent — a burst of lookups (objects(),
 * podsOn()) reading the same ReplicaSets — and a projected object
 * (kube/projection.ts) converts in microseconds when it falls out. A
 * signal's own object is converted once by its activation and not kept here
 * (toCelOnce): keeping it promoted every event's copy out of the young
 * generation, and collecting it there cost more than converting.
 */
const converted = new Map<object, { rv: unknown; value: unknown }>();
export const CONVERTED_KEPT = 1024;

/**
 * JSON → CEL values: whole numbers become CEL ints (BigInt), as Kubernetes'
 * own CEL does, so `object.spec.replicas + 1` and `restartCount > 3` behave;
 * fractional numbers stay doubles. An object with a resourceVersion read
 * again soon (lookups in a burst) is converted once per version.
 */
export function toCel(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return convert(v);
  const rv = (v as { metadata?: { resourceVersion?: unknown } }).metadata?.resourceVersion;
  if (rv === undefined) return convert(v);
  const hit = converted.get(v);
  // Most recent last: a hit moves to the end, the oldest goes first.
  converted.delete(v);
  if (hit && hit.rv === rv) {
    converted.set(v, hit);
    return hit.value;
  }
  const value = convert(v);
  converted.set(v, { rv, value });
  if (converted.size > CONVERTED_KEPT) converted.delete(converted.keys().next().value!);
  return value;
}

/**
 * toCel for a value read once (a signal's object): a conversion kept from a
 * lookup is used, but this one is not kept, so it dies young with its event.
 */
export function toCelOnce(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return convert(v);
  const hit = converted.get(v);
  const rv = (v as { metadata?: { resourceVersion?: unknown } }).metadata?.resourceVersion;
  if (hit && rv !== undefined && hit.rv === rv) return hit.value;
  return convert(v);
}

/**
 * The conversion itself, copying only what changes: a list or map with no
 * number (and no undefined) anywhere below it is already its CEL value and
 * is shared with the input, so converting a pod copies the few paths that
 * lead to its numbers (restart counts, ports) and not its labels, owners,
 * conditions or managedFields. Adding properties one computed key at a
 * time was the conversion's main cost (issue 16); a copied map is cloned
 * whole and only its changed values are replaced. Nothing reads CEL values
 * to change them, so sharing is safe.
 */
function convert(v: unknown): unknown {
  if (typeof v === 'number') return Number.isSafeInteger(v) ? BigInt(v) : v;
  if (v === null || typeof v !== 'object') return v === undefined ? null : v;
  if (v instanceof Date || v instanceof Uint8Array) return v;
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      const c = convert(x);
      if (c !== x && !out) out = v.slice(0, i);
      if (out) out.push(c);
    }
    return out ?? v;
  }
  const o = v as Obj;
  // Only JSON-shaped maps are shared; anything else becomes a plain map, as before.
  let out: Obj | undefined = Object.getPrototypeOf(o) === Object.prototype ? undefined : ownCopy(o);
  for (const k in o) {
    const x = o[k];
    if (!Object.hasOwn(o, k)) {
      // Inherited enumerable keys were never copied: a map that has them is copied without them.
      out ??= ownCopy(o);
      continue;
    }
    if (x === undefined) {
      out ??= ownCopy(o);
      delete out[k];
      continue;
    }
    const c = convert(x);
    if (c === x) continue;
    out ??= ownCopy(o);
    out[k] = c;
  }
  return out ?? v;
}

/** A map's own enumerable properties, in order, on a plain object (the spread clones a JSON-shaped object whole). */
function ownCopy(o: Obj): Obj {
  return { ...o };
}

/** How many converted objects are kept (for tests: it must not grow with the cache). */
export function convertedCount(): number {
  return converted.size;
}

/** Drops the converted objects kept (benchmarks measuring the heap between runs). */
export function forgetConverted(): void {
  converted.clear();
}

/** CEL ints back to JSON numbers, for values leaving CEL (subjects, change lists). */
export function fromCel(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), fromCel(x)]));
  if (Array.isArray(v)) return v.map(fromCel);
  if (v && typeof v === 'object' && !(v instanceof Date) && !(v instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fromCel(x)]));
  }
  return v;
}

/** `quantity('512Mi')` → bytes, `quantity('250m')` → cores. Missing or malformed input is an error, never 0. */
export function quantity(q: unknown): number {
  if (typeof q === 'bigint') return Number(q);
  if (typeof q === 'number') return q;
  if (typeof q !== 'string') throw new Error(`quantity() needs a string like 512Mi or 250m, got ${q === null ? 'null' : typeof q}`);
  return parseQuantity(q);
}

/** Value at `path` (see diff.ts for the syntax), or null. */
export function valueAt(obj: unknown, path: string): unknown {
  const v = obj === null || obj === undefined ? undefined : getPath(obj, path);
  return v === undefined ? null : v;
}

/** Whether `path` differs between two versions; false when either version is absent (a create or delete is no field change). */
export function changed(oldObj: unknown, newObj: unknown, path: string): boolean {
  if (oldObj === null || oldObj === undefined || newObj === null || newObj === undefined) return false;
  return !sameValue(getPath(oldObj, path), getPath(newObj, path));
}

/** `changes(oldObject, object)`: the diff as CEL maps; empty when either version is absent. */
export function changes(oldObj: unknown, newObj: unknown): Obj[] {
  if (oldObj === null || oldObj === undefined || newObj === null || newObj === undefined) return [];
  return diffObjects(oldObj, newObj).map((c) => ({ path: c.path, old: c.old ?? null, new: c.new ?? null }));
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  return JSON.stringify(a, bigintSafe) === JSON.stringify(b, bigintSafe);
}

const bigintSafe = (_k: string, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v);

/** Milliseconds since the epoch of an RFC 3339 timestamp, or undefined. */
export function parseTime(v: unknown): number | undefined {
  if (v instanceof Date) return v.getTime();
  if (typeof v !== 'string') return undefined;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Seconds since the object was created, -1 when it has no creationTimestamp. */
export function ageSeconds(obj: unknown, nowMs: number): number {
  const t = parseTime((obj as { metadata?: Obj } | null)?.metadata?.creationTimestamp);
  return t === undefined ? -1 : (nowMs - t) / 1000;
}

/** The status condition of `type` (Ready, Available, …), or null. */
export function condition(obj: unknown, type: string): Obj | null {
  const conds = (obj as { status?: { conditions?: unknown } } | null)?.status?.conditions;
  if (!Array.isArray(conds)) return null;
  return (conds.find((c) => c && typeof c === 'object' && (c as Obj).type === type) as Obj | undefined) ?? null;
}

/** Seconds since the condition last changed status, -1 when the condition or its time is absent. */
export function conditionAge(obj: unknown, type: string, nowMs: number): number {
  const t = parseTime(condition(obj, type)?.lastTransitionTime);
  return t === undefined ? -1 : (nowMs - t) / 1000;
}

interface OwnerRef {
  kind: string;
  name: string;
  controller?: boolean;
}

function controllerOf(obj: Obj | null | undefined): OwnerRef | undefined {
  const refs = (obj?.metadata as { ownerReferences?: OwnerRef[] } | undefined)?.ownerReferences;
  if (!Array.isArray(refs) || !refs.length) return undefined;
  return refs.find((r) => r.controller) ?? refs[0];
}

/**
 * The workload an object belongs to: a Pod of a Deployment's ReplicaSet gives
 * the Deployment. The ReplicaSet's name is `<deployment>-<pod-template-hash>`,
 * so the Deployment is known without the ReplicaSet in the cache; otherwise
 * the cache (when it has the owner) is asked one level further, then the
 * direct controller is used. An unowned object is its own owner.
 */
export function owner(obj: unknown, findObject?: (kind: string, namespace: string | undefined, name: string) => KubeObject | undefined): { kind: string; name: string } {
  const o = (obj ?? {}) as Obj;
  const meta = (o.metadata ?? {}) as { name?: string; namespace?: string; labels?: Record<string, string> };
  const ref = controllerOf(o);
  if (!ref) return { kind: typeof o.kind === 'string' ? o.kind : 'Pod', name: meta.name ?? '' };
  const hash = meta.labels?.['pod-template-hash'];
  if (ref.kind === 'ReplicaSet' && hash && ref.name.endsWith(`-${hash}`)) {
    return { kind: 'Deployment', name: ref.name.slice(0, -hash.length - 1) };
  }
  const parent = findObject?.(ref.kind, meta.namespace, ref.name);
  const grand = controllerOf(parent as Obj | undefined);
  if (grand) return { kind: grand.kind, name: grand.name };
  return { kind: ref.kind, name: ref.name };
}

/**
 * Namespace labels that mark production, in the conventions teams already
 * use; kubemend's own key wins when several are set. Values are compared
 * without case.
 */
export const PRODUCTION_LABELS: readonly string[] = ['kubemend.dev/environment', 'environment', 'env'];
const PRODUCTION_VALUES = new Set(['production', 'prod']);

/** Whether a Namespace object is marked production by its labels (the first of PRODUCTION_LABELS it has decides). */
export function productionByLabels(ns: unknown): boolean {
  const labels = ((ns as { metadata?: { labels?: Record<string, unknown> } } | null)?.metadata?.labels ?? {}) as Record<string, unknown>;
  const key = PRODUCTION_LABELS.find((k) => typeof labels[k] === 'string');
  return key !== undefined && PRODUCTION_VALUES.has(String(labels[key]).toLowerCase());
}

/** Whether every container of a pod (or a workload's pod template) has a memory limit: nothing in it can take more than its limit. */
export function memoryLimited(o: unknown): boolean {
  const spec = (o as any)?.spec?.template?.spec ?? (o as any)?.spec;
  const containers: any[] = spec?.containers ?? [];
  return containers.length > 0 && containers.every((c) => c?.resources?.limits?.memory !== undefined && c.resources.limits.memory !== null);
}
