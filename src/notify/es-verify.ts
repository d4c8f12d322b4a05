// Checks the copy of the audit log in Elasticsearch on its own, with only
// the public key: each document is turned back into its record, re-hashed,
// linked to the one before, and re-derived (so an edit of a field that is not
// hashed — user.name, kubernetes.* — shows too); the signed heads the
// documents carry are checked against the records they name. Everything up to
// the newest valid head is authenticated; records after it are only linked
// (anyone can append a well-hashed record; only the key can sign a head).
import { Errors, KubemendError, redact } from '../common/index.ts';
import { canonicalJson, GENESIS_HASH, headMessage, recomputeHash, type AuditRecord } from '../audit/index.ts';
import { documentHead, fromDocument, toDocument, type ChainHead } from './es-document.ts';
import { resolveEsConnection, type ElasticsearchTraceConfig } from './es-config.ts';
import { EsHttp } from './es-http.ts';
import { errorReason } from './es-pass.ts';

export interface HeadChecker {
  check(message: string, sig: { keyId: string; signature: string }): 'valid' | 'invalid' | 'untrusted';
}

export type EsCopyCheck =
  | {
    ok: true;
    records: number;
    firstSeq?: number;
    lastSeq?: number;
    /** The newest signed head that verified: every record up to it is authenticated. */
    anchoredSeq: number;
    /** Records after anchoredSeq: linked, but no signature covers them yet. */
    unanchored: number;
    /** Documents stored twice (same record, e.g. a re-send across a rollover). */
    duplicates: number;
  }
  | { ok: false; records: number; firstBad: { seq: number; id?: string; reason: string } };

export function verifyEsDocuments(sources: Iterable<Record<string, unknown>>, keys: HeadChecker): EsCopyCheck {
  const bySeq = new Map<number, { doc: Record<string, unknown>; record: AuditRecord }>();
  let duplicates = 0;
  let records = 0;
  const bad = (seq: number, reason: string, id?: string): EsCopyCheck => ({ ok: false, records, firstBad: { seq, id, reason } });
  for (const doc of sources) {
    const event = doc.event as { sequence?: unknown; id?: unknown } | undefined;
    const seq = Number(event?.sequence);
    let record: AuditRecord;
    try {
      record = fromDocument(doc);
    } catch (err) {
      return bad(seq, `the document is not an audit record: ${(err as Error).message}`, String(event?.id ?? ''));
    }
    const again = bySeq.get(seq);
    if (again) {
      if (again.record.hash !== record.hash || again.record.id !== record.id) return bad(seq, `two different documents hold seq ${seq}`, record.id);
      duplicates++;
      continue;
    }
    bySeq.set(seq, { doc, record });
  }
  const seqs = [...bySeq.keys()].sort((a, b) => a - b);
  const heads: ChainHead[] = [];
  let prev: AuditRecord | undefined;
  for (const seq of seqs) {
    const { doc, record } = bySeq.get(seq) as { doc: Record<string, unknown>; record: AuditRecord };
    if (recomputeHash(record) !== record.hash) return bad(seq, 'the document does not match its hash: a hashed field was edited', record.id);
    const head = documentHead(doc);
    const derived = toDocument(record, streamOf(doc), head);
    if (canonicalJson(derived) !== canonicalJson(doc)) return bad(seq, `a field derived from the record (${differing(derived, doc)}) was edited`, record.id);
    if (!prev && seq === 1 && record.prevHash !== GENESIS_HASH) return bad(seq, 'the first record does not start the chain', record.id);
    if (prev && seq !== prev.seq + 1) return bad(prev.seq + 1, `record ${prev.seq + 1} is missing from the copy: ${seq} follows ${prev.seq}`);
    if (prev && record.prevHash !== prev.hash) return bad(seq, `prevHash does not match the hash of record ${prev.seq}`, record.id);
    if (head) heads.push(head);
    prev = record;
    records++;
  }
  const firstSeq = seqs[0];
  const lastSeq = seqs.at(-1);
  let anchoredSeq = 0;
  for (const h of heads) {
    if (lastSeq === undefined || h.seq > lastSeq || h.seq < firstSeq) continue;
    const at = bySeq.get(h.seq)?.record;
    if (!at || at.hash !== h.hash) return bad(h.seq, `the signed head for seq ${h.seq} does not match record ${h.seq} in the copy`, at?.id);
    const check = keys.check(headMessage({ seq: h.seq, hash: h.hash }), h);
    if (check !== 'valid') return bad(h.seq, check === 'untrusted' ? `the head for seq ${h.seq} is signed by key ${h.keyId}, which is not trusted (pass its public key)` : `the head for seq ${h.seq} has an invalid signature: it was forged or altered`);
    anchoredSeq = Math.max(anchoredSeq, h.seq);
  }
  return { ok: true, records, firstSeq, lastSeq, anchoredSeq, unanchored: lastSeq === undefined ? 0 : lastSeq - Math.max(anchoredSeq, firstSeq - 1), duplicates };
}

