// The floors of the house, checked on the real import graph of src/: every
// static `import … from`, `export … from` and literal `import('…')` (type-only
// ones too: a type is a dependency as much as a value is). The rules:
//   folder-cycle       no two top folders import each other, directly or around a loop;
//   index              a file in another top folder is imported through its index.ts;
//   own-index          a file never imports its own top folder's index.ts (the
//                      barrel re-exports that file, so evaluation would loop);
//   runtime-cycle      no loop of run-time imports between files (`import type` is erased);
//   layer              a folder imports only folders on lower floors (LAYERS below);
//   layer (sandbox)    the sandbox imports only common, and only the top floors drive it;
//   detection-engine   `new DetectionEngine(` appears only under src/pipeline/.
// Sub-folders (rules/stages, runbooks/actions, sandbox/server …) belong to
// their top folder. The synthetic trees at the end prove each rule can fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cycles, importGraph, tsFiles, type Edge } from '../../scripts/imports.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const SRC = join(REPO, 'src');

/**
 * Floors, lowest first. A folder may import folders on lower floors only;
 * folders sharing a floor are independent of each other. Folders named here
 * that do not exist yet (pipeline, notify) keep their place for when they do.
 */
export const LAYERS: readonly { floor: readonly string[]; why: string }[] = [
  { floor: ['common'], why: 'errors and their codes, the clock, config loading, the SQL surface, the data directory, secret comparison: knows nothing of kubemend\'s domain' },
  { floor: ['kube'], why: 'talking to Kubernetes: requests with impersonation, informers, kinds and paths, contexts, generic workload reads' },
  { floor: ['audit'], why: 'the hash chain, its signatures and export, written over common\'s SqlDb; it knows nothing of the Store' },
  { floor: ['store'], why: 'persistence: opens SQLite/PostgreSQL, migrates, composes the audit log, and defines the records kept (detections, silences, runs, chat requests, incidents)' },
  { floor: ['rules'], why: 'detection: signals from the sources become detections through the CEL rules and the engine\'s stages' },
  { floor: ['runbooks'], why: 'remediation: runbooks started by detections, run step by step by the executor through the actions' },
  { floor: ['authz'], why: 'who may do what from chat (casbin); used by the user-facing floor above' },
  { floor: ['chat', 'incidents', 'notify'], why: 'what people see: the chat bot, incident correlation and post-mortems, notifications; independent of each other' },
  { floor: ['pipeline'], why: 'assembles sources, engine, remediation, incidents and chat into one running loop' },
  { floor: ['server'], why: 'the HTTP server: webhook receivers and the chat adapters\' routes around the pipeline' },
  { floor: ['cli'], why: 'the commands: the only floor nothing imports' },
];

/**
 * The sandbox stands beside the floors: a fake cluster must not know the
 * system it is used to test, and only what assembles kubemend (pipeline) or
 * serves and launches it (server, cli) may start one. In particular rules and
 * runbooks never import it.
 */
export const SANDBOX = { folder: 'sandbox', mayImport: ['common'], importedBy: ['pipeline', 'server', 'cli'] } as const;


export interface Violation {
  file: string;
  /** `<rule> → <imported folder>` (e.g. `index → rules`), or the rule alone when it is not about an import. */
  key: string;
  detail: string;
}

const key = (rule: string, toFolder?: string) => (toFolder ? `${rule} → ${toFolder}` : rule);
const where = (e: Edge) => `${e.from}:${e.ref.line}`;

export function floorOf(folder: string, layers = LAYERS): number {
  return layers.findIndex((l) => l.floor.includes(folder));
}

