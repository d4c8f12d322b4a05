// The sandbox's state file: a sandbox abandoned mid-scenario (a crash: no
// stop(), nothing flushed) comes back from what is on disk with the same
// objects, a resourceVersion counter past anything the dead one handed out,
// its virtual time, and the scenario carrying on without repeating a step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/common/clock.ts';
import { Sandbox } from '../../src/sandbox/cluster.ts';
import { resolveScenario, playFast, type FastPlay, type ScenarioReport } from '../../src/sandbox/scenarios/index.ts';
import { savedVirtualTime, type SandboxState } from '../../src/sandbox/state.ts';
import { StateWriter } from '../../src/sandbox/state-writer.ts';
import type { K8sObject } from '../../src/sandbox/types.ts';

const TIMEOUT = { timeout: 120_000 };
const crashloop = resolveScenario('crashloop').scenario;
const memoryCascade = resolveScenario('memory-cascade').scenario;

const tmp = () => mkdtempSync(join(tmpdir(), 'km-state-'));
const readState = (file: string): SandboxState => JSON.parse(readFileSync(file, 'utf8'));
const reachedAt = (r: ScenarioReport) => Object.fromEntries(r.milestones.map((m) => [m.name, m.reachedAtMs]));

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Plays `untilMs` of a scenario with a state file, waits for the writer's own
 * batch to put that moment on disk, lets more happen, and copies the file
 * before the next batch: what a kill -9 at that instant leaves behind.
 */
async function crashAt(scenario: typeof crashloop, untilMs: number, file: string) {
  const play = playFast(scenario, {}, { stateFile: file, stateWriteIntervalMs: 1500 });
  await play.run(untilMs);
  const savedAt = play.clock.now();
  await until(() => play.sandbox.stateStats?.lastSavedAt === savedAt, 'the batched write of the paused sandbox');
  await play.run(untilMs + 15_000);
  const crashed = `${file}.crashed`;
  copyFileSync(file, crashed);
  assert.equal(play.sandbox.stateStats!.lastSavedAt, savedAt, 'the changes after the last batch were still pending when it "died"');
  return { play, crashed, savedAt };
}

/** Stops a play that the test abandoned, once it no longer matters (its writes go to the original file). */
async function bury(play: FastPlay): Promise<void> {
  play.runner.stop();
  await play.sandbox.stop();
}

test('a crashed sandbox comes back from its state file and the scenario carries on', TIMEOUT, async () => {
  const dir = tmp();
  const { play: dead, crashed, savedAt } = await crashAt(crashloop, 75_000, join(dir, 'state.json'));
  const saved = readState(crashed);
  const deadRV = dead.sandbox.store.resourceVersion();
  assert.ok(deadRV > saved.resourceVersion, 'the dead sandbox wrote more than its file holds');

  const steps: string[] = [];
  const play = playFast(crashloop, { onStep: (s) => steps.push(s.name ?? '') }, { stateFile: crashed });
  try {
    const sb = play.sandbox;
    assert.equal(sb.restored?.savedAt, savedAt);
    assert.ok(play.clock.now() >= savedAt, 'virtual time continues from the snapshot');

    // Every object, with its uid, name, creation time and spec.
    let count = 0;
    for (const [storage, items] of Object.entries(saved.objects)) {
      for (const o of items) {
        const now = sb.store.get(storage, o.metadata.namespace, o.metadata.name!);
        assert.ok(now, `${storage} ${o.metadata.namespace}/${o.metadata.name} restored`);
        assert.equal(now.metadata.uid, o.metadata.uid);
        assert.equal(now.metadata.creationTimestamp, o.metadata.creationTimestamp);
        // A lease's spec is its heartbeat: the node agents renew them as they start.
        if (storage !== 'coordination.k8s.io/leases') assert.deepEqual(now.spec, o.spec, `${storage} ${o.metadata.name} spec`);
        count++;
      }
    }
    assert.equal(sb.restored!.objectCount, count);
    // …and they are the dead sandbox's objects, not look-alikes.
    for (const storage of ['apps/deployments', 'apps/replicasets', 'namespaces', 'nodes']) {
      const uids = (items: K8sObject[]) => items.map((o) => `${o.metadata.name}=${o.metadata.uid}`).sort();
      assert.deepEqual(uids(sb.store.list(storage).items), uids(dead.sandbox.store.list(storage).items), storage);
    }

    // The counter starts past every resourceVersion the dead sandbox handed out, and older ones are gone (410).
    assert.ok(sb.store.resourceVersion() > deadRV, `${sb.store.resourceVersion()} > ${deadRV}`);
    assert.throws(() => sb.store.watch(undefined, deadRV, () => {}), (e: any) => e.code === 410);
    assert.throws(() => sb.store.watch(undefined, saved.resourceVersion, () => {}), (e: any) => e.code === 410);

    // The scenario resumes: steps done stay done, milestones reached stay reached, elapsed time continues.
    assert.deepEqual(play.runner.resumed?.appliedSteps, [0, 1]);
    assert.ok(play.runner.elapsedMs >= 75_000);
    const before = play.runner.report();
    for (const m of saved.progress!.milestones) {
      if (m.reachedAtMs !== undefined) assert.equal(before.milestones.find((x) => x.name === m.name)!.reachedAtMs, m.reachedAtMs, m.name);
    }
    assert.ok(before.milestones.find((m) => m.name === 'new-revision')!.reachedAtMs !== undefined);
    const writesBefore = sb.store.writes.get('update apps/deployments') ?? 0;
    const report = await play.run();
    assert.deepEqual(steps, [], 'no step is applied again');
    assert.equal(sb.store.writes.get('update apps/deployments') ?? 0, writesBefore, 'the bad version is not deployed twice');
    assert.ok(report.ok, JSON.stringify(report.milestones));
    assert.ok(report.elapsedMs >= crashloop.spec.duration);
  } finally {
    await bury(play);
    await bury(dead);
  }
});

