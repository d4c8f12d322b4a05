// The CEL environment rules are written in, and rules compiled against it.
// Expressions are parsed and type-checked once at load; evaluation is
// synchronous, which lets helpers that need the cluster (objects(), owner())
// read it from the activation being evaluated: CEL functions cannot see
// variables, so the environment keeps the one in flight, and the cost meter
// of that evaluation (cel-cost.ts).
import { Environment, type ParseResult, type ASTNode } from '@marcbachmann/cel-js';
import { realClock, type Clock, KubemendError, Errors, celCostExceededTotal, celSlowEvaluationsTotal } from '../common/index.ts';
import type { KubeObject } from '../kube/index.ts';
import type { Rule } from './schema.ts';
import type { Signal } from './types.ts';
import * as h from './cel-helpers.ts';
import type { GetObject, Lookup, PodsOnNode } from './cel-helpers.ts';
import { costLimits, pathSize, overBudget, type CallSize, type CostLimits } from './cel-cost.ts';
import { CelCostError, Metering } from './cel-meter.ts';
import { conjunctTexts, normalise } from './cel-conjuncts.ts';

export type { GetObject, Lookup, PodsOnNode } from './cel-helpers.ts';

export interface RuleEnvOptions {
  /** Source of `now` and of the ages helpers compute. */
  clock?: Clock;
  /** The watch cache, for objects() and owner(); without one, objects() is always empty. */
  lookup?: Lookup;
  /** One cached object by name (owner(), production()); without it, found in lookup's list. */
  get?: GetObject;
  /** The cached pods of a node (podsOn()); without it, lookup's pods filtered by spec.nodeName. */
  podsOn?: PodsOnNode;
  /** Cost budget, run-time limit and assumed list sizes; defaults in cel-cost.ts. */
  cost?: Partial<CostLimits>;
  /**
   * Evaluate each distinct expression (and each top-level `&&` operand of
   * `when`) once per activation, shared by the rules that contain it
   * (default true). Off, every rule evaluates on its own: the reference the
   * tests compare the shared path with.
   */
  shareEvaluations?: boolean;
}

/**
 * What a caller passes to evaluate a rule: the signal's parts as plain JSON.
 * `now` defaults to the environment's clock; `lookup` (objects of a kind in
 * this cluster, optionally one namespace) overrides the environment's, for
 * callers that load rules before their caches exist.
 */
export interface Vars {
  object?: unknown;
  oldObject?: unknown;
  event?: unknown;
  alert?: unknown;
  webhook?: unknown;
  rollout?: unknown;
  cluster: string;
  operation?: string | null;
  now?: Date | number;
  lookup?: (kind: string, namespace?: string) => readonly KubeObject[];
  /** One object by name from the same caches as `lookup` (absent: found in lookup's list). */
  get?: (kind: string, namespace: string | undefined, name: string) => KubeObject | undefined;
  /** The pods of a node from the same caches as `lookup` (absent: lookup's pods filtered). */
  podsOn?: (node: string) => readonly KubeObject[];
  /** Namespaces the configuration marks production (serve's chat.production), besides their labels. */
  production?: (namespace: string) => boolean;
}

/** The variables an expression sees, converted for CEL; absent ones are null. */
export interface Activation {
  object: unknown;
  oldObject: unknown;
  event: unknown;
  alert: unknown;
  webhook: unknown;
  rollout: unknown;
  cluster: string;
  now: Date;
  operation: string | null;
  lookup?: Vars['lookup'];
  get?: Vars['get'];
  podsOn?: Vars['podsOn'];
  production?: Vars['production'];
}

/**
 * A signal's CEL variables. The results of the expressions already
 * evaluated against it are kept on it, by source text: a thousand rules are
 * mostly copies of a few, scoped differently, and an expression's value
 * depends only on the activation (helpers read the caches synchronously,
 * within the one event).
 */
class SignalActivation implements Activation {
  readonly object: unknown;
  readonly event: unknown;
  readonly alert: unknown;
  readonly webhook: unknown;
  readonly rollout: unknown;
  readonly cluster: string;
  readonly now: Date;
  readonly operation: string | null;
  readonly lookup?: Vars['lookup'];
  readonly get?: Vars['get'];
  readonly podsOn?: Vars['podsOn'];
  readonly production?: Vars['production'];
  memo: Map<string, { value?: unknown; error?: unknown }> | undefined;
  #old: unknown;
  #oldConverted = false;

