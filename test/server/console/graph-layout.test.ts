// The console's step-graph layout and taken path, as pure functions: every
// shipped runbook lays out with edges pointing down, no overlaps and the
// terminals on the last row; the layout is the same every time; the path a
// run took comes from its transitions in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadRunbooks, viewOf, ACTIONS } from '../../../src/runbooks/index.ts';
import { layoutGraph, takenPath, type GraphLayout } from '../../../src/server/console/graph-layout.ts';
import type { RunGraph, StepTransition } from '../../../src/store/index.ts';

const SHIPPED = fileURLToPath(new URL('../../../runbooks/', import.meta.url));
const step = (id: string, success: string, failure = 'escalate', timeout = failure) => ({ id, action: 'noop', success, failure, timeout });

function overlaps(l: GraphLayout): string[] {
  const out: string[] = [];
  for (const a of l.nodes) for (const b of l.nodes) {
    if (a.id >= b.id) continue;
    if (a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h) out.push(`${a.id}/${b.id}`);
  }
  return out;
}

/** Edges whose curve passes through a box other than its ends (sampled along the cubic Bézier the page draws). */
function crossings(l: GraphLayout): string[] {
  const out: string[] = [];
  for (const e of l.edges) {
    assert.equal((e.points.length - 1) % 3, 0, `${e.from}→${e.to}: 1 + 3n points`);
    segments: for (let k = 0; k + 3 < e.points.length; k += 3) {
      const [p0, p1, p2, p3] = e.points.slice(k, k + 4);
      for (let i = 1; i < 50; i++) {
        const t = i / 50;
        const u = 1 - t;
        const x = u * u * u * p0[0] + 3 * u * u * t * p1[0] + 3 * u * t * t * p2[0] + t * t * t * p3[0];
        const y = u * u * u * p0[1] + 3 * u * u * t * p1[1] + 3 * u * t * t * p2[1] + t * t * t * p3[1];
        const hit = l.nodes.find((n) => n.id !== e.from && n.id !== e.to && x > n.x && x < n.x + n.w && y > n.y && y < n.y + n.h);
        if (hit) {
          out.push(`${e.from}→${e.to} through ${hit.id}`);
          break segments;
        }
      }
    }
    if (Math.max(...e.points.map((p) => p[0])) > l.width) out.push(`${e.from}→${e.to} outside the picture`);
  }
  return out;
}

test('every shipped runbook: forward edges point down, nothing overlaps, end and escalate share the last row, all inside the picture', () => {
  const loaded = loadRunbooks(SHIPPED, { actions: ACTIONS });
  assert.ok(loaded.length >= 5);
  for (const lr of loaded) {
    const g = viewOf(lr).graph!();
    const l = layoutGraph(g);
    const name = lr.runbook.metadata.name;
    const at = new Map(l.nodes.map((n) => [n.id, n]));
    assert.deepEqual(l.nodes.filter((n) => n.kind === 'step').map((n) => n.id).sort(), g.steps.map((s) => s.id).sort(), name);
    for (const e of l.edges) assert.ok(at.get(e.to)!.layer > at.get(e.from)!.layer, `${name}: ${e.from} → ${e.to} points down`);
    assert.deepEqual(overlaps(l), [], name);
    assert.deepEqual(crossings(l), [], `${name}: no edge crosses a box`);
    const bottom = Math.max(...l.nodes.map((n) => n.layer));
    for (const n of l.nodes) if (n.kind !== 'step') assert.equal(n.layer, bottom, `${name}: ${n.id} on the last row`);
    for (const n of l.nodes) assert.ok(n.x >= 0 && n.y >= 0 && n.x + n.w <= l.width && n.y + n.h <= l.height, `${name}: ${n.id} inside`);
    assert.equal(at.get(g.start)!.layer, 0, `${name}: the start step is on top`);
    assert.deepEqual(layoutGraph(structuredClone(g)), l, `${name}: the same graph lays out the same`);
  }
});

