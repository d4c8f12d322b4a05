// What a CEL expression may cost. CEL always terminates, but nested
// comprehensions multiply: three `.all` over a 200-element list are 8
// million steps, seconds of synchronous work that stall the whole engine.
// So, like Kubernetes for CRD validation rules and admission policies, an
// expression is costed when it is loaded, with assumed maximum list sizes,
// and refused over a budget; and each evaluation is metered against the real
// data, and abandoned over a limit (cel-meter.ts). docs/rules.md "Cost"
// explains the model.
//
// The model (cel-go's checker/cost.go, simplified): every AST node costs 1;
// a comprehension (all, exists, exists_one, map, filter) costs its receiver
// plus n × (1 + its body), n the assumed size of the list it iterates, so
// nested loops multiply; `x in list` adds the list's size; objects() adds
// the objects it converts. Sizes are assumed per field name (containers ≤
// 20 …), lists read any other way get the default, objects() its own.
import type { ASTNode } from '@marcbachmann/cel-js';

export interface CostLimits {
  /** Largest estimated cost an expression may have; a costlier one is refused at load. */
  budget: number;
  /** Cost one evaluation may spend over the real data before it is abandoned. */
  runtimeLimit: number;
  /** Assumed longest list (or largest map) by the field it is read from. */
  listSizes: Readonly<Record<string, number>>;
  /** Assumed longest list or map read any other way. */
  defaultListSize: number;
  /** Assumed most objects one objects() lookup returns. */
  objects: number;
}

export const DEFAULT_COST_LIMITS: CostLimits = Object.freeze({
  // 2–10 ms of cel-js work: a unit measured 20–100 ns (docs/rules.md "Cost").
  budget: 100_000,
  // Kubernetes' per-call limit: data ten times the assumed size still evaluates; worse is abandoned after 20–100 ms.
  runtimeLimit: 1_000_000,
  listSizes: Object.freeze({
    containers: 20, initContainers: 20, ephemeralContainers: 20,
    containerStatuses: 20, initContainerStatuses: 20, ephemeralContainerStatuses: 20,
    ports: 20, conditions: 20, ownerReferences: 10, finalizers: 10,
    env: 100, envFrom: 20, volumes: 100, volumeMounts: 100, tolerations: 20, taints: 20, addresses: 10, images: 100,
  }),
  defaultListSize: 100,
  objects: 1000,
});

/** Defaults with `partial` over them; listSizes are merged field by field. */
export function costLimits(partial: Partial<CostLimits> = {}): CostLimits {
  return Object.freeze({
    ...DEFAULT_COST_LIMITS,
    ...partial,
    listSizes: Object.freeze({ ...DEFAULT_COST_LIMITS.listSizes, ...partial.listSizes }),
  });
}

/** A result size for a call of a registered function, by its argument nodes. */
export type CallSize = (args: readonly ASTNode[], limits: CostLimits) => { size: number; label: string; cost?: number };

/** value(obj, 'spec.containers'): the list size assumed for the path's last field. */
export const pathSize: CallSize = (args, limits) => {
  const p = args[1];
  const last = p?.op === 'value' && typeof p.args === 'string' ? p.args.split(/[.[\]]/).filter(Boolean).pop() : undefined;
  return last && !/^\d+$/.test(last) ? fieldSize(last, limits) : { size: limits.defaultListSize, label: 'lists' };
};

export interface CostEstimate {
  cost: number;
  /** The deepest loop nest, for the message: its text and the sizes multiplied. */
  hot?: { text: string; offset: number; sizes: { n: number; label: string }[] };
  /** Where to meter at run time (see meteredSource). */
  guards: Guard[];
}

/**
 * A range of the expression to wrap: `meter` a list (a comprehension's
 * receiver, the right side of `in`) charging `perItem` per element; `stop`
 * the body of an all/exists that holds metered lists, so the quantifier
 * ends at its next element once the meter is spent (CEL swallows errors
 * inside all/exists and would go on through every element).
 */
export type Guard = { start: number; end: number } & ({ kind: 'meter'; perItem: number } | { kind: 'stop'; decisive: boolean });

const LOOPS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);

