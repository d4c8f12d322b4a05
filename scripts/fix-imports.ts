// Codemod: cross-folder imports go through the target folder's index.ts, and
// files never import their own folder's index.ts (a barrel importing a file
// that imports the barrel is an evaluation-order trap). Re-run it after
// merging a branch that still imports deep paths:
//
//   node scripts/fix-imports.ts                 # rewrite src/ in place
//   node scripts/fix-imports.ts --check         # only report; exit 1 if anything would change
//   node scripts/fix-imports.ts --exclude src/cli/run.ts --exclude …   # leave these files as they are
//   node scripts/fix-imports.ts src/chat/engine.ts …                  # only these files
//
// What it does, per import of a file in another top folder of src/
// (sub-folders such as rules/stages count as part of rules):
// - the specifier becomes that folder's index.ts;
// - every name imported is added to the index (`export { X } from './x.ts'`,
//   `export type { T } …`) unless the index already exports it;
// - `import * as h from '../rules/cel-helpers.ts'` becomes
//   `import { celHelpers as h } from '../rules/index.ts'` with
//   `export * as celHelpers from './cel-helpers.ts'` in the index;
// - dynamic `import('…')` gets the index too; the names it uses are found in
//   the usual shapes (`(await import(x)).name`, `const { a } = await import(x)`,
//   `[{ a }, { b }] = await Promise.all([import(x), import(y)])`,
//   `(await import(x)) as { a: … }`), and otherwise reported for a look.
// Imports of a file's own folder index are split into direct imports of the
// files that declare the names. Named imports of one specifier are merged.
// Afterwards run `tsc --noEmit` and the layering test (test/architecture/).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { exportMap, resolveSpecifier, scanImports, specifierFor, tokenize, topFolder, tsFiles, type ImportRef, type NamedBinding, type Token } from './imports.ts';

export interface FixOptions {
  /** The source root whose top folders are the layers (default <cwd>/src). */
  root: string;
  /** Only these files (absolute); default every .ts file under root. */
  files?: string[];
  /** Files to leave untouched (absolute). */
  exclude?: string[];
  /** Report without writing. */
  check?: boolean;
}

export interface FixReport {
  /** Files whose imports changed (absolute). */
  changed: string[];
  /** Index files that gained exports (absolute), with the lines added. */
  indexes: Map<string, string[]>;
  /** Things a person should look at (ambiguous dynamic imports, name clashes). */
  warnings: string[];
}

interface PlannedExport {
  /** Specifier from the index to the module. */
  from: string;
  name: string;
  /** `export * as name` when true. */
  namespace?: boolean;
  type: boolean;
}

