// The ObservationLog's live placement table answers as a PlacementIndex
// built from every remembered placement (the scan the tracker used to make
// per detection), and selects for a snapshot exactly the placements the
// scope filter accepts, in the same order — through creates, node moves,
// deletions, pods recreated under a name, trimming, and a `since` that moves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ObservationLog, PlacementIndex, type Placement } from '../../src/incidents/index.ts';
import type { KubeObject } from '../../src/kube/types.ts';

/** A deterministic generator, so a failure replays. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

const NODES = ['n1', 'n2', 'n3', 'n4'];
const DEPLOYS = ['api', 'web', 'db', 'cache', 'worker'];
const NAMESPACES = ['a', 'b'];

function pod(ns: string, name: string, deploy: string | undefined, node: string | undefined): KubeObject {
  const hash = 'h1';
  return {
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: deploy ? { 'pod-template-hash': hash } : {}, ...(deploy ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${deploy}-${hash}`, uid: 'u', controller: true }] } : {}) },
    spec: node ? { nodeName: node } : {},
    status: {},
  };
}

/** What the old code computed: an index and a filter over placements(cluster). */
function scanSelect(all: Placement[], q: { workloads: Set<string>; nodes: Set<string>; objects: Set<string> }): Placement[] {
  return all.filter((p) => q.workloads.has(p.workload) || (p.node !== undefined && q.nodes.has(p.node)) || q.objects.has(`Pod/${p.namespace}/${p.pod}`));
}

test('the live placement table answers as an index rebuilt from every placement', { timeout: 60_000 }, () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const r = rng(seed);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
    // A small capacity, so trimming (deleted pods first, then the oldest) happens often.
    const log = new ObservationLog({ placementCapacity: 40 });
    let time = 1000;
    const names = Array.from({ length: 60 }, (_, i) => `p${i}`);
    for (let step = 0; step < 1500; step++) {
      time += Math.floor(r() * 50);
      const cluster = r() < 0.85 ? 'c1' : 'c2';
      const ns = pick(NAMESPACES);
      const name = pick(names);
      const deploy = r() < 0.8 ? pick(DEPLOYS) : undefined;
      const node = r() < 0.9 ? pick(NODES) : undefined;
      const op = r() < 0.15 ? 'delete' : r() < 0.5 ? 'create' : 'update';
      log.observe({ source: 'object', cluster, time, operation: op, object: pod(ns, name, deploy, node), ...(op === 'update' ? { oldObject: pod(ns, name, deploy, node) } : {}) });
      if (step % 25 !== 0) continue;
      for (const c of ['c1', 'c2']) {
        const all = log.placements(c);
        const table = log.table(c);
        assert.equal(table.size, all.length);
        for (const since of [0, time - 200, time - 40, time + 1]) {
          const want = new PlacementIndex(all, since);
          const got = table.view(since);
          const workloads = new Set([...all.map((p) => p.workload), ...DEPLOYS.map((d) => `Deployment/a/${d}`), 'Pod/a/nope']);
          for (const w of workloads) assert.deepEqual(got.nodesOf(w), want.nodesOf(w), `seed ${seed} step ${step} ${c}: nodes of ${w} since ${since}`);
          for (const ns of NAMESPACES) for (const n of names) assert.equal(got.pod(`${ns}/${n}`), want.pod(`${ns}/${n}`), `seed ${seed} step ${step}: pod ${ns}/${n}`);
        }
        for (let k = 0; k < 5; k++) {
          const q = {
            workloads: new Set(DEPLOYS.filter(() => r() < 0.3).map((d) => `Deployment/${pick(NAMESPACES)}/${d}`)),
            nodes: new Set(NODES.filter(() => r() < 0.3)),
            objects: new Set([...names.filter(() => r() < 0.1).map((n) => `Pod/${pick(NAMESPACES)}/${n}`), 'Deployment/a/api']),
          };
          assert.deepEqual(table.select(q), scanSelect(all, q), `seed ${seed} step ${step} ${c}: select`);
        }
      }
    }
  }
});

test('a pod moved to another node is found on the new node only, and a trimmed pod nowhere', { timeout: 10_000 }, () => {
  const log = new ObservationLog({ placementCapacity: 2 });
  log.observe({ source: 'object', cluster: 'c', time: 1, operation: 'create', object: pod('a', 'x', 'api', 'n1') });
  log.observe({ source: 'object', cluster: 'c', time: 2, operation: 'update', object: pod('a', 'x', 'api', 'n2'), oldObject: pod('a', 'x', 'api', 'n1') });
  const t = log.table('c');
  assert.deepEqual(t.select({ workloads: [], nodes: ['n1'], objects: [] }), []);
  assert.deepEqual(t.select({ workloads: [], nodes: ['n2'], objects: [] }).map((p) => p.pod), ['x']);
  assert.deepEqual(t.view(0).nodesOf('Deployment/a/api'), ['n2']);
  log.observe({ source: 'object', cluster: 'c', time: 3, operation: 'create', object: pod('a', 'y', 'web', 'n1') });
  log.observe({ source: 'object', cluster: 'c', time: 4, operation: 'create', object: pod('a', 'z', 'web', 'n1') });
  assert.equal(t.pod('a/x'), undefined, 'the oldest was trimmed');
  assert.deepEqual(t.select({ workloads: ['Deployment/a/api'], nodes: ['n2'], objects: ['Pod/a/x'] }), []);
  assert.deepEqual(t.view(0).nodesOf('Deployment/a/web'), ['n1']);
  log.observe({ source: 'object', cluster: 'c', time: 5, operation: 'delete', object: pod('a', 'y', 'web', 'n1') });
  log.observe({ source: 'object', cluster: 'c', time: 6, operation: 'delete', object: pod('a', 'z', 'web', 'n1') });
  assert.deepEqual(t.view(5).nodesOf('Deployment/a/web'), ['n1'], 'deleted at or after since: still linked');
  assert.deepEqual(t.view(7).nodesOf('Deployment/a/web'), [], 'deleted before since: no longer linked');
});
