// The rule index: which rules' CEL runs for a signal, decided by source,
// kind, Event reason, alert and webhook names and the cheap pre-selectors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/kube/types.ts';
import { RuleSchema } from '../../src/rules/schema.ts';
import { RuleEnvironment } from '../../src/rules/cel.ts';
import { RuleIndex, OBJECT_MEMO_MAX } from '../../src/rules/rule-index.ts';
import type { LoadedRule } from '../../src/rules/loader.ts';
import type { Signal } from '../../src/rules/types.ts';

const env = new RuleEnvironment();

function rule(name: string, spec: Record<string, unknown>): LoadedRule {
  const r = RuleSchema.parse({ apiVersion: 'kubemend.dev/v1alpha1', kind: 'Rule', metadata: { name }, spec });
  return Object.freeze({ file: 'test.yaml', line: 1, rule: r, compiled: env.compileRule(r) });
}

const obj = (kind: string, name: string, namespace?: string, labels?: Record<string, string>): KubeObject =>
  ({ kind, metadata: { name, ...(namespace ? { namespace } : {}), ...(labels ? { labels } : {}) } });

const change = (object: KubeObject, operation: 'create' | 'update' | 'delete' = 'update', cluster = 'prod'): Signal =>
  ({ source: 'object', cluster, time: 0, operation, object });

const event = (reason: string, involved: { kind: string; name: string; namespace?: string }, type = 'Warning'): Signal => {
  const ev: KubeObject = { kind: 'Event', metadata: { name: `${involved.name}.1`, namespace: involved.namespace ?? 'default' }, reason, type, involvedObject: involved };
  return { source: 'event', cluster: 'prod', time: 0, operation: 'create', object: ev, event: ev };
};

const names = (idx: RuleIndex, s: Signal) => idx.candidates(s).map((lr) => lr.rule.metadata.name);

test('a rule for Pods never sees Node signals, and the reverse', () => {
  const idx = new RuleIndex([rule('pods', { source: 'object', match: { kinds: ['Pod'] } }), rule('nodes', { source: 'object', match: { kinds: ['Node'] } })]);
  assert.deepEqual(names(idx, change(obj('Pod', 'web-1', 'shop'))), ['pods']);
  assert.deepEqual(names(idx, change(obj('Node', 'node-1'))), ['nodes']);
  assert.deepEqual(names(idx, change(obj('Service', 'web', 'shop'))), []);
  // An object rule is not an event rule: an Event about a Pod is not a Pod change.
  assert.deepEqual(names(idx, event('BackOff', { kind: 'Pod', name: 'web-1', namespace: 'shop' })), []);
});

test('namespace include and exclude, with * globs; cluster-scoped objects are in no namespace', () => {
  const idx = new RuleIndex([
    rule('teams', { source: 'object', match: { kinds: ['Pod', 'Node', 'Namespace'], namespaces: { include: ['team-*', 'shop'] } } }),
    rule('not-system', { source: 'object', match: { kinds: ['Pod', 'Node', 'Namespace'], namespaces: { exclude: ['kube-*'] } } }),
  ]);
  assert.deepEqual(names(idx, change(obj('Pod', 'a', 'team-ml'))), ['teams', 'not-system']);
  assert.deepEqual(names(idx, change(obj('Pod', 'a', 'shop'))), ['teams', 'not-system']);
  assert.deepEqual(names(idx, change(obj('Pod', 'a', 'shopping'))), ['not-system']);
  assert.deepEqual(names(idx, change(obj('Pod', 'a', 'kube-system'))), []);
  assert.deepEqual(names(idx, change(obj('Node', 'node-1'))), ['not-system']);
  // A Namespace is filtered by its own name.
  assert.deepEqual(names(idx, change(obj('Namespace', 'kube-public'))), []);
  assert.deepEqual(names(idx, change(obj('Namespace', 'team-a'))), ['teams', 'not-system']);
});

