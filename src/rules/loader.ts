// Loads rule files and checks everything zod cannot: CEL that does not
// compile, duplicate names across files, unknown kinds, match fields the
// source never fills, schedules that are neither an interval nor a cron
// expression. Every problem in every file is collected, each as
// `file:line path: message`, before one ConfigError is thrown: fixing rules
// one error per run is slow.
import { LineCounter, parseAllDocuments, isNode, isScalar, type Document } from 'yaml';
import { Cron } from 'croner';
import { ConfigError, configFiles, parseConfigFiles, type ConfigProblem, parseDuration } from '../common/index.ts';
import { KINDS } from '../kube/index.ts';
import { RuleSchema, type Rule, type RuleSource } from './schema.ts';
import { RuleEnvironment, RuleCompileError, type CompiledRule, type CelProblem } from './cel.ts';
import { ROLLOUT_WORKLOADS } from './sources/rollout-state.ts';
import type { CostLimits } from './cel-cost.ts';

export interface LoadedRule {
  readonly file: string;
  /** 1-based line where the rule's YAML document starts. */
  readonly line: number;
  readonly rule: Rule;
  readonly compiled: CompiledRule;
}

export interface LoadOptions {
  /** The CEL environment to compile against (its clock, cache lookup and cost limits); a default one otherwise. */
  env?: RuleEnvironment;
  /** Cost limits for the default environment (docs/rules.md, "Cost"); ignored with `env`. */
  cost?: Partial<CostLimits>;
}

type Match = Rule['spec']['match'];

/** Which sources fill each match field; using one elsewhere is a mistake that would silently match nothing or everything. */
const MATCH_SOURCES: Partial<Record<keyof Match, readonly RuleSource[]>> = {
  kinds: ['object', 'event', 'schedule', 'rollout'],
  reasons: ['event'],
  eventTypes: ['event'],
  alertNames: ['alert'],
  webhooks: ['webhook'],
  operations: ['object'],
  labels: ['object', 'alert', 'schedule', 'rollout'],
  namespaces: ['object', 'event', 'alert', 'schedule', 'rollout'],
};

const KNOWN_KINDS = new Set(KINDS.map((k) => k.kind));
const POLLED_KINDS = new Set(KINDS.filter((k) => k.polled).map((k) => k.kind));

/** The rule files under `path` (a directory, searched recursively, or one file), sorted. */
export function ruleFiles(path: string): string[] {
  return configFiles(path, 'rule');
}

/** Loads and checks every rule under `path`; throws one ConfigError listing every problem. */
export function loadRules(path: string, opts: LoadOptions = {}): LoadedRule[] {
  const env = opts.env ?? new RuleEnvironment(opts.cost ? { cost: opts.cost } : {});
  const problems: ConfigProblem[] = [];
  const out: LoadedRule[] = [];
  const names = new Map<string, { file: string; line: number }>();
  const files = ruleFiles(path);
  for (const { file, text, docs } of parseConfigFiles(files, RuleSchema, problems)) {
    const where = locator(file, text);
    for (const doc of docs) {
      const found: ConfigProblem[] = [];
      const at = (path: (string | number)[], message: string, celOffset?: number) => found.push({ file, ...where(doc.line, path, celOffset), path: dotted(path), message });
      const rule = doc.value;
      checkMatch(rule, at);
      checkSchedule(rule, at);
      const name = rule.metadata.name;
      const first = names.get(name);
      if (first) at(['metadata', 'name'], `duplicate rule name "${name}" (first defined at ${first.file}:${first.line})`);
      else names.set(name, { file, line: doc.line });
      let compiled: CompiledRule | undefined;
      try {
        compiled = env.compileRule(rule);
      } catch (err) {
        if (!(err instanceof RuleCompileError)) throw err;
        for (const p of err.problems) at(celPath(p), p.message, p.offset);
      }
      for (const kind of compiled?.kinds ?? []) {
        if (KNOWN_KINDS.has(kind)) continue;
        const field = (['when', 'subject', 'summary'] as const).find((f) => rule.spec[f]?.includes(kind));
        at(field ? ['spec', field] : actionWhenOf(rule)?.includes(kind) ? ['spec', 'action', 'when'] : ['spec', 'when'], `objects(): unknown kind "${kind}"${suggest(kind)}`);
      }
      if (found.length || !compiled) {
        problems.push(...found);
        continue;
      }
      out.push(Object.freeze({ file, line: doc.line, rule, compiled }));
    }
  }
  if (problems.length) {
    problems.sort((a, b) => files.indexOf(a.file) - files.indexOf(b.file) || a.line - b.line);
    throw new ConfigError(problems);
  }
  return out;
}

