import { test } from 'node:test';
import assert from 'node:assert/strict';
import { k8sTime } from '../../src/common/clock.ts';
import { DeploymentController } from '../../src/sandbox/controllers/deployment.ts';
import { ReplicaSetController } from '../../src/sandbox/controllers/replicaset.ts';
import type { Controller, ControllerContext } from '../../src/sandbox/controllers/controller.ts';
import { isPodReady } from '../../src/sandbox/controllers/podutil.ts';
import { resolveFenceposts } from '../../src/sandbox/controllers/deployment-status.ts';
import type { K8sObject } from '../../src/sandbox/types.ts';
import { harness, type Harness } from './harness.ts';

/**
 * Stands in for the scheduler and kubelet: binds each new pod, makes it
 * Running and Ready after `readyAfterMs` (never, for images containing
 * "broken"), and finishes terminating pods after a second.
 */
function fakeKubelet(readyAfterMs = 2000): Controller {
  let off: (() => void) | undefined;
  return {
    name: 'fake-kubelet',
    start(ctx: ControllerContext) {
      const { store, clock } = ctx;
      off = store.subscribe((ev) => {
        if (ev.storage !== 'pods' || ev.type === 'DELETED') return;
        const p = ev.object;
        const ns = p.metadata.namespace;
        const name = p.metadata.name!;
        if (ev.type === 'ADDED') {
          clock.setTimeout(() => {
            const ready = !p.spec.containers.some((c: any) => c.image.includes('broken'));
            store.mutate('pods', ns, name, (o) => { o.spec.nodeName = 'node-1'; });
            store.mutate('pods', ns, name, (o) => { o.status = podStatus(clock.now(), ready); }, { subresource: 'status' });
          }, readyAfterMs);
        } else if (p.metadata.deletionTimestamp && !ev.old?.metadata.deletionTimestamp) {
          clock.setTimeout(() => { const cur = store.get('pods', ns, name); if (cur) store.remove('pods', cur); }, 1000);
        }
      });
    },
    stop() { off?.(); },
  };
}

function podStatus(now: number, ready: boolean): any {
  const t = k8sTime(now);
  const r = ready ? 'True' : 'False';
  return {
    phase: 'Running',
    conditions: [
      { type: 'Initialized', status: 'True', lastTransitionTime: t },
      { type: 'Ready', status: r, lastTransitionTime: t },
      { type: 'ContainersReady', status: r, lastTransitionTime: t },
      { type: 'PodScheduled', status: 'True', lastTransitionTime: t },
    ],
    containerStatuses: [{ name: 'app', ready, restartCount: 0, started: true, state: { running: { startedAt: t } } }],
  };
}

function deployment(name: string, spec: Record<string, any> = {}, image = 'nginx:1.27'): K8sObject {
  return {
    metadata: { name, namespace: 'default' },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image }] } },
      ...spec,
    },
  };
}

async function settle(h: Harness, ms = 0): Promise<void> {
  for (let i = 0; i < 10; i++) await h.advance(0);
  if (ms) await h.advance(ms);
}

function setup(readyAfterMs?: number): Harness {
  const h = harness();
  h.run(new DeploymentController(), new ReplicaSetController(), fakeKubelet(readyAfterMs));
  return h;
}

const getD = (h: Harness, name: string) => h.store.get('apps/deployments', 'default', name)!;
const replicaSets = (h: Harness) => h.store.list('apps/replicasets', 'default').items;
const activePods = (h: Harness) => h.store.list('pods', 'default').items.filter((p) => !p.metadata.deletionTimestamp);
const cond = (d: K8sObject, type: string) => d.status?.conditions?.find((c: any) => c.type === type);

function setImage(h: Harness, name: string, image: string): void {
  const d = getD(h, name);
  d.spec.template.spec.containers[0].image = image;
  h.store.update('apps/deployments', d);
}

/** What `kubectl rollout status` checks before printing "successfully rolled out". */
function rolledOut(d: K8sObject): boolean {
  const s = d.status ?? {};
  return (s.observedGeneration ?? 0) >= d.metadata.generation! && (s.updatedReplicas ?? 0) === d.spec.replicas &&
    (s.replicas ?? 0) === (s.updatedReplicas ?? 0) && (s.availableReplicas ?? 0) === (s.updatedReplicas ?? 0) &&
    cond(d, 'Progressing')?.reason !== 'ProgressDeadlineExceeded';
}