/** Every rule but detection-engine, over an import graph of `src` (folders are the top folders). */
export function checkGraph(edges: readonly Edge[], files: readonly string[], layers = LAYERS, sandbox = SANDBOX): Record<string, Violation[]> {
  const out: Record<string, Violation[]> = { 'folder-cycle': [], index: [], 'own-index': [], 'runtime-cycle': [], layer: [], sandbox: [], unplaced: [] };
  const folderEdges = new Map<string, Edge[]>();
  const runtime = new Map<string, string[]>();
  const folders = new Set(files.map((f) => f.split('/')[1]).filter((f) => !f.endsWith('.ts')));
  for (const folder of folders) {
    if (folder !== sandbox.folder && floorOf(folder, layers) < 0) out.unplaced.push({ file: `src/${folder}/`, key: 'unplaced', detail: `src/${folder}/ is on no floor: add it to LAYERS in test/architecture/imports.test.ts` });
  }
  for (const e of edges) {
    if (!e.ref.typeOnly) runtime.set(e.from, [...(runtime.get(e.from) ?? []), e.to]);
    const index = `src/${e.toFolder}/index.ts`;
    if (e.fromFolder === e.toFolder) {
      if (e.to === index && e.from !== index) out['own-index'].push({ file: e.from, key: key('own-index', e.toFolder), detail: `${where(e)} imports its own folder's index.ts; import ${e.ref.specifier.replace(/index\.ts$/, '<file>.ts')} directly` });
      continue;
    }
    folderEdges.set(`${e.fromFolder}→${e.toFolder}`, [...(folderEdges.get(`${e.fromFolder}→${e.toFolder}`) ?? []), e]);
    if (e.to !== index) out.index.push({ file: e.from, key: key('index', e.toFolder), detail: `${where(e)} imports ${e.to}; import it from ${index}` });
    if (e.fromFolder === sandbox.folder || e.toFolder === sandbox.folder) {
      const ok = e.fromFolder === sandbox.folder ? (sandbox.mayImport as readonly string[]).includes(e.toFolder) : (sandbox.importedBy as readonly string[]).includes(e.fromFolder);
      if (!ok) {
        const why = e.fromFolder === sandbox.folder ? `the sandbox may import only ${sandbox.mayImport.join(', ')}` : `only ${sandbox.importedBy.join(', ')} may import the sandbox`;
        out.sandbox.push({ file: e.from, key: key('layer', e.toFolder), detail: `${where(e)} imports ${e.to}: ${why}` });
      }
      continue;
    }
    const from = floorOf(e.fromFolder, layers);
    const to = floorOf(e.toFolder, layers);
    if (from >= 0 && to >= 0 && to >= from) {
      const how = to === from ? `${e.fromFolder} and ${e.toFolder} share a floor and must stay independent` : `${e.toFolder} is on a higher floor than ${e.fromFolder}`;
      out.layer.push({ file: e.from, key: key('layer', e.toFolder), detail: `${where(e)} imports ${e.to}: ${how}` });
    }
  }
  const next = new Map<string, Set<string>>();
  for (const k of folderEdges.keys()) {
    const [a, b] = k.split('→');
    next.set(a, (next.get(a) ?? new Set()).add(b));
  }
  for (const loop of cycles(next.keys(), (f) => next.get(f) ?? [])) {
    const inLoop = new Set(loop);
    for (const [k, list] of folderEdges) {
      const [a, b] = k.split('→');
      if (inLoop.has(a) && inLoop.has(b)) for (const e of list) out['folder-cycle'].push({ file: e.from, key: key('folder-cycle', e.toFolder), detail: `${where(e)} imports ${e.to}, closing the loop ${loop.join(' ⇄ ')}` });
    }
  }
  for (const loop of cycles(files, (f) => runtime.get(f) ?? [])) {
    for (const f of loop) out['runtime-cycle'].push({ file: f, key: 'runtime-cycle', detail: `${f} is on an import loop: ${loop.join(' → ')} (break it with a shared file, or \`import type\` if only types cross)` });
  }
  return out;
}