  constructor(vars: Vars, now: Date) {
    // Converted for this signal only, never kept: a converted copy kept past
    // its event is promoted out of the young generation, and collecting it
    // there cost more than converting (issue 16). Read from what objects()
    // converted lately, when it is there.
    this.object = h.toCelOnce(vars.object ?? null);
    const event = vars.event ?? null;
    this.event = event === vars.object ? this.object : h.toCelOnce(event);
    this.alert = h.toCelOnce(vars.alert ?? null);
    this.webhook = h.toCelOnce(vars.webhook ?? null);
    this.rollout = h.toCelOnce(vars.rollout ?? null);
    this.cluster = vars.cluster;
    this.now = now;
    this.operation = vars.operation || null;
    if (vars.lookup) this.lookup = vars.lookup;
    if (vars.get) this.get = vars.get;
    if (vars.podsOn) this.podsOn = vars.podsOn;
    if (vars.production) this.production = vars.production;
    this.#old = vars.oldObject ?? null;
  }

  /** Converted when an expression first reads it: most rules never read the old version. */
  get oldObject(): unknown {
    if (!this.#oldConverted) {
      this.#old = h.toCelOnce(this.#old);
      this.#oldConverted = true;
    }
    return this.#old;
  }
}

/** The CEL variables for `vars`, converted once; `nowMs` when vars carries no time. Every candidate rule of a signal shares it. */
export function activationOf(vars: Vars | Activation, nowMs: number): Activation {
  if (vars instanceof SignalActivation) return vars;
  const now = vars.now instanceof Date ? vars.now : new Date(typeof vars.now === 'number' ? vars.now : nowMs);
  return new SignalActivation(vars as Vars, now);
}

export type CelField = 'spec.when' | 'spec.subject' | 'spec.summary' | 'spec.action.when';

export interface CelProblem {
  path: CelField;
  message: string;
  /** Character offset of the problem inside the expression. */
  offset: number;
}