test('a new Deployment gets a hashed ReplicaSet at revision 1 and three ready pods', async () => {
  const h = setup();
  h.store.create('apps/deployments', deployment('web'));
  await settle(h, 5000);
  const [rs] = replicaSets(h);
  const hash = rs.metadata.labels!['pod-template-hash'];
  assert.match(hash, /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
  assert.equal(rs.metadata.name, `web-${hash}`);
  assert.equal(rs.spec.selector.matchLabels['pod-template-hash'], hash);
  assert.equal(rs.spec.template.metadata.labels['pod-template-hash'], hash);
  assert.equal(rs.metadata.annotations!['deployment.kubernetes.io/revision'], '1');
  assert.equal(rs.metadata.annotations!['deployment.kubernetes.io/desired-replicas'], '3');
  assert.equal(rs.metadata.annotations!['deployment.kubernetes.io/max-replicas'], '4');
  assert.deepEqual(rs.metadata.ownerReferences!.map((r) => [r.kind, r.name, r.controller, r.blockOwnerDeletion]), [['Deployment', 'web', true, true]]);
  const pods = activePods(h);
  assert.equal(pods.length, 3);
  assert.ok(pods.every((p) => p.metadata.name!.startsWith(`${rs.metadata.name}-`) && p.metadata.labels!['pod-template-hash'] === hash));

  const d = getD(h, 'web');
  assert.equal(d.metadata.annotations!['deployment.kubernetes.io/revision'], '1');
  assert.deepEqual(
    { r: d.status.replicas, u: d.status.updatedReplicas, rd: d.status.readyReplicas, a: d.status.availableReplicas, g: d.status.observedGeneration },
    { r: 3, u: 3, rd: 3, a: 3, g: 1 },
  );
  assert.equal(d.status.unavailableReplicas, undefined);
  assert.equal(cond(d, 'Available').reason, 'MinimumReplicasAvailable');
  assert.equal(cond(d, 'Available').message, 'Deployment has minimum availability.');
  assert.equal(cond(d, 'Progressing').reason, 'NewReplicaSetAvailable');
  assert.equal(cond(d, 'Progressing').message, `ReplicaSet "${rs.metadata.name}" has successfully progressed.`);
  assert.ok(rolledOut(d));
  assert.deepEqual(h.events('ScalingReplicaSet').map((e) => e.message), [`Scaled up replica set ${rs.metadata.name} from 0 to 3`]);
  assert.equal(h.events('ScalingReplicaSet')[0].source.component, 'deployment-controller');
  assert.equal(h.events('SuccessfulCreate', rs.metadata.name).length, 3);
  // Level-based and quiet: nothing is rewritten once the rollout has settled.
  const rv = h.store.resourceVersion();
  await settle(h, 700_000);
  assert.equal(h.store.resourceVersion(), rv);
  h.stop();
});

test('a template change rolls out within maxSurge and maxUnavailable at every step', async () => {
  const h = setup(3000);
  h.store.create('apps/deployments', deployment('web', { replicas: 4, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } } }));
  await settle(h, 5000);
  const oldRS = replicaSets(h)[0];
  setImage(h, 'web', 'nginx:1.28');
  let sawNew = false;
  for (let t = 0; t < 60; t++) {
    await h.advance(1000);
    const pods = activePods(h);
    assert.ok(pods.length <= 5, `at most replicas+surge pods, saw ${pods.length}`);
    assert.ok(pods.filter(isPodReady).length >= 3, 'at least replicas-unavailable available');
    const specs = replicaSets(h).reduce((n, rs) => n + rs.spec.replicas, 0);
    assert.ok(specs <= 5);
    if (replicaSets(h).length === 2) sawNew = true;
  }
  assert.ok(sawNew);
  const all = replicaSets(h);
  const newRS = all.find((rs) => rs.metadata.uid !== oldRS.metadata.uid)!;
  assert.equal(newRS.metadata.annotations!['deployment.kubernetes.io/revision'], '2');
  assert.equal(h.store.get('apps/replicasets', 'default', oldRS.metadata.name!)!.spec.replicas, 0);
  assert.equal(newRS.spec.replicas, 4);
  const d = getD(h, 'web');
  assert.equal(d.metadata.annotations!['deployment.kubernetes.io/revision'], '2');
  assert.equal(cond(d, 'Progressing').reason, 'NewReplicaSetAvailable');
  assert.ok(rolledOut(d));
  const msgs = h.events('ScalingReplicaSet').map((e) => e.message);
  assert.ok(msgs.includes(`Scaled up replica set ${newRS.metadata.name} from 0 to 1`), msgs.join('\n'));
  assert.ok(msgs.includes(`Scaled down replica set ${oldRS.metadata.name} from 4 to 3`), msgs.join('\n'));
  assert.ok(msgs.includes(`Scaled down replica set ${oldRS.metadata.name} from 1 to 0`), msgs.join('\n'));
  h.stop();
});

