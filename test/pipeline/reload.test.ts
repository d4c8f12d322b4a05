// Hot reload: a ConfigMap-style symlink swap is seen, a valid change is
// applied and audited, an invalid one is refused, audited, and the running
// content stays.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/common/clock.ts';
import { openStore } from '../../src/store/index.ts';
import { Reloader, fingerprint } from '../../src/pipeline/index.ts';

/** A directory laid out as the kubelet mounts a ConfigMap: files are links into `..data`, itself a link to a timestamped dir. */
function configMapDir(root: string, files: Record<string, string>): string {
  const dir = join(root, 'mount');
  mkdirSync(dir, { recursive: true });
  swap(dir, files, 1);
  for (const name of Object.keys(files)) symlinkSync(join('..data', name), join(dir, name));
  return dir;
}

function swap(dir: string, files: Record<string, string>, n: number): void {
  const ts = join(dir, `..2026_01_01_00_00_0${n}`);
  mkdirSync(ts);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(ts, name), text);
  const tmp = join(dir, '..data_tmp');
  symlinkSync(ts.split('/').pop()!, tmp);
  renameSync(tmp, join(dir, '..data')); // the atomic swap the kubelet does
}

test('a ConfigMap symlink swap is seen; a valid change applies, an invalid one is refused and the old one stays', { timeout: 30_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'km-reload-'));
  const dir = configMapDir(root, { 'policy.csv': 'p, alice, *, *, *, restart\n' });
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const store = await openStore({ dataDir: join(root, 'data'), clock });
  const lines: string[] = [];
  let running = 'v1';
  const r = new Reloader({ clock, store, log: (l) => lines.push(l) });
  const before = fingerprint(dir);
  r.watch({
    what: 'policy',
    path: dir,
    apply() {
      const text = readFileSync(join(dir, 'policy.csv'), 'utf8');
      if (!text.startsWith('p,')) throw new Error(`${join(dir, 'policy.csv')}:1: not a policy line`);
      running = text.trim();
      return 'applied';
    },
  });
  try {
    await r.check();
    assert.equal(running, 'v1', 'nothing changed, nothing applied');
    swap(dir, { 'policy.csv': 'p, bob, *, *, *, restart\n' }, 2);
    assert.notEqual(fingerprint(dir), before, 'the swap changes the fingerprint');
    await r.check();
    assert.equal(running, 'p, bob, *, *, *, restart');
    swap(dir, { 'policy.csv': 'garbage\n' }, 3);
    await r.check();
    assert.equal(running, 'p, bob, *, *, *, restart', 'the refused change left the running policy in force');
    assert.match(lines.join('\n'), /refused the change to policy .*policy\.csv:1: not a policy line/s);
    assert.deepEqual((await store.audit.list({})).map((a) => a.action), ['config.reloaded', 'config.reload.refused']);
  } finally {
    r.stop();
    await store.close();
  }
});
