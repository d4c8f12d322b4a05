// The import codemod (scripts/fix-imports.ts) on a small tree with every
// import shape it handles: the rewritten tree type-checks, runs, and a second
// pass changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixImports, mergeImports } from '../../scripts/fix-imports.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const NODE = process.execPath;
const TSC = join(REPO, 'node_modules/.bin/tsc');

const TREE: Record<string, string> = {
  'package.json': '{ "type": "module" }\n',
  'src/common/index.ts': "// common's API\nexport { now } from './clock.ts';\n",
  'src/common/clock.ts': 'export interface Clock { now(): number }\nexport const now = () => 42;\nexport const later = () => 43;\n',
  'src/rules/index.ts': '// rules\n',
  'src/rules/engine.ts': "import { now } from '../common/index.ts';\nexport class DetectionEngine { readonly t = now(); }\nexport type EngineHooks = { onChange?(): void };\n",
  'src/rules/cel-helpers.ts': 'export function size(x: string): number { return x.length; }\n',
  'src/rules/loader.ts': "export function loadRules(): string[] { return ['r1']; }\n",
  'src/runbooks/x.ts': [
    "import { DetectionEngine, type EngineHooks } from '../rules/engine.ts';",
    "import type { Clock } from '../common/clock.ts';",
    "import { later } from '../common/clock.ts';",
    'export const hooks: EngineHooks = {};',
    'export const clockLike: Clock = { now: later };',
    'export const thing = () => new DetectionEngine().t;',
    '',
  ].join('\n'),
  'src/runbooks/template.ts': "import * as h from '../rules/cel-helpers.ts';\nexport const len = h.size('four');\n",
  'src/runbooks/index.ts': "// runbooks\nexport { thing } from './x.ts';\nexport { len } from './template.ts';\n",
  'src/runbooks/y.ts': "import { thing } from './index.ts';\nexport const y = thing;\n",
  'src/cli/cmd.ts': [
    "const [{ loadRules }, { DetectionEngine }] = await Promise.all([import('../rules/loader.ts'), import('../rules/engine.ts')]);",
    "const len = (await import('../runbooks/template.ts')).len;",
    "const mod = (await import('../runbooks/y.ts')) as { y: () => number };",
    'console.log(JSON.stringify([loadRules(), new DetectionEngine().t, len, mod.y()]));',
    '',
  ].join('\n'),
};

function write(root: string, files: Record<string, string>): void {
  for (const [f, body] of Object.entries(files)) {
    mkdirSync(dirname(join(root, f)), { recursive: true });
    writeFileSync(join(root, f), body);
  }
}

test('fix-imports rewrites deep cross-folder imports to index.ts, extends the indexes, and the result type-checks and runs', { timeout: 60_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), 'kubemend-fix-imports-'));
  try {
    write(root, TREE);
    const src = join(root, 'src');
    const check = spawnSync(NODE, [join(REPO, 'scripts/fix-imports.ts'), '--check', '--root', src], { encoding: 'utf8' });
    assert.equal(check.status, 1, check.stdout + check.stderr);
    assert.match(check.stdout, /would rewrite .*runbooks\/x\.ts/);

    const report = fixImports({ root: src });
    assert.deepEqual(report.warnings, []);
    const read = (f: string) => readFileSync(join(root, f), 'utf8');

    assert.equal(read('src/runbooks/x.ts').split('\n').slice(0, 2).join('\n'), [
      "import { DetectionEngine, type EngineHooks } from '../rules/index.ts';",
      "import { type Clock, later } from '../common/index.ts';",
    ].join('\n'));
    assert.match(read('src/runbooks/template.ts'), /^import \{ celHelpers as h \} from '\.\.\/rules\/index\.ts';$/m);
    // A file importing its own barrel now imports the file that declares the name.
    assert.match(read('src/runbooks/y.ts'), /^import \{ thing \} from '\.\/x\.ts';$/m);
    assert.match(read('src/cli/cmd.ts'), /import\('\.\.\/rules\/index\.ts'\), import\('\.\.\/rules\/index\.ts'\)/);
    assert.match(read('src/cli/cmd.ts'), /import\('\.\.\/runbooks\/index\.ts'\)/);

    assert.equal(read('src/rules/index.ts'), [
      '// rules',
      "export { loadRules } from './loader.ts';",
      "export { DetectionEngine } from './engine.ts';",
      "export type { EngineHooks } from './engine.ts';",
      "export * as celHelpers from './cel-helpers.ts';",
      '',
    ].join('\n'));
    assert.match(read('src/common/index.ts'), /^export \{ later \} from '\.\/clock\.ts';$/m);
    assert.match(read('src/common/index.ts'), /^export type \{ Clock \} from '\.\/clock\.ts';$/m);
    assert.match(read('src/runbooks/index.ts'), /^export \{ y \} from '\.\/y\.ts';$/m);

    // Idempotent: a second pass finds nothing to do.
    const again = fixImports({ root: src, check: true });
    assert.deepEqual([again.changed, [...again.indexes.keys()]], [[], []]);

    execFileSync(TSC, ['--noEmit', '--strict', '--target', 'esnext', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--allowImportingTsExtensions', '--verbatimModuleSyntax', '--types', '', ...Object.keys(TREE).filter((f) => f.endsWith('.ts')).map((f) => join(root, f))], { encoding: 'utf8', cwd: root });
    const out = execFileSync(NODE, [join(src, 'cli/cmd.ts')], { encoding: 'utf8' });
    assert.deepEqual(JSON.parse(out), [['r1'], 42, 4, 42]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('fix-imports leaves excluded files alone', { timeout: 60_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), 'kubemend-fix-imports-'));
  try {
    write(root, TREE);
    const src = join(root, 'src');
    const report = fixImports({ root: src, exclude: [join(src, 'runbooks/x.ts')] });
    assert.ok(!report.changed.includes(join(src, 'runbooks/x.ts')));
    assert.equal(readFileSync(join(src, 'runbooks/x.ts'), 'utf8'), TREE['src/runbooks/x.ts']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('mergeImports folds named imports of one module together, type-only ones as `type`', { timeout: 60_000 }, () => {
  const src = "import type { A } from './m.ts';\nimport { b } from './m.ts';\nimport { c } from './n.ts';\nimport type { D } from './m.ts';\n";
  assert.equal(mergeImports(src), "import { type A, b, type D } from './m.ts';\nimport { c } from './n.ts';\n");
  assert.equal(mergeImports("import type { A } from './m.ts';\nimport type { B } from './m.ts';\n"), "import type { A, B } from './m.ts';\n");
});