export class RuleCompileError extends KubemendError {
  readonly problems: CelProblem[];
  constructor(rule: string, problems: CelProblem[]) {
    super(Errors.RULE_COMPILE, `rule ${rule}: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
    this.name = 'RuleCompileError';
    this.problems = problems;
  }
}

const EXPECT: Record<CelField, { ok: (t: string) => boolean; want: string }> = {
  // Not dyn: a field read (`object.spec.paused`) that holds a string at run time would never match, silently.
  'spec.when': { ok: (t) => t === 'bool', want: 'a bool' },
  'spec.subject': { ok: (t) => t === 'dyn' || t.startsWith('map'), want: "a map like {'kind': …, 'namespace': …, 'name': …}" },
  'spec.summary': { ok: (t) => t === 'string' || t === 'dyn', want: 'a string' },
  'spec.action.when': { ok: (t) => t === 'bool', want: 'a bool' },
};

/** A field read is dyn: whether it holds a bool is only known at run time, where anything else never matches. */
export const DYN_HINT = " (a field's value is only known at run time: compare it, e.g. `object.spec.paused == true`)";

/** Error codes cel-js gives for reading what is not there: the normal way a rule does not apply. */
const MISSING = new Set(['no_such_key', 'index_out_of_bounds']);

/** Evaluations slower than this (real time) are counted: work the meter does not see. */
export const SLOW_EVALUATION_MS = 100;


/** Result sizes (and costs) of the helpers that return lists. */
const MAX_PODS_PER_NODE = 110;

const CALL_SIZES: Record<string, CallSize> = {
  objects: (_a, limits) => ({ size: limits.objects, label: 'objects()', cost: limits.objects }),
  // A node runs at most the kubelet's maxPods (110 by default).
  podsOn: () => ({ size: MAX_PODS_PER_NODE, label: 'podsOn()', cost: MAX_PODS_PER_NODE }),
  changes: (_a, limits) => ({ size: limits.defaultListSize, label: 'lists', cost: limits.defaultListSize }),
  value: pathSize,
  oldValue: pathSize,
};

export class RuleEnvironment {
  readonly clock: Clock;
  readonly limits: CostLimits;
  readonly #lookup: Lookup;
  readonly #share: boolean;
  readonly #get: GetObject | undefined;
  readonly #podsOn: PodsOnNode | undefined;
  readonly #env: Environment;
  /** Programs run metered (cel-cost.ts); rules are checked against #env. */
  readonly #metering: Metering;
  #current: Activation | undefined;

  constructor(opts: RuleEnvOptions = {}) {
    this.clock = opts.clock ?? realClock;
    this.limits = costLimits(opts.cost);
    this.#lookup = opts.lookup ?? (() => []);
    this.#share = opts.shareEvaluations ?? true;
    this.#get = opts.get;
    this.#podsOn = opts.podsOn;
    const nowMs = () => (this.#current ? this.#current.now.getTime() : this.clock.now());
    const list = (kind: string, ns: string | undefined): readonly KubeObject[] => {
      const act = this.#current;
      if (act?.lookup) return act.lookup(kind, ns);
      return this.#lookup(kind, ns, act?.cluster ?? '');
    };
    // The point reads come from the same source as list(): the activation's caches when it brings them, else the environment's.
    // Without an index, the answer is the scan's, so `rules test` and callers without caches see the same results.
    const find = (kind: string, ns: string | undefined, name: string): KubeObject | undefined => {
      const act = this.#current;
      if (act?.get) return act.get(kind, ns, name);
      if (!act?.lookup && this.#get) return this.#get(kind, ns, name, act?.cluster ?? '');
      return list(kind, ns).find((o) => o.metadata.name === name);
    };
    const pods = (node: string): readonly KubeObject[] => {
      const act = this.#current;
      if (act?.podsOn) return act.podsOn(node);
      if (!act?.lookup && this.#podsOn) return this.#podsOn(node, act?.cluster ?? '');
      return list('Pod', undefined).filter((p) => p.spec?.nodeName === node);
    };
    // Configured first (no cache read), then the Namespace's labels from the cache.
    const production = (ns: unknown): boolean => {
      if (typeof ns !== 'string' || !ns) return false;
      if (this.#current?.production?.(ns)) return true;
      return h.productionByLabels(find('Namespace', undefined, ns));
    };
    // Converting the cache is work in proportion to it: charged before it is done.
    const objects = (kind: string, ns: unknown) => {
      const found = list(kind, typeof ns === 'string' && ns ? ns : undefined);
      this.#metering.charge(found.length);
      return found.map(h.toCel);
    };
    const podsOn = (node: unknown) => {
      const found = typeof node === 'string' && node ? pods(node) : [];
      this.#metering.charge(found.length);
      return found.map(h.toCel);
    };
    const changes = (o: unknown, n: unknown) => {
      const out = h.changes(o, n);
      this.#metering.charge(out.length);
      return out;
    };
    this.#env = new Environment({ homogeneousAggregateLiterals: false, enableOptionalTypes: true })
      .registerVariable('object', 'dyn')
      .registerVariable('oldObject', 'dyn')
      .registerVariable('event', 'dyn')
      .registerVariable('alert', 'dyn')
      .registerVariable('webhook', 'dyn')
      .registerVariable('rollout', 'dyn')
      .registerVariable('cluster', 'string')
      .registerVariable('now', 'google.protobuf.Timestamp')
      .registerVariable('operation', 'dyn')
      .registerFunction('value(dyn, string): dyn', h.valueAt)
      .registerFunction('oldValue(dyn, string): dyn', h.valueAt)
      .registerFunction('changed(dyn, dyn, string): bool', h.changed)
      .registerFunction('changes(dyn, dyn): list', changes)
      .registerFunction('quantity(dyn): double', h.quantity)
      .registerFunction('ageSeconds(dyn): double', (o: unknown) => h.ageSeconds(o, nowMs()))
      .registerFunction('condition(dyn, string): dyn', h.condition)
      .registerFunction('conditionAge(dyn, string): double', (o: unknown, t: string) => h.conditionAge(o, t, nowMs()))
      .registerFunction('owner(dyn): map', (o: unknown) => h.owner(o, find))
      .registerFunction('production(dyn): bool', production)
      .registerFunction('podsOn(dyn): list', podsOn)
      .registerFunction('memoryLimited(dyn): bool', h.memoryLimited)
      .registerFunction('objects(string): list', (kind: string) => objects(kind, null))
      .registerFunction('objects(string, dyn): list', objects);
    this.#metering = new Metering(this.#env);
  }

  /** The CEL variables for `vars`, converted once; evaluate every candidate rule of a signal with it. */
  activation(vars: Vars | Activation): Activation {
    return activationOf(vars, this.clock.now());
  }

  /**
   * Parses, type-checks and costs one expression; a problem (never a throw)
   * when it is not valid or over the cost budget. The program returned is
   * the metered rewrite of the expression (cel-cost.ts); run it with run().
   */
  compile(expr: string, field: CelField): { program: ParseResult; kinds: string[]; cost: number } | CelProblem {
    let program: ParseResult;
    try {
      program = this.#env.parse(expr);
    } catch (err) {
      return celProblem(field, 'CEL syntax error', err, expr);
    }
    const res = program.check();
    if (!res.valid) return celProblem(field, res.error?.name === 'ParseError' ? 'CEL syntax error' : 'CEL type error', res.error, expr);
    const type = res.type ?? 'dyn';
    if (!EXPECT[field].ok(type)) return { path: field, message: `must be ${EXPECT[field].want}, but is ${type}${type === 'dyn' ? DYN_HINT : ''}`, offset: 0 };
    const m = this.#metering.compile(expr, program.ast, this.limits, CALL_SIZES);
    if ('over' in m) return { path: field, message: overBudget(m.over, this.limits), offset: m.over.hot?.offset ?? 0 };
    return { program: m.program, kinds: objectKinds(program.ast), cost: m.cost };
  }

  /** Compiles a rule's when, subject and summary; throws RuleCompileError listing every bad one. */
  compileRule(rule: Rule): CompiledRule {
    const problems: CelProblem[] = [];
    const get = (expr: string | undefined, field: CelField) => {
      if (expr === undefined) return undefined;
      const r = this.compile(expr, field);
      if ('path' in r) {
        problems.push(r);
        return undefined;
      }
      return r;
    };
    const when = get(rule.spec.when, 'spec.when');
    const subject = get(rule.spec.subject, 'spec.subject');
    const summary = get(rule.spec.summary, 'spec.summary');
    const action = rule.spec.action;
    const actionWhen = get(action && 'runbook' in action ? action.when : undefined, 'spec.action.when');
    if (problems.length) throw new RuleCompileError(rule.metadata.name, problems);
    const kinds = [...new Set([when, subject, summary, actionWhen].flatMap((c) => c?.kinds ?? []))];
    const norm = (t: string | undefined) => (t === undefined || !this.#share ? undefined : normalise(t));
    const sources = { when: norm(rule.spec.when), subject: norm(rule.spec.subject), summary: norm(rule.spec.summary), actionWhen: norm(action && 'runbook' in action ? action.when : undefined) };
    return this.#evaluators(rule.metadata.name, { when: when?.program, subject: subject?.program, summary: summary?.program, actionWhen: actionWhen?.program }, kinds, sources, when && this.#share ? this.#conjuncts(rule.spec.when!) : undefined);
  }

  /**
   * The `when` split at its top-level `&&`, each operand compiled (and
   * metered) on its own so rules that share one share its evaluation; none
   * when the expression is not a conjunction or an operand does not stand
   * alone as a bool (`object.spec.paused && …` is dyn on its own).
   */
  #conjuncts(expr: string): Conjunct[] | undefined {
    const texts = conjunctTexts(expr, this.#env.parse(expr).ast);
    if (!texts) return undefined;
    const out: Conjunct[] = [];
    for (const text of texts) {
      const r = this.compile(text, 'spec.when');
      if ('path' in r) return undefined;
      out.push({ text, program: r.program });
    }
    return out;
  }

  /**
   * Evaluates a program from compile() with `act` as the activation the
   * helpers see, metered: throws what the expression throws, and a
   * CelCostError when the evaluation went over the run-time limit, even if
   * CEL's error semantics (`a || b`) would have absorbed it.
   */
  run(program: ParseResult, act: Activation, limit = this.limits.runtimeLimit): unknown {
    const prev = this.#current;
    this.#current = act;
    try {
      return this.#metering.run(program, act as unknown as Record<string, unknown>, limit);
    } finally {
      this.#current = prev;
    }
  }

  #evaluators(name: string, programs: Partial<Record<'when' | 'subject' | 'summary' | 'actionWhen', ParseResult>>, kinds: string[], sources: Partial<Record<'when' | 'subject' | 'summary' | 'actionWhen', string>>, conjuncts?: Conjunct[]): CompiledRule {
    const { when, subject, summary, actionWhen } = programs;
    const stats: EvaluationStats = { evaluations: 0, errors: 0, missingFields: 0, costExceeded: 0, slow: 0 };
    const keyOf: Record<CelField, string | undefined> = { 'spec.when': sources.when, 'spec.subject': sources.subject, 'spec.summary': sources.summary, 'spec.action.when': sources.actionWhen };
    /** Runs `program` once per activation and source text; `spent` reports the cost this call really spent (0 on a remembered result). */
    const runMemo = (key: string | undefined, program: ParseResult, act: Activation, limit?: number, spent?: { n: number }): unknown => {
      const shared = act as SignalActivation;
      let memo = shared.memo;
      const hit = key === undefined ? undefined : memo?.get(key);
      if (hit) {
        if ('error' in hit) throw hit.error;
        return hit.value;
      }
      if (key !== undefined && !memo) shared.memo = memo = new Map();
      // Real elapsed time, not the injected clock: this measures our own CPU work, which a virtual clock would not see.
      const t0 = performance.now();
      try {
        const value = this.run(program, act, limit);
        if (key !== undefined) memo!.set(key, { value });
        return value;
      } catch (error) {
        // An evaluation stopped by its own remaining budget is not a fact about the expression: never remembered.
        if (key !== undefined && !(error instanceof CelCostError && limit !== undefined)) memo!.set(key, { error });
        throw error;
      } finally {
        if (spent) spent.n += this.#metering.last?.spent ?? 0;
        if (performance.now() - t0 > SLOW_EVALUATION_MS) {
          stats.slow++;
          celSlowEvaluationsTotal.inc({ kind: 'rule', name });
        }
      }
    };
    const failed = (field: CelField, err: unknown, act: Activation): void => {
      const e = err as { code?: string; summary?: string; message?: string };
      stats.errors++;
      if (e.code && MISSING.has(e.code)) stats.missingFields++;
      if (err instanceof CelCostError) {
        stats.costExceeded++;
        celCostExceededTotal.inc({ kind: 'rule', name });
      }
      stats.lastError = { field, message: e.summary ?? String(e.message), time: act.now.getTime() };
    };
    const attempt = (field: CelField, program: ParseResult, vars: Vars): unknown => {
      const act = this.activation(vars);
      try {
        return runMemo(keyOf[field], program, act);
      } catch (err) {
        failed(field, err, act);
        throw err;
      }
    };
    /**
     * CEL's `&&` over the conjuncts in order: false at the first false (errors
     * beside a false are absorbed, as CEL's commutative `&&` absorbs them),
     * else the first error, else true. The run-time cost limit bounds their
     * sum, as it bounded the whole expression.
     */
    const allHold = (parts: Conjunct[], vars: Vars): boolean => {
      const act = this.activation(vars);
      const spent = { n: 0 };
      let error: unknown;
      for (const part of parts) {
        let v: unknown;
        try {
          const left = this.limits.runtimeLimit - spent.n;
          if (left <= 0) throw new CelCostError(spent.n, this.limits.runtimeLimit);
          v = runMemo(part.text, part.program, act, left, spent);
        } catch (err) {
          // Over the limit, named against the whole expression's limit, not what this operand had left.
          error ??= err instanceof CelCostError ? new CelCostError(spent.n, this.limits.runtimeLimit) : err;
          continue;
        }
        if (v === false) return false;
        if (v !== true) error ??= new KubemendError(Errors.RULE_EVAL, `no such overload: ${typeof v} && bool in \`${part.text}\``);
      }
      if (error === undefined) return true;
      failed('spec.when', error, act);
      return false;
    };
    const compiled: CompiledRule = {
      kinds: Object.freeze(kinds),
      when(vars) {
        stats.evaluations++;
        if (!when) return true;
        if (conjuncts) return allHold(conjuncts, vars);
        try {
          return attempt('spec.when', when, vars) === true;
        } catch {
          return false;
        }
      },
      ...(subject ? {
        subject: (vars: Vars) => {
          const r = h.fromCel(attempt('spec.subject', subject, vars)) as Record<string, unknown> | null;
          if (!r || typeof r !== 'object' || typeof r.kind !== 'string' || !r.kind || typeof r.name !== 'string' || !r.name) {
            const message = `subject needs a kind and a name, got ${JSON.stringify(r)}`;
            stats.errors++;
            stats.lastError = { field: 'spec.subject', message, time: this.activation(vars).now.getTime() };
            throw new KubemendError(Errors.RULE_EVAL, message);
          }
          return r;
        },
      } : {}),
      ...(summary ? { summary: (vars: Vars) => String(h.fromCel(attempt('spec.summary', summary, vars))) } : {}),
      ...(actionWhen ? {
        // As `when`: an error (a field the data lacks) is "does not hold", so the runbook is withheld, never started on a guess.
        actionWhen: (vars: Vars) => {
          try {
            return attempt('spec.action.when', actionWhen, vars) === true;
          } catch {
            return false;
          }
        },
      } : {}),
      stats: () => ({ ...stats, ...(stats.lastError ? { lastError: { ...stats.lastError } } : {}) }),
    };
    return Object.freeze(compiled);
  }
}

