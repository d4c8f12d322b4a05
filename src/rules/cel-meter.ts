// The run-time half of CEL cost (cel-cost.ts estimates): an expression is
// rewritten so each list a loop or `in` walks passes through a metering
// function first, which charges the list's real length × the cost of one
// element against the evaluation's limit. Over it, the evaluation is
// abandoned: JS evaluation is synchronous, so the only way to bound it is
// from inside, before the work is done. docs/rules.md "Cost".
import type { ASTNode, Environment, ParseResult } from '@marcbachmann/cel-js';
import { KubemendError, Errors } from '../common/index.ts';
import { estimateCost, type CallSize, type CostEstimate, type CostLimits, type Guard } from './cel-cost.ts';

/** The metering functions, registered only in evaluation environments: rules cannot call them. */
export const METER_FN = '__kubemend_cost';
export const GO_FN = '__kubemend_go';

/**
 * The expression with each metered list wrapped in the metering function,
 * which charges the list's real size × the cost of one element before the
 * loop (or `in`) walks it, and each stopped body made `go() ? (body) :
 * decisive`. Source text is rewritten, not the AST, so only cel-js's
 * public API (node offsets, registerFunction) is relied on.
 */
export function meteredSource(expr: string, guards: readonly Guard[]): string {
  type Edit = { at: number; text: string; order: number };
  const edits: Edit[] = [];
  for (const raw of guards) {
    const g = { ...raw, ...balancedSpan(expr, raw.start, raw.end) };
    const [open, close] = g.kind === 'meter' ? [`${METER_FN}(`, `, ${g.perItem})`] : [`${GO_FN}() ? (`, `) : ${g.decisive}`];
    // At one offset, an outer range opens before an inner one and closes after it; closes come before opens.
    edits.push({ at: g.start, text: open, order: 1_000_000_000 - (g.end - g.start) });
    edits.push({ at: g.end, text: close, order: -1_000_000_000 + (g.end - g.start) });
  }
  edits.sort((a, b) => a.at - b.at || a.order - b.order);
  let out = '';
  let pos = 0;
  for (const e of edits) {
    out += expr.slice(pos, e.at) + e.text;
    pos = e.at;
  }
  return out + expr.slice(pos);
}

/**
 * The parser's span of a node excludes the parentheses around its first
 * operand (`((a) || b) && c` starts at `a`), so wrapping the span as given
 * would put the guard's `(` inside a group and its `)` outside. Widens the
 * span to the parentheses its text leaves open on either side.
 */
export function balancedSpan(expr: string, start: number, end: number): { start: number; end: number } {
  let depth = 0;
  let min = 0;
  for (let i = start; i < end; i++) {
    const ch = expr[i];
    if (ch === '"' || ch === "'") {
      i = skipString(expr, i, end);
      continue;
    }
    if (ch === '(') depth++;
    else if (ch === ')') min = Math.min(min, --depth);
  }
  let s = start;
  for (let open = -min; open > 0 && s > 0; s--) if (expr[s - 1] === '(') open--;
  let e = end;
  for (let close = depth - min; close > 0 && e < expr.length; e++) if (expr[e] === ')') close--;
  return { start: s, end: e };
}

/** The index of the closing quote of the string literal opening at `i` (raw and triple-quoted strings are rare in rules; escapes are honoured). */
function skipString(expr: string, i: number, end: number): number {
  const q = expr[i];
  for (let j = i + 1; j < end; j++) {
    if (expr[j] === '\\') j++;
    else if (expr[j] === q) return j;
  }
  return end;
}

/** An evaluation that spent more than the run-time limit; it is abandoned, never half-believed. */
export class CelCostError extends KubemendError {
  constructor(spent: number, limit: number) {
    super(Errors.CEL_COST, `CEL cost limit exceeded: the evaluation would spend at least ${spent.toLocaleString('en-US')} of ${limit.toLocaleString('en-US')} (its lists are longer than the rule's cost allows)`);
    this.name = 'CelCostError';
  }
}

/**
 * One evaluation's spending. Once over the limit, every further charge
 * throws, so no loop starts again; the same error each time, because CEL
 * swallows errors inside `all`/`exists` and goes on to the next element,
 * and a fresh Error (a stack trace) per element would cost more than the
 * work it prevents.
 */
