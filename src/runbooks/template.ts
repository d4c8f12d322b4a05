// `{{ expr }}` templates in runbook values, where expr is CEL over the run's
// variables. Templates are parsed and type-checked once, at load, so a typo
// in a runbook is a load error rather than a failed step at 3 a.m. A string
// that is exactly one template keeps the expression's type (a number stays
// a number, a map a map); any other string interpolates. In a map, a
// template that renders null drops its key, so optional action parameters
// can be passed or left out. Expressions are costed at load and metered
// when they run, as rules are (docs/runbooks.md, "Cost").
import { Environment, type ASTNode, type ParseResult } from '@marcbachmann/cel-js';
import { Duration, UnsignedInt } from '@marcbachmann/cel-js/evaluator';
import { celHelpers as h, CelCostError, DEFAULT_COST_LIMITS, DYN_HINT, Metering, SLOW_EVALUATION_MS, overBudget, pathSize, type CostLimits } from '../rules/index.ts';
import { KubemendError, Errors, celCostExceededTotal, celSlowEvaluationsTotal } from '../common/index.ts';
import type { Step } from './schema.ts';

/** What templates and `when` see. Absent variables are null. */
export interface TemplateVars {
  /** The detection that started the run (subject, rule, labels, summary, evidence …). */
  detection?: unknown;
  /** The object the run acts on. */
  target?: { cluster?: string; kind?: string; namespace?: string; name?: string } | null;
  /** The runbook's parameters, defaults filled (see resolveParams). */
  params?: Record<string, unknown>;
  /** Earlier steps by id: their status and outputs. */
  steps?: Record<string, { status: string; outputs?: Record<string, unknown> }>;
  /** The detection's object, when it has one. */
  object?: unknown;
  run?: { id: string; dryRun: boolean; [k: string]: unknown };
}

export const TEMPLATE_VARIABLES = ['detection', 'target', 'params', 'steps', 'object', 'run'] as const;

export type Render<T = unknown> = (vars: TemplateVars) => T;

/** A template that failed to compile or to evaluate. `path` is inside the templated value (e.g. `with.name`). */
export class TemplateError extends KubemendError {
  readonly path: string;
  readonly expression: string;
  /** The expression read a field, key or index the data does not have. */
  readonly missing: boolean;

  constructor(path: string, expression: string, message: string, missing = false) {
    super(Errors.RUNBOOK_TEMPLATE, `${path ? `${path}: ` : ''}{{ ${expression.trim()} }}: ${message}`);
    this.name = 'TemplateError';
    this.path = path;
    this.expression = expression;
    this.missing = missing;
  }
}

export interface TemplateProblem {
  /** Path inside the value compiled (keys and list indexes). */
  path: (string | number)[];
  expression: string;
  /** The template as written, `{{ … }}`, for messages. */
  template: string;
  message: string;
}

/** The result of compiling a value without throwing: the loader reports problems with file and line. */
export interface TemplateAnalysis<T> {
  render: Render<T>;
  problems: TemplateProblem[];
  /** Top-level variables the templates read (detection, steps, …). */
  variables: Set<string>;
  /** Step ids read as steps.<id> (or steps['<id>']), with where. */
  stepRefs: { id: string; path: (string | number)[] }[];
  /** Parameters read as params.<name>, with where. */
  paramRefs: { name: string; path: (string | number)[] }[];
  /** Paths of strings holding templates: their values are only known at run time. */
  templated: (string | number)[][];
}

const env = (() => {
  let e = new Environment({ homogeneousAggregateLiterals: false, enableOptionalTypes: true });
  for (const v of TEMPLATE_VARIABLES) e = e.registerVariable(v, 'dyn');
  return e
    .registerFunction('value(dyn, string): dyn', h.valueAt)
    .registerFunction('quantity(dyn): double', h.quantity)
    .registerFunction('condition(dyn, string): dyn', h.condition)
    .registerFunction('owner(dyn): map', (o: unknown) => h.owner(o));
})();

/** Templates run metered; they are checked against `env`. */
const metering = new Metering(env);

/** A compiled expression: its checked AST, and the metered program (throws CelCostError over the run-time limit). */
export interface CompiledExpression {
  ast: ASTNode;
  type: string;
  cost: number;
  run: (act: Activation, name: string) => unknown;
}

/** cel-js error codes for reading what is not there. */
const MISSING = new Set(['no_such_key', 'index_out_of_bounds']);

/** Parses, type-checks and costs one CEL expression. */
export function compileExpression(expr: string, limits: CostLimits = DEFAULT_COST_LIMITS): CompiledExpression | { error: string } {
  let program: ParseResult;
  try {
    program = env.parse(expr);
  } catch (err) {
    return { error: `CEL syntax error: ${errorText(err, expr)}` };
  }
  const res = program.check();
  if (!res.valid) {
    const text = errorText(res.error, expr);
    const hint = /Unknown variable/.test(text) ? ` (variables: ${TEMPLATE_VARIABLES.join(', ')})` : '';
    return { error: `${res.error?.name === 'ParseError' ? 'CEL syntax error' : 'CEL type error'}: ${text}${hint}` };
  }
  const m = metering.compile(expr, program.ast, limits, { value: pathSize });
  if ('over' in m) return { error: overBudget(m.over, limits, 'docs/runbooks.md') };
  return { ast: program.ast, type: res.type ?? 'dyn', cost: m.cost, run: (act, name) => runMetered(m.program, act, limits.runtimeLimit, name) };
}