/** Files outside src/pipeline/ that construct the detection engine themselves. */
export function engineOutsidePipeline(root: string, repo: string): Violation[] {
  const out: Violation[] = [];
  for (const abs of tsFiles(root)) {
    const file = abs.slice(repo.length).replace(/^\/+/, '');
    if (file.startsWith('src/pipeline/')) continue;
    const src = readFileSync(abs, 'utf8');
    const at = src.indexOf('new DetectionEngine(');
    if (at >= 0) out.push({ file, key: 'detection-engine', detail: `${file}:${src.slice(0, at).split('\n').length} constructs DetectionEngine; only src/pipeline/ assembles the engine` });
  }
  return out;
}

function assertNone(list: Violation[], what: string): void {
  const bad = list;
  assert.deepEqual(bad.map((v) => v.detail), [], `${what}:\n${bad.map((v) => `  ${v.detail}`).join('\n')}`);
}

const graph = importGraph(SRC, REPO);
const found = checkGraph(graph.edges, graph.files);
const engines = engineOutsidePipeline(SRC, REPO);

test('every relative import in src/ resolves to a file', () => {
  assert.deepEqual(graph.unresolved.map((u) => `${u.file}:${u.ref.line} ${u.ref.specifier}`), []);
});

test('every top folder of src/ has a floor', () => assertNone(found.unplaced, 'folders missing from LAYERS'));

test('no two folders import each other (folder cycles)', () => assertNone(found['folder-cycle'], 'imports closing a folder cycle'));

test('cross-folder imports go through the target folder\'s index.ts', () => assertNone(found.index, 'imports that bypass an index.ts (run `node scripts/fix-imports.ts`)'));

test('no file imports its own folder\'s index.ts', () => assertNone(found['own-index'], 'imports of a file\'s own barrel'));

test('no run-time import loops between files', () => assertNone(found['runtime-cycle'], 'files on a run-time import loop'));

test('lower floors never import higher ones', () => assertNone(found.layer, 'imports of a higher (or same-floor) folder'));

test('the sandbox imports only common, and only pipeline, server and cli import it', () => assertNone(found.sandbox, 'sandbox imports'));

test('new DetectionEngine( appears only under src/pipeline/', () => assertNone(engines, 'engines built outside src/pipeline/'));

test('every floor is explained and no folder sits on two floors', () => {
  const seen = new Set<string>();
  for (const l of LAYERS) {
    assert.ok(l.why.length > 20, `floor ${l.floor.join('/')} needs a reason`);
    for (const f of l.floor) {
      assert.ok(!seen.has(f), `${f} is on two floors`);
      seen.add(f);
    }
  }
  assert.ok(!seen.has(SANDBOX.folder), 'the sandbox stands beside the floors, not on one');
});

// The rules on small synthetic trees: each realistic one-line mistake turns its rule red.
function tree(files: Record<string, string>): { edges: Edge[]; files: string[]; engines: Violation[] } {
  const repo = mkdtempSync(join(tmpdir(), 'kubemend-layers-'));
  try {
    for (const [f, body] of Object.entries(files)) {
      mkdirSync(dirname(join(repo, f)), { recursive: true });
      writeFileSync(join(repo, f), body);
    }
    const g = importGraph(join(repo, 'src'), repo);
    return { edges: g.edges, files: g.files, engines: engineOutsidePipeline(join(repo, 'src'), repo) };
  } finally {
    rmSync(repo, { recursive: true, force: true });
  }
}

const BASE: Record<string, string> = {
  'src/common/index.ts': "export { now } from './clock.ts';\n",
  'src/common/clock.ts': 'export const now = () => 0;\n',
  'src/rules/index.ts': "export { DetectionEngine } from './engine.ts';\n",
  'src/rules/engine.ts': "import { now } from '../common/index.ts';\nexport class DetectionEngine { t = now(); }\n",
  'src/runbooks/index.ts': "export { run } from './executor.ts';\n",
  'src/runbooks/executor.ts': "import type { DetectionEngine } from '../rules/index.ts';\nexport const run = (e: DetectionEngine) => e;\n",
  'src/sandbox/index.ts': "export const Sandbox = 1;\n",
  'src/pipeline/index.ts': "import { DetectionEngine } from '../rules/index.ts';\nimport { Sandbox } from '../sandbox/index.ts';\nexport const p = [new DetectionEngine(), Sandbox];\n",
};

