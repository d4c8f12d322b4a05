// scripts/image/stage.ts: which packages the image gets (the production
// closure of package-lock.json, resolved as Node resolves), which of their
// files, and its refusal to stage from a node_modules that is not what the
// lockfile says. Runs without buildah.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APP_FILES, productionPackages, runtimeFile, stage, StageError } from '../../scripts/image/stage.ts';
import { REPO } from './harness.ts';

const NODE = process.execPath;

/**
 * root → a, c. a → b (its own nested 3.0.0) and an optional peer ts; c → b
 * (the top-level 2.0.0), a required peer d and an optional dependency for
 * another platform, never installed. devonly is a dev dependency.
 */
function fixture(): string {
  const root = mkdtempSync(join(tmpdir(), 'kubemend-stage-'));
  const lock: Record<string, any> = {
    '': { name: 'app', dependencies: { a: '^1', c: '^1' }, devDependencies: { devonly: '^1' } },
    'node_modules/a': { version: '1.0.0', dependencies: { b: '^3' }, peerDependencies: { ts: '*' }, peerDependenciesMeta: { ts: { optional: true } } },
    'node_modules/a/node_modules/b': { version: '3.0.0' },
    'node_modules/b': { version: '2.0.0' },
    'node_modules/c': { version: '1.0.0', dependencies: { b: '^2' }, peerDependencies: { d: '*' }, optionalDependencies: { 'c-win32': '1.0.0' } },
    'node_modules/c-win32': { version: '1.0.0', optional: true, os: ['win32'] },
    'node_modules/d': { version: '1.0.0' },
    'node_modules/ts': { version: '5.0.0', devOptional: true },
    'node_modules/devonly': { version: '1.0.0', dev: true },
  };
  writeFileSync(join(root, 'package-lock.json'), JSON.stringify({ name: 'app', lockfileVersion: 3, packages: lock }));
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'app', type: 'module' }));
  for (const f of APP_FILES.filter((f) => f !== 'package.json')) mkdirSync(join(root, f));
  writeFileSync(join(root, 'src', 'main.ts'), 'export {};\n');
  for (const [key, entry] of Object.entries(lock)) {
    if (!key || key.endsWith('c-win32')) continue;
    mkdirSync(join(root, key), { recursive: true });
    writeFileSync(join(root, key, 'package.json'), JSON.stringify({ name: key.split('node_modules/').at(-1), version: entry.version }));
    for (const f of ['index.js', 'index.d.ts', 'index.js.map', 'README.md', 'LICENSE.md', 'src.ts']) writeFileSync(join(root, key, f), '//\n');
  }
  return root;
}

describe('the image stager', { timeout: 120_000 }, () => {
  it('stages the production closure, each dependency resolved from where it is required', { timeout: 30_000 }, () => {
    const root = fixture();
    try {
      assert.deepEqual(productionPackages(root), ['node_modules/a', 'node_modules/a/node_modules/b', 'node_modules/b', 'node_modules/c', 'node_modules/d']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('copies the app files and only the files Node loads at run time', { timeout: 30_000 }, () => {
    const root = fixture();
    try {
      const out = join(root, 'out');
      stage(root, out);
      const app = join(out, 'app');
      for (const f of APP_FILES) assert.ok(existsSync(join(app, f)), f);
      assert.ok(existsSync(join(app, 'src/main.ts')), 'the app\'s own TypeScript is kept');
      const a = join(app, 'node_modules/a');
      assert.deepEqual(['package.json', 'index.js', 'LICENSE.md', 'index.d.ts', 'index.js.map', 'README.md', 'src.ts'].map((f) => existsSync(join(a, f))), [true, true, true, false, false, false, false]);
      assert.equal(JSON.parse(readFileSync(join(a, 'node_modules/b/package.json'), 'utf8')).version, '3.0.0');
      assert.ok(!existsSync(join(app, 'node_modules/ts')) && !existsSync(join(app, 'node_modules/devonly')));
      assert.deepEqual(['x.d.mts', 'x.d.cts', 'x.mjs.map', 'x.cts', 'x.md', 'LICENCE.md', 'x.mjs', 'x.cjs', 'x.json', 'x.node'].map(runtimeFile),
        [false, false, false, false, false, true, true, true, true, true]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('refuses a node_modules that differs from the lockfile, naming the package and the fix', { timeout: 30_000 }, () => {
    const root = fixture();
    try {
      writeFileSync(join(root, 'node_modules/b/package.json'), JSON.stringify({ name: 'b', version: '2.0.1' }));
      assert.throws(() => productionPackages(root), (e: Error) => e instanceof StageError
        && e.message === 'node_modules/b is 2.0.1 in node_modules but 2.0.0 in package-lock.json: run `npm ci` so the image gets what the lockfile says');
      const r = spawnSync(NODE, [join(REPO, 'scripts/image/stage.ts'), join(root, 'out'), '--root', root], { encoding: 'utf8' });
      assert.deepEqual([r.status, r.stderr.split(' in node_modules')[0]], [1, 'stage: node_modules/b is 2.0.1']);
      writeFileSync(join(root, 'node_modules/b/package.json'), JSON.stringify({ name: 'b', version: '2.0.0' }));
      rmSync(join(root, 'node_modules/d'), { recursive: true });
      assert.throws(() => productionPackages(root), /^StageError: node_modules\/d is not installed: run `npm ci` first$/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('on this repository: every dependency of package.json, nothing only the dev tools need', { timeout: 30_000 }, () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; devOptional?: boolean }> };
    const staged = productionPackages(REPO);
    for (const d of Object.keys(pkg.dependencies)) assert.ok(staged.includes(`node_modules/${d}`), d);
    // devOptional: typescript, an optional peer of @mattermost/client, which `npm ci --omit=dev` would keep.
    assert.deepEqual(staged.filter((k) => lock.packages[k].dev || lock.packages[k].devOptional), []);
    for (const d of ['node', 'typescript', 'playwright-core', '@types/pg']) assert.ok(!staged.includes(`node_modules/${d}`), d);
  });
});