test('event rules are indexed by reason and filtered by the involved object\'s kind, namespace and the event type', () => {
  const idx = new RuleIndex([
    rule('evicted', { source: 'event', match: { kinds: ['Pod'], reasons: ['Evicted', 'TaintManagerEviction'] } }),
    rule('system-oom', { source: 'event', match: { kinds: ['Node'], reasons: ['SystemOOM'] } }),
    rule('any-warning', { source: 'event', match: { eventTypes: ['Warning'], namespaces: { exclude: ['kube-system'] } } }),
  ]);
  assert.deepEqual(names(idx, event('Evicted', { kind: 'Pod', name: 'web-1', namespace: 'shop' })), ['evicted', 'any-warning']);
  assert.deepEqual(names(idx, event('TaintManagerEviction', { kind: 'Pod', name: 'web-1', namespace: 'kube-system' })), ['evicted']);
  assert.deepEqual(names(idx, event('Evicted', { kind: 'Node', name: 'node-1' }, 'Normal')), []);
  assert.deepEqual(names(idx, event('SystemOOM', { kind: 'Node', name: 'node-1' })), ['system-oom', 'any-warning']);
  assert.deepEqual(names(idx, event('Scheduled', { kind: 'Pod', name: 'web-1', namespace: 'shop' }, 'Normal')), []);
});

test('alert rules by alert name and labels; webhook rules by webhook name', () => {
  const idx = new RuleIndex([
    rule('latency', { source: 'alert', match: { alertNames: ['HighLatency'] } }),
    rule('critical', { source: 'alert', match: { labels: { severity: 'critical' } } }),
    rule('deploys', { source: 'webhook', match: { webhooks: ['deploys'] } }),
  ]);
  const alert = (alertname: string, labels: Record<string, string> = {}): Signal =>
    ({ source: 'alert', cluster: 'prod', time: 0, alert: { status: 'firing', labels: { alertname, ...labels }, annotations: {} } });
  assert.deepEqual(names(idx, alert('HighLatency')), ['latency']);
  assert.deepEqual(names(idx, alert('HighLatency', { severity: 'critical' })), ['latency', 'critical']);
  assert.deepEqual(names(idx, alert('DiskFull', { severity: 'warning' })), []);
  const hook = (name: string): Signal => ({ source: 'webhook', cluster: 'prod', time: 0, webhook: { name, body: {} } });
  assert.deepEqual(names(idx, hook('deploys')), ['deploys']);
  assert.deepEqual(names(idx, hook('other')), []);
});

test('operations, clusters and object labels', () => {
  const idx = new RuleIndex([
    rule('updates', { source: 'object', match: { kinds: ['Deployment'], operations: ['update'] } }),
    rule('prod-only', { source: 'object', match: { kinds: ['Deployment'], clusters: ['prod'] } }),
    rule('tier', { source: 'object', match: { kinds: ['Deployment'], labels: { tier: 'frontend' } } }),
  ]);
  const d = obj('Deployment', 'web', 'shop', { tier: 'frontend' });
  assert.deepEqual(names(idx, change(d, 'update')), ['updates', 'prod-only', 'tier']);
  assert.deepEqual(names(idx, change(d, 'create')), ['prod-only', 'tier']);
  assert.deepEqual(names(idx, change(d, 'update', 'staging')), ['updates', 'tier']);
  assert.deepEqual(names(idx, change(obj('Deployment', 'api', 'shop', { tier: 'backend' }), 'create', 'staging')), []);
  // A deletion carries the last known object: its labels still count.
  assert.deepEqual(names(idx, { source: 'object', cluster: 'prod', time: 0, operation: 'delete', oldObject: d }), ['prod-only', 'tier']);
});

test('candidates keep load order across keyed and any-key rules', () => {
  const idx = new RuleIndex([
    rule('first-any', { source: 'event' }),
    rule('second-backoff', { source: 'event', match: { reasons: ['BackOff'] } }),
    rule('third-any', { source: 'event' }),
  ]);
  assert.deepEqual(names(idx, event('BackOff', { kind: 'Pod', name: 'p', namespace: 'a' })), ['first-any', 'second-backoff', 'third-any']);
});

