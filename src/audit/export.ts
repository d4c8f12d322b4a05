// JSON Lines export for log shippers (Filebeat, Logstash, Vector, Fluent Bit):
// one record per line, exactly as stored — the hashed fields plus prevHash and
// hash — so the copy in ELK can be re-checked against the chain on its own.
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { canonicalJson, chainHash } from './chain.ts';
import type { AuditLog, AuditQuery, AuditRecord } from './types.ts';

export const EXPORT_FORMATS = ['jsonl'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** One line of the export (without the newline). */
export function jsonlLine(r: AuditRecord): string {
  return JSON.stringify(r);
}

/** Streams records to `out`, honouring backpressure; returns how many were written. */
export async function exportJsonl(log: AuditLog, out: Writable, q: AuditQuery = {}): Promise<number> {
  let n = 0;
  for await (const r of log.iterate(q)) {
    if (!out.write(`${jsonlLine(r)}\n`)) await once(out, 'drain');
    n++;
  }
  return n;
}

/** Recomputes one exported record's hash from its own fields. */
export function recomputeHash(r: AuditRecord): string {
  const { prevHash, hash: _hash, ...body } = r;
  return chainHash(prevHash, canonicalJson(body));
}

export type ExportCheck = { ok: true; records: number } | { ok: false; records: number; firstBad: { seq: number; id?: string; reason: string } };

/**
 * Offline check of an export (or a slice of one): every line's hash matches
 * its fields and links to the line before. The first line's prevHash is taken
 * on trust, since a slice starts mid-chain.
 */
export function checkJsonl(lines: Iterable<string>): ExportCheck {
  let prev: AuditRecord | undefined;
  let records = 0;
  for (const line of lines) {
    if (line.trim() === '') continue;
    const r = JSON.parse(line) as AuditRecord;
    const bad = (reason: string): ExportCheck => ({ ok: false, records, firstBad: { seq: r.seq, id: r.id, reason } });
    if (recomputeHash(r) !== r.hash) return bad('the record does not match its hash');
    if (prev && r.seq !== prev.seq + 1) return bad(`expected seq ${prev.seq + 1} after ${prev.seq}`);
    if (prev && r.prevHash !== prev.hash) return bad(`prevHash does not match record ${prev.seq}`);
    prev = r;
    records++;
  }
  return { ok: true, records };
}