function celProblem(path: CelField, what: string, err: unknown, expr: string): CelProblem {
  const e = err as { summary?: string; message?: string; range?: { start: number; end: number } };
  const text = e?.summary ?? String(e?.message ?? err).split('\n')[0];
  // Name the part of the expression at fault: rules are often several lines long.
  const part = e?.range && e.range.end > e.range.start ? expr.slice(e.range.start, e.range.end).replace(/\s+/g, ' ') : '';
  const at = part && part.length <= 80 && part !== expr.trim() ? ` in \`${part}\`` : '';
  return { path, message: `${what}: ${text}${at}`, offset: e?.range?.start ?? 0 };
}

/** Kinds named by literal in objects('Kind', …) calls, and Namespace for production(): the watcher must cache them. */
function objectKinds(ast: ASTNode): string[] {
  const out: string[] = [];
  const visit = (n: unknown): void => {
    if (Array.isArray(n)) return n.forEach(visit);
    if (!n || typeof n !== 'object' || !('op' in n)) return;
    const node = n as ASTNode;
    if (node.op === 'call') {
      const [name, args] = node.args;
      const first = args[0];
      if (name === 'objects' && first?.op === 'value' && typeof first.args === 'string') out.push(first.args);
      if (name === 'production') out.push('Namespace');
      if (name === 'podsOn') out.push('Pod');
      args.forEach(visit);
    } else if (node.op !== 'value' && node.op !== 'id') {
      visit(node.args);
    }
  };
  visit(ast);
  return out;
}

