import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ManualClock } from '../src/common/clock.ts';
import { CacheIndex, stripBulk, type KubeObject } from '../src/kube/index.ts';
import { DetectionEngine } from '../src/rules/engine.ts';
import { loadRules } from '../src/rules/loader.ts';
import { realisticPod } from './fixtures/pods.ts';
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const rules = loadRules(fileURLToPath(new URL('../rules', import.meta.url)));
const N = Number(process.argv[2]);
const pods = new CacheIndex();
for (let i = 0; i < N; i++) pods.set(stripBulk(realisticPod(i, 100 + i) as KubeObject));
const ns = new CacheIndex();
for (let k = 0; k < 100; k++) ns.set({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `team-${k}` } });
const caches: Record<string, CacheIndex> = { Pod: pods, Namespace: ns };
let rv = 1e7;
async function slice(count: number, first: number) {
  const clock = new ManualClock(Date.parse('2026-11-02T08:00:00Z'));
  const e = new DetectionEngine({ clock, rules, lookup: (_c, k, n) => caches[k]?.list(n) ?? [], get: (_c, k, n, name) => caches[k]?.get(n, name) });
  rv += 2000;
  for (let i = first; i < first + count; i++) {
    const p = stripBulk(realisticPod(i, rv + i, 'pending') as KubeObject);
    const old = pods.set(p);
    e.ingest({ source: 'object', cluster: 'b', time: clock.now(), operation: 'update', object: p, oldObject: old });
  }
  const c0 = process.cpuUsage();
  await clock.advance(5 * 60_000);
  const d = process.cpuUsage(c0);
  for (let i = first; i < first + count; i++) pods.set(stripBulk(realisticPod(i, rv + 1000 + i) as KubeObject));
  e.stop();
  return (d.user + d.system) / count;
}
for (let w = 0; w < 10; w++) await slice(100, (w * 100) % 1000);
const out: number[] = [];
for (let r = 0; r < 5; r++) {
  gc();
  let t = 0;
  for (let k = 0; k < 30; k++) t += await slice(100, (k * 100) % 1000);
  out.push(t / 30);
}
console.log(N, out.map((x) => x.toFixed(1)).join(' '), 'µs/due');
