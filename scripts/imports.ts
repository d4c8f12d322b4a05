// Reading the import graph of src/ without a TypeScript parser (the project's
// tsc is the native build, with no JS API): a small lexer that knows enough
// of the language to skip comments, strings, template literals and regular
// expressions, then picks out every `import … from`, `export … from`,
// `import '…'` and `import('…')`. Shared by the layering test
// (test/architecture/imports.test.ts) and the codemod (scripts/fix-imports.ts),
// so both see the same graph.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

export interface Token {
  type: 'ident' | 'string' | 'punct' | 'template' | 'regex' | 'number';
  /** For strings: the decoded value; otherwise the source text. */
  value: string;
  start: number;
  end: number;
}

const KEYWORDS_BEFORE_EXPR = new Set(['return', 'typeof', 'case', 'do', 'else', 'in', 'of', 'new', 'delete', 'void', 'throw', 'instanceof', 'yield', 'await', 'extends']);

/** Splits TypeScript source into tokens, dropping comments and whitespace. */
export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  // What each open `{` belongs to: a block/object, or a `${` inside a template literal.
  const braces: ('brace' | 'template')[] = [];
  let i = 0;
  const n = src.length;
  const prev = () => out[out.length - 1];
  const regexAllowed = () => {
    const p = prev();
    if (!p) return true;
    if (p.type === 'ident') return KEYWORDS_BEFORE_EXPR.has(p.value);
    if (p.type === 'punct') return !(p.value === ')' || p.value === ']' || p.value === '}');
    return false;
  };
  // Reads template text from i (just after ` or a closing } of ${…}) to the closing ` or the next ${.
  const templatePart = (start: number) => {
    let j = i;
    while (j < n) {
      const c = src[j];
      if (c === '\\') j += 2;
      else if (c === '`') {
        out.push({ type: 'template', value: src.slice(start, j + 1), start, end: j + 1 });
        i = j + 1;
        return;
      } else if (c === '$' && src[j + 1] === '{') {
        out.push({ type: 'template', value: src.slice(start, j + 2), start, end: j + 2 });
        braces.push('template');
        i = j + 2;
        return;
      } else j++;
    }
    throw new SyntaxError(`unterminated template literal at ${start}`);
  };
  while (i < n) {
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\uFEFF') {
      i++;
    } else if (c === '/' && src[i + 1] === '/') {
      while (i < n && src[i] !== '\n') i++;
    } else if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      if (end < 0) throw new SyntaxError(`unterminated comment at ${i}`);
      i = end + 2;
    } else if (c === "'" || c === '"') {
      const start = i;
      let j = i + 1;
      let value = '';
      while (j < n && src[j] !== c) {
        if (src[j] === '\n') throw new SyntaxError(`unterminated string at ${start}`);
        if (src[j] === '\\') {
          value += src[j + 1];
          j += 2;
        } else value += src[j++];
      }
      if (j >= n) throw new SyntaxError(`unterminated string at ${start}`);
      out.push({ type: 'string', value, start, end: j + 1 });
      i = j + 1;
    } else if (c === '`') {
      const start = i;
      i++;
      templatePart(start);
    } else if (c === '}' && braces[braces.length - 1] === 'template') {
      braces.pop();
      const start = i;
      i++;
      templatePart(start);
    } else if (c === '/' && regexAllowed()) {
      const start = i;
      let j = i + 1;
      let inClass = false;
      while (j < n) {
        const d = src[j];
        if (d === '\\') j += 2;
        else if (d === '\n') throw new SyntaxError(`unterminated regular expression at ${start}`);
        else if (inClass) {
          if (d === ']') inClass = false;
          j++;
        } else if (d === '[') {
          inClass = true;
          j++;
        } else if (d === '/') break;
        else j++;
      }
      j++;
      while (j < n && /[a-z]/i.test(src[j])) j++;
      out.push({ type: 'regex', value: src.slice(start, j), start, end: j });
      i = j;
    } else if (/[A-Za-z_$]/.test(c)) {
      const start = i;
      while (i < n && /[\w$]/.test(src[i])) i++;
      out.push({ type: 'ident', value: src.slice(start, i), start, end: i });
    } else if (/[0-9]/.test(c)) {
      const start = i;
      while (i < n && /[\w.]/.test(src[i])) i++;
      out.push({ type: 'number', value: src.slice(start, i), start, end: i });
    } else {
      if (c === '{') braces.push('brace');
      else if (c === '}') braces.pop();
      out.push({ type: 'punct', value: c, start: i, end: i + 1 });
      i++;
    }
  }
  return out;
}