interface Costed {
  /** Estimated cost, loops multiplied by assumed sizes. */
  cost: number;
  /** Cost without what the run-time meter charges itself (loop bodies, `in` lists, objects()). */
  flat: number;
  /** Assumed size when the value may be a list or map, else 0. */
  size: number;
  label: string;
}

/** The assumed size of a list read from field `name`, and what the message calls the assumption. */
export function fieldSize(name: string, limits: CostLimits): { size: number; label: string } {
  return Object.hasOwn(limits.listSizes, name) ? { size: limits.listSizes[name]!, label: name } : { size: limits.defaultListSize, label: 'lists' };
}

/** Estimates what `ast` (of `expr`) may cost; `calls` gives the result sizes of registered functions. */
export function estimateCost(expr: string, ast: ASTNode, limits: CostLimits, calls: Readonly<Record<string, CallSize>> = {}): CostEstimate {
  const guards: CostEstimate['guards'] = [];
  let hot: CostEstimate['hot'];
  const field = (name: string): Pick<Costed, 'size' | 'label'> => fieldSize(name, limits);
  const dflt = { size: limits.defaultListSize, label: 'lists' };

  type Scope = ReadonlyMap<string, Pick<Costed, 'size' | 'label'>>;
  type Outer = { n: number; label: string }[];
  const visit = (node: ASTNode, scope: Scope, outer: Outer): Costed => {
    const sum = (nodes: readonly ASTNode[], base = 1) => {
      const parts = nodes.map((n) => visit(n, scope, outer));
      return { cost: base + parts.reduce((a, p) => a + p.cost, 0), flat: base + parts.reduce((a, p) => a + p.flat, 0), parts };
    };
    switch (node.op) {
      case 'value': {
        return { cost: 1, flat: 1, size: 0, label: '' };
      }
      case 'id': {
        const v = scope.get(node.args) ?? dflt;
        return { cost: 1, flat: 1, ...v };
      }
      case '.':
      case '.?': {
        const s = sum([node.args[0]]);
        return { cost: s.cost, flat: s.flat, ...field(node.args[1]) };
      }
      case '[]':
      case '[?]': {
        const s = sum(node.args);
        const key = node.args[1];
        return { cost: s.cost, flat: s.flat, ...(key.op === 'value' && typeof key.args === 'string' ? field(key.args) : dflt) };
      }
      case 'list': {
        const s = sum(node.args);
        return { cost: s.cost, flat: s.flat, size: node.args.length, label: 'literal' };
      }
      case 'map': {
        const s = sum(node.args.flat());
        return { cost: s.cost, flat: s.flat, size: node.args.length, label: 'literal' };
      }
      case '?:': {
        const [c, l, r] = node.args.map((n) => visit(n, scope, outer));
        const big = l.size >= r.size ? l : r;
        return { cost: 1 + c.cost + Math.max(l.cost, r.cost), flat: 1 + c.flat + Math.max(l.flat, r.flat), size: big.size, label: big.label };
      }
      case 'in': {
        const s = sum(node.args);
        const list = s.parts[1];
        // A literal's size is known: charged with the enclosing loop's elements instead of metered.
        if (isLiteral(node.args[1])) return { cost: s.cost + list.size, flat: s.flat + list.size, size: 0, label: '' };
        guards.push({ kind: 'meter', start: node.args[1].start, end: node.args[1].end, perItem: 1 });
        return { cost: s.cost + list.size, flat: s.flat, size: 0, label: '' };
      }
      case '+': {
        const s = sum(node.args);
        const [l, r] = s.parts;
        // Concatenation: both sides may be lists, so the result may be as long as both.
        return { cost: s.cost, flat: s.flat, ...(l.size && r.size ? { size: l.size + r.size, label: l.label } : { size: 0, label: '' }) };
      }
      case 'call': {
        const [name, args] = node.args;
        const s = sum(args);
        const extra = calls[name]?.(args, limits) ?? (name === 'dyn' && s.parts[0] ? { size: s.parts[0].size, label: s.parts[0].label } : { size: 0, label: '' });
        return { cost: s.cost + (extra.cost ?? 0), flat: s.flat, size: extra.size, label: extra.label };
      }
      case 'rcall': {
        const [name, receiver, args] = node.args;
        if (name === 'bind' && receiver.op === 'id' && receiver.args === 'cel' && args.length === 3 && args[0].op === 'id') {
          const val = visit(args[1], scope, outer);
          const exp = visit(args[2], new Map([...scope, [args[0].args, { size: val.size, label: val.label }]]), outer);
          return { cost: 1 + val.cost + exp.cost, flat: 1 + val.flat + exp.flat, size: exp.size, label: exp.label };
        }
        if (LOOPS.has(name) && args[0]?.op === 'id' && (args.length === 2 || (name === 'map' && args.length === 3))) {
          const r = visit(receiver, scope, outer);
          const n = Math.max(r.size, 1);
          const inner = [...outer, { n, label: r.label }];
          const product = inner.reduce((a, o) => a * o.n, 1);
          if (!hot || product > hot.sizes.reduce((a, o) => a * o.n, 1) || (product === hot.sizes.reduce((a, o) => a * o.n, 1) && inner.length > hot.sizes.length)) {
            hot = { text: `${expr.slice(receiver.start, receiver.end).replace(/\s+/g, ' ')}.${name}(…)`, offset: node.start, sizes: inner };
          }
          const bodyScope = new Map([...scope, [args[0].args, dflt]]);
          const before = guards.length;
          const body = args.slice(1).map((a) => visit(a, bodyScope, inner));
          const step = 1 + body.reduce((a, b) => a + b.cost, 0);
          const stepFlat = 1 + body.reduce((a, b) => a + b.flat, 0);
          // map, filter and exists_one end on the meter's error; all and exists need their decisive value.
          if (guards.length > before && (name === 'all' || name === 'exists')) guards.push({ kind: 'stop', start: args[1].start, end: args[1].end, decisive: name === 'exists' });
          const out = name === 'map' || name === 'filter' ? { size: r.size, label: r.label } : { size: 0, label: '' };
          const cost = 1 + r.cost + n * step;
          if (isLiteral(receiver)) return { cost, flat: 1 + r.flat + n * stepFlat, ...out };
          guards.push({ kind: 'meter', start: receiver.start, end: receiver.end, perItem: stepFlat });
          return { cost, flat: 1 + r.flat, ...out };
        }
        const s = sum([receiver, ...args]);
        const recv = s.parts[0];
        if (name === 'join') return { cost: s.cost + recv.size, flat: s.flat, size: 0, label: '' };
        if (name === 'split') return { cost: s.cost, flat: s.flat, ...dflt };
        if (name === 'orValue' || name === 'value') return { cost: s.cost, flat: s.flat, size: Math.max(recv.size, s.parts[1]?.size ?? 0), label: recv.label };
        return { cost: s.cost, flat: s.flat, size: 0, label: '' };
      }
      default: {
        const args = node.args as unknown;
        const s = sum(Array.isArray(args) ? (args as ASTNode[]) : [args as ASTNode]);
        return { cost: s.cost, flat: s.flat, size: 0, label: '' };
      }
    }
  };
  const top = visit(ast, new Map(), []);
  return { cost: top.cost, guards, ...(hot ? { hot } : {}) };
}

