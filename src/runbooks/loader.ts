// Loads runbook files and checks everything a run would otherwise trip over
// halfway through a remediation: the step graph (cycles, missing or
// unreachable steps), templates and `when` that do not compile, references
// to steps that cannot have run yet or to undeclared parameters, unknown
// actions and static `with` values the action would reject. Every problem in
// every file is collected as `file:line path: message` before one
// ConfigError is thrown.
import { LineCounter, parseAllDocuments, isNode, type Document } from 'yaml';
import { ConfigError, configFiles, formatPath, parseConfigFiles, type ConfigProblem } from '../common/index.ts';
import { DYN_HINT, costLimits, type CostLimits } from '../rules/index.ts';
import type { Action } from './types.ts';
import { RunbookSchema, resolveParams, type Runbook, type Step } from './schema.ts';
import { buildGraph, closest, type RunbookGraph } from './graph.ts';
import { analyzeTemplates, compileExpression, expressionRefs, precompileStep, TemplateError, type Render, type TemplateAnalysis, type TemplateVars } from './template.ts';

/** The object a run acts on, locks and is budgeted by. */
export interface RunTarget {
  cluster?: string;
  kind: string;
  namespace?: string;
  name: string;
}

export interface RunbookTemplates {
  /** The run's target: the runbook's `target:` rendered, or the detection's subject. */
  target: Render<RunTarget>;
  /** Each step's `with`, by step id (renderWith(step, vars) gives the same). */
  with: ReadonlyMap<string, Render<Record<string, unknown>>>;
}

export interface LoadedRunbook {
  readonly file: string;
  /** 1-based line where the runbook's YAML document starts. */
  readonly line: number;
  readonly runbook: Runbook;
  readonly graph: RunbookGraph;
  readonly templates: RunbookTemplates;
}

export interface LoadRunbooksOptions {
  /** The action registry; when given, action names and static `with` values are checked against it. */
  actions?: ReadonlyMap<string, Action>;
  /** Cost budget, run-time limit and assumed list sizes for templates and `when` (docs/runbooks.md, "Cost"). */
  cost?: Partial<CostLimits>;
}

type Path = (string | number)[];
type At = (path: Path, message: string) => void;

/** The runbook files under `path` (a directory, searched recursively, or one file), sorted. */
export function runbookFiles(path: string): string[] {
  return configFiles(path, 'runbook');
}

/** Loads and checks every runbook under `dir`; throws one ConfigError listing every problem. The list and each entry are frozen. */
export function loadRunbooks(dir: string, opts: LoadRunbooksOptions = {}): LoadedRunbook[] {
  const problems: ConfigProblem[] = [];
  const out: LoadedRunbook[] = [];
  const names = new Map<string, { file: string; line: number }>();
  const files = runbookFiles(dir);
  for (const { file, text, docs } of parseConfigFiles(files, RunbookSchema, problems)) {
    const where = locator(text);
    for (const doc of docs) {
      const found: ConfigProblem[] = [];
      const at: At = (path, message) => found.push({ file, ...where(doc.line, path), path: formatPath(path), message });
      const rb = doc.value;
      const first = names.get(rb.metadata.name);
      if (first) at(['metadata', 'name'], `duplicate runbook name "${rb.metadata.name}" (first defined at ${first.file}:${first.line})`);
      else names.set(rb.metadata.name, { file, line: doc.line });
      const loaded = checkRunbook(rb, at, opts);
      if (found.length) problems.push(...found);
      else out.push(Object.freeze({ file, line: doc.line, ...loaded }));
    }
  }
  if (problems.length) {
    problems.sort((a, b) => files.indexOf(a.file) - files.indexOf(b.file) || a.line - b.line);
    throw new ConfigError(problems);
  }
  // Typed mutable for callers' convenience, frozen so a running engine cannot change its config under a run.
  Object.freeze(out);
  return out;
}

