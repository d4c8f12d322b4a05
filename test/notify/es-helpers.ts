// Shared set-up of the audit shipper tests: a store (from the audit tests'
// dialect helpers), a fake Elasticsearch, and a shipper between them.
import { setTimeout as delay } from 'node:timers/promises';
import type { AuditInput } from '../../src/audit/index.ts';
import type { SqlStore } from '../../src/store/index.ts';
import { AuditShipper, elasticsearchTrace, type ElasticsearchTraceInput } from '../../src/notify/index.ts';
import type { ManualClock } from '../../src/common/clock.ts';
import { FakeElasticsearch } from '../helpers/fake-elasticsearch.ts';

export const KEY = 'VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==';
export const DS = 'logs-kubemend.audit-default';

export function shipper(store: SqlStore, clock: ManualClock, fake: FakeElasticsearch, cfg: Partial<ElasticsearchTraceInput> = {}, extra: { logs?: string[]; canShip?: () => boolean; env?: NodeJS.ProcessEnv } = {}): AuditShipper {
  return new AuditShipper({
    store,
    clock,
    config: elasticsearchTrace({ url: fake.url, apiKeyEnv: 'ES_API_KEY', ...cfg }),
    env: extra.env ?? { ES_API_KEY: KEY },
    log: (l) => extra.logs?.push(l),
    canShip: extra.canShip,
    random: () => 0.5,
  });
}

/** n varied records: users and rules, targets of several kinds, every outcome. */
export function inputs(n: number, from = 1): AuditInput[] {
  const outcomes = ['success', 'failure', 'denied', 'pending', 'info', undefined] as const;
  return Array.from({ length: n }, (_, i) => {
    const k = from + i;
    return {
      actor: k % 2 ? { type: 'user', name: `alice${k}` } : { type: 'rule', name: 'crashloop' },
      action: k % 3 ? 'runbook.step.succeeded' : 'chat.restart.requested',
      target: k % 4 ? { cluster: 'prod', namespace: 'shop', kind: 'Deployment', name: `web-${k}` } : { cluster: 'prod', kind: 'Node', name: 'node-1' },
      outcome: outcomes[k % outcomes.length],
      runId: `run-${k}`,
      justification: k % 5 === 0 ? 'rolling back a bad release' : undefined,
      data: { k, nested: { list: [1, 'two', { three: 3 }] } },
      diff: k % 3 === 0 ? [{ path: 'spec.replicas', old: 1, new: 2 }] : undefined,
    } satisfies AuditInput;
  });
}

/** Advance virtual time in steps, giving real I/O (HTTP, SQLite) room between them, until `done` or the budget is spent. */
export async function runUntil(clock: ManualClock, done: () => boolean | Promise<boolean>, o: { stepMs?: number; budgetMs?: number } = {}): Promise<boolean> {
  const step = o.stepMs ?? 500;
  for (let spent = 0; spent <= (o.budgetMs ?? 120_000); spent += step) {
    if (await done()) return true;
    await clock.advance(step);
    await delay(15);
  }
  return done();
}

/** The bulk requests the fake received, as documents sent per request. */
export function bulkRequests(fake: FakeElasticsearch): { ids: string[]; body: string }[] {
  return fake.requests.filter((r) => r.path === '/_bulk').map((r) => ({
    body: r.body,
    ids: r.body.split('\n').filter((_, i) => i % 2 === 0 && _ !== '').map((l) => (JSON.parse(l) as { create: { _id: string } }).create._id),
  }));
}