test('schedule ticks reach schedule rules, filtered by the swept object when there is one', () => {
  const idx = new RuleIndex([
    rule('ns-sweep', { source: 'schedule', schedule: '5m', match: { kinds: ['Namespace'], namespaces: { exclude: ['kube-*'] } } }),
    rule('pods', { source: 'object', match: { kinds: ['Pod'] } }),
  ]);
  const tick = (object?: KubeObject): Signal => ({ source: 'schedule', cluster: 'prod', time: 0, ...(object ? { object } : {}) });
  assert.deepEqual(names(idx, tick()), ['ns-sweep']);
  assert.deepEqual(names(idx, tick(obj('Namespace', 'shop'))), ['ns-sweep']);
  assert.deepEqual(names(idx, tick(obj('Namespace', 'kube-system'))), []);
  // A tick names its rule: other schedule rules do not run on it.
  assert.deepEqual(names(idx, { ...tick(obj('Namespace', 'shop')), schedule: { rule: 'ns-sweep' } }), ['ns-sweep']);
  assert.deepEqual(names(idx, { ...tick(obj('Namespace', 'shop')), schedule: { rule: 'other' } }), []);
});

test('kindsNeeded lists object kinds, Event interest per involved kind, and kinds read through objects()', () => {
  const idx = new RuleIndex([
    rule('pods', { source: 'object', match: { kinds: ['Pod', 'Deployment'] } }),
    rule('evicted', { source: 'event', match: { kinds: ['Pod'], reasons: ['Evicted'] } }),
    rule('any-event', { source: 'event', match: { reasons: ['FailedMount'] } }),
    rule('limits', { source: 'schedule', schedule: '5m', match: { kinds: ['Namespace'] }, when: "size(objects('LimitRange', object.metadata.name)) == 0" }),
    rule('latency', { source: 'alert', match: { alertNames: ['HighLatency'] } }),
  ]);
  assert.deepEqual(idx.kindsNeeded(), [
    { kind: 'Deployment', events: false },
    { kind: 'Event', events: true },
    { kind: 'LimitRange', events: false },
    { kind: 'Namespace', events: false },
    { kind: 'Pod', events: true },
  ]);
});

test('the hashed namespace and label lookups find exactly the rules a scan of every rule finds, in load order', { timeout: 60_000 }, () => {
  // A seeded generator: the same mix every run, so a failure is reproducible.
  let seed = 42;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
  const nss = ['team-0', 'team-1', 'team-2', 'shop', 'kube-system'];
  const labelSets: Record<string, string>[] = [{}, { team: 'a' }, { team: 'b' }, { app: 'web' }, { team: 'a', app: 'web' }];
  const rules: LoadedRule[] = [];
  for (let i = 0; i < 300; i++) {
    const match: Record<string, unknown> = { kinds: rnd(5) ? ['Pod'] : ['Pod', 'Namespace'] };
    const scope = rnd(6);
    if (scope === 0) match.namespaces = { include: [nss[rnd(5)]!] };
    if (scope === 1) match.namespaces = { include: [nss[rnd(5)]!, nss[rnd(5)]!] };
    if (scope === 2) match.namespaces = { include: ['team-*'] };
    if (scope === 3) match.labels = labelSets[1 + rnd(4)];
    if (scope === 4) match.namespaces = { include: [nss[rnd(5)]!], exclude: ['kube-*'] };
    if (rnd(4) === 0) match.labels = { ...(match.labels as object ?? {}), ...labelSets[1 + rnd(4)] };
    rules.push(rule(`r${i}`, { source: 'object', match }));
  }
  const idx = new RuleIndex(rules);
  const glob = (p: string, s: string) => new RegExp(`^${p.replace(/\*/g, '.*')}$`).test(s);
  // The oracle: the documented meaning of each selector, applied to every rule.
  const expected = (s: Signal) => rules.filter((lr) => {
    const m = lr.rule.spec.match;
    const o = s.object!;
    if (!m.kinds!.includes(o.kind!)) return false;
    const ns = o.kind === 'Namespace' ? o.metadata.name : o.metadata.namespace;
    if (m.namespaces?.include && !(ns !== undefined && m.namespaces.include.some((p) => glob(p, ns)))) return false;
    if (m.namespaces?.exclude && ns !== undefined && m.namespaces.exclude.some((p) => glob(p, ns))) return false;
    return Object.entries(m.labels ?? {}).every(([k, v]) => o.metadata.labels?.[k] === v);
  }).map((lr) => lr.rule.metadata.name);
  for (const ns of nss) {
    for (const labels of [undefined, ...labelSets]) {
      const s = change(obj('Pod', 'p', ns, labels));
      assert.deepEqual(names(idx, s), expected(s), `Pod in ${ns} with ${JSON.stringify(labels)}`);
      const n = change(obj('Namespace', ns, undefined, labels));
      assert.deepEqual(names(idx, n), expected(n), `Namespace ${ns} with ${JSON.stringify(labels)}`);
    }
  }
});

