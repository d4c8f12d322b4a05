// The tracker's index of open incidents gives, for every detection, the
// relation the pass over every open incident gave —
// relation(touchOf(d), incidentTouch(members)) — through pods created,
// moved, deleted and trimmed after their detections joined, HPAs retargeted,
// `since` moving past deletions, and incidents closed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IncidentIndex } from '../../src/incidents/incident-index.ts';
import { ObservationLog, relation, touchOf } from '../../src/incidents/index.ts';
import { incidentTouch } from '../../src/incidents/snapshot.ts';
import type { Detection, Subject } from '../../src/rules/types.ts';
import type { KubeObject } from '../../src/kube/types.ts';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

const NODES = ['n1', 'n2', 'n3', 'n4', 'n5'];
const DEPLOYS = ['api', 'web', 'db', 'cache'];
const NAMESPACES = ['a', 'b'];
const PODS = Array.from({ length: 30 }, (_, i) => `p${i}`);

function pod(ns: string, name: string, deploy: string | undefined, node: string | undefined): KubeObject {
  return {
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: deploy ? { 'pod-template-hash': 'h' } : {}, ...(deploy ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${deploy}-h`, uid: 'u', controller: true }] } : {}) },
    spec: node ? { nodeName: node } : {},
    status: {},
  };
}

let seq = 0;
function detection(subject: Omit<Subject, 'cluster'>, cluster = 'c'): Detection {
  return { id: `d${++seq}`, rule: 'r', cluster, subject: { cluster, ...subject }, fingerprint: `f${seq}`, severity: 'critical', summary: '', labels: {}, firstSeen: 0, lastSeen: 0, count: 1, status: 'open', evidence: [], notifications: 0 };
}

test('the index relates each detection to the open incidents as the pass over them did', { timeout: 60_000 }, () => {
  let checked = 0;
  let related = 0;
  for (const seed of [11, 12, 13, 14, 15, 16]) {
    const r = rng(seed);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
    const log = new ObservationLog({ placementCapacity: seed % 2 ? 25 : 55 });
    // HPA targets come from the caches and change under the index.
    const hpaTarget = new Map<string, string>([['a/h1', 'api'], ['b/h1', 'web']]);
    const lookup = (_c: string, kind: string, ns?: string): KubeObject[] | undefined =>
      kind === 'HorizontalPodAutoscaler' ? [...hpaTarget].filter(([k]) => k.startsWith(`${ns}/`)).map(([k, t]) => ({ kind, metadata: { name: k.split('/')[1], namespace: ns }, spec: { scaleTargetRef: { kind: 'Deployment', name: t } } })) : [];
    const index = new IncidentIndex<{ id: number; members: Detection[] }>(lookup);
    log.onPlacement((c, key) => index.refreshPod(c, key, log.table(c)));

    const open: { id: number; members: Detection[] }[] = [];
    const subject = (): Omit<Subject, 'cluster'> => {
      const x = r();
      const ns = pick(NAMESPACES);
      if (x < 0.45) return { kind: 'Pod', namespace: ns, name: pick(PODS) };
      if (x < 0.6) return { kind: 'Deployment', namespace: ns, name: pick(DEPLOYS) };
      if (x < 0.72) return { kind: 'Node', name: pick(NODES) };
      if (x < 0.78) return { kind: 'Namespace', name: ns };
      if (x < 0.86) return { kind: 'HorizontalPodAutoscaler', namespace: ns, name: 'h1' };
      return { kind: 'ConfigMap', namespace: ns, name: pick(['cm1', 'cm2']) };
    };
    let time = 1000;
    for (let step = 0; step < 800; step++) {
      time += Math.floor(r() * 40);
      const x = r();
      if (x < 0.45) {
        const op = r() < 0.2 ? 'delete' : r() < 0.5 ? 'create' : 'update';
        const p = pod(pick(NAMESPACES), pick(PODS), r() < 0.85 ? pick(DEPLOYS) : undefined, r() < 0.9 ? pick(NODES) : undefined);
        log.observe({ source: 'object', cluster: pick(['c', 'c', 'c', 'other']), time, operation: op, object: p, ...(op === 'update' ? { oldObject: p } : {}) });
      } else if (x < 0.5) {
        hpaTarget.set(`${pick(NAMESPACES)}/h1`, pick(DEPLOYS));
      } else if (x < 0.6 || open.length === 0) {
        const l = { id: step, members: [] as Detection[] };
        open.push(l);
        const d = detection(subject());
        l.members.push(d);
        index.add(l, 'c', d, log.table('c'));
      } else if (x < 0.8) {
        const l = pick(open);
        const d = detection(subject(), r() < 0.05 ? 'other' : 'c');
        l.members.push(d);
        index.add(l, 'c', d, log.table('c'));
      } else if (x < 0.85) {
        const l = open.splice(Math.floor(r() * open.length), 1)[0]!;
        index.remove(l);
      } else {
        const d = detection(subject());
        const since = time - pick([100, 400, 5000]);
        const table = log.table('c');
        const view = table.view(since);
        const t = touchOf(d.subject, view, lookup);
        index.refreshVolatile('c', table);
        const candidates = index.candidates('c', t, table, since);
        for (const l of open) {
          const want = relation(t, incidentTouch('c', l.members, view, lookup));
          const got = candidates.has(l) ? relation(t, index.touch(l, table, since)) : undefined;
          assert.equal(got, want, `seed ${seed} step ${step}: ${d.subject.kind}/${d.subject.namespace ?? ''}/${d.subject.name} and incident ${l.id}`);
          assert.deepEqual(index.ownKeys(l).sort(), [...incidentTouch('c', l.members, view, lookup).own].sort(), `seed ${seed} step ${step}: own keys of incident ${l.id}`);
          checked++;
          if (want) related++;
        }
      }
    }
  }
  assert.ok(checked > 1000 && related > 200 && related < checked, `a fair mix: ${related} related of ${checked}`);
});