/** The data stream name a document was made for (its data_stream fields), for re-deriving it. */
function streamOf(doc: Record<string, unknown>): string {
  const ds = doc.data_stream as { type?: string; dataset?: string; namespace?: string } | undefined;
  return ds ? `${ds.type}-${ds.dataset}-${ds.namespace}` : 'kubemend-audit';
}

function differing(a: Record<string, unknown>, b: Record<string, unknown>, path = ''): string {
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = a[k];
    const y = b[k];
    if (canonicalJson(x ?? null) === canonicalJson(y ?? null)) continue;
    if (x && y && typeof x === 'object' && typeof y === 'object' && !Array.isArray(x)) return differing(x as Record<string, unknown>, y as Record<string, unknown>, `${path}${k}.`);
    return `${path}${k}`;
  }
  return path || 'the document';
}

/** Every document of the stream, oldest first, paged with search_after (no scroll context to leak). */
export async function* readEsDocuments(http: EsHttp, dataStream: string, pageSize = 1000): AsyncIterable<Record<string, unknown>> {
  let after: unknown[] | undefined;
  for (;;) {
    const body = JSON.stringify({ size: pageSize, sort: [{ 'event.sequence': 'asc' }, { 'event.id': 'asc' }], ...(after ? { search_after: after } : {}) });
    let res;
    try {
      res = await http.request('POST', `/${encodeURIComponent(dataStream)}/_search`, body);
    } catch (err) {
      throw new KubemendError(Errors.TRACE_UNAVAILABLE, (err as Error).message, { cause: err });
    }
    if (res.status !== 200) {
      const auth = res.status === 401 || res.status === 403;
      throw new KubemendError(auth ? Errors.TRACE_UNAUTHORIZED : Errors.TRACE_UNAVAILABLE, `${res.url} answered _search on ${dataStream} with ${res.status}: ${redact(errorReason(res.text)).slice(0, 500)}`);
    }
    const hits = (JSON.parse(res.text) as { hits?: { hits?: { _source: Record<string, unknown>; sort: unknown[] }[] } }).hits?.hits ?? [];
    for (const h of hits) yield h._source;
    if (hits.length < pageSize) return;
    after = hits[hits.length - 1].sort;
  }
}

/** Reads the whole copy (into memory) from the configured cluster and verifies it. */
export async function verifyEsCopy(o: { config: ElasticsearchTraceConfig; keys: HeadChecker; env?: NodeJS.ProcessEnv; pageSize?: number }): Promise<EsCopyCheck> {
  const http = new EsHttp(resolveEsConnection(o.config, o.env ?? process.env));
  try {
    const docs: Record<string, unknown>[] = [];
    for await (const d of readEsDocuments(http, o.config.dataStream, o.pageSize)) docs.push(d);
    return verifyEsDocuments(docs, o.keys);
  } finally {
    http.close();
  }
}