export function fixImports(opts: FixOptions): FixReport {
  const root = resolve(opts.root);
  const files = (opts.files ?? tsFiles(root)).map((f) => resolve(f));
  const exclude = new Set((opts.exclude ?? []).map((f) => resolve(f)));
  // Written files are read back from here, so later files see the indexes this run extends.
  const pending = new Map<string, PlannedExport[]>();
  const report: FixReport = { changed: [], indexes: new Map(), warnings: [] };
  const indexOf = (top: string) => join(root, top, 'index.ts');

  const exported = (index: string) => (existsSync(index) ? exportMap(index) : new Map());

  /** Makes `index` export `name` (from `target`); returns the name under which it is exported. */
  const ensure = (index: string, target: string, name: string, type: boolean, where: string): void => {
    const have = exported(index).get(name);
    const planned = (pending.get(index) ?? []).find((p) => p.name === name && !p.namespace);
    if (have || planned) {
      const origin = have ? declaringFile(have.via, have.name) : declaringFile(resolve(dirname(index), planned!.from), name);
      const wanted = declaringFile(target, name);
      if (origin && wanted && origin !== wanted) report.warnings.push(`${where}: ${relative(root, index)} already exports a different ${name} (from ${relative(root, origin)}); import it from there or rename one`);
      else if (!type && (have ? have.type : planned!.type)) report.warnings.push(`${where}: ${relative(root, index)} exports ${name} as a type only, but it is imported as a value`);
      return;
    }
    const list = pending.get(index) ?? [];
    list.push({ from: specifierFor(index, target), name, type });
    pending.set(index, list);
  };

  const ensureNamespace = (index: string, target: string, where: string): string => {
    const name = namespaceName(target);
    const have = exported(index).get(name);
    const planned = (pending.get(index) ?? []).find((p) => p.name === name);
    if (have || planned) {
      if (have && (have.name !== '*' || have.via !== target)) report.warnings.push(`${where}: ${relative(root, index)} already exports ${name}; the namespace import of ${relative(root, target)} needs another name`);
      return name;
    }
    const list = pending.get(index) ?? [];
    list.push({ from: specifierFor(index, target), name, namespace: true, type: false });
    pending.set(index, list);
    return name;
  };

  for (const file of files) {
    if (exclude.has(file)) continue;
    const src = readFileSync(file, 'utf8');
    const refs = scanImports(src);
    const toks = tokenize(src);
    const edits: { start: number; end: number; text: string }[] = [];
    const fileTop = topFolder(root, file);
    for (const ref of refs) {
      const target = resolveSpecifier(file, ref.specifier);
      if (!target || !target.startsWith(root)) continue;
      const targetTop = topFolder(root, target);
      if (!fileTop || !targetTop) continue;
      const where = `${relative(root, file)}:${ref.line}`;
      const index = indexOf(targetTop);
      if (fileTop !== targetTop) {
        if (target === index) continue;
        const spec = specifierFor(file, index);
        if (ref.kind === 'dynamic' || ref.kind === 'side-effect') {
          edits.push({ start: ref.specStart, end: ref.specEnd, text: quote(spec) });
          if (ref.kind === 'side-effect') {
            report.warnings.push(`${where}: side-effect import of ${ref.specifier} now loads ${relative(root, index)}; make sure the index loads that module`);
            continue;
          }
          const names = dynamicNames(toks, ref);
          if (!names) report.warnings.push(`${where}: dynamic import of ${ref.specifier}: could not tell which names it uses; make sure ${relative(root, index)} exports them`);
          for (const n of names ?? []) ensure(index, target, n, false, where);
          continue;
        }
        if (ref.kind === 'export' && ref.star && !ref.namespace) {
          for (const [name, origin] of exportMap(target)) if (name !== 'default') ensure(index, target, name, ref.typeOnly || origin.type, where);
          edits.push({ start: ref.specStart, end: ref.specEnd, text: quote(spec) });
          continue;
        }
        const named: NamedBinding[] = [...(ref.named ?? [])];
        for (const b of named) ensure(index, target, b.name, ref.typeOnly || b.type, where);
        if (ref.defaultName) {
          const alias = ref.defaultName;
          ensureDefault(index, target, alias);
          named.unshift({ name: alias, alias, type: false });
        }
        if (ref.namespace) {
          const ns = ensureNamespace(index, target, where);
          named.unshift({ name: ns, alias: ref.namespace, type: false });
        }
        edits.push({ start: ref.start, end: ref.end, text: statement(ref, named, spec) });
      } else if (target === index && file !== index) {
        // Own-folder barrel: import each name from the file that declares it.
        if (ref.kind !== 'import' || ref.defaultName || ref.namespace || !ref.named) {
          report.warnings.push(`${where}: imports its own folder's index.ts (${ref.specifier}); import the files directly`);
          continue;
        }
        const map = exportMap(index);
        const bySource = new Map<string, NamedBinding[]>();
        let ok = true;
        for (const b of ref.named) {
          const origin = map.get(b.name);
          if (!origin || origin.name === '*') {
            ok = false;
            break;
          }
          const list = bySource.get(origin.via) ?? [];
          list.push({ name: origin.name, alias: b.alias, type: b.type });
          bySource.set(origin.via, list);
        }
        if (!ok) {
          report.warnings.push(`${where}: imports its own folder's index.ts; could not trace every name to its file`);
          continue;
        }
        const text = [...bySource].map(([via, list]) => statement(ref, list, specifierFor(file, via))).join('\n');
        edits.push({ start: ref.start, end: ref.end, text });
      }
    }
    let out = applyEdits(src, edits);
    // Fold together only what this codemod produces (imports of a top folder's index.ts), leaving other imports as written.
    out = mergeImports(out, (spec) => {
      const t = resolveSpecifier(file, spec);
      return t !== undefined && t === indexOf(topFolder(root, t));
    });
    if (out !== src) {
      report.changed.push(file);
      if (!opts.check) writeFileSync(file, out);
    }
  }

  function ensureDefault(index: string, target: string, alias: string): void {
    if (exported(index).has(alias) || (pending.get(index) ?? []).some((p) => p.name === alias)) return;
    const list = pending.get(index) ?? [];
    list.push({ from: specifierFor(index, target), name: `default as ${alias}`, type: false });
    pending.set(index, list);
  }

  for (const [index, list] of pending) {
    const lines = exportLines(list);
    report.indexes.set(index, lines);
    if (opts.check) continue;
    const header = existsSync(index) ? readFileSync(index, 'utf8') : `// What src/${basename(dirname(index))}/ offers other folders; they import it from here.\n`;
    writeFileSync(index, `${header.replace(/\n*$/, '\n')}${lines.join('\n')}\n`);
  }
  return report;
}

