// Issue 4's acceptance: the shipped rules against the shipped scenarios, on
// the sandbox over HTTP, exactly as `kubemend rules test` runs them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadRules } from '../../src/rules/loader.ts';
import { playRules, type PlaybackResult } from '../../src/pipeline/index.ts';
import { resolveScenario } from '../../src/sandbox/scenarios/index.ts';

const RULES = fileURLToPath(new URL('../../rules', import.meta.url));
const rules = loadRules(RULES);
const play = (name: string, extra: Partial<Parameters<typeof playRules>[0]> = {}) =>
  playRules({ rules, scenario: resolveScenario(name).scenario, ...extra });
const of = (r: PlaybackResult, rule: string) => r.detections.filter((d) => d.rule === rule);
const rel = (r: PlaybackResult, t: number) => t - r.startedAt;

test('event-storm: one open detection counting the restarts, at most one notification per group window', { timeout: 180_000 }, async () => {
  const r = await play('event-storm');
  const crash = of(r, 'crashloop-backoff');
  assert.equal(crash.length, 1, JSON.stringify(r.timeline.slice(0, 10)));
  const d = crash[0];
  // Open through the whole storm: opened once, never resolved until the fix at 10m.
  const changes = r.timeline.filter((t) => t.rule === 'crashloop-backoff' && t.change !== 'repeated');
  assert.equal(changes[0].change, 'opened');
  assert.ok(changes[0].elapsedMs < 60_000);
  assert.ok(changes.slice(1).every((c) => c.elapsedMs >= 600_000), JSON.stringify(changes));
  assert.deepEqual([d.subject.kind, d.subject.namespace, d.subject.name], ['Deployment', 'shop', 'notifier']);
  assert.ok(d.count >= 250, `count ${d.count} reflects hundreds of restarts`);
  assert.ok(d.evidence.length <= 30, 'evidence stays bounded');
  const mine = r.notifications.filter((n) => n.detections.some((x) => x.rule === 'crashloop-backoff'));
  assert.ok(mine.length >= 1 && mine.length <= 3, `${mine.length} notifications in 11 minutes with a 5m window`);
  for (let i = 1; i < mine.length; i++) assert.ok(mine[i].time - mine[i - 1].time >= 300_000);
});

test('pending: the rollout\'s brief Pending gives nothing; the stuck pod one detection at 5 minutes', { timeout: 180_000 }, async () => {
  const r = await play('pending');
  const pending = of(r, 'pending-too-long');
  assert.equal(pending.length, 1, JSON.stringify(pending.map((d) => d.subject)));
  assert.equal(pending[0].subject.namespace, 'ml');
  assert.match(pending[0].subject.name, /^trainer-/);
  // The trainer is created at 20s; the detection fires 5 minutes later.
  const t = rel(r, pending[0].firstSeen);
  assert.ok(t >= 320_000 && t <= 323_000, `fired at +${t}ms`);
});

test('config-change: maxReplicas 5→10 and the memory limit change carry path, old and new values', { timeout: 180_000 }, async () => {
  const r = await play('config-change');
  const hpa = of(r, 'hpa-max-replicas-increased');
  assert.equal(hpa.length, 1);
  const hdiff = hpa[0].evidence.flatMap((e) => e.diff ?? []).find((x) => x.path === 'spec.maxReplicas');
  assert.deepEqual(hdiff && [hdiff.old, hdiff.new], [5, 10]);
  const mem = of(r, 'memory-limit-changed');
  assert.equal(mem.length, 1);
  const mdiff = mem[0].evidence.flatMap((e) => e.diff ?? []).find((x) => /resources\.limits\.memory$/.test(x.path));
  assert.ok(mdiff, JSON.stringify(mem[0].evidence));
  assert.deepEqual([mdiff.old, mdiff.new], ['256Mi', '512Mi']);
  assert.match(mdiff.path, /containers\[name=search\]\.resources\.limits\.memory/);
  assert.equal(of(r, 'hpa-at-max-replicas').length, 1);
});

test('memory-cascade: no limits, SystemOOM, NotReady and evictions are detected in causal order', { timeout: 180_000 }, async () => {
  const r = await play('memory-cascade');
  const first = (rule: string) => Math.min(...of(r, rule).map((d) => d.firstSeen));
  const order = ['pod-without-memory-limit', 'system-oom', 'node-not-ready', 'pod-evicted'];
  for (const rule of order) assert.ok(Number.isFinite(first(rule)), `${rule} detected`);
  for (let i = 1; i < order.length; i++) assert.ok(first(order[i - 1]) <= first(order[i]), `${order[i - 1]} before ${order[i]}`);
  assert.ok(of(r, 'pod-without-memory-limit').some((d) => d.subject.name === 'report-worker'));
  assert.ok(of(r, 'system-oom').some((d) => d.subject.name === 'node-2' || d.subject.name === 'node-3'), 'the next node suffers too');
});

test('a dropped watch and a forced 410 change no detection compared with an undisturbed run', { timeout: 180_000 }, async () => {
  const key = (r: PlaybackResult) => r.detections.map((d) => `${d.rule} ${d.subject.kind}/${d.subject.namespace ?? ''}/${d.subject.name} ${d.status}`).sort();
  const calm = await play('crashloop');
  const rough = await play('crashloop', { dropWatchesAtMs: [70_000], forceGoneAtMs: [100_000] });
  assert.deepEqual(key(rough), key(calm));
  assert.ok(key(calm).some((k) => k.startsWith('crashloop-backoff Deployment/shop/checkout open')));
  // The disturbance was real: watches resumed after the drop, and the 410 made informers relist.
  assert.equal(calm.informers.relistsAfterGone, 0);
  assert.ok(rough.informers.relistsAfterGone > 0, JSON.stringify(rough.informers));
  assert.ok(rough.informers.resumes > calm.informers.resumes);
});

test('handling events costs the API server no GETs: one list and a few watches per kind', { timeout: 180_000 }, async () => {
  const r = await play('event-storm');
  const gets = Object.entries(r.requests).filter(([k]) => k.startsWith('get '));
  assert.deepEqual(gets, []);
  // metrics.k8s.io cannot be watched: a rule that reads it lists it once per tick (node-memory-high: 30s), never per event.
  for (const [k, v] of Object.entries(r.requests)) if (k.startsWith('list ') && !k.includes('metrics.k8s.io')) assert.equal(v, 1, k);
});