// A restore that re-derived the kubelets' containers, the node controller's
// heartbeat clock or its pending taint evictions would shift what happens
// next: restart counts reset, NotReady and evictions come later.
for (const [scenario, cutMs] of [[crashloop, 100_000], [memoryCascade, 400_000]] as const) {
  test(`${scenario.metadata.name} restored at +${cutMs / 1000}s plays out exactly as an uninterrupted run`, TIMEOUT, async () => {
    const dir = tmp();
    const plain = playFast(scenario);
    const { play: dead, crashed } = await crashAt(scenario, cutMs, join(dir, 'state.json'));
    const play = playFast(scenario, {}, { stateFile: crashed });
    try {
      const [want, got] = [await plain.run(), await play.run()];
      assert.deepEqual(reachedAt(got), reachedAt(want));
      const pods = (p: FastPlay) => p.sandbox.store.list('pods').items
        .map((o) => `${o.metadata.namespace} ${o.spec.nodeName} ${o.status?.phase} restarts=${(o.status?.containerStatuses ?? []).map((c: any) => c.restartCount)}`).sort();
      assert.deepEqual(pods(play), pods(plain));
      const events = (p: FastPlay) => p.sandbox.store.list('events').items.map((e) => `${e.reason} x${e.count}`).sort();
      assert.deepEqual(events(play), events(plain), 'repeated events keep aggregating into the same Event');
    } finally {
      await bury(plain);
      await bury(play);
      await bury(dead);
    }
  });
}

test('writes are batched, atomic, and a clean stop writes the last state', TIMEOUT, async () => {
  const file = join(tmp(), 'state.json');
  const t0 = performance.now();
  const play = playFast(crashloop, {}, { stateFile: file });
  await play.run();
  const realMs = performance.now() - t0;
  const stats = play.sandbox.stateStats!;
  const storeWrites = [...play.sandbox.store.writes.values()].reduce((a, b) => a + b, 0);
  assert.ok(stats.writes <= Math.ceil(realMs / 250) + 2, `${stats.writes} snapshots in ${Math.round(realMs)}ms`);
  assert.ok(storeWrites > 10 * stats.writes, `${storeWrites} object writes, ${stats.writes} snapshots`);
  play.runner.stop();
  await play.sandbox.stop();
  assert.equal(savedVirtualTime(file), play.clock.now());
  assert.equal(readState(file).progress?.finished, true);
  assert.deepEqual(readdirSync(join(file, '..')), ['state.json'], 'no temporary file is left behind');
  assert.equal(statSync(file).mode & 0o777, 0o600, 'Secrets are in there: owner only');

  // A finished scenario stays finished.
  const again = playFast(crashloop, {}, { stateFile: file });
  const report = await again.runner.finished;
  assert.ok(report.ok);
  await bury(again);
});

