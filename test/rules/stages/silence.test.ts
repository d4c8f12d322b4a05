import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/common/clock.ts';
import { KubemendError, Errors } from '../../../src/common/errors.ts';
import { parseMatcher, compileMatcher, Silences, silenceState } from '../../../src/rules/stages/silence.ts';

const MIN = 60_000;
const labels = { rule: 'crashloop', cluster: 'prod', namespace: 'shop', kind: 'Pod', name: 'web-1', severity: 'warning' };
const matches = (m: string, l: Record<string, string> = labels) => compileMatcher(parseMatcher(m))(l);

function assertInvalid(fn: () => unknown, ...parts: RegExp[]) {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof KubemendError);
    assert.equal(err.code, Errors.SILENCE_INVALID.code);
    for (const p of parts) assert.match(err.message, p);
    return true;
  });
}

test('parseMatcher: the four operators, spaces and quoted values', () => {
  assert.deepEqual(parseMatcher('namespace=shop'), { name: 'namespace', op: '=', value: 'shop' });
  assert.deepEqual(parseMatcher('name!=x'), { name: 'name', op: '!=', value: 'x' });
  assert.deepEqual(parseMatcher('rule=~crash.*'), { name: 'rule', op: '=~', value: 'crash.*' });
  assert.deepEqual(parseMatcher('severity!~info'), { name: 'severity', op: '!~', value: 'info' });
  assert.deepEqual(parseMatcher(' team = "a, b=\\"c\\"" '), { name: 'team', op: '=', value: 'a, b="c"' });
  assert.deepEqual(parseMatcher('app.kubernetes.io/name=web'), { name: 'app.kubernetes.io/name', op: '=', value: 'web' });
  assert.deepEqual(parseMatcher('namespace='), { name: 'namespace', op: '=', value: '' });
});

test('matching: =, !=, =~, !~ and a missing label as empty', () => {
  assert.equal(matches('namespace=shop'), true);
  assert.equal(matches('namespace=shop2'), false);
  assert.equal(matches('name!=x'), true);
  assert.equal(matches('name!=web-1'), false);
  assert.equal(matches('rule=~crash.*'), true);
  assert.equal(matches('rule=~"crash|oom"'), false, 'alternation is anchored as a whole');
  assert.equal(matches('rule=~"crashloop|oom"'), true);
  assert.equal(matches('severity!~info'), true);
  assert.equal(matches('severity!~warn.*'), false);
  assert.equal(matches('team='), true, 'missing label equals the empty string');
  assert.equal(matches('team!='), false);
  assert.equal(matches('team=~.*'), true);
});

test('regexes are anchored like Alertmanager', () => {
  assert.equal(matches('rule=~crash'), false);
  assert.equal(matches('rule=~loop'), false);
  assert.equal(matches('rule=~.*loop'), true);
  assert.equal(matches('severity!~warn'), true, 'warn does not match all of warning');
});

test('bad syntax and bad regexes name the matcher and the accepted syntax', () => {
  assertInvalid(() => parseMatcher('namespace'), /"namespace"/, /name=value, name!=value, name=~regex or name!~regex/);
  assertInvalid(() => parseMatcher('=shop'), /"=shop"/, /name=~regex/);
  assertInvalid(() => parseMatcher('9ns=shop'), /"9ns=shop"/);
  assertInvalid(() => parseMatcher('rule=~(crash'), /"rule=~\(crash"/, /regex does not compile/);
  assertInvalid(() => parseMatcher('name="open'), /quoted value/);
  assertInvalid(() => compileMatcher({ name: 'x', op: '==' as '=', value: 'y' }), /unknown operator "=="/);
});

