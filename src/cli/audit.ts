// `kubemend audit list|verify|export|prune`: read and check the tamper-evident
// audit log in the store chosen by --db / KUBEMEND_DB (default: the SQLite
// file in the data directory).
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import type { Command } from 'commander';
import { parseDuration, realClock, Errors, KubemendError } from '../common/index.ts';
import { EXPORT_FORMATS, exportJsonl, openWitness, pruneExpired, type AuditQuery, type AuditRecord, type AuditWitness, type VerifyResult } from '../audit/index.ts';
import { loadContexts } from '../kube/index.ts';
import { openStore, type SqlStore } from '../store/index.ts';
import { badValue } from './flags.ts';
import { clusterOptions, collect, jsonOption, storeOptions, type ClusterFlags, type StoreFlags } from './options.ts';
import { renderTable, type Column } from './table.ts';
import { registerAuditVerifyEs } from './audit-verify-es.ts';

interface AuditStoreFlags extends StoreFlags {
  publicKey?: string[];
}

interface QueryFlags {
  since?: number;
  until?: number;
  actor?: string;
  target?: string;
  action?: string;
  run?: string;
  detection?: string;
  incident?: string;
}

/** "2026-01-02T03:04:05Z" / "2026-01-02", or a duration meaning that long ago ("24h", "7d"). */
export function parseTimeFlag(v: string): number {
  if (/^\d+(\.\d+)?(ms|s|m|h|d)/.test(v.trim())) {
    try {
      return realClock.now() - parseDuration(v);
    } catch {
      /* fall through to the error below */
    }
  }
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw badValue(`"${v}" is not a time; use RFC 3339 (2026-01-02T15:04:05Z), a date, or a duration ago such as 24h or 7d.`);
  return t;
}

/** A retention window in ms, or undefined when `v` is not one. */
function windowOf(v: string): number | undefined {
  try {
    const ms = parseDuration(v);
    if (ms > 0) return ms;
  } catch {
    /* not a duration */
  }
  return undefined;
}

const notAWindow = (v: string) => `"${v}" is not a retention window; use a duration such as 90d, 720h or 30d12h.`;

function parseWindow(v: string): number {
  const ms = windowOf(v);
  if (ms === undefined) throw badValue(notAWindow(v));
  return ms;
}

function parseLimit(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw badValue(`"${v}" is not a limit; use a whole number of at least 1.`);
  return n;
}

function parseSeq(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw badValue(`"${v}" is not a seq; use a whole number (0 for everything).`);
  return n;
}

function queryOptions(c: Command): Command {
  return c
    .option('--since <time>', 'records at or after a time (RFC 3339) or a duration ago (24h, 7d)', parseTimeFlag)
    .option('--until <time>', 'records before a time (RFC 3339) or a duration ago', parseTimeFlag)
    .option('--actor <who>', 'actor name (alice), or type:name (user:alice, rule:crashloop, system:)')
    .option('--target <text>', 'text contained in the target cluster, namespace, kind or name (case-sensitive)')
    .option('--action <verb>', 'action, exact (runbook.step.succeeded) or a prefix ending in * (runbook.*)')
    .option('--run <id>', 'records of one runbook run')
    .option('--detection <id>', 'records of one detection')
    .option('--incident <id>', 'records of one incident');
}

function toQuery(f: QueryFlags): AuditQuery {
  return { since: f.since, until: f.until, actor: f.actor, target: f.target, action: f.action, runId: f.run, detectionId: f.detection, incidentId: f.incident };
}

