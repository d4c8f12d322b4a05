// Hot reload against the projected caches, on the sandbox over HTTP: rules
// that read a field the cache of a kind lacks make that kind list again with
// it before the engine sees them, so a new rule never reads a cache missing
// its fields; rules that read fewer fields list nothing. And the informer's
// retransform itself: objects unchanged are replaced silently, an object
// that changed while the watch was down comes as MODIFIED without the old,
// narrower object (which would show the missing fields as changes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KubeConfig } from '@kubernetes/client-node';
import { Sandbox } from '../../src/sandbox/index.ts';
import { Informer, KubeHttp, fieldTree, kindRef, objectProjector, type Change } from '../../src/kube/index.ts';
import { RuleSchema, RuleEnvironment, type Detection, type LoadedRule } from '../../src/rules/index.ts';
import { Pipeline } from '../../src/pipeline/index.ts';

const env = new RuleEnvironment();
function rule(name: string, when: string): LoadedRule {
  const r = RuleSchema.parse({ apiVersion: 'kubemend.dev/v1alpha1', kind: 'Rule', metadata: { name }, spec: { source: 'object', match: { kinds: ['Pod'], namespaces: { include: ['apps'] } }, when, severity: 'warning' } });
  return Object.freeze({ file: `${name}.yaml`, line: 1, rule: r, compiled: env.compileRule(r) });
}

const pod = (name: string, grace: number) => ({
  metadata: { name, namespace: 'apps', labels: { app: name } },
  spec: { terminationGracePeriodSeconds: grace, containers: [{ name: 'app', image: 'registry.example.com/app:1' }] },
});

async function until(cond: () => boolean, what: string, ms = 10_000) {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a reload whose rules read a field the cache lacks lists that kind again first; fewer fields list nothing', { timeout: 60_000 }, async () => {
  const sandbox = new Sandbox({ speed: 1, nodes: [] });
  await sandbox.listen();
  const kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  const opened: Detection[] = [];
  const logs: string[] = [];
  const rulesWhenListed: number[] = [];
  let pipeline: Pipeline | undefined;
  const phase = rule('pending', "object.status.phase == 'NeverThis'");
  const grace = rule('short-grace', 'object.spec.terminationGracePeriodSeconds == 7');
  pipeline = new Pipeline({
    clock: sandbox.clock, clusters: [{ name: 'sandbox', kubeconfig: kc }], rules: [phase], schedules: false,
    log: (l) => {
      logs.push(l);
      if (/listed Pod again/.test(l)) rulesWhenListed.push(pipeline!.engine.ruleCount);
    },
    sinks: [{ name: 'collect', onDetection: (d, change) => change === 'opened' && opened.push(structuredClone(d)) }],
  });
  try {
    sandbox.store.create('namespaces', { metadata: { name: 'apps' } });
    sandbox.store.create('pods', pod('quick', 7));
    await pipeline.start();
    const p = pipeline;
    const cached = () => p.cached('sandbox', 'Pod', 'apps')!.find((p) => p.metadata.name === 'quick')!;
    const informer = p.kubeSources.get('sandbox')!.informer('Pod')!;
    assert.equal(cached().spec?.terminationGracePeriodSeconds, undefined, 'no rule reads it: not cached');
    assert.equal(cached().status?.phase, 'Pending');
    const lists = informer.stats.lists;

    await p.setRules([phase, grace]);
    // Listed again before the engine has the rule: the cache has the field the moment the rule can run.
    assert.equal(informer.stats.lists, lists + 1);
    assert.equal(cached().spec?.terminationGracePeriodSeconds, 7);
    assert.deepEqual(rulesWhenListed, [1], `the engine had the old rules while the kind was listed again:\n${logs.join('\n')}`);
    assert.deepEqual(opened, [], 'an unchanged pod is not an event');

    // The next change of the pod is judged with the field on both versions.
    const live = sandbox.store.get('pods', 'apps', 'quick')!;
    sandbox.store.update('pods', { ...live, metadata: { ...live.metadata, labels: { app: 'quick', touched: 'yes' } } });
    await until(() => opened.length === 1, 'the new rule to fire');
    const first = opened[0] as Detection;
    assert.equal(first.rule, 'short-grace');
    const diff = first.evidence.at(-1)?.diff ?? [];
    assert.deepEqual(diff.map((c) => c.path), ['metadata.labels.touched'], 'the field the reload added is no change');

    // Fewer fields: nothing is listed, the wider cache stays until restart.
    await p.setRules([phase]);
    assert.equal(informer.stats.lists, lists + 1);
    assert.equal(cached().spec?.terminationGracePeriodSeconds, 7);
    // And a pod created now is cached with the fields of the rules in force before the narrowing, not fewer.
    sandbox.store.create('pods', pod('later', 9));
    await until(() => p.cached('sandbox', 'Pod', 'apps')!.some((x) => x.metadata.name === 'later'), 'the new pod');
    assert.equal(p.cached('sandbox', 'Pod', 'apps')!.find((x) => x.metadata.name === 'later')!.spec?.terminationGracePeriodSeconds, 9);
  } finally {
    await pipeline.stop();
    await sandbox.stop();
  }
});