const isLiteral = (n: ASTNode) => n.op === 'list' || n.op === 'map';

/** The refusal for an over-budget estimate, naming the loop nest that makes it. */
export function overBudget(est: CostEstimate, limits: CostLimits, doc = 'docs/rules.md'): string {
  const fmt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'unbounded');
  let why = '';
  if (est.hot) {
    const sizes = est.hot.sizes;
    const product = sizes.reduce((a, o) => a * o.n, 1);
    const assumed = [...new Set(sizes.map((o) => o.label === 'lists' ? `other lists ≤ ${limits.defaultListSize}` : o.label === 'objects()' ? `objects() ≤ ${limits.objects}` : o.label === 'literal' ? '' : `${o.label} ≤ ${limits.listSizes[o.label] ?? o.n}`))].filter(Boolean);
    why = `: \`${est.hot.text}\` runs its body up to ${sizes.map((o) => fmt(o.n)).join(' × ')}${sizes.length > 1 ? ` = ${fmt(product)}` : ''} times${assumed.length ? ` (assumed ${assumed.join(', ')})` : ''}`;
  }
  return `CEL cost: estimated ${fmt(est.cost)} is over the budget of ${fmt(limits.budget)}${why}; nest fewer loops or read shorter lists (${doc}, "Cost")`;
}