export interface NamedBinding {
  /** The name in the module imported from (or re-exported from). */
  name: string;
  /** The local name (import) or exported name (export … from). */
  alias: string;
  /** `type X` inside the braces. */
  type: boolean;
}

export interface ImportRef {
  kind: 'import' | 'export' | 'dynamic' | 'side-effect';
  specifier: string;
  /** `import type …` / `export type …`: erased at run time. */
  typeOnly: boolean;
  /** import: `import X from`; export: never. */
  defaultName?: string;
  /** `* as X` (import or export). */
  namespace?: string;
  /** `export * from` (re-exports everything but the default). */
  star?: boolean;
  named?: NamedBinding[];
  /** Offsets of the whole statement (import/export) or of the `import(…)` call. */
  start: number;
  end: number;
  /** Offsets of the specifier's string literal, quotes included. */
  specStart: number;
  specEnd: number;
  line: number;
}

function lineAt(src: string, offset: number): number {
  let line = 1;
  for (let k = 0; k < offset; k++) if (src.charCodeAt(k) === 10) line++;
  return line;
}

/** Parses the tokens of an import/export clause (between the keyword and `from`). */
function parseClause(toks: Token[], ref: ImportRef): boolean {
  let k = 0;
  if (toks[k]?.value === 'type' && toks[k]?.type === 'ident' && toks.length > 1 && toks[k + 1].value !== ',') {
    ref.typeOnly = true;
    k++;
  }
  while (k < toks.length) {
    const t = toks[k];
    if (t.value === ',') k++;
    else if (t.value === '*') {
      if (toks[k + 1]?.value === 'as') {
        ref.namespace = toks[k + 2]?.value;
        k += 3;
      } else {
        ref.star = true;
        k++;
      }
    } else if (t.value === '{') {
      ref.named = [];
      k++;
      while (k < toks.length && toks[k].value !== '}') {
        if (toks[k].value === ',') {
          k++;
          continue;
        }
        let type = false;
        if (toks[k].value === 'type' && toks[k + 1] && toks[k + 1].value !== ',' && toks[k + 1].value !== '}' && toks[k + 1].value !== 'as') {
          type = true;
          k++;
        }
        const name = toks[k].value;
        let alias = name;
        if (toks[k + 1]?.value === 'as') {
          alias = toks[k + 2].value;
          k += 3;
        } else k++;
        ref.named.push({ name, alias, type });
      }
      k++;
    } else if (t.type === 'ident') {
      ref.defaultName = t.value;
      k++;
    } else return false;
  }
  return true;
}

