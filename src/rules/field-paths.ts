// Which fields of cached objects the rules read, from their CEL: the
// informers cache only those (kube/projection.ts), so a pod costs what the
// rules look at, not the 7 KiB the API server sends.
//
// The analysis follows values, not text: `object.status.containerStatuses
// .exists(c, c.state.waiting.reason == 'X')` reads
// `status.containerStatuses[].state.waiting.reason`, because `c` is bound to
// an element. A navigated path (`a.b`, `a[?'b']`, `has(a.b)`) is kept as
// present; a value that is used (compared, passed to a function, returned)
// is kept whole. Helpers read what their code reads (owner(), condition(),
// memoryLimited(), value() with a literal path …). Whatever the analysis
// cannot follow keeps more, never less: an unknown function gets its
// arguments whole, changes() keeps both objects whole, and objects() of a
// kind computed at run time keeps every kind whole.
import { Environment, type ASTNode } from '@marcbachmann/cel-js';
import { EACH, addPath, mergeTrees, parseFieldPath, wholeTree, type FieldSegment, type FieldTree } from '../kube/index.ts';
import type { LoadedRule } from './loader.ts';
import { parsePath } from './diff.ts';
import { ROLLOUT_WORKLOADS } from './sources/rollout-state.ts';

/** Fields per kind; `*` applies to every kind. */
export class KindFields {
  readonly #m = new Map<string, FieldTree>();

  add(kind: string, tree: FieldTree | undefined): this {
    if (tree) this.#m.set(kind, mergeTrees(this.#m.get(kind), tree));
    return this;
  }

  addPaths(kind: string, paths: Iterable<string>): this {
    const t = this.#m.get(kind) ?? {};
    for (const p of paths) addPath(t, parseFieldPath(p));
    this.#m.set(kind, t);
    return this;
  }