function rulesBroken(extra: Record<string, string>): string[] {
  const t = tree({ ...BASE, ...extra });
  const v = checkGraph(t.edges, t.files);
  return [...Object.entries(v).filter(([, list]) => list.length).map(([rule]) => rule), ...(t.engines.length ? ['detection-engine'] : [])].sort();
}

test('synthetic: the clean tree passes every rule', () => {
  assert.deepEqual(rulesBroken({}), []);
});

test('synthetic: each one-line mistake breaks its rule', () => {
  // A deep import of another folder's file.
  assert.deepEqual(rulesBroken({ 'src/runbooks/executor.ts': "import type { DetectionEngine } from '../rules/engine.ts';\nexport const run = (e: DetectionEngine) => e;\n" }), ['index']);
  // A lower floor reaching up (a type import counts), which with runbooks → rules also closes a folder cycle.
  assert.deepEqual(rulesBroken({ 'src/rules/engine.ts': "import { now } from '../common/index.ts';\nimport type { run } from '../runbooks/index.ts';\nexport class DetectionEngine { t = now(); r?: typeof run; }\n" }), ['folder-cycle', 'layer']);
  // A dynamic import reaching up.
  assert.deepEqual(rulesBroken({ 'src/kube/index.ts': "export const later = () => import('../runbooks/index.ts');\n" }), ['layer']);
  // Rules driving the sandbox.
  assert.deepEqual(rulesBroken({ 'src/rules/engine.ts': "import { now } from '../common/index.ts';\nimport { Sandbox } from '../sandbox/index.ts';\nexport class DetectionEngine { t = now() + Sandbox; }\n" }), ['sandbox']);
  // The sandbox importing kubemend.
  assert.deepEqual(rulesBroken({ 'src/sandbox/index.ts': "export { run as Sandbox } from '../runbooks/index.ts';\n" }), ['sandbox']);
  // A file importing its own barrel; when the barrel re-exports that file, the two load each other.
  assert.deepEqual(rulesBroken({ 'src/rules/other.ts': "import { DetectionEngine } from './index.ts';\nexport const e = DetectionEngine;\n" }), ['own-index']);
  assert.deepEqual(rulesBroken({ 'src/rules/other.ts': "import { DetectionEngine } from './index.ts';\nexport const e = DetectionEngine;\n", 'src/rules/index.ts': "export { DetectionEngine } from './engine.ts';\nexport { e } from './other.ts';\n" }), ['own-index', 'runtime-cycle']);
  // Two files loading each other at run time.
  assert.deepEqual(rulesBroken({ 'src/common/a.ts': "import { b } from './b.ts';\nexport const a = () => b;\n", 'src/common/b.ts': "import { a } from './a.ts';\nexport const b = () => a;\n" }), ['runtime-cycle']);
  // A new folder nobody placed.
  assert.deepEqual(rulesBroken({ 'src/metrics/index.ts': 'export const m = 1;\n' }), ['unplaced']);
  // An engine assembled outside the pipeline.
  assert.deepEqual(rulesBroken({ 'src/runbooks/executor.ts': "import { DetectionEngine } from '../rules/index.ts';\nexport const run = () => new DetectionEngine();\n" }), ['detection-engine']);
});

test('synthetic: type-only loops are not run-time loops', () => {
  assert.deepEqual(rulesBroken({ 'src/common/a.ts': "import type { B } from './b.ts';\nexport type A = { b?: B };\n", 'src/common/b.ts': "import type { A } from './a.ts';\nexport type B = { a?: A };\n" }), []);
});