test('add: validates matchers, windows and authorship', () => {
  const s = new Silences(new ManualClock());
  const ok = { createdBy: 'ana', comment: 'deploy', duration: '1h' };
  assertInvalid(() => s.add({ ...ok, matchers: [] }), /at least one matcher/);
  assertInvalid(() => s.add({ ...ok, matchers: ['rule=~(('] }), /"rule=~\(\("/);
  assertInvalid(() => s.add({ ...ok, matchers: ['team=~.*', 'name!=x'] }), /would match every detection/);
  assertInvalid(() => s.add({ ...ok, matchers: [{ name: 'bad name', op: '=', value: 'x' }] }), /bad label name/);
  assertInvalid(() => s.add({ matchers: ['namespace=shop'], createdBy: 'ana', comment: 'x' }), /endsAt or duration/);
  assertInvalid(() => s.add({ ...ok, matchers: ['namespace=shop'], duration: 'soon' }), /invalid duration "soon"/);
  assertInvalid(() => s.add({ ...ok, matchers: ['namespace=shop'], duration: undefined, endsAt: 'yesterday' }), /endsAt "yesterday" is not a time/);
  assertInvalid(() => s.add({ ...ok, matchers: ['namespace=shop'], duration: undefined, endsAt: Date.UTC(2020, 0, 1) }), /must end after it starts/);
  assertInvalid(() => s.add({ ...ok, matchers: ['namespace=shop'], createdBy: ' ' }), /createdBy/);
  assertInvalid(() => s.add({ ...ok, matchers: ['namespace=shop'], comment: '' }), /comment/);
  assert.deepEqual(s.list(), []);
});

test('an active silence matches by all of its matchers; structured matchers work too', () => {
  const clock = new ManualClock();
  const s = new Silences(clock);
  const a = s.add({ matchers: ['namespace=shop', 'rule=~crash.*'], duration: 2 * MIN, createdBy: 'ana', comment: 'rollout' });
  assert.equal(a.startsAt, clock.now());
  assert.equal(a.endsAt, clock.now() + 2 * MIN);
  assert.equal(s.match(labels), a);
  assert.equal(s.match({ ...labels, namespace: 'other' }), undefined);
  const b = s.add({ matchers: [{ name: 'severity', op: '=~', value: 'warning|info' }, { name: 'kind', op: '!=', value: 'Node' }], duration: '1h', createdBy: 'bo', comment: 'noise' });
  assert.equal(s.match({ ...labels, namespace: 'other' }), b);
  assert.equal(s.match({ ...labels, namespace: 'other', severity: 'critical' }), undefined);
});

test('time windows: not yet active, active, expired; a past start becomes now', async () => {
  const clock = new ManualClock();
  const s = new Silences(clock, { retentionMs: 60 * MIN });
  const t0 = clock.now();
  const later = s.add({ matchers: ['namespace=shop'], startsAt: t0 + 10 * MIN, endsAt: new Date(t0 + 20 * MIN).toISOString(), createdBy: 'ana', comment: 'maintenance' });
  assert.equal(silenceState(later, clock.now()), 'pending');
  assert.equal(s.match(labels), undefined);
  assert.deepEqual(s.active(), []);
  await clock.advance(10 * MIN);
  assert.equal(s.match(labels), later);
  assert.deepEqual(s.active(), [later]);
  await clock.advance(10 * MIN);
  assert.equal(silenceState(later, clock.now()), 'expired');
  assert.equal(s.match(labels), undefined);
  assert.deepEqual(s.list(), [later], 'expired silences stay listed for the retention');
  await clock.advance(60 * MIN);
  assert.deepEqual(s.list(), []);

  const past = s.add({ matchers: ['namespace=shop'], startsAt: t0, duration: MIN, createdBy: 'ana', comment: 'x' });
  assert.equal(past.startsAt, clock.now());
});

test('expire ends an active or pending silence now', async () => {
  const clock = new ManualClock();
  const s = new Silences(clock);
  const a = s.add({ matchers: ['namespace=shop'], duration: '1h', createdBy: 'ana', comment: 'x' });
  const p = s.add({ matchers: ['namespace=shop'], startsAt: clock.now() + MIN, duration: '1h', createdBy: 'ana', comment: 'x' });
  await clock.advance(1000);
  assert.equal(s.expire(a.id), true);
  assert.equal(a.endsAt, clock.now());
  assert.equal(s.match(labels), undefined);
  assert.equal(s.expire(a.id), false, 'already expired');
  assert.equal(s.expire(p.id), true);
  assert.equal(p.startsAt, clock.now());
  assert.equal(silenceState(p, clock.now()), 'expired');
  assert.equal(s.expire('nope'), false);
  assert.equal(s.get(a.id), a);
  await clock.advance(MIN);
  assert.equal(s.match(labels), undefined, 'an expired pending silence never starts');
});
