// Requests left waiting when kubemend stops are expired at the next start,
// on the record. Beside other replicas (leader election, one store), a
// waiting request may be another replica's, live in its memory: only one
// idle for longer than any wait can last is an orphan.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/common/clock.ts';
import { openStore, type ChatRequestRecord } from '../../src/store/index.ts';
import { RequestBook } from '../../src/chat/conversation.ts';

const T0 = Date.UTC(2026, 0, 1);

function request(id: string, updatedAt: number): ChatRequestRecord {
  return { id, user: 'alice', room: 'ops', adapter: 'console', command: 'restart deployment/web -n shop', action: 'restart', cluster: 'sandbox', target: { cluster: 'sandbox', kind: 'Deployment', namespace: 'shop', name: 'web' }, status: 'awaiting-confirmation', approvals: [], createdAt: updatedAt, updatedAt };
}

test('with replicas, only requests idle longer than any wait are expired as orphans; alone, every waiting request is', async () => {
  const clock = new ManualClock(T0 + 3_600_000);
  const store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'km-orphans-')), clock });
  try {
    await store.putChatRequest(request('live', T0 + 3_600_000 - 60_000));
    await store.putChatRequest(request('dead', T0));
    const book = new RequestBook(store, clock, (s) => s);
    const expired = await book.expireOrphans(clock.now(), 30 * 60_000);
    assert.deepEqual(expired.map((r) => r.id), ['dead']);
    assert.equal((await store.getChatRequest('live'))?.status, 'awaiting-confirmation', "another replica's request in progress is left alone");
    assert.equal((await store.audit.list({ action: 'chat.restart.expired' })).length, 1);
    assert.deepEqual((await book.expireOrphans(clock.now())).map((r) => r.id), ['live'], 'a single process owns every request in its store');
  } finally {
    await store.close();
  }
});