/** Every import and re-export in a source file, in order. */
export function scanImports(src: string): ImportRef[] {
  const toks = tokenize(src);
  const refs: ImportRef[] = [];
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    if (t.type !== 'ident' || (t.value !== 'import' && t.value !== 'export')) continue;
    const before = toks[i - 1];
    if (before && before.type === 'punct' && before.value === '.') continue;
    const next = toks[i + 1];
    if (!next) continue;
    if (t.value === 'import' && next.value === '(') {
      const arg = toks[i + 2];
      if (arg?.type === 'string' && (toks[i + 3]?.value === ')' || toks[i + 3]?.value === ',')) {
        let close = i + 3;
        let depth = 0;
        for (; close < toks.length; close++) {
          if (toks[close].value === '(') depth++;
          else if (toks[close].value === ')') {
            if (depth === 0) break;
            depth--;
          }
        }
        refs.push({ kind: 'dynamic', specifier: arg.value, typeOnly: false, start: t.start, end: toks[close]?.end ?? arg.end, specStart: arg.start, specEnd: arg.end, line: lineAt(src, t.start) });
      }
      continue;
    }
    if (t.value === 'import' && next.type === 'string') {
      const end = toks[i + 2]?.value === ';' ? toks[i + 2].end : next.end;
      refs.push({ kind: 'side-effect', specifier: next.value, typeOnly: false, start: t.start, end, specStart: next.start, specEnd: next.end, line: lineAt(src, t.start) });
      continue;
    }
    if (t.value === 'export') {
      const isReexport = next.value === '*' || next.value === '{' || (next.value === 'type' && (toks[i + 2]?.value === '{' || toks[i + 2]?.value === '*'));
      if (!isReexport) continue;
    } else if (next.type !== 'ident' && next.value !== '{' && next.value !== '*') continue;
    // The clause runs to `from '…'`; anything else first (`;`, `=`) means this is not an import/re-export.
    let j = i + 1;
    let depth = 0;
    for (; j < toks.length; j++) {
      const v = toks[j].value;
      if (toks[j].type === 'punct' && v === '{') depth++;
      else if (toks[j].type === 'punct' && v === '}') depth--;
      else if (depth === 0 && toks[j].type === 'ident' && v === 'from' && toks[j + 1]?.type === 'string') break;
      else if (toks[j].type === 'punct' && !['*', ','].includes(v)) {
        j = -1;
        break;
      } else if (toks[j].type === 'string' || toks[j].type === 'template' || toks[j].type === 'regex' || toks[j].type === 'number') {
        j = -1;
        break;
      }
    }
    if (j < 0 || j >= toks.length) continue;
    const spec = toks[j + 1];
    const end = toks[j + 2]?.value === ';' ? toks[j + 2].end : spec.end;
    const ref: ImportRef = { kind: t.value === 'import' ? 'import' : 'export', specifier: spec.value, typeOnly: false, start: t.start, end, specStart: spec.start, specEnd: spec.end, line: lineAt(src, t.start) };
    if (!parseClause(toks.slice(i + 1, j), ref)) continue;
    refs.push(ref);
    i = j + 1;
  }
  return refs;
}

export interface OwnExport {
  name: string;
  type: boolean;
}

/** Names a module declares and exports itself (export const/function/class/interface/type/enum, `export { a as b }`, default). */
export function ownExports(src: string): OwnExport[] {
  const toks = tokenize(src);
  const out: OwnExport[] = [];
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    if (t.type !== 'ident' || t.value !== 'export' || toks[i - 1]?.value === '.') continue;
    let k = i + 1;
    while (['declare', 'async', 'abstract'].includes(toks[k]?.value)) k++;
    const kw = toks[k]?.value;
    if (kw === 'default') out.push({ name: 'default', type: false });
    else if (kw === 'interface' || kw === 'type') {
      if (toks[k + 1]?.type === 'ident' && toks[k + 1].value !== '{' ) out.push({ name: toks[k + 1].value, type: true });
    } else if (kw === 'const' || kw === 'let' || kw === 'var' || kw === 'function' || kw === 'class' || kw === 'enum') {
      let m = k + 1;
      if (toks[m]?.value === '*') m++;
      if (toks[m]?.type === 'ident') out.push({ name: toks[m].value, type: false });
    } else if (kw === '{') {
      // A local `export { a, b as c }` (re-exports with `from` are handled by scanImports).
      let m = k + 1;
      const names: OwnExport[] = [];
      while (m < toks.length && toks[m].value !== '}') {
        if (toks[m].value === ',') {
          m++;
          continue;
        }
        let type = false;
        if (toks[m].value === 'type' && toks[m + 1] && ![',', '}', 'as'].includes(toks[m + 1].value)) {
          type = true;
          m++;
        }
        let name = toks[m].value;
        if (toks[m + 1]?.value === 'as') {
          name = toks[m + 2].value;
          m += 3;
        } else m++;
        names.push({ name, type });
      }
      if (!(toks[m + 1]?.value === 'from' && toks[m + 2]?.type === 'string')) out.push(...names);
    }
  }
  return out;
}