/** Follows re-exports to the file that declares `name`. */
function declaringFile(file: string, name: string, depth = 0): string | undefined {
  if (depth > 20) return undefined;
  const origin = exportMap(file).get(name);
  if (!origin) return undefined;
  if (origin.via === file || origin.name === '*') return origin.via;
  return declaringFile(origin.via, origin.name, depth + 1);
}

/** `cel-helpers.ts` → celHelpers; `stages/index.ts` → stages. */
export function namespaceName(file: string): string {
  const base = basename(file, '.ts') === 'index' ? basename(dirname(file)) : basename(file, '.ts');
  return base.replace(/[-_.]+([a-z0-9])/gi, (_m, c: string) => c.toUpperCase());
}

function quote(spec: string): string {
  return `'${spec}'`;
}

function binding(b: NamedBinding, inTypeOnly: boolean): string {
  const t = b.type && !inTypeOnly ? 'type ' : '';
  return b.name === b.alias ? `${t}${b.name}` : `${t}${b.name} as ${b.alias}`;
}

function statement(ref: ImportRef, named: NamedBinding[], spec: string): string {
  const kw = ref.kind === 'export' ? 'export' : 'import';
  const type = ref.typeOnly ? 'type ' : '';
  return `${kw} ${type}{ ${named.map((b) => binding(b, ref.typeOnly)).join(', ')} } from ${quote(spec)};`;
}

