// Which fields of an object the informer cache keeps (issue 16: 50k pods in
// 3 KiB each). A FieldTree is a prefix tree of kept paths, built from what
// the loaded rules read (rules/field-paths.ts) and what the other readers of
// the caches need (pipeline/cache-fields.ts); project() copies only those
// fields. Identity metadata (IDENTITY) is always kept, so keys, owners,
// labels and the change feed's authors never depend on a rule.
//
// A tree node keeps the whole value (`all`), some named fields (`keys`),
// every element of a list or value of a map (`each`), or, empty, only that
// the field is there (`has(x.limits)` needs `limits: {}`, not its content).
// A list reached without `each` keeps its length, each element projected by
// the node itself, so `size()` and presence tests see what they would on the
// full object.
import type { KubeObject } from './types.ts';
import { intern, internDeep } from './intern.ts';

export interface FieldTree {
  all?: boolean;
  keys?: Map<string, FieldTree>;
  each?: FieldTree;
}

/** One step of a path: a named field, or every element (`[]`). */
export type FieldSegment = string | typeof EACH;
export const EACH: unique symbol = Symbol('each');

/** Metadata every consumer relies on: what an object is, who owns it, who wrote it, when it goes. */
export const IDENTITY: readonly string[] = [
  'apiVersion', 'kind',
  'metadata.name', 'metadata.namespace', 'metadata.uid', 'metadata.resourceVersion', 'metadata.generation',
  'metadata.labels', 'metadata.ownerReferences', 'metadata.creationTimestamp', 'metadata.deletionTimestamp',
  // Already the compact {manager, operation, time, subresource} form (transform.ts).
  'metadata.managedFields',
];

export const emptyTree = (): FieldTree => ({});
export const wholeTree = (): FieldTree => ({ all: true });

/**
 * `status.containerStatuses[].state.waiting.reason`, `metadata.annotations["kubemend.dev/team"]`:
 * dots between names, `[]` for every element, `["…"]` for a name with dots or slashes.
 */
export function parseFieldPath(path: string): FieldSegment[] {
  const out: FieldSegment[] = [];
  const re = /\[\]|\["((?:[^"\\]|\\.)*)"\]|\.?([^.[\]"]+)/gy;
  let m: RegExpExecArray | null;
  let at = 0;
  while (at < path.length && (re.lastIndex = at, (m = re.exec(path)))) {
    out.push(m[0] === '[]' ? EACH : m[1] !== undefined ? JSON.parse(`"${m[1]}"`) as string : m[2]!);
    at = re.lastIndex;
  }
  if (at !== path.length || !out.length) throw new Error(`internal: bad field path "${path}" at character ${at + 1}`);
  return out;
}

/** Adds a path: `whole` keeps everything below it, otherwise only that it is there (and what later paths add). */
export function addPath(tree: FieldTree, path: readonly FieldSegment[], whole = true): FieldTree {
  let node = tree;
  for (const seg of path) {
    if (node.all) return tree;
    if (seg === EACH) node = node.each ??= {};
    else {
      node.keys ??= new Map();
      let next = node.keys.get(seg);
      if (!next) node.keys.set(seg, (next = {}));
      node = next;
    }
  }
  if (whole) markWhole(node);
  return tree;
}

function markWhole(node: FieldTree): void {
  node.all = true;
  delete node.keys;
  delete node.each;
}

/** A tree of `paths` (parseFieldPath syntax), each kept whole. */
export function fieldTree(paths: Iterable<string>): FieldTree {
  const t: FieldTree = {};
  for (const p of paths) addPath(t, parseFieldPath(p));
  return t;
}

/** What either keeps. Neither argument is changed. */
export function mergeTrees(a: FieldTree | undefined, b: FieldTree | undefined): FieldTree {
  if (!a) return b ? cloneTree(b) : {};
  if (!b) return cloneTree(a);
  if (a.all || b.all) return { all: true };
  const out: FieldTree = {};
  if (a.each || b.each) out.each = mergeTrees(a.each, b.each);
  if (a.keys || b.keys) {
    out.keys = new Map();
    for (const k of new Set([...(a.keys?.keys() ?? []), ...(b.keys?.keys() ?? [])])) out.keys.set(k, mergeTrees(a.keys?.get(k), b.keys?.get(k)));
  }
  return out;
}

export function cloneTree(t: FieldTree): FieldTree {
  if (t.all) return { all: true };
  const out: FieldTree = {};
  if (t.each) out.each = cloneTree(t.each);
  if (t.keys) out.keys = new Map([...t.keys].map(([k, v]) => [k, cloneTree(v)]));
  return out;
}