function runMetered(program: ParseResult, act: Activation, limit: number, name: string): unknown {
  // Real elapsed time, not the injected clock: this measures our own CPU work.
  const t0 = performance.now();
  try {
    return metering.run(program, act, limit);
  } catch (err) {
    if (err instanceof CelCostError) celCostExceededTotal.inc({ kind: 'template', name });
    throw err;
  } finally {
    if (performance.now() - t0 > SLOW_EVALUATION_MS) celSlowEvaluationsTotal.inc({ kind: 'template', name });
  }
}

/** Compiles every template in `value`; throws the first problem as a TemplateError. */
export function compileTemplates<T>(value: T, limits: CostLimits = DEFAULT_COST_LIMITS): Render<T> {
  const a = analyzeTemplates(value, [], limits);
  const p = a.problems[0];
  if (p) throw new TemplateError(dotted(p.path), p.expression, p.message);
  return a.render;
}

/** Compiles every template in `value`, collecting problems instead of throwing. */
export function analyzeTemplates<T>(value: T, base: (string | number)[] = [], limits: CostLimits = DEFAULT_COST_LIMITS): TemplateAnalysis<T> {
  const out: TemplateAnalysis<T> = { render: () => value, problems: [], variables: new Set(), stepRefs: [], paramRefs: [], templated: [] };
  // Inner renderers take the CEL activation, converted once per render rather than once per template.
  type Inner = (act: Activation) => unknown;
  const build = (v: unknown, path: (string | number)[]): Inner | undefined => {
    if (typeof v === 'string') return compileString(v, path, out, limits);
    if (Array.isArray(v)) {
      const parts = v.map((x, i) => build(x, [...path, i]));
      if (parts.every((p) => !p)) return undefined;
      return (act) => parts.map((p, i) => (p ? p(act) : v[i]));
    }
    if (v && typeof v === 'object') {
      const entries = Object.entries(v).map(([k, x]) => [k, x, build(x, [...path, k])] as const);
      if (entries.every(([, , p]) => !p)) return undefined;
      // A templated value that renders null leaves its key out: how a runbook passes an optional parameter or not.
      return (act) => {
        const out: Record<string, unknown> = {};
        for (const [k, x, p] of entries) {
          const r = p ? p(act) : x;
          if (!(p && r === null)) out[k] = r;
        }
        return out;
      };
    }
    return undefined;
  };
  const inner = build(value, base);
  if (inner) out.render = (vars) => inner(activation(vars)) as T;
  return out;
}

type Piece = string | { expr: string; compiled: CompiledExpression };

function compileString(s: string, path: (string | number)[], out: TemplateAnalysis<unknown>, limits: CostLimits): ((act: Activation) => unknown) | undefined {
  if (!s.includes('{{')) return undefined;
  const pieces: Piece[] = [];
  let i = 0;
  while (i < s.length) {
    const open = s.indexOf('{{', i);
    if (open < 0) {
      pieces.push(s.slice(i));
      break;
    }
    if (open > i) pieces.push(s.slice(i, open));
    const found = closeOf(s, open + 2, limits);
    if ('error' in found) {
      const template = found.unclosed ? s.slice(open) : `{{${found.expr}}}`;
      out.problems.push({ path, expression: found.expr, template, message: found.error });
      return undefined;
    }
    pieces.push({ expr: found.expr, compiled: found.compiled });
    scan(found.compiled.ast, path, out);
    i = found.end + 2;
  }
  out.templated.push(path);
  const where = dotted(path);
  const evaluate = (p: { expr: string; compiled: CompiledExpression }, act: Activation) => {
    try {
      return toJson(p.compiled.run(act, where));
    } catch (err) {
      const e = err as { code?: string };
      throw new TemplateError(where, p.expr, errorText(err, p.expr), !!e.code && MISSING.has(e.code));
    }
  };
  const only = pieces.length === 1 ? pieces[0] : undefined;
  if (only && typeof only !== 'string') return (act) => evaluate(only, act);
  return (act) => pieces.map((p) => (typeof p === 'string' ? p : interpolate(evaluate(p, act)))).join('');
}

/**
 * The `}}` closing the template opened before `from`. CEL map literals may
 * themselves end in `}}`, so the first close at which the expression parses
 * wins; when none does, the error is the one for the first close.
 */
function closeOf(s: string, from: number, limits: CostLimits): { expr: string; compiled: CompiledExpression; end: number } | { expr: string; error: string; unclosed?: boolean } {
  let first: { expr: string; error: string } | undefined;
  for (let end = s.indexOf('}}', from); end >= 0; end = s.indexOf('}}', end + 1)) {
    const expr = s.slice(from, end);
    if (!expr.trim()) return { expr, error: 'empty template {{ }}' };
    const c = compileExpression(expr, limits);
    if ('run' in c) return { expr, compiled: c, end };
    first ??= { expr, error: c.error };
  }
  return first ?? { expr: s.slice(from), error: 'unclosed {{ (no matching }})', unclosed: true };
}

