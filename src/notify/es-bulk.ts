// The _bulk request and its answer, as Elasticsearch documents them: NDJSON,
// one action line and one source line per document, each line ending in
// "\n" (the last too); data streams take only `create`. The answer lists one
// item per action, in request order, each with its own status — HTTP 200 even
// when some failed (`errors: true`).
import { Errors, KubemendError } from '../common/index.ts';
import type { EsDocument } from './es-document.ts';

export const NDJSON = 'application/x-ndjson';

export interface BulkEntry {
  /** The audit record's seq and id (the document's _id). */
  seq: number;
  id: string;
  doc: EsDocument;
}

export interface BulkBody {
  /** The entries that fit, in order. */
  entries: BulkEntry[];
  body: string;
  bytes: number;
}

/**
 * The longest prefix of `entries` within `maxCount` documents and `maxBytes`
 * bytes — but at least one entry, so a single large record still ships
 * (Elasticsearch's own limit, http.max_content_length, is 100 MB).
 */
export function bulkBody(dataStream: string, entries: readonly BulkEntry[], maxCount: number, maxBytes: number): BulkBody {
  const lines: string[] = [];
  const taken: BulkEntry[] = [];
  let bytes = 0;
  for (const e of entries) {
    if (taken.length >= maxCount) break;
    const pair = `${JSON.stringify({ create: { _index: dataStream, _id: e.id } })}\n${JSON.stringify(e.doc)}\n`;
    const size = Buffer.byteLength(pair, 'utf8');
    if (taken.length > 0 && bytes + size > maxBytes) break;
    lines.push(pair);
    taken.push(e);
    bytes += size;
  }
  return { entries: taken, body: lines.join(''), bytes };
}

/** What happened to one document. */
export type ItemOutcome =
  | { kind: 'created' }
  /** 409 on create: the _id is already in the stream (a re-send after a crash). */
  | { kind: 'duplicate' }
  /** 429, 5xx, or what an administrator fixes without touching the record (401/403/404/408): try again later. */
  | { kind: 'retry'; status: number; type: string; reason: string }
  /** Any other 4xx (400 mapping or parsing errors, 413): the document will never be accepted as it is. */
  | { kind: 'rejected'; status: number; type: string; reason: string };

export interface BulkItemError {
  type?: string;
  reason?: string;
  caused_by?: { type?: string; reason?: string };
}

export interface BulkItem {
  _index?: string;
  _id?: string;
  status?: number;
  result?: string;
  error?: BulkItemError;
}

export function classifyItem(item: BulkItem): ItemOutcome {
  const status = item.status ?? 0;
  const type = item.error?.type ?? `http_${status}`;
  const reason = [item.error?.reason, item.error?.caused_by?.reason].filter(Boolean).join(': ') || `status ${status}`;
  if (status >= 200 && status < 300 && !item.error) return { kind: 'created' };
  if (status === 409) return { kind: 'duplicate' };
  // A missing stream or template (404) or a missing privilege (403) would otherwise dead-letter every record until someone fixes it.
  if (status === 429 || status >= 500 || [401, 403, 404, 408].includes(status)) return { kind: 'retry', status, type, reason };
  if (status >= 400) return { kind: 'rejected', status, type, reason };
  // A 2xx with an error, a 1xx/3xx or no status: nothing documented; better sent again than lost.
  return { kind: 'retry', status, type, reason };
}

/**
 * The items of a 200 answer, matched to the entries sent: by position (the
 * documented order), checked against each item's _id. Throws KM-TRACE-002
 * when the answer is not a bulk answer for this request, so the whole
 * request is retried.
 */
export function parseBulkResponse(text: string, sent: readonly BulkEntry[]): ItemOutcome[] {
  const notBulk = (why: string) => new KubemendError(Errors.TRACE_UNAVAILABLE, `the _bulk answer ${why}`);
  let parsed: { errors?: unknown; items?: unknown };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    throw notBulk('is not JSON');
  }
  if (!Array.isArray(parsed.items) || typeof parsed.errors !== 'boolean') throw notBulk('has no items/errors');
  if (parsed.items.length !== sent.length) throw notBulk(`has ${parsed.items.length} items for ${sent.length} documents sent`);
  return parsed.items.map((wrapped, i) => {
    const item = (wrapped as { create?: BulkItem }).create;
    if (!item) throw notBulk(`item ${i} is not a create result`);
    if (item._id !== undefined && item._id !== sent[i].id) throw notBulk(`item ${i} is for _id ${item._id}, not ${sent[i].id}`);
    return classifyItem(item);
  });
}
