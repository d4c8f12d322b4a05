// A runbook's step graph laid out for drawing, and the path a run took
// through it. Pure functions of their inputs (no clock, no randomness, no
// Map iteration over unordered input), so the same runbook always draws the
// same picture and the layout can be tested without a browser.
//
// The layout is a small layered (Sugiyama-style) one: a step's layer is the
// longest path to it from the start, `end` and `escalate` sit together on a
// last row, and within a layer steps are ordered by the mean position of
// the steps leading to them (a few downward sweeps), ties kept in file order.
// Runbooks are DAGs (the loader refuses cycles), but a run's recorded graph
// is drawn whatever it holds: an edge back is kept as an edge, not a layer.
import type { RunGraph, StepTransition } from '../../store/index.ts';

export const NODE_W = 176;
export const NODE_H = 44;
const GAP_X = 36;
const GAP_Y = 58;
const MARGIN = 16;
const SWEEPS = 4;
const OUTCOMES = ['success', 'failure', 'timeout'] as const;
type Outcome = (typeof OUTCOMES)[number];
const TERMINALS = ['end', 'escalate'] as const;

export interface LayoutNode {
  id: string;
  kind: 'step' | 'end' | 'escalate';
  action?: string;
  layer: number;
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface LayoutEdge {
  from: string;
  to: string;
  /** The outcomes that follow this edge, in the order success, failure, timeout. */
  outcomes: Outcome[];
  /** Cubic Bézier segments: a start, then two control points and an end per segment (1 + 3n points). */
  points: [number, number][];
  /** Where its label goes. */
  label: [number, number];
}

export interface GraphLayout {
  width: number;
  height: number;
  nodes: LayoutNode[];
  edges: LayoutEdge[];
}

/** Lays out `g`: deterministic for a given graph (step order included). */
export function layoutGraph(g: RunGraph): GraphLayout {
  const ids = g.steps.map((s) => s.id);
  const byId = new Map(g.steps.map((s) => [s.id, s]));
  const targets = (id: string): string[] => {
    const s = byId.get(id);
    return s ? OUTCOMES.map((o) => s[o]).filter((t, i, all) => byId.has(t) && all.indexOf(t) === i) : [];
  };

  // Edges that close a cycle (depth-first from the start, then file order) do not count for layers.
  const back = new Set<string>();
  const state = new Map<string, 'open' | 'done'>();
  const visit = (id: string) => {
    state.set(id, 'open');
    for (const t of targets(id)) {
      if (state.get(t) === 'open') back.add(`${id}\u0000${t}`);
      else if (!state.has(t)) visit(t);
    }
    state.set(id, 'done');
  };
  for (const id of [g.start, ...ids]) if (byId.has(id) && !state.has(id)) visit(id);
  const forward = (id: string) => targets(id).filter((t) => !back.has(`${id}\u0000${t}`));

  // Longest path from any root, in topological order (Kahn, ready steps taken in file order).
  const indegree = new Map(ids.map((id) => [id, 0]));
  for (const id of ids) for (const t of forward(id)) indegree.set(t, indegree.get(t)! + 1);
  const layer = new Map<string, number>();
  const ready = ids.filter((id) => indegree.get(id) === 0);
  if (byId.has(g.start) && ready.includes(g.start)) ready.splice(ready.indexOf(g.start), 1), ready.unshift(g.start);
  while (ready.length) {
    const id = ready.shift()!;
    if (!layer.has(id)) layer.set(id, 0);
    for (const t of forward(id)) {
      layer.set(t, Math.max(layer.get(t) ?? 0, layer.get(id)! + 1));
      indegree.set(t, indegree.get(t)! - 1);
      if (indegree.get(t) === 0) ready.push(t);
    }
  }
  const last = Math.max(-1, ...layer.values());
  const used = TERMINALS.filter((t) => g.steps.some((s) => OUTCOMES.some((o) => s[o] === t)));
  for (const t of used) layer.set(t, last + 1);

  const rows: string[][] = [];
  for (const id of [...ids, ...used]) (rows[layer.get(id)!] ??= []).push(id);
  const preds = new Map<string, string[]>();
  for (const s of g.steps) {
    for (const o of OUTCOMES) {
      const t = s[o];
      if (!layer.has(t) || back.has(`${s.id}\u0000${t}`)) continue;
      const p = preds.get(t) ?? [];
      if (!p.includes(s.id)) p.push(s.id);
      preds.set(t, p);
    }
  }
  const pos = new Map<string, number>();
  const place = () => rows.forEach((row) => row.forEach((id, i) => pos.set(id, i - (row.length - 1) / 2)));
  place();
  for (let sweep = 0; sweep < SWEEPS; sweep++) {
    for (const row of rows.slice(1)) {
      const key = new Map(row.map((id) => {
        const p = preds.get(id) ?? [];
        return [id, p.length ? p.reduce((a, q) => a + pos.get(q)!, 0) / p.length : pos.get(id)!] as const;
      }));
      const before = new Map(row.map((id, i) => [id, i]));
      row.sort((a, b) => key.get(a)! - key.get(b)! || before.get(a)! - before.get(b)!);
    }
    place();
  }

  const widest = Math.max(1, ...rows.map((r) => r.length));
  const width = MARGIN * 2 + widest * NODE_W + (widest - 1) * GAP_X;
  const nodes: LayoutNode[] = [];
  const at = new Map<string, LayoutNode>();
  rows.forEach((row, l) => {
    const rowWidth = row.length * NODE_W + (row.length - 1) * GAP_X;
    row.forEach((id, i) => {
      const kind = byId.has(id) ? 'step' : (id as 'end' | 'escalate');
      const n: LayoutNode = {
        id, kind, ...(kind === 'step' ? { action: byId.get(id)!.action } : {}), layer: l,
        x: (width - rowWidth) / 2 + i * (NODE_W + GAP_X), y: MARGIN + l * (NODE_H + GAP_Y), w: NODE_W, h: NODE_H,
      };
      nodes.push(n);
      at.set(id, n);
    });
  });

  const edges: LayoutEdge[] = [];
  // Edges that skip a row or go back run in lanes right of every box, one lane each, so none crosses a box.
  const right = Math.max(...nodes.map((n) => n.x + n.w));
  let lanes = 0;
  const rightmost = (n: LayoutNode) => !nodes.some((m) => m.layer === n.layer && m.x > n.x);
  for (const s of g.steps) {
    const grouped = new Map<string, Outcome[]>();
    for (const o of OUTCOMES) if (at.has(s[o])) grouped.set(s[o], [...(grouped.get(s[o]) ?? []), o]);
    for (const [to, outcomes] of grouped) {
      const a = at.get(s.id)!;
      const b = at.get(to)!;
      edges.push({ from: s.id, to, outcomes, ...(b.layer === a.layer + 1 ? route(a, b) : sideRoute(a, b, right + GAP_X + LANE * lanes++, rightmost)) });
    }
  }
  const lanesWidth = lanes ? GAP_X + LANE * lanes + LABEL_W : 0;
  return { width: Math.max(width, right + lanesWidth + MARGIN), height: MARGIN * 2 + rows.length * NODE_H + (rows.length - 1) * GAP_Y, nodes, edges };
}

const LANE = 18;
/** Room right of the last lane for its outcome label. */
const LABEL_W = 110;

/** Bottom of `a` to top of `b`, one row down. */
function route(a: LayoutNode, b: LayoutNode): Pick<LayoutEdge, 'points' | 'label'> {
  const p0: [number, number] = [a.x + a.w / 2, a.y + a.h];
  const p3: [number, number] = [b.x + b.w / 2, b.y];
  const dy = (p3[1] - p0[1]) / 2;
  return { points: [p0, [p0[0], p0[1] + dy], [p3[0], p3[1] - dy], p3], label: [(p0[0] + p3[0]) / 2, (p0[1] + p3[1]) / 2] };
}

/**
 * An edge that skips rows or goes back: down from `a` into the gap below its
 * row, across to its lane right of every box, along the lane to the gap above
 * `b`'s row, across, and down into `b`. Gaps between rows hold no boxes, so
 * the edge crosses none; straight segments are Bézier segments whose control
 * points are their ends. Lanes shift the horizontal runs apart a little.
 */
function sideRoute(a: LayoutNode, b: LayoutNode, lane: number, rightmost: (n: LayoutNode) => boolean): Pick<LayoutEdge, 'points' | 'label'> {
  const shift = (((lane / LANE) % 4) - 1.5) * 6;
  // Nothing to a box's right in its row: the edge leaves or enters by that side, clear of the edges below and above it.
  const start: [number, number][] = rightmost(a) ? [[a.x + a.w, a.y + a.h / 2 + shift]] : [[a.x + a.w / 2 + shift, a.y + a.h], [a.x + a.w / 2 + shift, a.y + a.h + GAP_Y / 2 + shift]];
  const end: [number, number][] = rightmost(b) ? [[b.x + b.w, b.y + b.h / 2 + shift]] : [[b.x + b.w / 2 + shift, b.y - GAP_Y / 2 + shift], [b.x + b.w / 2 + shift, b.y]];
  const corners: [number, number][] = [...start, [lane, start.at(-1)![1]], [lane, end[0][1]], ...end];
  const points: [number, number][] = [corners[0]];
  for (let i = 1; i < corners.length; i++) points.push(corners[i - 1], corners[i], corners[i]);
  return { points, label: [lane, (start.at(-1)![1] + end[0][1]) / 2] };
}

/** What a step did in a run: its last status, attempts, times, and what it returned. */
export interface StepSummary {
  id: string;
  status: StepTransition['status'];
  attempts: number;
  startedAt?: number;
  endedAt?: number;
  durationMs?: number;
  /** The rendered parameters it ran with (its last attempt). */
  params?: unknown;
  output?: unknown;
  error?: string;
  /** The API calls the step made, or in a dry run would have made ("PATCH /apis/…: scale …"). */
  calls?: string[];
}

export interface TakenPath {
  /** Steps in the order the run first reached them. */
  steps: StepSummary[];
  /** Edges the run followed, as `from>to` (to may be end or escalate). */
  edges: string[];
}

const OUTCOME_OF: Partial<Record<StepTransition['status'], Outcome>> = { succeeded: 'success', skipped: 'success', failed: 'failure', 'timed-out': 'timeout' };
/** Run endings that followed the last step's edge to a terminal. */
const THROUGH_EDGE = new Set(['succeeded', 'failed', 'escalated', 'dry-run']);

/** The path a run took through `g` (absent: steps only), from its step transitions in the order stored. */
export function takenPath(g: RunGraph | undefined, transitions: readonly StepTransition[], runStatus: string): TakenPath {
  const order: string[] = [];
  const byStep = new Map<string, StepSummary>();
  for (const t of transitions) {
    let s = byStep.get(t.stepId);
    if (!s) {
      s = { id: t.stepId, status: t.status, attempts: 0 };
      byStep.set(t.stepId, s);
      order.push(t.stepId);
    }
    s.status = t.status;
    s.attempts = Math.max(s.attempts, t.attempt);
    if (t.status === 'started') s.startedAt ??= t.time;
    else {
      s.startedAt ??= t.time;
      s.endedAt = t.time;
      if (t.output !== undefined) s.output = t.output;
      if (t.error !== undefined) s.error = t.error;
      const calls = (t.output as { calls?: unknown } | undefined)?.calls;
      if (Array.isArray(calls)) s.calls = calls.map(String);
    }
    if (t.status === 'started') {
      const o = t.output as { params?: unknown } | undefined;
      if (o?.params !== undefined) s.params = o.params;
    }
  }
  for (const s of byStep.values()) if (s.startedAt !== undefined && s.endedAt !== undefined) s.durationMs = s.endedAt - s.startedAt;

  const edges: string[] = [];
  const step = new Map(g?.steps.map((s) => [s.id, s]) ?? []);
  for (let i = 0; i + 1 < order.length; i++) edges.push(`${order[i]}>${order[i + 1]}`);
  const lastId = order[order.length - 1];
  const last = lastId === undefined ? undefined : byStep.get(lastId);
  const outcome = last && OUTCOME_OF[last.status];
  const def = lastId === undefined ? undefined : step.get(lastId);
  if (def && outcome && THROUGH_EDGE.has(runStatus) && (def[outcome] === 'end' || def[outcome] === 'escalate')) edges.push(`${lastId}>${def[outcome]}`);
  return { steps: order.map((id) => byStep.get(id)!), edges };
}