/**
 * Whether projecting by `have` keeps everything projecting by `want` keeps,
 * for any object: then a cache projected by `have` serves `want`'s readers
 * without a relist. Sound, not complete: when unsure it says no.
 */
export function covers(have: FieldTree | undefined, want: FieldTree | undefined): boolean {
  if (!have || have.all) return true;
  if (!want) return false;
  if (want.all) return false;
  for (const [k, w] of want.keys ?? []) {
    const h = have.keys?.get(k);
    const hk = h && have.each ? mergeTrees(h, have.each) : h ?? have.each;
    if (!hk || !covers(hk, w)) return false;
  }
  if (want.each && !(have.each && covers(have.each, want.each))) return false;
  // A list under a node without `each` is projected element by element with the node itself.
  if (!want.each && have.each && !covers(have.each, want)) return false;
  return true;
}

/** The kept paths, one per leaf, for people: `spec.containers[].name`; a presence-only leaf ends in `{}`. */
export function treePaths(t: FieldTree, prefix = ''): string[] {
  if (t.all) return [prefix || '(everything)'];
  const out: string[] = [];
  for (const [k, v] of [...(t.keys ?? [])].sort(([a], [b]) => a.localeCompare(b))) {
    const name = /^[A-Za-z_$][\w$-]*$/.test(k) ? `${prefix ? '.' : ''}${k}` : `[${JSON.stringify(k)}]`;
    out.push(...treePaths(v, prefix + name));
  }
  if (t.each) out.push(...treePaths(t.each, `${prefix}[]`));
  if (!out.length) out.push(`${prefix}{}`);
  return out;
}

type Projector = (v: unknown) => unknown;
// What a projection keeps is cached for as long as the object lives: its strings are interned (intern.ts).
const keep: Projector = internDeep;

/** A function that copies what `tree` keeps of a value; built once per tree, run per watch event. */
export function projector(tree: FieldTree): Projector {
  if (tree.all) return keep;
  const each = tree.each ? projector(tree.each) : undefined;
  const keys = [...(tree.keys ?? [])].map(([k, sub]) => [k, projector(tree.each ? mergeTrees(sub, tree.each) : sub)] as const);
  const byKey = new Map(keys);
  let self: Projector;
  const list = (v: unknown[]) => v.map(each ?? self);
  self = (v) => {
    if (typeof v === 'string') return intern(v);
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return list(v);
    const o = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    if (each) {
      for (const k in o) if (Object.hasOwn(o, k)) out[k] = (byKey.get(k) ?? each)(o[k]);
      return out;
    }
    for (const [k, p] of keys) if (Object.hasOwn(o, k) && o[k] !== undefined) out[k] = p(o[k]);
    return out;
  };
  if (!each && keys.length) self = namedCopy(keys, list);
  return self;
}

/**
 * The named-fields copy of `projector` with each field written by name.
 * Adding properties one computed key at a time goes through V8's generic
 * (megamorphic) store, which was the projection's main cost (issue 16: 17 %
 * of an informer's CPU); a store to a literal name is specialised per site.
 * The names are JSON string literals, so no field name can be read as code.
 * Same result as the loop it replaces (test/kube/projection.test.ts).
 */
function namedCopy(keys: readonly (readonly [string, Projector])[], list: (v: unknown[]) => unknown): Projector {
  const body = keys.map(([k], i) => {
    const q = JSON.stringify(k);
    return `if (hasOwn(o, ${q})) { const x = o[${q}]; if (x !== undefined) out[${q}] = p${i}(x); }`;
  });
  const params = ['hasOwn', 'list', 'intern', ...keys.map((_, i) => `p${i}`)];
  const make = new Function(...params, `"use strict"; return function project(v) {
    if (typeof v === 'string') return intern(v);
    if (v === null || typeof v !== 'object') return v;
    if (Array.isArray(v)) return list(v);
    const o = v;
    const out = {};
    ${body.join('\n    ')}
    return out;
  };`) as (...args: unknown[]) => Projector;
  return make(Object.hasOwn, list, intern, ...keys.map(([, p]) => p));
}

/** The informer transform that keeps `tree` and IDENTITY; undefined (keep everything) for a whole tree or none. */
export function objectProjector(tree: FieldTree | undefined): ((o: KubeObject) => KubeObject) | undefined {
  if (!tree || tree.all) return undefined;
  const p = projector(mergeTrees(tree, IDENTITY_TREE));
  return (o) => p(o) as KubeObject;
}

const IDENTITY_TREE = fieldTree(IDENTITY);

/** The tree an objectProjector actually keeps (for display: `kubemend rules fields`). */
export function withIdentity(tree: FieldTree | undefined): FieldTree {
  return !tree || tree.all ? wholeTree() : mergeTrees(tree, IDENTITY_TREE);
}
