// The step graph of a runbook: default edges filled in, and the checks that
// keep a run finite and every step meaningful. A runbook must be a DAG:
// repetition belongs in a step's `retries`, which are bounded, never in an
// edge back, which would let a failing remediation loop against production.
// Unreachable steps are errors, not warnings: they are almost always a
// misspelt or forgotten edge, and a warning scrolls past in CI.
import { END, ESCALATE, type Runbook, type Step, type StepOutcome } from './schema.ts';

export interface StepEdges {
  success: string;
  failure: string;
  timeout: string;
}

export interface RunbookGraph {
  /** The first step's id. */
  readonly start: string;
  /** Steps by id, in file order. Shared: do not modify. */
  readonly steps: Map<string, Step>;
  /** Where a step leads on an outcome: a step id, `end` or `escalate`. A skipped step (`when` false) follows success. */
  next(stepId: string, outcome: StepOutcome): string;
  edges(stepId: string): StepEdges;
  /** Steps that can have finished before `stepId` starts, on some path from start. */
  before(stepId: string): ReadonlySet<string>;
}

export interface GraphProblem {
  /** Path inside the runbook document, e.g. ['spec', 'steps', 2, 'onFailure']. */
  path: (string | number)[];
  message: string;
}

type Path = (string | number)[];
const EDGE_FIELDS = { success: 'onSuccess', failure: 'onFailure', timeout: 'onTimeout' } as const;

/** Builds the graph and reports every structural problem; the graph is only usable without problems. */
export function buildGraph(runbook: Runbook): { graph: RunbookGraph; problems: GraphProblem[] } {
  const problems: GraphProblem[] = [];
  const list = runbook.spec.steps;
  const steps = new Map<string, Step>();
  const index = new Map<string, number>();
  list.forEach((s, i) => {
    const first = index.get(s.id);
    if (first !== undefined) {
      problems.push({ path: ['spec', 'steps', i, 'id'], message: `duplicate step id "${s.id}" (first used by spec.steps[${first}])` });
      return;
    }
    steps.set(s.id, s);
    index.set(s.id, i);
  });
  const ids = [...steps.keys()];
  const edges = new Map<string, StepEdges>();
  list.forEach((s, i) => {
    if (index.get(s.id) !== i) return;
    const fallthrough = list[i + 1]?.id ?? END;
    const failure = s.onFailure ?? ESCALATE;
    edges.set(s.id, { success: s.onSuccess ?? fallthrough, failure, timeout: s.onTimeout ?? failure });
    for (const field of ['onSuccess', 'onFailure', 'onTimeout'] as const) {
      const to = s[field];
      if (to === undefined || to === END || to === ESCALATE || steps.has(to) || list.some((x) => x.id === to)) continue;
      problems.push({ path: ['spec', 'steps', i, field], message: `${field} names a missing step "${to}"${closest(to, [...ids, END, ESCALATE])}` });
    }
  });
  const start = runbook.spec.start ?? list[0].id;
  if (!steps.has(start)) problems.push({ path: ['spec', 'start'], message: `start names a missing step "${start}"${closest(start, ids)}` });

  const targets = (id: string): { to: string; outcome: StepOutcome }[] => {
    const e = edges.get(id);
    if (!e) return [];
    return (['success', 'failure', 'timeout'] as const).filter((o) => steps.has(e[o])).map((o) => ({ to: e[o], outcome: o }));
  };
  // With duplicate ids the edges are ambiguous, and a misspelt edge is the
  // likely reason a step looks unreachable: report the cause, not its echoes.
  const distinct = steps.size === list.length;
  const edgesOk = problems.length === 0;
  if (distinct) problems.push(...findCycles(steps.has(start) ? [start, ...ids] : ids, targets, list, index));

  if (distinct && edgesOk) {
    const reached = reach(start, targets);
    for (const id of ids) {
      if (reached.has(id)) continue;
      problems.push({ path: ['spec', 'steps', index.get(id)!, 'id'], message: `step "${id}" is unreachable from the start step "${start}": no edge leads to it` });
    }
  }

  const beforeCache = new Map<string, Set<string>>();
  const graph: RunbookGraph = {
    start,
    steps,
    next(stepId, outcome) {
      const e = edges.get(stepId);
      if (!e) throw new Error(`internal: runbook ${runbook.metadata.name} has no step "${stepId}"`);
      return e[outcome];
    },
    edges(stepId) {
      const e = edges.get(stepId);
      if (!e) throw new Error(`internal: runbook ${runbook.metadata.name} has no step "${stepId}"`);
      return { ...e };
    },
    before(stepId) {
      let b = beforeCache.get(stepId);
      if (!b) {
        b = new Set(ids.filter((id) => id !== stepId && reach(id, targets).has(stepId) && reach(start, targets).has(id)));
        beforeCache.set(stepId, b);
      }
      return b;
    },
  };
  return { graph: Object.freeze(graph), problems };
}

/** Every step reachable from `from`, itself included. */
function reach(from: string, targets: (id: string) => { to: string }[]): Set<string> {
  const seen = new Set<string>([from]);
  const queue = [from];
  while (queue.length) {
    for (const { to } of targets(queue.shift()!)) {
      if (!seen.has(to)) {
        seen.add(to);
        queue.push(to);
      }
    }
  }
  return seen;
}

/**
 * Each cycle once, named by its steps (`collect → rollback → collect`) and
 * reported at the edge that closes it, found by depth-first search: an edge
 * to a step still on the stack closes a cycle. The search starts at the
 * start step, so the closing edge is the one a run would take last.
 */
function findCycles(ids: string[], targets: (id: string) => { to: string; outcome: StepOutcome }[], list: readonly Step[], index: Map<string, number>): GraphProblem[] {
  const problems: GraphProblem[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const named = new Set<string>();
  const visit = (id: string): void => {
    state.set(id, 'open');
    stack.push(id);
    for (const { to, outcome } of targets(id)) {
      if (state.get(to) === 'open') {
        const cycle = [...stack.slice(stack.indexOf(to)), to];
        const key = [...new Set(cycle)].sort().join(',');
        if (named.has(key)) continue;
        named.add(key);
        const i = index.get(id)!;
        const field = EDGE_FIELDS[outcome];
        // onTimeout defaults to onFailure; onSuccess to the next step in the list.
        const written = list[i][field] !== undefined ? field : outcome === 'timeout' && list[i].onFailure !== undefined ? 'onFailure' : undefined;
        const path: Path = written ? ['spec', 'steps', i, written] : ['spec', 'steps', i];
        const how = written ? '' : ' (through the default onSuccess: the next step in the list)';
        problems.push({ path, message: `cycle: ${cycle.join(' → ')}${how}; repeat work with retries, not edges back` });
      } else if (!state.has(to)) {
        visit(to);
      }
    }
    stack.pop();
    state.set(id, 'done');
  };
  for (const id of ids) if (!state.has(id)) visit(id);
  return problems;
}

/** ` (did you mean "x"?)` for a close name, else the list of known names. */
export function closest(name: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = distance(name.toLowerCase(), k.toLowerCase());
    if (d < bestD) {
      best = k;
      bestD = d;
    }
  }
  if (best !== undefined && bestD <= Math.max(2, Math.floor(name.length / 3))) return ` (did you mean "${best}"?)`;
  return ` (known: ${known.join(', ')})`;
}

/** Levenshtein distance; ids are short, so the quadratic table is fine. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}