/** Where an exported name comes from, following re-exports to the declaring module. */
export interface ExportOrigin {
  /** The module (absolute path) the re-export names. */
  via: string;
  /** The name in that module. */
  name: string;
  type: boolean;
}

/**
 * Every name a module exports, with where the module gets it: its own
 * declarations (`via` is the module itself) or a re-export (`via` is the module
 * named in `export … from`). `export *` is followed recursively.
 */
export function exportMap(file: string, read: (f: string) => string = (f) => readFileSync(f, 'utf8'), seen = new Set<string>()): Map<string, ExportOrigin> {
  const map = new Map<string, ExportOrigin>();
  if (seen.has(file) || !existsSync(file)) return map;
  seen.add(file);
  const src = read(file);
  for (const e of ownExports(src)) map.set(e.name, { via: file, name: e.name, type: e.type });
  for (const r of scanImports(src)) {
    if (r.kind !== 'export') continue;
    const target = resolveSpecifier(file, r.specifier);
    if (!target) continue;
    if (r.namespace) map.set(r.namespace, { via: target, name: '*', type: r.typeOnly });
    else if (r.star) {
      for (const [name, origin] of exportMap(target, read, seen)) {
        if (name !== 'default' && !map.has(name)) map.set(name, { via: target, name, type: r.typeOnly || origin.type });
      }
    } else for (const b of r.named ?? []) map.set(b.alias, { via: target, name: b.name, type: r.typeOnly || b.type });
  }
  return map;
}

/** The file a relative specifier names, or undefined for packages and missing files. */
export function resolveSpecifier(fromFile: string, specifier: string): string | undefined {
  if (!specifier.startsWith('./') && !specifier.startsWith('../')) return undefined;
  const target = resolve(dirname(fromFile), specifier);
  return existsSync(target) && statSync(target).isFile() ? target : undefined;
}

/** Every .ts file under dir, sorted. */
export function tsFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** The top folder of a file under root (src/rules/stages/x.ts → rules), or '' for a file directly in root. */
export function topFolder(root: string, file: string): string {
  const rel = relative(root, file).split(sep);
  return rel.length > 1 ? rel[0] : '';
}

/** A specifier from `fromFile` to `toFile`, always starting with ./ or ../ and using /. */
export function specifierFor(fromFile: string, toFile: string): string {
  const rel = relative(dirname(fromFile), toFile).split(sep).join('/');
  return rel.startsWith('.') ? rel : `./${rel}`;
}

export interface Edge {
  /** Importing file, relative to the repository (e.g. src/chat/engine.ts). */
  from: string;
  /** Imported file, relative to the repository, when it resolves inside the tree. */
  to: string;
  fromFolder: string;
  toFolder: string;
  ref: ImportRef;
}

/** The import graph of the .ts files under root (relative specifiers only). */
export function importGraph(root: string, repo: string = dirname(root)): { edges: Edge[]; unresolved: { file: string; ref: ImportRef }[]; files: string[] } {
  const edges: Edge[] = [];
  const unresolved: { file: string; ref: ImportRef }[] = [];
  const files = tsFiles(root);
  for (const file of files) {
    const src = readFileSync(file, 'utf8');
    for (const ref of scanImports(src)) {
      if (!ref.specifier.startsWith('.')) continue;
      const target = resolveSpecifier(file, ref.specifier);
      if (!target) {
        unresolved.push({ file: relative(repo, file), ref });
        continue;
      }
      edges.push({ from: relative(repo, file).split(sep).join('/'), to: relative(repo, target).split(sep).join('/'), fromFolder: topFolder(root, file), toFolder: topFolder(root, target), ref });
    }
  }
  return { edges, unresolved, files: files.map((f) => relative(repo, f).split(sep).join('/')) };
}

/** Strongly connected components with more than one node (Tarjan), each sorted. */
export function cycles(nodes: Iterable<string>, next: (n: string) => Iterable<string>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of next(v)) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) out.push(comp.sort());
    }
  };
  for (const n of nodes) if (!idx.has(n)) visit(n);
  return out;
}
