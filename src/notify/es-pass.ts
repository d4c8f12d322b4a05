// One pass of the audit shipper: read what follows the checkpoint, send it
// in one _bulk request, and move the checkpoint over the leading records
// that are now stored. At-least-once and in order: the checkpoint never
// passes a record Elasticsearch has not stored (or that was not
// dead-lettered), and a re-send after a crash is a 409 for its _id, not a
// second copy.
import { Errors, KubemendError, redact, traceRecordsRejectedTotal, traceRecordsShippedTotal, traceRequestFailuresTotal } from '../common/index.ts';
import type { AuditLog, AuditRecord } from '../audit/index.ts';
import { bulkBody, NDJSON, parseBulkResponse, type BulkEntry } from './es-bulk.ts';
import { toDocument } from './es-document.ts';
import { EsNetworkError, type EsHttp } from './es-http.ts';

/** The store as the shipper uses it. */
export interface ShipperStore {
  readonly audit: AuditLog;
  shipperCheckpoint(name: string): Promise<number>;
  advanceShipperCheckpoint(name: string, seq: number): Promise<number>;
}

export interface PassResult {
  /** Documents in the request (0: nothing to ship). */
  sent: number;
  created: number;
  duplicates: number;
  rejected: number;
  /** Items Elasticsearch asked to have sent again (429/5xx). */
  retried: number;
  /** Records after the checkpoint that were pruned before they were shipped. */
  gap: number;
  checkpoint: number;
  headSeq: number;
}

export interface PassContext {
  name: string;
  store: ShipperStore;
  http: EsHttp;
  dataStream: string;
  batchSize: number;
  batchBytes: number;
  log: (line: string) => void;
  /** Seqs beyond the checkpoint already stored (or dead-lettered): not sent again while this process lives. */
  confirmed: Set<number>;
}

/** Room kept in a batch for the signed head the last document carries. */
const HEAD_ROOM = 512;

export const REJECTED_ACTION = 'trace.elasticsearch.rejected';

export async function shipPass(c: PassContext): Promise<PassResult> {
  const cp = await c.store.shipperCheckpoint(c.name);
  // The head first, then only records it covers: the head a batch carries is never behind the batch.
  const head = await c.store.audit.head();
  const result: PassResult = { sent: 0, created: 0, duplicates: 0, rejected: 0, retried: 0, gap: 0, checkpoint: cp, headSeq: head?.seq ?? 0 };
  for (const s of c.confirmed) if (s <= cp) c.confirmed.delete(s);
  if (!head || head.seq <= cp) return result;
  const limit = Math.min(c.batchSize + c.confirmed.size, head.seq - cp);
  const records = await c.store.audit.list({ afterSeq: cp, limit, order: 'asc' });
  if (records.length === 0) return result;
  if (records[0].seq > cp + 1) {
    result.gap = records[0].seq - cp - 1;
    c.log(`warning: ${Errors.TRACE_GAP.code} audit records ${cp + 1}–${records[0].seq - 1} were pruned from the store before ${c.name} shipped them; the copy continues from ${records[0].seq}`);
  }
  const entries = toEntries(records.filter((r) => !c.confirmed.has(r.seq)), c.dataStream);
  if (entries.length > 0) {
    const fit = bulkBody(c.dataStream, entries, c.batchSize, Math.max(1, c.batchBytes - HEAD_ROOM));
    const last = fit.entries[fit.entries.length - 1];
    last.doc = toDocument(records.find((r) => r.seq === last.seq) as AuditRecord, c.dataStream, head);
    const { body, entries: sent } = bulkBody(c.dataStream, fit.entries, fit.entries.length, Infinity);
    result.sent = sent.length;
    await sendBulk(c, body, sent, result);
  }
  // Over the leading run of stored records only (the store's seqs are contiguous past a pruned gap): a record still to be retried stops it.
  let next = cp;
  for (const r of records) {
    if (!c.confirmed.has(r.seq)) break;
    next = r.seq;
  }
  if (next > cp) result.checkpoint = await c.store.advanceShipperCheckpoint(c.name, next);
  for (const s of c.confirmed) if (s <= result.checkpoint) c.confirmed.delete(s);
  return result;
}

function toEntries(records: AuditRecord[], dataStream: string): BulkEntry[] {
  return records.map((r) => ({ seq: r.seq, id: r.id, doc: toDocument(r, dataStream) }));
}

