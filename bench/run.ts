// `npm run bench`: runs every bench/*.bench.ts module (or those named on the
// command line: `npm run bench -- audit`), prints a table per module, and
// rewrites that module's section of BENCHMARKS.md with the machine it ran on.
// Exits 1 when any case is over its budget, so CI can hold the line.
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, totalmem, platform, release, arch } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { goalMet, type BenchCase, type BenchModule, type BenchSection, type GoalRow } from './harness.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FILE = join(ROOT, 'BENCHMARKS.md');

function machine(): string {
  const c = cpus();
  return [
    `- Date: ${new Date().toISOString()}`,
    `- Node.js: ${process.version} (${platform()} ${release()} ${arch()})`,
    `- CPU: ${c[0]?.model.trim() ?? 'unknown'}, ${c.length} cores`,
    `- RAM: ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
  ].join('\n');
}

const over = (c: BenchCase) => c.budgetMs !== undefined && c.ms > c.budgetMs;

function table(s: BenchSection): string {
  const rows = s.cases.map((c) => [
    c.name,
    String(c.n),
    c.ms.toFixed(0),
    c.n > 0 ? Math.round((c.n / c.ms) * 1000).toLocaleString('en-US') : '-',
    c.rssMb.toFixed(0),
    c.budgetMs !== undefined ? `${c.budgetMs}` : '-',
    c.budgetMs === undefined ? '-' : over(c) ? 'OVER' : 'ok',
  ]);
  const head = ['Case', 'N', 'ms', 'per s', 'RSS MB', 'budget ms', 'result'];
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

const fmt = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2));

/** The goal rows: worst and median of the rounds, against the goal. */
function goals(rows: GoalRow[]): string {
  const head = ['Goal row', 'baseline (same run)', 'goal', 'worst–median of rounds', 'met'];
  const body = rows.map((g) => [g.row, g.baseline, `${g.better === 'higher' ? '≥' : '≤'} ${fmt(g.goal)} ${g.unit}`, `${fmt(g.min)}–${fmt(g.median)} ${g.unit}`, goalMet(g) ? 'yes' : g.limit ? `no: ${g.limit}` : 'no']);
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...body.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function section(name: string, s: BenchSection): string {
  return [`<!-- bench:${name} -->`, `## ${s.title}`, '', machine(), '', ...(s.goals?.length ? [goals(s.goals), ''] : []), `Budget: ${s.budget}`, '', table(s), ...(s.notes?.length ? ['', ...s.notes.map((n) => `- ${n}`)] : []), `<!-- /bench:${name} -->`].join('\n');
}

const HEADER = '# Benchmarks\n\nWritten by `npm run bench` (bench/run.ts); each section is replaced when its module runs. A case over its budget fails the run.\n';

function writeDoc(results: Map<string, BenchSection>): void {
  let doc = existsSync(FILE) ? readFileSync(FILE, 'utf8') : HEADER;
  for (const [name, s] of results) {
    const text = section(name, s);
    const re = new RegExp(`<!-- bench:${name} -->[\\s\\S]*?<!-- /bench:${name} -->`);
    doc = re.test(doc) ? doc.replace(re, text) : `${doc.trimEnd()}\n\n${text}\n`;
  }
  writeFileSync(FILE, doc.endsWith('\n') ? doc : `${doc}\n`);
}

async function main(only: string[]): Promise<number> {
  const dir = fileURLToPath(new URL('.', import.meta.url));
  const names = readdirSync(dir)
    .filter((f) => f.endsWith('.bench.ts'))
    .map((f) => basename(f, '.bench.ts'))
    .filter((n) => only.length === 0 || only.includes(n))
    .sort();
  if (names.length === 0) {
    process.stderr.write(`no bench modules match ${only.join(', ')}\n`);
    return 1;
  }
  const results = new Map<string, BenchSection>();
  let failed = false;
  for (const name of names) {
    process.stdout.write(`running ${name}…\n`);
    const mod = (await import(join(dir, `${name}.bench.ts`))) as BenchModule;
    const s = await mod.run();
    results.set(name, s);
    process.stdout.write(`\n${s.title}\n${s.goals?.length ? `${goals(s.goals)}\n` : ''}budget: ${s.budget}\n${table(s)}\n${(s.notes ?? []).map((n) => `- ${n}\n`).join('')}\n`);
    for (const c of s.cases) {
      if (over(c)) {
        failed = true;
        process.stderr.write(`OVER BUDGET: ${name}: ${c.name} took ${c.ms.toFixed(0)}ms (budget ${c.budgetMs}ms)\n`);
      }
    }
  }
  writeDoc(results);
  process.stdout.write(`wrote ${FILE}\n`);
  return failed ? 1 : 0;
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