test('retransform: unchanged objects are replaced silently; one changed while relisting comes without its narrower old version', { timeout: 60_000 }, async () => {
  const sandbox = new Sandbox({ speed: 1, nodes: [] });
  await sandbox.listen();
  const kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  const seen: Change[] = [];
  const cm = (name: string, v: string) => ({ metadata: { name, namespace: 'default', labels: { app: 'x' } }, data: { v, w: `w-${v}` } });
  const narrow = objectProjector(fieldTree(['data.v']));
  const wide = objectProjector(fieldTree(['data']));
  const inf = new Informer(new KubeHttp(kc), kindRef('ConfigMap')!, { transform: narrow, onChange: (c) => c.object.metadata.name !== 'kube-root-ca.crt' && seen.push(c) }).start();
  try {
    sandbox.store.create('configmaps', cm('same', '1'));
    sandbox.store.create('configmaps', cm('moving', '1'));
    await inf.synced;
    assert.deepEqual(inf.get('default', 'same')!.data, { v: '1' });
    seen.length = 0;
    // The change reaches the store as the watch is ended: the LIST finds it.
    const live = sandbox.store.get('configmaps', 'default', 'moving')!;
    sandbox.store.update('configmaps', { ...live, data: { v: '1', w: 'w-2' } });
    await inf.retransform(wide);
    assert.deepEqual(inf.get('default', 'same')!.data, { v: '1', w: 'w-1' });
    assert.deepEqual(inf.get('default', 'moving')!.data, { v: '1', w: 'w-2' });
    await until(() => seen.length >= 1, 'the change');
    const moving = seen.filter((c) => c.object.metadata.name === 'moving');
    assert.equal(moving.length, 1, JSON.stringify(seen.map((c) => [c.type, c.object.metadata.name])));
    assert.equal(moving[0]!.type, 'MODIFIED');
    assert.equal(moving[0]!.oldObject, undefined, 'the old object was cut by the old transform');
    assert.ok(!seen.some((c) => c.object.metadata.name === 'same'), 'unchanged: no event');
    // The watch resumes after the LIST: later changes come with their old object, in the new form.
    seen.length = 0;
    const again = sandbox.store.get('configmaps', 'default', 'same')!;
    sandbox.store.update('configmaps', { ...again, data: { v: '2', w: 'w-1' } });
    await until(() => seen.length === 1, 'a watched change');
    assert.deepEqual(seen[0]!.oldObject?.data, { v: '1', w: 'w-1' });
    assert.equal(inf.stats.lists, 2);
  } finally {
    inf.stop();
    await sandbox.stop();
  }
});
