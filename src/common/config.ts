// Loads YAML config (rules, runbooks, scenarios …) and validates it with zod,
// reporting every problem as `file:line path: message` so a user can jump
// straight to it. Validated documents are frozen: config is read once, with
// defaults filled, and never changes under a running engine.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LineCounter, parseAllDocuments, isNode, type Document } from 'yaml';
import type { z } from 'zod';
import { KubemendError, Errors } from './errors.ts';

export interface ConfigProblem {
  file: string;
  line: number;
  column: number;
  /** Dotted path inside the document, e.g. `spec.steps[2].at`. */
  path: string;
  message: string;
}

export class ConfigError extends KubemendError {
  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    super(Errors.CONFIG_INVALID, problems.map(formatProblem).join('\n'));
    this.problems = problems;
  }
}

export function formatProblem(p: ConfigProblem): string {
  return `${p.file}:${p.line}${p.path ? ` ${p.path}` : ''}: ${p.message}`;
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const k of path) {
    if (typeof k === 'number') out += `[${k}]`;
    else out += out ? `.${String(k)}` : String(k);
  }
  return out;
}

export interface LoadedDocument<T> {
  file: string;
  /** 1-based line where the document starts. */
  line: number;
  value: T;
}

/**
 * Parses every YAML document in `text` and validates each with `schema`.
 * Throws one ConfigError listing all problems in all documents.
 */
export function parseConfig<S extends z.ZodType>(file: string, text: string, schema: S): LoadedDocument<z.output<S>>[] {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc, prettyErrors: false });
  const problems: ConfigProblem[] = [];
  const out: LoadedDocument<z.output<S>>[] = [];
  const at = (offset: number) => lc.linePos(offset);
  const list = Array.isArray(docs) ? docs : [];
  if (!Array.isArray(docs)) {
    // parseAllDocuments returns an EmptyStream for an empty input.
    problems.push({ file, line: 1, column: 1, path: '', message: 'the file holds no YAML document' });
  }
  for (const doc of list) {
    if (doc.errors.length) {
      for (const e of doc.errors) {
        const { line, col } = at(e.pos[0]);
        problems.push({ file, line, column: col, path: '', message: `YAML syntax: ${e.message.split('\n')[0]}` });
      }
      continue;
    }
    const raw = doc.toJS({ maxAliasCount: 100 });
    if (raw === null || raw === undefined) continue; // an empty document between `---`s
    const startLine = at(doc.range[0]).line;
    const res = schema.safeParse(raw);
    if (!res.success) {
      for (const issue of res.error.issues) {
        const { line, col } = locate(doc, issue.path, at) ?? { line: startLine, col: 1 };
        problems.push({ file, line, column: col, path: formatPath(issue.path), message: issue.message });
      }
      continue;
    }
    out.push({ file, line: startLine, value: deepFreeze(res.data) });
  }
  if (problems.length) throw new ConfigError(problems);
  return out;
}

export function loadConfigFile<S extends z.ZodType>(file: string, schema: S): LoadedDocument<z.output<S>>[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([{ file, line: 0, column: 0, path: '', message: `cannot read file: ${(err as Error).message}` }]);
  }
  return parseConfig(file, text, schema);
}

/** Finds the line of the deepest node that exists along `path`. */
function locate(doc: Document, path: readonly PropertyKey[], at: (o: number) => { line: number; col: number }) {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n) as (string | number)[], true);
    if (isNode(node) && node.range) return at(node.range[0]);
    // A missing key: point at the key itself when the parent map has it.
  }
  return undefined;
}

export function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
  }
  return v;
}

/** Refinement helper: a zod check for durations like `5m`. */
export { parseDuration } from './clock.ts';

/** The YAML files under `path` (a directory, searched recursively, or one file), sorted. */
export function configFiles(path: string, what: string): string[] {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    throw new ConfigError([{ file: path, line: 0, column: 0, path: '', message: `cannot read: ${(err as Error).message}` }]);
  }
  if (!st.isDirectory()) return [path];
  const files = (readdirSync(path, { recursive: true }) as string[]).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => join(path, f));
  if (!files.length) throw new ConfigError([{ file: path, line: 0, column: 0, path: '', message: `no ${what} files (*.yaml or *.yml) here` }]);
  return files;
}

export interface ParsedFile<T> {
  file: string;
  text: string;
  docs: LoadedDocument<T>[];
}

/**
 * Reads and validates every file, collecting problems instead of stopping at
 * the first, so one load reports everything wrong in a directory.
 */
export function parseConfigFiles<S extends z.ZodType>(files: string[], schema: S, problems: ConfigProblem[]): ParsedFile<z.output<S>>[] {
  const out: ParsedFile<z.output<S>>[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      problems.push({ file, line: 0, column: 0, path: '', message: `cannot read file: ${(err as Error).message}` });
      continue;
    }
    try {
      out.push({ file, text, docs: parseConfig(file, text, schema) });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...err.problems);
    }
  }
  return out;
}