function checkRunbook(rb: Runbook, at: At, opts: LoadRunbooksOptions): Omit<LoadedRunbook, 'file' | 'line'> {
  const limits = costLimits(opts.cost);
  const { graph, problems } = buildGraph(rb);
  for (const p of problems) at(p.path, p.message);
  const declared = Object.keys(rb.spec.parameters);
  const stepIds = rb.spec.steps.map((s) => s.id);
  const checkParams = (a: Pick<TemplateAnalysis<unknown>, 'paramRefs'>) => {
    for (const r of a.paramRefs) {
      if (!declared.includes(r.name)) at(r.path, `params.${r.name}: the runbook declares no parameter "${r.name}"${declared.length ? closest(r.name, declared) : ' (spec.parameters is empty)'}`);
    }
  };
  const usable = problems.length === 0;
  const checkSteps = (refs: { id: string; path: Path }[], stepId: string) => {
    for (const r of refs) {
      if (!stepIds.includes(r.id)) at(r.path, `steps.${r.id}: no step "${r.id}"${closest(r.id, stepIds)}`);
      else if (usable && !graph.before(stepId).has(r.id)) at(r.path, `steps.${r.id}: step "${r.id}" cannot have run before step "${stepId}" on any path`);
    }
  };

  const target = targetRender(rb, at, checkParams, limits);
  const withs = new Map<string, Render<Record<string, unknown>>>();
  rb.spec.steps.forEach((step, i) => {
    const base: Path = ['spec', 'steps', i];
    const a = analyzeTemplates(step.with, [...base, 'with'], limits);
    for (const p of a.problems) at(p.path, `template ${p.template}: ${p.message}`);
    checkParams(a);
    checkSteps(a.stepRefs, step.id);
    if (step.when !== undefined) {
      const c = compileExpression(step.when, limits);
      if ('error' in c) at([...base, 'when'], c.error);
      else {
        // Not dyn: a field read that holds anything but a bool at run time would skip the step, silently.
        if (c.type !== 'bool') at([...base, 'when'], `must be a bool, but is ${c.type}${c.type === 'dyn' ? DYN_HINT : ''}`);
        const refs = expressionRefs(c.ast);
        checkParams({ paramRefs: [...refs.params].map((name) => ({ name, path: [...base, 'when'] })) });
        checkSteps([...refs.steps].map((id) => ({ id, path: [...base, 'when'] })), step.id);
      }
    }
    checkAction(step, base, a, at, opts.actions);
    if (!withs.has(step.id)) withs.set(step.id, a.render);
    if (!a.problems.length) {
      try {
        precompileStep(step, limits);
      } catch (err) {
        if (!(err instanceof TemplateError)) throw err;
      }
    }
  });
  return { runbook: rb, graph, templates: Object.freeze({ target, with: withs }) };
}

function checkAction(step: Step, base: Path, a: TemplateAnalysis<unknown>, at: At, actions: ReadonlyMap<string, Action> | undefined): void {
  if (!actions) return;
  const action = actions.get(step.action);
  if (!action) {
    at([...base, 'action'], `unknown action "${step.action}"${closest(step.action, [...actions.keys()].sort())}`);
    return;
  }
  // Templated values are only known at run time, where the executor validates the rendered `with`.
  const templated = a.templated.map((p) => p.slice(base.length + 1));
  const overlaps = (p: readonly PropertyKey[]) => templated.some((t) => t.length >= p.length ? p.every((k, i) => t[i] === k) : t.every((k, i) => p[i] === k));
  // zod's default object drops unknown keys silently; a misspelt parameter would then be a default in disguise.
  const keys = strippedKeys(action.params);
  if (keys) for (const k of Object.keys(step.with)) if (!keys.includes(k)) at([...base, 'with', k], `${step.action} has no parameter "${k}"${closest(k, keys)}`);
  const res = action.params.safeParse(step.with);
  if (res.success) return;
  for (const issue of res.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) at([...base, 'with', ...(issue.path as Path), key], `${step.action} has no parameter "${key}"`);
      continue;
    }
    if (overlaps(issue.path)) continue;
    const missing = issue.code === 'invalid_type' && issue.path.length > 0 && valueAt(step.with, issue.path) === undefined;
    at([...base, 'with', ...(issue.path as Path)], missing ? `${step.action} needs parameter "${issue.path.join('.')}"` : `${step.action}: ${issue.message}`);
  }
}

function valueAt(v: unknown, path: readonly PropertyKey[]): unknown {
  let cur = v;
  for (const k of path) cur = cur !== null && typeof cur === 'object' ? (cur as Record<PropertyKey, unknown>)[k] : undefined;
  return cur;
}