test('rolling back to an old template re-uses its ReplicaSet with a new revision', async () => {
  const h = setup();
  h.store.create('apps/deployments', deployment('web'));
  await settle(h, 10_000);
  const first = replicaSets(h)[0];
  setImage(h, 'web', 'nginx:1.28');
  await settle(h, 30_000);
  assert.equal(replicaSets(h).length, 2);
  // kubectl rollout undo: the old ReplicaSet's template minus its hash label.
  const d = getD(h, 'web');
  const tpl = structuredClone(first.spec.template);
  delete tpl.metadata.labels['pod-template-hash'];
  d.spec.template = tpl;
  h.store.update('apps/deployments', d);
  await settle(h, 30_000);
  assert.equal(replicaSets(h).length, 2, 'no third ReplicaSet');
  const back = h.store.get('apps/replicasets', 'default', first.metadata.name!)!;
  assert.equal(back.metadata.annotations!['deployment.kubernetes.io/revision'], '3');
  assert.equal(back.metadata.annotations!['deployment.kubernetes.io/revision-history'], '1');
  assert.equal(back.spec.replicas, 3);
  const other = replicaSets(h).find((rs) => rs.metadata.name !== first.metadata.name)!;
  assert.equal(other.spec.replicas, 0);
  assert.equal(other.metadata.annotations!['deployment.kubernetes.io/revision'], '2');
  const after = getD(h, 'web');
  assert.equal(after.metadata.annotations!['deployment.kubernetes.io/revision'], '3');
  assert.ok(rolledOut(after));
  const pods27 = activePods(h);
  assert.ok(pods27.length > 0 && pods27.every((p) => p.spec.containers[0].image === 'nginx:1.27'));
  h.stop();
});

test('pods that never become ready exceed the progress deadline in cluster time', async () => {
  const h = setup();
  h.store.create('apps/deployments', deployment('web', { progressDeadlineSeconds: 60 }));
  await settle(h, 10_000);
  setImage(h, 'web', 'broken:1');
  await settle(h, 30_000);
  let d = getD(h, 'web');
  assert.equal(cond(d, 'Progressing').status, 'True');
  assert.equal(cond(d, 'Progressing').reason, 'ReplicaSetUpdated');
  await h.advance(40_000);
  await settle(h);
  d = getD(h, 'web');
  const newRS = replicaSets(h).find((rs) => rs.spec.template.spec.containers[0].image === 'broken:1')!;
  const p = cond(d, 'Progressing');
  assert.equal(p.status, 'False');
  assert.equal(p.reason, 'ProgressDeadlineExceeded');
  assert.equal(p.message, `ReplicaSet "${newRS.metadata.name}" has timed out progressing.`);
  // 25% of 3 rounds down to 0 unavailable and up to 1 surge: one broken pod, all old ones kept.
  assert.equal(newRS.spec.replicas, 1);
  assert.equal(cond(d, 'Available').status, 'True');
  assert.equal(activePods(h).filter(isPodReady).length, 3);
  assert.ok(!rolledOut(d));
  h.stop();
});