function applyEdits(src: string, edits: { start: number; end: number; text: string }[]): string {
  let out = src;
  for (const e of [...edits].sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

/** One named import per specifier (of those `only` accepts): later plain named imports of the same module fold into the first. */
export function mergeImports(src: string, only: (specifier: string) => boolean = () => true): string {
  const refs = scanImports(src).filter((r) => r.kind === 'import' && r.named && !r.defaultName && !r.namespace && only(r.specifier));
  const groups = new Map<string, ImportRef[]>();
  for (const r of refs) groups.set(r.specifier, [...(groups.get(r.specifier) ?? []), r]);
  const edits: { start: number; end: number; text: string }[] = [];
  for (const [spec, list] of groups) {
    if (list.length < 2) continue;
    const allType = list.every((r) => r.typeOnly);
    const seen = new Set<string>();
    const named: NamedBinding[] = [];
    for (const r of list) {
      for (const b of r.named!) {
        const nb = { ...b, type: allType ? false : b.type || r.typeOnly };
        const key = `${nb.name} as ${nb.alias}`;
        if (seen.has(key)) continue;
        seen.add(key);
        named.push(nb);
      }
    }
    // A value import of a name wins over a type import of the same name.
    const merged = named.filter((b) => !(b.type && named.some((o) => o !== b && !o.type && o.name === b.name && o.alias === b.alias)));
    const first = list[0];
    edits.push({ start: first.start, end: first.end, text: statement({ ...first, typeOnly: allType }, merged, spec) });
    for (const r of list.slice(1)) {
      const end = src[r.end] === '\n' ? r.end + 1 : r.end;
      edits.push({ start: r.start, end, text: '' });
    }
  }
  return applyEdits(src, edits);
}

function exportLines(list: PlannedExport[]): string[] {
  const bySpec = new Map<string, PlannedExport[]>();
  for (const p of list) bySpec.set(p.from, [...(bySpec.get(p.from) ?? []), p]);
  const lines: string[] = [];
  for (const [from, items] of bySpec) {
    for (const ns of items.filter((p) => p.namespace)) lines.push(`export * as ${ns.name} from '${from}';`);
    const values = items.filter((p) => !p.namespace && !p.type).map((p) => p.name);
    const types = items.filter((p) => !p.namespace && p.type).map((p) => p.name);
    if (values.length) lines.push(`export { ${values.join(', ')} } from '${from}';`);
    if (types.length) lines.push(`export type { ${types.join(', ')} } from '${from}';`);
  }
  return lines;
}

/** The names a dynamic import's result is used for, in the common shapes; undefined when unsure. */
export function dynamicNames(toks: Token[], ref: ImportRef): string[] | undefined {
  const at = toks.findIndex((t) => t.start === ref.start);
  if (at < 0) return undefined;
  let close = at + 1;
  for (let depth = 0; close < toks.length; close++) {
    if (toks[close].value === '(') depth++;
    else if (toks[close].value === ')' && --depth === 0) break;
  }
  // (await import(x)).name  |  (await import(x)) as { a: …; b: … }
  if (toks[at - 1]?.value === 'await' && toks[at - 2]?.value === '(' && toks[close + 1]?.value === ')') {
    if (toks[close + 2]?.value === '.' && toks[close + 3]?.type === 'ident') return [toks[close + 3].value];
    if (toks[close + 2]?.value === 'as' && toks[close + 3]?.value === '{') return typeLiteralKeys(toks, close + 3);
  }
  // const { a, b: c } = await import(x)
  if (toks[at - 1]?.value === 'await' && toks[at - 2]?.value === '=' && toks[at - 3]?.value === '}') {
    const open = matchingOpen(toks, at - 3);
    return open === undefined ? undefined : patternKeys(toks, open, at - 3);
  }
  // const [{ a }, { b }] = await Promise.all([import(x), import(y)])
  const all = enclosingPromiseAll(toks, at);
  if (all) {
    const { position, equals } = all;
    if (toks[equals - 1]?.value !== ']') return undefined;
    const open = matchingOpen(toks, equals - 1);
    if (open === undefined) return undefined;
    const elements = splitTopLevel(toks, open + 1, equals - 1);
    const el = elements[position];
    if (!el || toks[el[0]].value !== '{') return undefined;
    return patternKeys(toks, el[0], el[1]);
  }
  return undefined;
}

function matchingOpen(toks: Token[], closeAt: number): number | undefined {
  const closeCh = toks[closeAt].value;
  const openCh = closeCh === '}' ? '{' : closeCh === ']' ? '[' : '(';
  for (let k = closeAt, depth = 0; k >= 0; k--) {
    if (toks[k].value === closeCh) depth++;
    else if (toks[k].value === openCh && --depth === 0) return k;
  }
  return undefined;
}

/** Keys of an object pattern `{ a, b: c, d = 1 }` between open and close (inclusive braces). */
function patternKeys(toks: Token[], open: number, close: number): string[] {
  return splitTopLevel(toks, open + 1, close).map(([s]) => toks[s].value).filter((v) => /^[A-Za-z_$][\w$]*$/.test(v));
}

function typeLiteralKeys(toks: Token[], open: number): string[] {
  const keys: string[] = [];
  for (let k = open + 1, depth = 0; k < toks.length; k++) {
    const v = toks[k].value;
    if (v === '{' || v === '(' || v === '<' || v === '[') depth++;
    else if (v === ')' || v === '>' || v === ']') depth--;
    else if (v === '}') {
      if (depth === 0) break;
      depth--;
    } else if (depth === 0 && toks[k].type === 'ident' && toks[k + 1]?.value === ':') keys.push(v);
  }
  return keys;
}

/** [start, endExclusive) token ranges of the comma-separated elements between from and to. */
function splitTopLevel(toks: Token[], from: number, to: number): [number, number][] {
  const out: [number, number][] = [];
  let start = from;
  for (let k = from, depth = 0; k < to; k++) {
    const v = toks[k].value;
    if (v === '{' || v === '[' || v === '(') depth++;
    else if (v === '}' || v === ']' || v === ')') depth--;
    else if (v === ',' && depth === 0) {
      if (k > start) out.push([start, k]);
      start = k + 1;
    }
  }
  if (to > start) out.push([start, to]);
  return out;
}

/** For an import(…) inside `= await Promise.all([ … ])`: its position in the array and the `=` token. */
function enclosingPromiseAll(toks: Token[], at: number): { position: number; equals: number } | undefined {
  let k = at - 1;
  for (let depth = 0; k >= 0; k--) {
    const v = toks[k].value;
    if (v === ')' || v === ']' || v === '}') depth++;
    else if (v === '(' || v === '{') {
      if (depth === 0) return undefined;
      depth--;
    } else if (v === '[') {
      if (depth === 0) break;
      depth--;
    }
  }
  if (k < 3 || toks[k - 1]?.value !== '(' || toks[k - 2]?.value !== 'all' || toks[k - 3]?.value !== '.' || toks[k - 4]?.value !== 'Promise' || toks[k - 5]?.value !== 'await' || toks[k - 6]?.value !== '=') return undefined;
  const close = (() => {
    for (let m = k, depth = 0; m < toks.length; m++) {
      if (toks[m].value === '[' || toks[m].value === '(' || toks[m].value === '{') depth++;
      else if (toks[m].value === ']' || toks[m].value === ')' || toks[m].value === '}') if (--depth === 0) return m;
    }
    return toks.length;
  })();
  const elements = splitTopLevel(toks, k + 1, close);
  const position = elements.findIndex(([s, e]) => s <= at && at < e);
  return position < 0 ? undefined : { position, equals: k - 6 };
}

function main(argv: string[]): number {
  const opts: FixOptions = { root: join(process.cwd(), 'src'), exclude: [] };
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--check') opts.check = true;
    else if (a === '--root') opts.root = resolve(argv[++i]);
    else if (a === '--exclude') opts.exclude!.push(resolve(argv[++i]));
    else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: node scripts/fix-imports.ts [--check] [--root DIR] [--exclude FILE]… [FILE…]\n');
      return 0;
    } else files.push(resolve(a));
  }
  if (files.length) opts.files = files;
  const r = fixImports(opts);
  const cwd = process.cwd();
  for (const f of r.changed) process.stdout.write(`${opts.check ? 'would rewrite' : 'rewrote'} ${relative(cwd, f)}\n`);
  for (const [index, lines] of r.indexes) for (const l of lines) process.stdout.write(`${opts.check ? 'would add to' : 'added to'} ${relative(cwd, index)}: ${l}\n`);
  for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
  const n = r.changed.length + r.indexes.size;
  process.stdout.write(n ? `${r.changed.length} file(s), ${r.indexes.size} index(es)${opts.check ? ' would change' : ' changed'}\n` : 'imports already go through each folder\'s index.ts\n');
  return opts.check && n ? 1 : 0;
}

if (import.meta.main) process.exitCode = main(process.argv.slice(2));