interface Conjunct {
  /** Normalised source: the key results are remembered by. */
  text: string;
  program: ParseResult;
}

export interface EvaluationStats {
  /** Times `when` ran. */
  evaluations: number;
  /** Expressions that failed at run time (when, subject or summary). */
  errors: number;
  /** Of those, reads of a field, key or index the data did not have: usually a rule that does not apply. */
  missingFields: number;
  /** Of those, evaluations abandoned over the run-time cost limit (CelCostError). */
  costExceeded: number;
  /** Evaluations slower than SLOW_EVALUATION_MS of real time, failed or not. */
  slow: number;
  lastError?: { field: CelField; message: string; time: number };
}

/**
 * A rule's expressions, compiled once. `when` never throws: a run-time error
 * (most often a field the object lacks, e.g. containerStatuses of a pod not
 * yet scheduled) makes it false. `subject` and `summary` are present only
 * when the rule has them, and throw on error so the caller falls back to the
 * default subject or the description. Every error is counted in stats().
 */
export interface CompiledRule {
  readonly when: (vars: Vars | Activation) => boolean;
  /** The subject map: kind and name (strings), namespace and uid when given. */
  readonly subject?: (vars: Vars | Activation) => Record<string, unknown>;
  readonly summary?: (vars: Vars | Activation) => string;
  /** The rule's action.when, when it has one: false (or an error) withholds the runbook. */
  readonly actionWhen?: (vars: Vars | Activation) => boolean;
  /** Kinds the expressions look up with objects('Kind', …). */
  readonly kinds: readonly string[];
  stats(): EvaluationStats;
}

/** The variables of a signal: for an Event signal, `object` and `event` are both the Event. */
export function signalVars(signal: Signal, extra: Pick<Vars, 'now' | 'lookup' | 'get' | 'podsOn' | 'production'> = {}): Vars {
  const event = signal.event ?? (signal.source === 'event' ? signal.object : undefined);
  return {
    object: signal.object ?? event ?? null,
    oldObject: signal.oldObject ?? null,
    event: event ?? null,
    alert: signal.alert ?? null,
    webhook: signal.webhook ?? null,
    rollout: signal.rollout ?? null,
    cluster: signal.cluster,
    operation: signal.operation ?? null,
    ...extra,
  };
}
