// `npm test`: every test file, in two groups run side by side.
//
// - The unit-level folders share one process (`--test-isolation=none`). A
//   test process spends about half a second loading kubemend's modules before
//   its first test, and these ~200 files mostly take less than that to run:
//   in their own processes they cost 393 s of CPU, in one 133 s (issue 16).
// - Files that start kubemend, kubectl, Python, buildah or Chromium
//   processes, servers and sandboxes (cli, server, e2e, conformance, deploy,
//   image), and any file marked `// test-isolation: process`, get a process
//   each, two at a time, as before.
//
// Files in the shared process must leave process-wide state as they found it
// (process.env, the working directory, globals, listeners on `process`).
// Arguments (`npm test -- test/rules/engine.test.ts`) run just those files,
// each in its own process, as `node --test` does.
import { spawn } from 'node:child_process';
import { readFileSync, globSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Folders under test/ whose files share one process. */
export const SHARED_DIRS = ['architecture', 'audit', 'authz', 'chat', 'common', 'incidents', 'kube', 'notify', 'pipeline', 'rules', 'runbooks', 'sandbox', 'store'];
const MARKER = '// test-isolation: process';
const COMMON = ['--test', '--test-timeout=180000', '--test-reporter=spec'];

/** Every test file, split into those that share a process and those that get their own. */
export function partition(root = ROOT): { shared: string[]; isolated: string[] } {
  const files = globSync('test/**/*.test.ts', { cwd: root }).sort();
  const shared: string[] = [];
  const isolated: string[] = [];
  for (const f of files) {
    const top = f.split('/')[1];
    const own = !SHARED_DIRS.includes(top) || readFileSync(join(root, f), 'utf8').includes(MARKER);
    (own ? isolated : shared).push(f);
  }
  return { shared, isolated };
}

export interface Group {
  label: string;
  /** The `node` arguments: one `node --test` run. */
  args: string[];
  /** What the group is, for the summary. */
  what: string;
}

/** The `node --test` runs `npm test ARGV` makes. */
export function plan(argv: string[], root = ROOT): Group[] {
  if (argv.length) return [{ label: 'test', args: [...COMMON, ...argv], what: 'the files named, a process each' }];
  const { shared, isolated } = partition(root);
  return [
    { label: 'shared', args: [...COMMON, '--test-isolation=none', ...shared], what: `${shared.length} files in one process` },
    { label: 'isolated', args: [...COMMON, '--test-concurrency=2', ...isolated], what: `${isolated.length} files, a process each` },
  ];
}

/** Runs one `node --test`, its lines prefixed with the group's label; resolves to its exit code and summary lines. */
function runGroup(g: Group, width: number): Promise<{ code: number; summary: string[] }> {
  const env = { ...process.env, NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE ?? join(process.env.TMPDIR ?? '/tmp', 'kubemend-node-compile-cache') };
  const child = spawn(process.execPath, g.args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = `${g.label.padEnd(width)} │ `;
  const summary: string[] = [];
  const pipe = (from: NodeJS.ReadableStream, to: NodeJS.WriteStream) => {
    let rest = '';
    from.setEncoding('utf8');
    from.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop()!;
      for (const line of lines) {
        if (/^ℹ (tests|pass|fail|cancelled|skipped|duration_ms) /.test(line)) summary.push(line.slice(2));
        to.write(`${prefix}${line}\n`);
      }
    });
    from.on('end', () => {
      if (rest) to.write(`${prefix}${rest}\n`);
    });
  };
  pipe(child.stdout!, process.stdout);
  pipe(child.stderr!, process.stderr);
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), summary })));
}

async function main(argv: string[]): Promise<number> {
  const groups = plan(argv);
  const width = Math.max(...groups.map((g) => g.label.length));
  const results = await Promise.all(groups.map((g) => runGroup(g, width)));
  if (groups.length > 1) {
    process.stdout.write('\n');
    groups.forEach((g, i) => process.stdout.write(`${g.label} (${g.what}): ${results[i].summary.join(', ') || 'no summary'}; exit ${results[i].code}\n`));
  }
  return results.some((r) => r.code !== 0) ? 1 : 0;
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