test('object signals remembered by kind, namespace, operation, cluster and selected labels get the candidates a fresh index finds', () => {
  const rules = [
    rule('all-pods', { source: 'object', match: { kinds: ['Pod'] } }),
    rule('shop', { source: 'object', match: { kinds: ['Pod'], namespaces: { include: ['shop'] } } }),
    rule('not-kube', { source: 'object', match: { kinds: ['Pod'], namespaces: { exclude: ['kube-*'] } } }),
    rule('team-a', { source: 'object', match: { kinds: ['Pod'], labels: { team: 'a' } } }),
    rule('team-a-web', { source: 'object', match: { kinds: ['Pod'], labels: { team: 'a', app: 'web' } } }),
    rule('updates', { source: 'object', match: { kinds: ['Pod'], operations: ['update'] } }),
    rule('east', { source: 'object', match: { kinds: ['Pod'], clusters: ['east'] } }),
    rule('namespaces', { source: 'object', match: { kinds: ['Namespace'], namespaces: { include: ['shop'] } } }),
  ];
  const memo = new RuleIndex(rules);
  const signals: Signal[] = [];
  for (const ns of ['shop', 'kube-system', 'web'])
    for (const labels of [undefined, { team: 'a' }, { team: 'b' }, { team: 'a', app: 'web' }, { team: 'a', app: 'db', 'pod-template-hash': 'x' }] as (Record<string, string> | undefined)[])
      for (const op of ['create', 'update', 'delete'] as const)
        for (const cluster of ['east', 'west']) signals.push(change(obj('Pod', `p-${signals.length}`, ns, labels), op, cluster));
  signals.push(change(obj('Namespace', 'shop')), change(obj('Namespace', 'web')));
  // Twice over: the second pass answers from the memo.
  for (const s of [...signals, ...signals]) assert.deepEqual(names(memo, s), names(new RuleIndex(rules), s), JSON.stringify({ ns: s.object?.metadata.namespace, labels: s.object?.metadata.labels, op: s.operation, cluster: s.cluster }));
});

test('the memo of object signals stays bounded however many label values a cluster has', () => {
  const idx = new RuleIndex([rule('team-a', { source: 'object', match: { kinds: ['Pod'], labels: { team: 'a' } } })]);
  for (let i = 0; i < OBJECT_MEMO_MAX * 2 + 10; i++) idx.candidates(change(obj('Pod', 'p', 'shop', { team: `t${i}` })));
  assert.ok(idx.remembered > 0 && idx.remembered <= OBJECT_MEMO_MAX, String(idx.remembered));
  assert.deepEqual(names(idx, change(obj('Pod', 'p', 'shop', { team: 'a' }))), ['team-a']);
});