export class CostMeter {
  spent = 0;
  /** Charges and loop steps refused once over the limit: the work the limit did not prevent. */
  afterLimit = 0;
  readonly limit: number;
  #error: CelCostError | undefined;
  constructor(limit: number) {
    this.limit = limit;
  }

  get exceeded(): boolean {
    return this.#error !== undefined;
  }

  /** The error the evaluation ended with, when it went over. */
  get error(): CelCostError | undefined {
    return this.#error;
  }

  charge(units: number): void {
    if (!this.#error) {
      this.spent += units;
      if (this.spent <= this.limit) return;
      this.#error = new CelCostError(this.spent, this.limit);
    } else {
      this.afterLimit++;
    }
    throw this.#error;
  }

  /** The metering function's body: charges `value`'s length × `perItem` and passes `value` through. */
  meter(value: unknown, perItem: bigint | number): unknown {
    this.charge(sizeOf(value) * Number(perItem));
    return value;
  }

  /** Whether a quantifier may go on to its next element. */
  go(): boolean {
    if (!this.#error) return true;
    this.afterLimit++;
    return false;
  }
}

function sizeOf(v: unknown): number {
  if (Array.isArray(v) || typeof v === 'string' || v instanceof Uint8Array) return v.length;
  if (v instanceof Map || v instanceof Set) return v.size;
  if (v && typeof v === 'object') {
    let n = 0;
    for (const _ in v) n++;
    return n;
  }
  return 0;
}

/**
 * An environment's metered twin: the same functions plus the metering ones,
 * and the meter of the evaluation in flight (evaluation is synchronous, and
 * CEL functions cannot see variables). Expressions are checked against the
 * base environment, so they cannot name the metering functions.
 */
export class Metering {
  readonly #env: Environment;
  #meter: CostMeter | undefined;
  #last: CostMeter | undefined;

  /** Clones `base`, which can register nothing more afterwards. */
  constructor(base: Environment) {
    this.#env = base.clone()
      .registerFunction(`${METER_FN}(dyn, int): dyn`, (v: unknown, per: bigint) => (this.#meter ? this.#meter.meter(v, per) : v))
      .registerFunction(`${GO_FN}(): bool`, () => this.#meter?.go() ?? true);
  }

  /** Charges work a helper is about to do (objects() converting the cache). */
  charge(units: number): void {
    this.#meter?.charge(units);
  }

  /**
   * Costs a checked expression: over `limits.budget`, the estimate (for
   * overBudget); otherwise the metered program to give run().
   */
  compile(expr: string, ast: ASTNode, limits: CostLimits, calls: Readonly<Record<string, CallSize>>): { program: ParseResult; cost: number } | { over: CostEstimate } {
    const est = estimateCost(expr, ast, limits, calls);
    if (est.cost > limits.budget) return { over: est };
    const source = meteredSource(expr, est.guards);
    let program: ParseResult;
    try {
      program = this.#env.parse(source);
    } catch (err) {
      throw new KubemendError(Errors.RULE_COMPILE, `internal: metered rewrite does not parse (${String((err as Error).message).split('\n')[0]}): ${source}`);
    }
    const res = program.check();
    // The original checked; wrapping lists in a dyn → dyn function cannot make it ill-typed unless the rewrite is wrong.
    if (!res.valid) throw new KubemendError(Errors.RULE_COMPILE, `internal: metered rewrite does not check (${res.error?.message.split('\n')[0] ?? ''}): ${source}`);
    return { program, cost: est.cost };
  }

  /**
   * Runs a program from compile() under a fresh meter: throws what the
   * expression throws, and CelCostError when it went over `limit`, even
   * where CEL's error semantics (`a || b`) would have absorbed it.
   */
  run(program: ParseResult, act: Record<string, unknown>, limit: number): unknown {
    const prev = this.#meter;
    const meter = new CostMeter(limit);
    this.#meter = meter;
    try {
      const out = program(act);
      if (meter.error) throw meter.error;
      return out;
    } finally {
      this.#meter = prev;
      this.#last = meter;
    }
  }

  /** The meter of the last evaluation that ended, for diagnostics. */
  get last(): Pick<CostMeter, 'spent' | 'afterLimit' | 'limit'> | undefined {
    return this.#last;
  }
}