/** The variables an expression reads, and which `steps.<id>` and `params.<name>` it names. */
export function expressionRefs(ast: ASTNode): { variables: Set<string>; steps: Set<string>; params: Set<string> } {
  const out = { variables: new Set<string>(), steps: new Set<string>(), params: new Set<string>() };
  const visit = (n: unknown): void => {
    if (Array.isArray(n)) return n.forEach(visit);
    if (!n || typeof n !== 'object' || !('op' in n)) return;
    const node = n as ASTNode;
    if (node.op === 'id') {
      out.variables.add(String(node.args));
      return;
    }
    if (node.op === 'value') return;
    if ((node.op === '.' || node.op === '.?' || node.op === '[]' || node.op === '[?]') && Array.isArray(node.args)) {
      const [obj, key] = node.args as unknown[];
      const o = obj as ASTNode | undefined;
      const k = key && typeof key === 'object' && (key as ASTNode).op === 'value' ? (key as ASTNode).args : key;
      if (o?.op === 'id' && typeof k === 'string' && (o.args === 'steps' || o.args === 'params')) out[o.args].add(k);
    }
    visit(node.args);
  };
  visit(ast);
  return out;
}

function scan(ast: ASTNode, path: (string | number)[], out: TemplateAnalysis<unknown>): void {
  const refs = expressionRefs(ast);
  for (const v of refs.variables) out.variables.add(v);
  for (const id of refs.steps) out.stepRefs.push({ id, path });
  for (const name of refs.params) out.paramRefs.push({ name, path });
}

const compiledSteps = new WeakMap<Step, { with: Render<Record<string, unknown>>; when?: CompiledExpression }>();

function compiledStep(step: Step, limits: CostLimits = DEFAULT_COST_LIMITS) {
  let c = compiledSteps.get(step);
  if (!c) {
    const w = compileTemplates(step.with, limits);
    let when: CompiledExpression | undefined;
    if (step.when !== undefined) {
      const r = compileExpression(step.when, limits);
      if ('error' in r) throw new TemplateError('when', step.when, r.error);
      if (r.type !== 'bool') throw new TemplateError('when', step.when, `must be a bool, but is ${r.type}${r.type === 'dyn' ? DYN_HINT : ''}`);
      when = r;
    }
    c = { with: w, ...(when ? { when } : {}) };
    compiledSteps.set(step, c);
  }
  return c;
}

/** The step's `with`, rendered. Compiled once per step object (the loader does it at load). */
export function renderWith(step: Step, vars: TemplateVars): Record<string, unknown> {
  return compiledStep(step).with(vars);
}

/**
 * Whether the step runs: its `when`, true without one. Reading what is not
 * there (an output an earlier, skipped step never produced) is false, as in
 * rules; any other evaluation error throws a TemplateError.
 */
export function evaluateWhen(step: Step, vars: TemplateVars): boolean {
  const { when } = compiledStep(step);
  if (!when) return true;
  try {
    return when.run(activation(vars), 'when') === true;
  } catch (err) {
    const e = err as { code?: string };
    if (e.code && MISSING.has(e.code)) return false;
    throw new TemplateError('when', step.when ?? '', errorText(err, step.when ?? ''));
  }
}

/** Compiles a step's templates ahead of use (with the loader's cost limits), so renderWith never compiles on the hot path. */
export function precompileStep(step: Step, limits?: CostLimits): void {
  compiledStep(step, limits);
}

type Activation = Record<string, unknown>;

function activation(vars: TemplateVars): Activation {
  const act: Record<string, unknown> = {};
  for (const v of TEMPLATE_VARIABLES) act[v] = h.toCel(vars[v] ?? null);
  return act;
}

/** CEL values back to JSON: ints to numbers, timestamps to RFC 3339, durations to `300s`. */
export function toJson(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof UnsignedInt) return Number(v.value);
  if (v instanceof Duration) return String(v);
  if (v instanceof Date) return v.toISOString();
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), toJson(x)]));
  if (Array.isArray(v)) return v.map(toJson);
  if (v && typeof v === 'object' && !(v instanceof Uint8Array)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJson(x)]));
  return v;
}

function interpolate(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function errorText(err: unknown, expr: string): string {
  const e = err as { summary?: string; message?: string; range?: { start: number; end: number } };
  const text = e?.summary ?? String(e?.message ?? err).split('\n')[0];
  const part = e?.range && e.range.end > e.range.start ? expr.slice(e.range.start, e.range.end).replace(/\s+/g, ' ') : '';
  return part && part.length <= 80 && part !== expr.trim() ? `${text} in \`${part}\`` : text;
}

export function dotted(path: readonly (string | number)[]): string {
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i ? `.${k}` : k)).join('');
}