test('injected faults, container logs and the image catalogue survive a restore', TIMEOUT, async () => {
  const file = join(tmp(), 'state.json');
  const clock = new ManualClock();
  const a = new Sandbox({ clock, stateFile: file, scenario: null }).start();
  a.faults.add({ verb: 'patch', resource: 'apps/deployments', code: 500, times: 2 });
  a.faults.add({ verb: 'delete', resource: 'pods', code: 403 });
  assert.ok(a.faults.take('patch', 'apps/deployments', 'default', 'web'));
  a.images.set('shop/api:2', { exitAfterSeconds: 5 });
  a.logs.append('default', 'web-1', 'app', 'hello');
  await a.stop();

  const b = new Sandbox({ clock: new ManualClock(savedVirtualTime(file)), stateFile: file, scenario: null });
  assert.ok(b.faults.take('patch', 'apps/deployments', 'default', 'web'), 'one use left');
  assert.equal(b.faults.take('patch', 'apps/deployments', 'default', 'web'), undefined);
  for (let i = 0; i < 3; i++) assert.ok(b.faults.take('delete', 'pods', 'default', 'x'), 'a fault without `times` stays for good');
  assert.equal(b.images.get('shop/api:2')?.exitAfterSeconds, 5);
  assert.deepEqual(b.logs.read('default', 'web-1', 'app'), ['hello']);
  assert.equal(existsSync(file), true);
});

test('usage and the kubelets\' report times survive a restore: metrics.k8s.io answers at once, with the same sample', TIMEOUT, async () => {
  const file = join(tmp(), 'state.json');
  const clock = new ManualClock();
  const a = new Sandbox({ clock, stateFile: file, scenario: null }).start();
  a.store.create('pods', { metadata: { name: 'web', namespace: 'default' }, spec: { nodeName: 'node-1', containers: [{ name: 'app', image: 'nginx:1.27' }] } });
  for (let i = 0; i < 30; i++) await clock.advance(1000);
  await a.listen();
  const path = '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/web';
  const before: any = await (await fetch(a.url + path)).json();
  const node: any = await (await fetch(`${a.url}/apis/metrics.k8s.io/v1beta1/nodes/node-1`)).json();
  assert.equal(before.kind, 'PodMetrics');
  await a.stop();

  const b = new Sandbox({ clock: new ManualClock(savedVirtualTime(file)), stateFile: file, scenario: null });
  await b.listen();
  try {
    const after: any = await (await fetch(b.url + path)).json();
    assert.deepEqual([after.timestamp, after.window, after.containers], [before.timestamp, before.window, before.containers]);
    const n: any = await (await fetch(`${b.url}/apis/metrics.k8s.io/v1beta1/nodes/node-1`)).json();
    assert.deepEqual([n.timestamp, n.usage], [node.timestamp, node.usage]);
  } finally {
    await b.stop();
  }
  // A state file from before report times were kept holds the bare pod list: usage comes back, metrics after two reports.
  const old = readState(file);
  const pods = (old.books.usage as { pods: unknown[] }).pods.map(([k, p]: any) => [k, { node: p.node, containers: p.containers }]);
  const oldFile = join(tmp(), 'state.json');
  writeFileSync(oldFile, JSON.stringify({ ...old, books: { ...old.books, usage: pods } }));
  const c = new Sandbox({ clock: new ManualClock(savedVirtualTime(oldFile)), stateFile: oldFile, scenario: null });
  assert.equal(c.usage.pod('default', 'web')?.containers.get('app')?.memoryBytes, 32 * 2 ** 20);
  assert.equal(c.usage.pod('default', 'web')?.reports, undefined);
  await c.stop();
});