type At = (path: (string | number)[], message: string) => void;

function checkMatch(rule: Rule, at: At): void {
  const { source, match } = rule.spec;
  for (const [field, sources] of Object.entries(MATCH_SOURCES) as [keyof Match, readonly RuleSource[]][]) {
    if (match[field] === undefined || sources.includes(source)) continue;
    at(['spec', 'match', field], `match.${field} does not apply to source: ${source} (only to ${sources.join(', ')})`);
  }
  match.kinds?.forEach((kind, i) => {
    if (!KNOWN_KINDS.has(kind)) at(['spec', 'match', 'kinds', i], `unknown kind "${kind}"${suggest(kind)}`);
    // Nothing watches a polled kind, so an object or event rule on it would never fire.
    else if (POLLED_KINDS.has(kind) && source !== 'schedule') at(['spec', 'match', 'kinds', i], `${kind} cannot be watched (metrics.k8s.io serves no watch): read it from a source: schedule rule, which lists it once per tick`);
  });
  if (source === 'object' && !match.kinds?.length) {
    at(['spec', 'match'], 'source: object needs match.kinds: the kinds whose changes the rule reads');
  }
  if (source === 'rollout') {
    match.kinds?.forEach((kind, i) => {
      if (KNOWN_KINDS.has(kind) && !ROLLOUT_WORKLOADS.includes(kind)) at(['spec', 'match', 'kinds', i], `source: rollout watches the rollouts of ${ROLLOUT_WORKLOADS.join(', ')}, not ${kind}`);
    });
  }
}

function actionWhenOf(rule: Rule): string | undefined {
  const a = rule.spec.action;
  return a && 'runbook' in a ? a.when : undefined;
}

function checkSchedule(rule: Rule, at: At): void {
  const s = rule.spec.schedule;
  if (s === undefined) return;
  if (!/\s/.test(s.trim()) && !s.trim().startsWith('@')) {
    try {
      if (parseDuration(s) <= 0) at(['spec', 'schedule'], 'the interval must be longer than 0');
    } catch (err) {
      at(['spec', 'schedule'], `"${s}" is neither an interval (30s, 5m, 1h) nor a cron expression: ${(err as Error).message}`);
    }
    return;
  }
  try {
    new Cron(s, { paused: true }).stop();
  } catch (err) {
    at(['spec', 'schedule'], `invalid cron expression "${s}": ${(err as Error).message.replace(/^CronPattern: /, '')}`);
  }
}

function suggest(kind: string): string {
  const near = [...KNOWN_KINDS].find((k) => k.toLowerCase() === kind.toLowerCase() || `${k.toLowerCase()}s` === kind.toLowerCase());
  return near ? ` (did you mean ${near}?)` : ` (known: ${[...KNOWN_KINDS].join(', ')})`;
}

function celPath(p: CelProblem): string[] {
  return p.path.split('.');
}

function dotted(path: (string | number)[]): string {
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i ? `.${k}` : k)).join('');
}

/**
 * Finds lines inside a file's documents: the deepest node along a path, and
 * for CEL the line of the character the error points at, also inside a
 * multi-line (`>-` or `|`) expression.
 */
function locator(_file: string, text: string) {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc });
  const list = Array.isArray(docs) ? docs : [];
  const byLine = new Map<number, Document>(list.map((d) => [lc.linePos(d.range[0]).line, d]));
  return (docLine: number, path: (string | number)[], celOffset?: number): { line: number; column: number } => {
    const doc = byLine.get(docLine);
    if (!doc) return { line: docLine, column: 1 };
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true);
      if (!isNode(node) || !node.range) continue;
      const pos = lc.linePos(node.range[0]);
      if (celOffset === undefined || !isScalar(node) || n < path.length) return { line: pos.line, column: pos.col };
      return { line: pos.line + lineWithin(text.slice(node.range[0], node.range[1]), String(node.type).startsWith('BLOCK'), celOffset), column: pos.col };
    }
    return { line: docLine, column: 1 };
  };
}

/**
 * Which source line (relative to the scalar's first) holds character
 * `offset` of its value. YAML folding changes indentation and line breaks
 * but keeps each line's text, so counting trimmed line lengths is close
 * enough to name the right line.
 */
function lineWithin(source: string, block: boolean, offset: number): number {
  const lines = source.split('\n');
  const first = block ? 1 : 0;
  let seen = 0;
  for (let i = first; i < lines.length; i++) {
    const content = i === 0 ? lines[i].replace(/^["']/, '').trim() : lines[i].trim();
    seen += content.length + 1;
    if (offset < seen) return i;
  }
  return Math.max(first, lines.length - 1);
}
