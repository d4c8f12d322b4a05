// The import scanner the layering test and the codemod read src/ with: it must
// find every import form, and nothing hidden in comments, strings, template
// literals or regular expressions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportMap, ownExports, scanImports } from '../../scripts/imports.ts';

const specs = (src: string) => scanImports(src).map((r) => `${r.kind}${r.typeOnly ? ' type' : ''} ${r.specifier}`);

test('scanner: every import and re-export form', () => {
  const src = [
    "import a from './a.ts';",
    "import { b, type B, c as d } from './b.ts';",
    "import type { E } from './e.ts';",
    "import * as f from './f.ts';",
    "import g, { h } from './g.ts';",
    "import './side.ts';",
    "export { i } from './i.ts';",
    "export type { J } from './j.ts';",
    "export * from './k.ts';",
    "export type * from './l.ts';",
    "export * as m from './m.ts';",
    'const n = await import(\'./n.ts\');',
    'const o = () => import(`./o-${n}.ts`);',
    'import {',
    '  p,',
    '  type P,',
    "} from './p.ts';",
  ].join('\n');
  assert.deepEqual(specs(src), [
    'import ./a.ts', 'import ./b.ts', 'import type ./e.ts', 'import ./f.ts', 'import ./g.ts', 'side-effect ./side.ts',
    'export ./i.ts', 'export type ./j.ts', 'export ./k.ts', 'export type ./l.ts', 'export ./m.ts', 'dynamic ./n.ts', 'import ./p.ts',
  ]);
  const [, b, , f, g] = scanImports(src);
  assert.deepEqual(b.named, [{ name: 'b', alias: 'b', type: false }, { name: 'B', alias: 'B', type: true }, { name: 'c', alias: 'd', type: false }]);
  assert.equal(f.namespace, 'f');
  assert.equal(g.defaultName, 'g');
  assert.equal(scanImports(src).at(-1)!.line, 14);
});

test('scanner: nothing from comments, strings, templates, regexes or property names', () => {
  const src = [
    "// import x from './comment.ts';",
    "/* export { y } from './block.ts'; */",
    "const s = \"import z from './string.ts'\";",
    "const t = `import w from './template.ts' ${ \"import('./nested.ts')\" } ${ { a: '}' }.a }`;",
    "const r = /import v from '.\\/regex.ts'/;",
    "const q = x / 2; const u = y / 3; // division, then a comment with a ' quote",
    "const o = { import: 1, export: 2 };",
    'const meta = import.meta.url;',
    'export const from = 1;',
    "export { local };",
    "import real from './real.ts';",
  ].join('\n');
  assert.deepEqual(specs(src), ['import ./real.ts']);
});

test('scanner: own exports and where an index gets each name', () => {
  const src = [
    'export const a = 1;',
    'export function b() {}',
    'export async function c() {}',
    'export class D {}',
    'export abstract class E {}',
    'export interface F {}',
    'export type G = 1;',
    'export enum H { X }',
    'const i = 1;',
    'export { i as I };',
    "export { j } from './j.ts';",
    'export default 1;',
  ].join('\n');
  assert.deepEqual(ownExports(src).map((e) => `${e.name}${e.type ? ':type' : ''}`), ['a', 'b', 'c', 'D', 'E', 'F:type', 'G:type', 'H', 'I', 'default']);
  const dir = mkdtempSync(join(tmpdir(), 'kubemend-scan-'));
  try {
    const files: Record<string, string> = {
      'index.ts': "export * from './a.ts';\nexport type { T as U } from './b.ts';\nexport * as ns from './c.ts';\n",
      'a.ts': "export const a = 1;\nexport * from './d.ts';\n",
      'b.ts': 'export type T = 1;\n',
      'c.ts': 'export const c = 1;\n',
      'd.ts': 'export interface Deep {}\n',
    };
    for (const [f, body] of Object.entries(files)) writeFileSync(join(dir, f), body);
    const map = exportMap(join(dir, 'index.ts'));
    assert.deepEqual(Object.fromEntries([...map].map(([k, o]) => [k, `${o.via.slice(dir.length + 1)}:${o.name}${o.type ? ':type' : ''}`])), {
      a: 'a.ts:a',
      Deep: 'a.ts:Deep:type',
      U: 'b.ts:T:type',
      ns: 'c.ts:*',
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