test('scaling resizes the ReplicaSet, and mid-rollout scaling is proportional', async () => {
  const h = setup();
  h.store.create('apps/deployments', deployment('web'));
  await settle(h, 5000);
  const scale = (n: number) => {
    const d = getD(h, 'web');
    d.spec.replicas = n;
    h.store.update('apps/deployments', d);
  };
  const rsName = replicaSets(h)[0].metadata.name!;
  scale(5);
  await settle(h, 5000);
  assert.equal(activePods(h).length, 5);
  scale(2);
  await settle(h, 5000);
  assert.equal(activePods(h).length, 2);
  const msgs = h.events('ScalingReplicaSet').map((e) => e.message);
  assert.ok(msgs.includes(`Scaled up replica set ${rsName} from 3 to 5`));
  assert.ok(msgs.includes(`Scaled down replica set ${rsName} from 5 to 2`));

  scale(10);
  await settle(h, 5000);
  const d = getD(h, 'web');
  d.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } };
  d.spec.template.spec.containers[0].image = 'broken:2';
  h.store.update('apps/deployments', d);
  await settle(h, 10_000);
  const sizes = () => Object.fromEntries(replicaSets(h).map((rs) => [rs.metadata.name === rsName ? 'old' : 'new', rs.spec.replicas]));
  assert.deepEqual(sizes(), { old: 8, new: 5 });
  scale(20);
  await settle(h, 2000);
  // 13 replicas scaled to 20 + 3 surge = 23: old 8*23/13 = 14, new gets the rest (9).
  assert.deepEqual(sizes(), { old: 14, new: 9 });
  const after = getD(h, 'web');
  assert.equal(replicaSets(h).find((rs) => rs.metadata.name === rsName)!.metadata.annotations!['deployment.kubernetes.io/desired-replicas'], '20');
  assert.equal(after.status.observedGeneration, after.metadata.generation);
  h.stop();
});

test('revisionHistoryLimit deletes the oldest empty ReplicaSets', async () => {
  const h = setup();
  h.store.create('apps/deployments', deployment('web', { revisionHistoryLimit: 1 }));
  await settle(h, 10_000);
  for (const image of ['nginx:2', 'nginx:3', 'nginx:4']) {
    setImage(h, 'web', image);
    await settle(h, 30_000);
    assert.ok(rolledOut(getD(h, 'web')));
  }
  await settle(h, 1000);
  const left = replicaSets(h).map((rs) => [rs.spec.template.spec.containers[0].image, rs.metadata.annotations!['deployment.kubernetes.io/revision']]).sort();
  assert.deepEqual(left, [['nginx:3', '3'], ['nginx:4', '4']]);
  h.stop();
});

test('Recreate scales the old ReplicaSet to zero and waits for its pods before starting new ones', async () => {
  const h = setup();
  h.store.create('apps/deployments', deployment('web', { strategy: { type: 'Recreate' } }));
  await settle(h, 5000);
  setImage(h, 'web', 'nginx:1.28');
  let overlap = false;
  for (let t = 0; t < 20; t++) {
    await h.advance(500);
    const images = new Set(h.store.list('pods', 'default').items.map((p) => p.spec.containers[0].image));
    if (images.size > 1) overlap = true;
  }
  assert.equal(overlap, false, 'old and new pods never coexist');
  assert.ok(rolledOut(getD(h, 'web')));
  const pods28 = activePods(h);
  assert.ok(pods28.length > 0 && pods28.every((p) => p.spec.containers[0].image === 'nginx:1.28'));
  h.stop();
});

test('a paused Deployment does not roll out until resumed', async () => {
  const h = setup();
  h.store.create('apps/deployments', deployment('web'));
  await settle(h, 5000);
  let d = getD(h, 'web');
  d.spec.paused = true;
  d.spec.template.spec.containers[0].image = 'nginx:1.28';
  h.store.update('apps/deployments', d);
  await settle(h, 10_000);
  assert.equal(replicaSets(h).length, 1);
  d = getD(h, 'web');
  assert.deepEqual([cond(d, 'Progressing').status, cond(d, 'Progressing').reason, cond(d, 'Progressing').message], ['Unknown', 'DeploymentPaused', 'Deployment is paused']);
  assert.equal(d.status.observedGeneration, d.metadata.generation);
  d.spec.paused = false;
  h.store.update('apps/deployments', d);
  await settle(h, 30_000);
  d = getD(h, 'web');
  assert.equal(replicaSets(h).length, 2);
  assert.ok(rolledOut(d));
  assert.equal(cond(d, 'Progressing').reason, 'NewReplicaSetAvailable');
  h.stop();
});

test('surge rounds up, unavailable rounds down, and both zero still lets one pod go', () => {
  const fp = (replicas: number, maxSurge: number | string, maxUnavailable: number | string) =>
    resolveFenceposts({ metadata: {}, spec: { replicas, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge, maxUnavailable } } } });
  assert.deepEqual(fp(10, '25%', '25%'), { surge: 3, unavailable: 2 });
  assert.deepEqual(fp(3, '25%', '25%'), { surge: 1, unavailable: 0 });
  assert.deepEqual(fp(4, 0, '10%'), { surge: 0, unavailable: 1 });
  assert.deepEqual(fp(5, 2, 1), { surge: 2, unavailable: 1 });
});