test('each snapshot holds the latest version of every object', TIMEOUT, async () => {
  const file = join(tmp(), 'state.json');
  const sb = new Sandbox({ clock: new ManualClock(), stateFile: file, scenario: null }).start();
  const cm = (v: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'default' }, data: { v } });
  sb.store.create('configmaps', cm('1'));
  await sb.flushState();
  const current = sb.store.get('configmaps', 'default', 'settings')!;
  sb.store.update('configmaps', { ...cm('2'), metadata: { ...cm('2').metadata, resourceVersion: current.metadata.resourceVersion } });
  await sb.flushState();
  const saved = readState(file).objects.configmaps.find((o) => o.metadata.name === 'settings')!;
  assert.equal(saved.data.v, '2');
  await sb.stop();
});

test('a slow snapshot spaces the batches out, so it never takes more than a tenth of the time', TIMEOUT, async () => {
  const file = join(tmp(), 'state.json');
  const writer = new StateWriter({
    file,
    intervalMs: 10,
    build: () => {
      const end = performance.now() + 40;
      while (performance.now() < end); // a big cluster's serialization
      return { text: '{}', savedAt: 0 };
    },
  });
  writer.writeSync();
  const t0 = performance.now();
  while (performance.now() - t0 < 1500) {
    writer.markDirty();
    await new Promise((r) => setTimeout(r, 5));
  }
  await writer.close();
  // Without the spacing a 10 ms interval would give ~30 writes of 40 ms each.
  assert.ok(writer.stats.writes <= 6, `${writer.stats.writes} writes`);
  assert.ok(writer.stats.writes >= 3, `${writer.stats.writes} writes: batches still happen`);
});

test('a state write that fails is reported once, retried, and fails a flush', TIMEOUT, async () => {
  const dir = tmp();
  const file = join(dir, 'sub', 'state.json');
  mkdirSync(join(dir, 'sub'));
  const errors: string[] = [];
  const writer = new StateWriter({ file, intervalMs: 10, build: () => ({ text: '{}', savedAt: 1 }), onError: (e) => errors.push(`${e.code} ${e.message}`) });
  writer.writeSync();
  rmSync(join(dir, 'sub'), { recursive: true });
  for (let i = 0; i < 10; i++) {
    writer.markDirty();
    await new Promise((r) => setTimeout(r, 20));
  }
  await assert.rejects(writer.flush(), (e: any) => e.code === 'KM-SANDBOX-007');
  assert.equal(errors.length, 1, errors.join('\n'));
  assert.match(errors[0], /^KM-SANDBOX-007 cannot write the sandbox state file .*ENOENT/);
  mkdirSync(join(dir, 'sub'));
  await writer.close();
  assert.equal(readFileSync(file, 'utf8'), '{}', 'the next batch after the disk is back writes it');
});

test('a container\'s command carries on after a restore: the loop where it was, the exit when due', TIMEOUT, async () => {
  const file = join(tmp(), 'state.json');
  const clock = new ManualClock();
  const a = new Sandbox({ clock, stateFile: file, scenario: null }).start();
  a.store.create('pods', { metadata: { name: 'job', namespace: 'default' }, spec: { nodeName: 'node-1', restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'for i in 1 2 3 4; do echo "step $i"; sleep 10; done; exit 4'] }] } });
  for (let i = 0; i < 25; i++) await clock.advance(1000);
  assert.deepEqual(a.logs.read('default', 'job', 'c'), ['step 1', 'step 2', 'step 3']);
  await a.stop();

  const bClock = new ManualClock(savedVirtualTime(file));
  const b = new Sandbox({ clock: bClock, stateFile: file, scenario: null }).start();
  try {
    for (let i = 0; i < 30; i++) await bClock.advance(1000);
    assert.deepEqual(b.logs.read('default', 'job', 'c'), ['step 1', 'step 2', 'step 3', 'step 4']);
    const t = b.store.get('pods', 'default', 'job')!.status.containerStatuses[0].state.terminated;
    assert.deepEqual([t.exitCode, t.reason], [4, 'Error']);
    assert.equal(Date.parse(t.finishedAt) - Date.parse(t.startedAt), 40_000, 'the command ran its 40 seconds across the restart');
  } finally {
    await b.stop();
  }
});