async function withStore<T>(f: AuditStoreFlags, fn: (s: SqlStore) => Promise<T>): Promise<T> {
  const store = await openStore({ db: f.db, dataDir: f.dataDir, trustedKeys: f.publicKey });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

function formatTarget(r: AuditRecord): string {
  const t = r.target ?? {};
  const obj = t.kind || t.name ? `${t.kind ?? ''}${t.kind && t.name ? '/' : ''}${t.name ?? ''}` : '';
  return [t.cluster, t.namespace, obj].filter(Boolean).join('/') || '-';
}

/** The step of a runbook.step.* record, as the executor stores it in data (`#2` for a retry). */
function stepOf(r: AuditRecord): string | undefined {
  const step = r.data?.step;
  if (typeof step !== 'string' || !r.action.startsWith('runbook.step.')) return undefined;
  const attempt = Number(r.data?.attempt);
  return attempt > 1 ? `${step}#${attempt}` : step;
}

const COLUMNS: Column[] = [
  { header: 'SEQ', align: 'right' },
  { header: 'TIME' },
  { header: 'ACTOR', max: 40 },
  { header: 'ACTION', max: 40 },
  { header: 'STEP', max: 24 },
  { header: 'TARGET', max: 56 },
  { header: 'OUTCOME' },
  { header: 'DETAILS' },
];

export function formatAuditTable(records: AuditRecord[]): string[] {
  return renderTable(COLUMNS, records.map((r) => [
    String(r.seq),
    new Date(r.time).toISOString(),
    `${r.actor.type}:${r.actor.name}`,
    r.action,
    stepOf(r) ?? '-',
    formatTarget(r),
    r.outcome ?? '-',
    [r.justification, r.link, r.runId && `run=${r.runId}`, r.detectionId && `detection=${r.detectionId}`, r.incidentId && `incident=${r.incidentId}`].filter(Boolean).join(' '),
  ]));
}

function printVerified(result: Extract<VerifyResult, { ok: true }>): void {
  const from = result.fromCheckpoint !== undefined ? `, continuing from the signed checkpoint at seq ${result.fromCheckpoint}` : '';
  process.stdout.write(`audit chain ok: ${result.records} records, head ${result.head}${from}\n`);
  for (const w of result.witnesses ?? []) {
    const older = w.heads - w.checked;
    process.stdout.write(w.heads === 0
      ? `witness ${w.name}: holds no heads yet, so it proves nothing about the tail\n`
      : `witness ${w.name}: ${w.heads} heads up to seq ${w.newest}, every one in the chain${older ? ` (${older} from before the retention checkpoint not comparable)` : ''}\n`);
  }
  if (!result.witnesses?.length) process.stderr.write('note: no witness checked: deleting the newest records and putting back an older signed head would go unnoticed (see --witness, docs/audit.md)\n');
}

export function registerAudit(program: Command): void {
  const cmd = program.command('audit').description('Query, verify, export and prune the tamper-evident audit log');

  jsonOption(queryOptions(storeOptions(cmd.command('list').description('List audit records, oldest first (the newest --limit of those matching)'))), 'print the records as a JSON array, exactly as stored')
    .option('--limit <n>', 'at most this many records, the most recent', parseLimit, 100)
    .action(async (f: AuditStoreFlags & QueryFlags & { limit: number; json?: boolean }) => {
      const records = await withStore(f, (s) => s.audit.list({ ...toQuery(f), order: 'desc', limit: f.limit }));
      records.reverse();
      if (f.json) {
        process.stdout.write(`${JSON.stringify(records, null, 2)}\n`);
        return;
      }
      process.stdout.write(`${formatAuditTable(records).join('\n')}\n`);
    });

  jsonOption(clusterOptions(storeOptions(cmd.command('verify').description('Check the hash chain, the signed chain head, retention checkpoints and witnesses; exit 1 naming the first bad record'))), 'print the result as JSON')
    .option('--public-key <file>', 'also trust signatures by this Ed25519 public key (PEM; repeatable)', collect)
    .option('--witness <where>', 'also check the heads a witness saw are still in the chain: FILE (file:FILE), or configmap:NAMESPACE/NAME in the cluster of --kubeconfig/--context (repeatable; default $KUBEMEND_AUDIT_WITNESS)', collect)
    .action(async (f: AuditStoreFlags & ClusterFlags & { json?: boolean; witness?: string[] }) => {
      await withStore(f, async (s) => {
        const kube = () => loadContexts(f.kubeconfig, f.context.slice(0, 1))[0].http;
        const witnesses: AuditWitness[] = f.witness ? f.witness.map((w) => openWitness(w, kube)) : s.audit.witnesses;
        const result = await s.audit.verify({ witnesses });
        if (f.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        if (result.ok) {
          if (!f.json) printVerified(result);
          return;
        }
        const bad = result.firstBad;
        if (!f.json) {
          process.stdout.write(`audit chain BROKEN at seq ${bad.seq}${bad.id ? ` (id ${bad.id})` : ''}: ${bad.reason}\n`);
          process.stdout.write(`${result.records} records verified before it.\n`);
          const [stored] = await s.audit.list({ afterSeq: bad.seq - 1, limit: 1 });
          if (stored && stored.seq === bad.seq) process.stdout.write(`stored record: ${JSON.stringify(stored)}\n`);
        }
        const err = new KubemendError(Errors.AUDIT_CHAIN_BROKEN, `audit chain broken at seq ${bad.seq}${bad.id ? ` (id ${bad.id})` : ''}`);
        process.stderr.write(`error: ${err.render()}\n`);
        process.exitCode = 1;
      });
    });

  registerAuditVerifyEs(cmd);

  queryOptions(storeOptions(cmd.command('export').description('Write audit records, oldest first, for a log shipper (one JSON object per line)')))
    .option('--format <format>', `output format: ${EXPORT_FORMATS.join(', ')}`, 'jsonl')
    .option('--output <file>', 'write to a file instead of stdout')
    .option('--after-seq <n>', 'only records after this seq (for incremental shipping: the last seq already shipped)', parseSeq)
    .action(async (f: AuditStoreFlags & QueryFlags & { format: string; output?: string; afterSeq?: number }) => {
      if (!(EXPORT_FORMATS as readonly string[]).includes(f.format)) {
        throw new KubemendError(Errors.BAD_FLAG, `--format ${f.format} is not supported; use ${EXPORT_FORMATS.join(', ')}`);
      }
      await withStore(f, async (s) => {
        const q = { ...toQuery(f), afterSeq: f.afterSeq };
        if (!f.output) {
          try {
            await exportJsonl(s.audit, process.stdout, q);
          } catch (err) {
            // `… | head` closing the pipe early is the reader's choice, not an error.
            if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err;
          }
          return;
        }
        const out = createWriteStream(f.output, { mode: 0o600 });
        const n = await exportJsonl(s.audit, out, q);
        out.end();
        await finished(out);
        process.stderr.write(`exported ${n} records to ${f.output}\n`);
      });
    });

  storeOptions(cmd.command('prune').description('Delete records older than the retention window, leaving a signed checkpoint so verify still works'))
    .option('--retention <window>', 'keep this much history, e.g. 90d (default $KUBEMEND_AUDIT_RETENTION)', parseWindow)
    .option('--before <time>', 'instead of a window: delete records before this time (RFC 3339)', parseTimeFlag)
    .action(async (f: AuditStoreFlags & { retention?: number; before?: number }) => {
      const env = process.env.KUBEMEND_AUDIT_RETENTION;
      let window = f.retention;
      if (window === undefined && env) {
        window = windowOf(env);
        if (window === undefined) throw new KubemendError(Errors.BAD_FLAG, `KUBEMEND_AUDIT_RETENTION: ${notAWindow(env)}`);
      }
      if (window === undefined && f.before === undefined) {
        throw new KubemendError(Errors.BAD_FLAG, 'audit prune needs --retention (e.g. 90d), KUBEMEND_AUDIT_RETENTION, or --before');
      }
      await withStore(f, async (s) => {
        const r = f.before !== undefined ? await s.audit.prune(f.before) : await pruneExpired(s.audit, window as number, realClock);
        process.stdout.write(r.removed === 0 ? 'nothing to prune\n' : `pruned ${r.removed} records; signed checkpoint at seq ${r.checkpointSeq}\n`);
      });
    });
}
