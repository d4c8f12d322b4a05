// Stages what the container image's /app holds: the CLI's sources and the
// production dependencies only, copied out of an installed node_modules into
// OUT/app without touching it (the worktrees share one node_modules, and the
// image build must not download anything).
//
//   node scripts/image/stage.ts OUT [--root DIR]
//
// The dependency set is what `npm ci --omit=dev` would install, found by
// walking package-lock.json from the root's dependencies the way Node
// resolves them, with two deliberate differences:
// - optional peer dependencies are not followed: TypeScript is one (of
//   @mattermost/client, for its type declarations), so `npm ci --omit=dev`
//   keeps it as "devOptional" — 30 MB that nothing runs;
// - files Node never loads at run time are left out: type declarations,
//   source maps, TypeScript sources (Node does not strip types under
//   node_modules) and Markdown other than licences.
// Every staged package must be installed at the version the lockfile names,
// so an image is never built from a stale node_modules.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

/** The repository paths the image runs from (src/cli/shared.ts finds rules/, runbooks/ and config/ beside src/). */
export const APP_FILES = ['package.json', 'bin', 'src', 'rules', 'runbooks', 'config', 'scenarios'];

interface LockEntry {
  version?: string;
  dev?: boolean;
  optional?: boolean;
  link?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

export class StageError extends Error {
  override name = 'StageError';
}

/** Lockfile keys ("node_modules/a", "node_modules/a/node_modules/b") of the production closure, sorted. */
export function productionPackages(root: string): string[] {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { lockfileVersion: number; packages?: Record<string, LockEntry> };
  const packages = lock.packages;
  if (!packages || lock.lockfileVersion < 2) throw new StageError('package-lock.json has no "packages" map (lockfileVersion 2 or later): regenerate it with npm 7 or newer');
  const top = packages[''] ?? {};
  const seen = new Set<string>();
  const queue: { from: string; name: string; optional: boolean }[] = [
    ...Object.keys(top.dependencies ?? {}).map((name) => ({ from: '', name, optional: false })),
    ...Object.keys(top.optionalDependencies ?? {}).map((name) => ({ from: '', name, optional: true })),
  ];
  while (queue.length) {
    const { from, name, optional } = queue.shift()!;
    const key = resolveIn(packages, from, name);
    if (!key) {
      if (optional) continue;
      throw new StageError(`package-lock.json: ${from || 'the root'} depends on ${name}, which it does not list`);
    }
    if (seen.has(key)) continue;
    const entry = packages[key];
    if (entry.link) throw new StageError(`${key} is a link (a workspace or file: dependency); the image stager copies installed packages only`);
    // An optional package for another platform is in the lockfile but not installed.
    if (!existsSync(join(root, key))) {
      if (optional || entry.optional) continue;
      throw new StageError(`${key} is not installed: run \`npm ci\` first`);
    }
    const installed = JSON.parse(readFileSync(join(root, key, 'package.json'), 'utf8')).version;
    if (installed !== entry.version) {
      throw new StageError(`${key} is ${installed} in node_modules but ${entry.version} in package-lock.json: run \`npm ci\` so the image gets what the lockfile says`);
    }
    seen.add(key);
    for (const dep of Object.keys(entry.dependencies ?? {})) queue.push({ from: key, name: dep, optional: false });
    for (const dep of Object.keys(entry.optionalDependencies ?? {})) queue.push({ from: key, name: dep, optional: true });
    for (const dep of Object.keys(entry.peerDependencies ?? {})) {
      if (!entry.peerDependenciesMeta?.[dep]?.optional) queue.push({ from: key, name: dep, optional: false });
    }
  }
  return [...seen].sort();
}

/** Node's lookup: FROM/node_modules/NAME, then each enclosing node_modules up to the root's. */
function resolveIn(packages: Record<string, LockEntry>, from: string, name: string): string | undefined {
  let base = from;
  for (;;) {
    const key = `${base ? `${base}/` : ''}node_modules/${name}`;
    if (packages[key]) return key;
    if (!base) return undefined;
    const at = base.lastIndexOf('/node_modules/');
    base = at < 0 ? '' : base.slice(0, at);
  }
}

/** Files Node never reads when running the CLI. */
export function runtimeFile(path: string): boolean {
  const name = basename(path);
  if (/\.(d\.[cm]?ts|[cm]?ts|map)$/.test(name)) return false;
  if (/\.md$/i.test(name)) return /^licen[cs]e/i.test(name);
  return true;
}

export function stage(root: string, out: string): { packages: string[] } {
  const app = join(out, 'app');
  rmSync(app, { recursive: true, force: true });
  mkdirSync(app, { recursive: true });
  for (const f of APP_FILES) {
    if (!existsSync(join(root, f))) throw new StageError(`${join(root, f)} is missing: is --root the repository?`);
    cpSync(join(root, f), join(app, f), { recursive: true });
  }
  const packages = productionPackages(root);
  for (const key of packages) {
    const src = join(root, key);
    // A package's own node_modules holds other lockfile entries, staged (or not) on their own.
    const nested = join(src, 'node_modules');
    cpSync(src, join(app, key), {
      recursive: true,
      dereference: true,
      filter: (p) => p !== nested && (statSync(p).isDirectory() || runtimeFile(p)),
    });
  }
  return { packages };
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { root: { type: 'string' } } });
  if (positionals.length !== 1) {
    process.stderr.write('usage: node scripts/image/stage.ts OUT [--root DIR]\n');
    process.exit(2);
  }
  const root = resolve(values.root ?? join(import.meta.dirname, '../..'));
  try {
    const { packages } = stage(root, resolve(positionals[0]));
    process.stdout.write(`staged the app and ${packages.length} production packages into ${join(resolve(positionals[0]), 'app')}\n`);
  } catch (err) {
    if (!(err instanceof StageError)) throw err;
    process.stderr.write(`stage: ${err.message}\n`);
    process.exit(1);
  }
}