async function sendBulk(c: PassContext, body: string, sent: BulkEntry[], result: PassResult): Promise<void> {
  const res = await request(c, 'POST', '/_bulk', body, NDJSON);
  if (res.status !== 200) throw statusError(c, res.status, res.text, res.url, '_bulk');
  let outcomes;
  try {
    outcomes = parseBulkResponse(res.text, sent);
  } catch (err) {
    traceRequestFailuresTotal.inc({ shipper: c.name, reason: 'bad-response' });
    throw new KubemendError(Errors.TRACE_UNAVAILABLE, `${res.url}: ${(err as Error).message}`, { cause: err });
  }
  for (let i = 0; i < sent.length; i++) {
    const o = outcomes[i];
    const e = sent[i];
    if (o.kind === 'created' || o.kind === 'duplicate') {
      c.confirmed.add(e.seq);
      traceRecordsShippedTotal.inc({ shipper: c.name, result: o.kind });
      if (o.kind === 'created') result.created++;
      else result.duplicates++;
    } else if (o.kind === 'retry') {
      result.retried++;
      traceRequestFailuresTotal.inc({ shipper: c.name, reason: `item-${o.status >= 500 ? '5xx' : o.status}` });
    } else {
      await deadLetter(c, e, o);
      c.confirmed.add(e.seq);
      result.rejected++;
    }
  }
  if (result.retried > 0) c.log(`warning: ${Errors.TRACE_UNAVAILABLE.code} Elasticsearch asked for ${result.retried} of ${sent.length} audit records to be sent again (${firstRetry(outcomes)}); retrying them with back-off`);
}

function firstRetry(outcomes: ReturnType<typeof parseBulkResponse>): string {
  const o = outcomes.find((x) => x.kind === 'retry');
  return o && o.kind === 'retry' ? `${o.status} ${o.type}` : '';
}

/**
 * A document Elasticsearch will never take as it is (a mapping conflict, a
 * bad value) is skipped rather than retried for ever, which would stop the
 * whole trace behind it; the skip itself is audited (and so shipped), except
 * for a refused skip record, which would otherwise beget another.
 */
async function deadLetter(c: PassContext, e: BulkEntry, o: { status: number; type: string; reason: string }): Promise<void> {
  traceRecordsRejectedTotal.inc({ shipper: c.name, type: o.type });
  const reason = redact(o.reason).slice(0, 1000);
  const again = (e.doc.event as { action?: string }).action === REJECTED_ACTION;
  c.log(`error: ${Errors.TRACE_REJECTED.code} Elasticsearch refused audit record ${e.seq} (id ${e.id}) for good: ${o.status} ${o.type}: ${reason}; it is skipped${again ? '' : ` and recorded as ${REJECTED_ACTION}`}`);
  if (again) return;
  await c.store.audit.append({
    actor: { type: 'system', name: `${c.name}-shipper` },
    action: REJECTED_ACTION,
    outcome: 'failure',
    data: { seq: e.seq, id: e.id, dataStream: c.dataStream, status: o.status, type: o.type, reason, code: Errors.TRACE_REJECTED.code },
  });
}

export async function request(c: Pick<PassContext, 'http' | 'name'>, method: 'GET' | 'PUT' | 'POST', path: string, body?: string, type?: string) {
  try {
    return await c.http.request(method, path, body, type);
  } catch (err) {
    if (!(err instanceof EsNetworkError)) throw err;
    traceRequestFailuresTotal.inc({ shipper: c.name, reason: 'network' });
    throw new KubemendError(Errors.TRACE_UNAVAILABLE, err.message, { cause: err });
  }
}

/** A whole request refused: 401/403 name the credentials, the rest is retried as unavailable. */
export function statusError(c: Pick<PassContext, 'name'>, status: number, text: string, url: string, what: string): KubemendError {
  traceRequestFailuresTotal.inc({ shipper: c.name, reason: String(status) });
  const reason = redact(errorReason(text)).slice(0, 500);
  if (status === 401 || status === 403) {
    return new KubemendError(Errors.TRACE_UNAUTHORIZED, `${url} refused ${what} with ${status} (${status === 401 ? 'the credentials were not accepted' : 'the credentials lack a privilege'}): ${reason}`);
  }
  return new KubemendError(Errors.TRACE_UNAVAILABLE, `${url} answered ${what} with ${status}: ${reason}`);
}

/** Elasticsearch's error body `{"error":{"type","reason"},"status"}`, or the text. */
export function errorReason(text: string): string {
  try {
    const e = (JSON.parse(text) as { error?: { type?: string; reason?: string } | string }).error;
    if (typeof e === 'string') return e;
    if (e) return `${e.type ?? 'error'}: ${e.reason ?? ''}`;
  } catch {
    /* not JSON */
  }
  return text.slice(0, 200) || '(empty body)';
}

