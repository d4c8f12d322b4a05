// Keyset pages of detections and incidents (the web console's lists), on
// SQLite and PostgreSQL: newest first, ties on the time broken by id, every
// row exactly once whatever the page size, filters kept across pages.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { Detection, IncidentRecord } from '../../src/store/index.ts';
import { forEachDialect } from '../audit/helpers.ts';

const T0 = Date.UTC(2026, 0, 1);

function detection(id: string, lastSeen: number, status: Detection['status'] = 'open'): Detection {
  return {
    id, rule: 'crashloop', cluster: 'prod', subject: { cluster: 'prod', kind: 'Pod', namespace: 'shop', name: id }, fingerprint: id, severity: 'warning',
    summary: id, labels: {}, firstSeen: lastSeen, lastSeen, count: 1, status, evidence: [], notifications: 0,
  };
}

function incident(id: string, openedAt: number): IncidentRecord {
  return { id, title: id, cluster: 'prod', status: 'open', severity: 'warning', openedAt, detectionIds: [], data: {} };
}

async function pages<T>(list: (before: { time: number; id: string } | undefined, limit: number) => Promise<T[]>, key: (t: T) => { time: number; id: string }, limit: number): Promise<T[]> {
  const out: T[] = [];
  let before: { time: number; id: string } | undefined;
  // A cursor that does not move on would page forever: more pages than rows is a failure.
  for (let n = 0; n <= 20; n++) {
    const page = await list(before, limit);
    out.push(...page);
    if (page.length < limit) return out;
    before = key(page[page.length - 1]);
  }
  assert.fail('the pages never ended: the cursor does not move on');
}

forEachDialect((env) => {
  it('detections and incidents page by (time desc, id) with a keyset cursor: every row once, ties included', async () => {
    const { store } = await env.store();
    // Three rows share each time: a cursor on the time alone would skip or repeat some.
    const times = [0, 0, 0, 1, 1, 1, 2, 2, 2, 3];
    for (const [i, t] of times.entries()) {
      await store.putDetection(detection(`d${i}`, T0 + t * 1000, i % 2 ? 'resolved' : 'open'));
      await store.putIncident(incident(`i${i}`, T0 + t * 1000));
    }
    const all = (await store.listDetections({})).map((d) => d.id);
    assert.deepEqual(all, ['d9', 'd6', 'd7', 'd8', 'd3', 'd4', 'd5', 'd0', 'd1', 'd2']);
    for (const limit of [1, 2, 3, 4, 7]) {
      assert.deepEqual((await pages((before, n) => store.listDetections({ before, limit: n }), (d) => ({ time: d.lastSeen, id: d.id }), limit)).map((d) => d.id), all, `detections, pages of ${limit}`);
      assert.deepEqual((await pages((before, n) => store.listIncidents({ before, limit: n }), (i) => ({ time: i.openedAt, id: i.id }), limit)).map((i) => i.id), all.map((id) => id.replace('d', 'i')), `incidents, pages of ${limit}`);
    }
    assert.deepEqual((await pages((before, n) => store.listDetections({ status: 'open', before, limit: n }), (d) => ({ time: d.lastSeen, id: d.id }), 2)).map((d) => d.id), ['d6', 'd8', 'd4', 'd0', 'd2']);
  });
});