  addAll(other: KindFields): this {
    for (const [k, t] of other.#m) this.add(k, t);
    return this;
  }

  /** What to cache of `kind` (identity metadata is added by the projector). */
  forKind(kind: string): FieldTree {
    return mergeTrees(this.#m.get('*'), this.#m.get(kind));
  }

  /** Kinds named (not `*`). */
  kinds(): string[] {
    return [...this.#m.keys()].filter((k) => k !== '*').sort();
  }
}

/** Adds `table` (kind → paths in parseFieldPath syntax) to `into`. */
export function addFieldTable(into: KindFields, table: Readonly<Record<string, readonly string[]>>): KindFields {
  for (const [kind, paths] of Object.entries(table)) into.addPaths(kind, paths);
  return into;
}

const CONDITION = ['status.conditions[].type', 'status.conditions[].status', 'status.conditions[].reason'];
const STATUSES = ['name', 'ready', 'restartCount', 'state.waiting.reason', 'state.terminated.reason', 'state.terminated.exitCode', 'lastState.terminated.reason', 'lastState.terminated.exitCode'];

/**
 * What the engine reads besides the rules: an Event's subject, pre-selectors
 * and evidence; and for every kind the fields a change's evidence shows
 * whether or not a rule reads them (docs/rules.md, "What the cache keeps"):
 * phase, conditions, replicas, images and container states, never messages
 * or env.
 */
const WORKLOAD = ['spec.replicas', 'spec.template.spec.containers[].name', 'spec.template.spec.containers[].image'];

export const ENGINE_FIELDS: Readonly<Record<string, readonly string[]>> = {
  Event: ['involvedObject', 'regarding', 'reason', 'type', 'message', 'note', 'count', 'series.count', 'firstTimestamp', 'lastTimestamp', 'eventTime', 'source'],
  '*': ['status.phase', 'status.reason', ...CONDITION],
  Pod: [
    'spec.nodeName', 'spec.containers[].name', 'spec.containers[].image',
    ...STATUSES.map((s) => `status.containerStatuses[].${s}`), ...STATUSES.map((s) => `status.initContainerStatuses[].${s}`),
  ],
  Node: ['spec.unschedulable'],
  Deployment: WORKLOAD,
  StatefulSet: WORKLOAD,
  DaemonSet: ['spec.template.spec.containers[].name', 'spec.template.spec.containers[].image'],
  ReplicaSet: WORKLOAD,
  Job: ['spec.template.spec.containers[].name', 'spec.template.spec.containers[].image'],
};

/** What the loaded rules read of each kind, plus the engine's own needs. */
export function rulesFields(rules: readonly LoadedRule[]): KindFields {
  const out = addFieldTable(new KindFields(), ENGINE_FIELDS);
  for (const lr of rules) out.addAll(ruleFields(lr));
  return out;
}

/** What one rule's expressions read, by kind. */
export function ruleFields(lr: LoadedRule): KindFields {
  const spec = lr.rule.spec;
  const a = spec.action;
  const out = new KindFields();
  const objectKinds = spec.source === 'event' ? ['Event']
    : spec.source === 'rollout' ? (spec.match.kinds?.length ? spec.match.kinds : ROLLOUT_WORKLOADS)
    : spec.source === 'object' || spec.source === 'schedule' ? spec.match.kinds ?? []
    : [];
  for (const expr of [spec.when, spec.subject, spec.summary, a && 'runbook' in a ? a.when : undefined]) {
    if (expr === undefined) continue;
    const f = expressionFields(expr);
    if (f.anyKind) out.add('*', wholeTree());
    for (const k of objectKinds) out.add(k, f.object).add(k, f.oldObject);
    if (spec.source === 'event') out.add('Event', f.event);
    for (const [k, t] of f.kinds) out.add(k, t);
  }
  return out;
}

export interface ExpressionFields {
  object?: FieldTree;
  oldObject?: FieldTree;
  event?: FieldTree;
  /** Objects looked up by kind (objects('Kind'), podsOn()): what is read of each. */
  kinds: Map<string, FieldTree>;
  /** objects() of a kind only known at run time, or something the analysis cannot follow. */
  anyKind: boolean;
}

const ROOTS = new Set(['object', 'oldObject', 'event']);
const QUANTIFIERS = new Set(['all', 'exists', 'exists_one', 'existsOne']);
const env = new Environment({ homogeneousAggregateLiterals: false, enableOptionalTypes: true });

/** Where a value comes from: a variable (object …) or a lookup's list (`kind:Pod`), and the path below it. */
interface Ref {
  root: string;
  path: FieldSegment[];
}
type Scope = ReadonlyMap<string, Ref[]>;

/** The fields `expr` reads. Expressions are checked when rules load; one that does not parse reads everything. */
export function expressionFields(expr: string): ExpressionFields {
  const trees = new Map<string, FieldTree>();
  const state = { anyKind: false };
  try {
    const w = new Walker(trees, state);
    w.consume(w.walk(env.parse(expr).ast, new Map()));
  } catch {
    state.anyKind = true;
  }
  const kinds = new Map<string, FieldTree>();
  for (const [root, t] of trees) {
    if (!root.startsWith('kind:')) continue;
    // A lookup's tree is of its list: the objects are its elements.
    kinds.set(root.slice(5), t.all ? wholeTree() : t.each ?? {});
  }
  return { object: trees.get('object'), oldObject: trees.get('oldObject'), event: trees.get('event'), kinds, anyKind: state.anyKind };
}

class Walker {
  readonly #trees: Map<string, FieldTree>;
  readonly #state: { anyKind: boolean };

  constructor(trees: Map<string, FieldTree>, state: { anyKind: boolean }) {
    this.#trees = trees;
    this.#state = state;
  }

  /** Keeps a path: whole when its value is used, else only present (and what later steps add). */
  use(ref: Ref, whole: boolean): void {
    if (ref.root === 'any') {
      this.#state.anyKind = true;
      return;
    }
    let t = this.#trees.get(ref.root);
    if (!t) this.#trees.set(ref.root, (t = {}));
    addPath(t, ref.path, whole);
  }

  consume(refs: Ref[]): void {
    for (const r of refs) this.use(r, true);
  }

  /** Extends every ref by `segs`, each step kept present. */
  step(refs: Ref[], ...segs: FieldSegment[]): Ref[] {
    const out = refs.map((r) => ({ root: r.root, path: [...r.path, ...segs] }));
    for (const r of out) this.use(r, false);
    return out;
  }

  /** Reads `path` (a literal, in each helper's syntax) below every ref, whole. */
  read(refs: Ref[], path: string): void {
    this.consume(refs.map((r) => ({ root: r.root, path: [...r.path, ...parseFieldPath(path)] })));
  }

  walk(node: ASTNode, scope: Scope): Ref[] {
    const args = node.args as any;
    switch (node.op) {
      case 'value':
        return [];
      case 'id':
        return scope.get(args) ?? (ROOTS.has(args) ? [{ root: args, path: [] }] : []);
      case '.':
      case '.?':
        return this.step(this.walk(args[0], scope), args[1]);
      case '[]':
      case '[?]': {
        const base = this.walk(args[0], scope);
        const idx = args[1] as ASTNode;
        if (idx.op === 'value' && typeof idx.args === 'string') return this.step(base, idx.args);
        this.consume(this.walk(idx, scope));
        // An index, or a key known only at run time: every element.
        return this.step(base, EACH);
      }
      case '?:':
        this.consume(this.walk(args[0], scope));
        return [...this.walk(args[1], scope), ...this.walk(args[2], scope)];
      case '!_':
      case '-_':
        this.consume(this.walk(args, scope));
        return [];
      case 'list':
        for (const a of args) this.consume(this.walk(a, scope));
        return [];
      case 'map':
        for (const [k, v] of args) {
          this.consume(this.walk(k, scope));
          this.consume(this.walk(v, scope));
        }
        return [];
      case 'call':
        return this.call(args[0], args[1], scope);
      case 'rcall':
        return this.method(args[0], args[1], args[2], scope);
      default:
        if (['==', '!=', '<', '<=', '>', '>=', '+', '-', '*', '/', '%', 'in', '&&', '||'].includes(node.op)) {
          for (const a of args) this.consume(this.walk(a, scope));
          return [];
        }
        throw new Error(`internal: CEL operator ${node.op} is not analysed`);
    }
  }

  private call(name: string, args: ASTNode[], scope: Scope): Ref[] {
    const literal = (n: ASTNode | undefined) => (n?.op === 'value' && typeof n.args === 'string' ? n.args : undefined);
    const all = () => {
      for (const a of args) this.consume(this.walk(a, scope));
      return [];
    };
    switch (name) {
      case 'has':
        this.walk(args[0]!, scope);
        return [];
      case 'size':
        this.step(this.walk(args[0]!, scope), EACH);
        return [];
      case 'value':
      case 'oldValue': {
        const path = literal(args[1]);
        if (path === undefined) return all();
        return this.walkPath(this.walk(args[0]!, scope), path);
      }
      case 'changed': {
        const path = literal(args[2]);
        if (path === undefined) return all();
        for (const a of args.slice(0, 2)) this.consume(this.walkPath(this.walk(a, scope), path));
        return [];
      }
      case 'ageSeconds':
        this.read(this.walk(args[0]!, scope), 'metadata.creationTimestamp');
        return [];
      case 'condition':
      case 'conditionAge': {
        const conds = this.step(this.walk(args[0]!, scope), 'status', 'conditions', EACH);
        this.read(conds, 'type');
        this.consume(this.walk(args[1]!, scope));
        if (name === 'conditionAge') {
          this.read(conds, 'lastTransitionTime');
          return [];
        }
        return conds;
      }
      case 'owner': {
        const o = this.walk(args[0]!, scope);
        for (const p of ['kind', 'metadata.name', 'metadata.namespace', 'metadata.ownerReferences', 'metadata.labels["pod-template-hash"]']) this.read(o, p);
        return [];
      }
      case 'memoryLimited': {
        const o = this.walk(args[0]!, scope);
        this.read(o, 'spec.containers[].resources.limits.memory');
        this.read(o, 'spec.template.spec.containers[].resources.limits.memory');
        return [];
      }
      case 'production':
        this.consume(this.walk(args[0]!, scope));
        this.read([{ root: 'kind:Namespace', path: [EACH] }], 'metadata.labels');
        return [];
      case 'podsOn':
        this.consume(this.walk(args[0]!, scope));
        this.read([{ root: 'kind:Pod', path: [EACH] }], 'spec.nodeName');
        return [{ root: 'kind:Pod', path: [] }];
      case 'objects': {
        const kind = literal(args[0]);
        for (const a of args.slice(1)) this.consume(this.walk(a, scope));
        if (kind === undefined) {
          this.consume(this.walk(args[0]!, scope));
          return [{ root: 'any', path: [] }];
        }
        return [{ root: `kind:${kind}`, path: [] }];
      }
      default:
        // changes(), quantity(), string(), timestamp() …: the value is used whole.
        return all();
    }
  }

  private method(name: string, recv: ASTNode, args: ASTNode[], scope: Scope): Ref[] {
    if (recv.op === 'id' && !scope.has(recv.args as string)) {
      if (recv.args === 'cel' && name === 'bind' && args.length === 3 && args[0]!.op === 'id') {
        const inner = new Map(scope).set(args[0]!.args as string, this.walk(args[1]!, scope));
        return this.walk(args[2]!, inner);
      }
      if (recv.args === 'optional') return name === 'none' ? [] : this.walk(args[0]!, scope);
    }
    const iterable = (QUANTIFIERS.has(name) || name === 'map' || name === 'filter') && args.every((a, i) => i === args.length - 1 || (name === 'map' && i === 1) || a.op === 'id');
    if (iterable && args.length >= 2) {
      const base = this.walk(recv, scope);
      const elements = this.step(base, EACH);
      const inner = new Map(scope);
      // Two variables (all(i, v, …)): the first is an index or key, the second the element.
      const twoVars = name !== 'map' && args.length === 3;
      if (twoVars) inner.set(args[0]!.args as string, []).set(args[1]!.args as string, elements);
      else inner.set(args[0]!.args as string, elements);
      for (const a of args.slice(twoVars ? 2 : 1)) this.consume(this.walk(a, inner));
      return name === 'filter' ? base : [];
    }
    switch (name) {
      case 'orValue':
        return [...this.walk(recv, scope), ...args.flatMap((a) => this.walk(a, scope))];
      case 'value':
        return this.walk(recv, scope);
      case 'hasValue':
        this.walk(recv, scope);
        return [];
      case 'size':
        this.step(this.walk(recv, scope), EACH);
        return [];
      default:
        this.consume(this.walk(recv, scope));
        for (const a of args) this.consume(this.walk(a, scope));
        return [];
    }
  }

  /** A value()/changed() path (diff.ts syntax: `a.b[0]`, `containers[name=app]`) below every ref, each step present. */
  private walkPath(refs: Ref[], path: string): Ref[] {
    let cur = refs;
    for (const seg of parsePath(path)) {
      if ('key' in seg) cur = this.step(cur, seg.key);
      else if ('index' in seg) cur = this.step(cur, EACH);
      else {
        cur = this.step(cur, EACH);
        this.consume(cur.map((r) => ({ root: r.root, path: [...r.path, seg.field] })));
      }
    }
    return cur;
  }
}