/** The keys of an object schema that strips unknown keys (strict ones report them, loose ones keep them). */
function strippedKeys(schema: unknown): string[] | undefined {
  let s = schema as { shape?: Record<string, unknown>; def?: { type?: string; catchall?: unknown; in?: unknown; innerType?: unknown } } | undefined;
  for (let depth = 0; s && depth < 4; depth++) {
    if (s.def?.type === 'object' && s.shape) return s.def.catchall === undefined ? Object.keys(s.shape) : undefined;
    s = (s.def?.in ?? s.def?.innerType) as typeof s;
  }
  return undefined;
}

function targetRender(rb: Runbook, at: At, checkParams: (a: TemplateAnalysis<unknown>) => void, limits: CostLimits): Render<RunTarget> {
  const t = rb.spec.target;
  if (t === undefined) return (vars) => checkTarget(subjectOf(vars), 'the detection subject');
  const a = analyzeTemplates<unknown>(t, ['spec', 'target'], limits);
  for (const p of a.problems) at(p.path, `template ${p.template}: ${p.message}`);
  for (const v of a.variables) {
    if (v === 'target' || v === 'steps') at(['spec', 'target'], `the target is decided before any step runs: it cannot read ${v}`);
  }
  checkParams(a);
  const render = a.render;
  return (vars) => {
    const r = render(vars) as Partial<RunTarget> | null;
    return checkTarget({ ...(r && typeof r === 'object' ? r : {}), cluster: (r as RunTarget | null)?.cluster ?? clusterOf(vars) }, 'spec.target');
  };
}

function subjectOf(vars: TemplateVars): Partial<RunTarget> {
  const d = vars.detection as { cluster?: string; subject?: Partial<RunTarget> } | null | undefined;
  return { ...d?.subject, cluster: d?.subject?.cluster ?? d?.cluster };
}

function clusterOf(vars: TemplateVars): string | undefined {
  return (vars.detection as { cluster?: string } | null | undefined)?.cluster;
}

function checkTarget(t: Partial<RunTarget>, from: string): RunTarget {
  if (typeof t.kind !== 'string' || !t.kind || typeof t.name !== 'string' || !t.name) {
    throw new TemplateError(from, '', `the target needs a kind and a name, got ${JSON.stringify(t)}`);
  }
  const out: RunTarget = { kind: t.kind, name: t.name };
  if (typeof t.cluster === 'string' && t.cluster) out.cluster = t.cluster;
  if (typeof t.namespace === 'string' && t.namespace) out.namespace = t.namespace;
  return out;
}

/** Finds the line of the deepest node that exists along a path inside the document starting at `docLine`. */
function locator(text: string) {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc });
  const list = Array.isArray(docs) ? docs : [];
  const byLine = new Map<number, Document>(list.map((d) => [lc.linePos(d.range[0]).line, d]));
  return (docLine: number, path: Path): { line: number; column: number } => {
    const doc = byLine.get(docLine);
    for (let n = path.length; doc && n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true);
      if (!isNode(node) || !node.range) continue;
      const pos = lc.linePos(node.range[0]);
      return { line: pos.line, column: pos.col };
    }
    return { line: docLine, column: 1 };
  };
}

/**
 * Rules that start runbooks, checked against the loaded runbooks: the named
 * runbook exists and the rule's action.params fit its parameters. Reported
 * at the rule, where the fix is.
 */
export function checkRuleRunbooks(rules: readonly { file: string; line: number; rule: { metadata: { name: string }; spec: { action?: { runbook?: string; params?: Record<string, unknown> } | object } } }[], runbooks: readonly LoadedRunbook[]): ConfigProblem[] {
  const byName = new Map(runbooks.map((r) => [r.runbook.metadata.name, r]));
  const problems: ConfigProblem[] = [];
  for (const { file, line, rule } of rules) {
    const action = rule.spec.action as { runbook?: string; params?: Record<string, unknown> } | undefined;
    if (!action?.runbook) continue;
    const rb = byName.get(action.runbook);
    const at = (path: string, message: string) => problems.push({ file, line, column: 1, path, message });
    if (!rb) {
      at('spec.action.runbook', `rule ${rule.metadata.name} starts runbook "${action.runbook}", which is not loaded${closest(action.runbook, [...byName.keys()].sort())}`);
      continue;
    }
    const res = resolveParams(rb.runbook, action.params ?? {});
    if (!res.ok) for (const p of res.problems) at('spec.action.params', p);
  }
  return problems;
}