test('a layer is the longest path to the step; edges with several outcomes are one edge; siblings follow their parents', () => {
  // a → b (success), a → c (failure); b → d, c → d; d → end; a long edge a → d on timeout.
  const g: RunGraph = { start: 'a', steps: [step('a', 'b', 'c', 'd'), step('b', 'd'), step('c', 'd', 'd'), step('d', 'end')] };
  const l = layoutGraph(g);
  const layer = Object.fromEntries(l.nodes.map((n) => [n.id, n.layer]));
  assert.deepEqual(layer, { a: 0, b: 1, c: 1, d: 2, end: 3, escalate: 3 });
  assert.deepEqual(l.edges.find((e) => e.from === 'c' && e.to === 'd')!.outcomes, ['success', 'failure', 'timeout']);
  assert.deepEqual(l.edges.filter((e) => e.from === 'a').map((e) => `${e.to}:${e.outcomes.join(',')}`), ['b:success', 'c:failure', 'd:timeout']);
  const x = Object.fromEntries(l.nodes.map((n) => [n.id, n.x]));
  assert.ok(x.b < x.c, 'file order breaks the tie between b and c');

  // Crossing reduction: x1's child listed second, x2's first — the sweep puts each child under its parent.
  const cross: RunGraph = { start: 's', steps: [step('s', 'x1', 'x2'), step('x1', 'y1'), step('x2', 'y2'), step('y2', 'end'), step('y1', 'end')] };
  const c = layoutGraph(cross);
  const cx = Object.fromEntries(c.nodes.map((n) => [n.id, n.x]));
  assert.ok(cx.x1 < cx.x2 && cx.y1 < cx.y2, `children follow their parents: ${JSON.stringify(cx)}`);
});

test('a recorded graph with an edge back still lays out, the edge drawn up the side', () => {
  const g: RunGraph = { start: 'a', steps: [step('a', 'b'), step('b', 'end', 'a')] };
  const l = layoutGraph(g);
  const up = l.edges.find((e) => e.from === 'b' && e.to === 'a')!;
  assert.deepEqual(up.outcomes, ['failure', 'timeout']);
  assert.ok(up.points[0][1] > up.points.at(-1)![1], 'it goes up');
  assert.ok(Math.max(...up.points.map((p) => p[0])) > Math.max(...l.nodes.map((n) => n.x + n.w)), 'beside every box');
});

const tr = (stepId: string, status: StepTransition['status'], time: number, extra: Partial<StepTransition> = {}): StepTransition => ({ runId: 'r', stepId, attempt: 1, status, time, ...extra });

test('the taken path: steps in the order reached, retries counted, durations, dry-run calls, and the last edge only when the run followed it', () => {
  const g: RunGraph = { start: 'collect', steps: [step('collect', 'rollback', 'rollback'), step('rollback', 'wait'), step('wait', 'end')] };
  const transitions = [
    tr('collect', 'started', 1000, { output: { action: 'k8s.collect', params: { name: 'web' } } }),
    tr('collect', 'failed', 1500, { error: 'FORBIDDEN: no logs' }),
    tr('rollback', 'started', 2000),
    tr('rollback', 'failed', 2100, { error: 'CONFLICT' }),
    tr('rollback', 'started', 7000, { attempt: 2 }),
    tr('rollback', 'succeeded', 7300, { attempt: 2, output: { outputs: {}, mutated: false, calls: ['PATCH /apis/apps/v1/namespaces/shop/deployments/web: roll back to revision 2'] } }),
    tr('wait', 'started', 8000),
    tr('wait', 'succeeded', 9000, { output: { outputs: { ready: 3 }, mutated: false, calls: [] } }),
  ];
  const p = takenPath(g, transitions, 'dry-run');
  assert.deepEqual(p.steps.map((s) => [s.id, s.status, s.attempts, s.durationMs]), [['collect', 'failed', 1, 500], ['rollback', 'succeeded', 2, 5300], ['wait', 'succeeded', 1, 1000]]);
  assert.deepEqual(p.edges, ['collect>rollback', 'rollback>wait', 'wait>end']);
  assert.deepEqual(p.steps[1].calls, ['PATCH /apis/apps/v1/namespaces/shop/deployments/web: roll back to revision 2']);
  assert.deepEqual(p.steps[0].params, { name: 'web' });
  assert.equal(p.steps[0].error, 'FORBIDDEN: no logs');
  assert.deepEqual(takenPath(g, transitions.slice(0, 7), 'running').edges, ['collect>rollback', 'rollback>wait'], 'a step under way has no way out yet');
  assert.deepEqual(takenPath(g, transitions, 'cancelled').edges, ['collect>rollback', 'rollback>wait'], 'a cancelled run did not follow an edge to end');
  const failed = takenPath(g, [tr('collect', 'started', 1), tr('collect', 'succeeded', 2), tr('rollback', 'started', 3), tr('rollback', 'failed', 4)], 'escalated');
  assert.deepEqual(failed.edges, ['collect>rollback', 'rollback>escalate']);
  assert.deepEqual(takenPath(undefined, transitions, 'succeeded').edges, ['collect>rollback', 'rollback>wait'], 'without a graph: the order of the steps only');
});
