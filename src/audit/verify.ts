// Walks the stored chain and names the first record that does not hold up.
// Runs inside one read snapshot (or the prune transaction), so records, head
// and checkpoints are seen as of one moment even while other writers append.
import { Errors, KubemendError, num, optStr, type Row, type SqlExec } from '../common/index.ts';
import { GENESIS_HASH, chainHash } from './chain.ts';
import { checkpointMessage, headMessage, type AuditKeys } from './checkpoint.ts';
import type { AuditRecord, VerifyResult } from './types.ts';

export interface AuditRow extends Row {
  seq: unknown;
  id: string;
  time: unknown;
  actor_type: string;
  actor_name: string;
  action: string;
  target_cluster: string | null;
  target_namespace: string | null;
  target_kind: string | null;
  target_name: string | null;
  outcome: string | null;
  detection_id: string | null;
  run_id: string | null;
  incident_id: string | null;
  record: string;
  prev_hash: string;
  hash: string;
}

export const AUDIT_COLUMNS =
  'seq, id, time, actor_type, actor_name, action, target_cluster, target_namespace, target_kind, target_name, outcome, detection_id, run_id, incident_id, record, prev_hash, hash';

/** The columns copied out of the hashed record, and where each comes from. */
const COPIED: [keyof AuditRow, (r: AuditRecord) => unknown][] = [
  ['id', (r) => r.id],
  ['time', (r) => r.time],
  ['actor_type', (r) => r.actor?.type],
  ['actor_name', (r) => r.actor?.name],
  ['action', (r) => r.action],
  ['target_cluster', (r) => r.target?.cluster],
  ['target_namespace', (r) => r.target?.namespace],
  ['target_kind', (r) => r.target?.kind],
  ['target_name', (r) => r.target?.name],
  ['outcome', (r) => r.outcome],
  ['detection_id', (r) => r.detectionId],
  ['run_id', (r) => r.runId],
  ['incident_id', (r) => r.incidentId],
];

export function rowToRecord(row: AuditRow): AuditRecord {
  return { ...(JSON.parse(row.record) as AuditRecord), prevHash: row.prev_hash, hash: row.hash };
}

const PAGE = 2000;

type Bad = { seq: number; id?: string; reason: string };

/**
 * Checks, in order: every checkpoint's signature; that no record sits at or
 * below the newest checkpoint; then for each record from there — no gap in
 * seq, the body matches its hash, the row holds its own seq's body (not
 * another's), the indexed columns agree with the body, and prevHash is the
 * previous record's hash; finally that the last record is the signed head.
 */
export async function verifyChain(tx: SqlExec, keys: AuditKeys): Promise<VerifyResult> {
  const fail = (records: number, firstBad: Bad): VerifyResult => ({ ok: false, records, firstBad });
  let trustedKnown: boolean | undefined;
  const requireKeys = () => {
    trustedKnown ??= keys.verifiers().size > 0;
    if (!trustedKnown) {
      throw new KubemendError(Errors.AUDIT_KEY, `the audit log is signed but there is no key to check it with (looked for ${keys.keyFile})`);
    }
  };

  const checkpoints = await tx.query<{ seq: unknown; hash: string; time: unknown; removed: unknown; key_id: string; signature: string }>(
    'SELECT seq, hash, time, removed, key_id, signature FROM audit_checkpoints ORDER BY seq',
  );
  for (const cp of checkpoints) {
    requireKeys();
    const payload = { seq: num(cp.seq), hash: cp.hash, time: num(cp.time), removed: num(cp.removed) };
    const check = keys.check(checkpointMessage(payload), { keyId: cp.key_id, signature: cp.signature });
    if (check !== 'valid') {
      return fail(0, { seq: payload.seq, reason: `retention checkpoint at seq ${payload.seq} ${check === 'untrusted' ? `is signed by untrusted key ${cp.key_id}` : 'has an invalid signature'}: it was forged or altered` });
    }
  }
  const from = checkpoints.at(-1);
  const startSeq = from ? num(from.seq) : 0;
  let prev = from ? from.hash : GENESIS_HASH;
  let expect = startSeq + 1;
  let records = 0;

  for (let after = Number.MIN_SAFE_INTEGER; ;) {
    const rows = await tx.query<AuditRow>(`SELECT ${AUDIT_COLUMNS} FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ${PAGE}`, [after]);
    for (const row of rows) {
      const seq = num(row.seq);
      const bad = (reason: string): VerifyResult => fail(records, { seq, id: row.id, reason });
      if (seq <= startSeq) return bad(`record ${seq} is at or before the retention checkpoint at seq ${startSeq}, whose records were pruned: it was inserted later`);
      if (seq > expect) {
        return fail(records, { seq: expect, reason: `record ${expect} is missing: record ${seq} (id ${row.id}) follows record ${expect - 1}` });
      }
      let body: AuditRecord;
      try {
        body = JSON.parse(row.record) as AuditRecord;
      } catch {
        return bad('the stored record is not valid JSON: it was edited');
      }
      if (chainHash(row.prev_hash, row.record) !== row.hash) return bad('the record does not match its hash: it was edited');
      // A self-consistent body under the wrong seq is a moved row, not an edited one.
      if (body.seq !== seq) return bad(`the row at seq ${seq} holds the hashed record of seq ${body.seq}: records were reordered`);
      for (const [col, get] of COPIED) {
        const stored = col === 'time' ? num(row[col]) : optStr(row[col]);
        const hashed = get(body);
        if (stored !== hashed) return bad(`column ${col} (${JSON.stringify(stored ?? null)}) does not match the hashed record (${JSON.stringify(hashed ?? null)}): it was edited`);
      }
      if (row.prev_hash !== prev) {
        return bad(
          expect - 1 === startSeq && from
            ? `prevHash does not continue from the retention checkpoint at seq ${startSeq}`
            : `prevHash does not match the hash of record ${expect - 1}: that record was rewritten, or this one was inserted`,
        );
      }
      prev = row.hash;
      expect++;
      records++;
    }
    if (rows.length < PAGE) break;
    after = num(rows[rows.length - 1].seq);
  }

  const last = expect - 1;
  const [head] = await tx.query<{ seq: unknown; hash: string; key_id: string | null; signature: string | null }>('SELECT seq, hash, key_id, signature FROM audit_head WHERE id = 1');
  if (!head) return fail(records, { seq: last, reason: 'the chain head row is missing: it was deleted' });
  const headSeq = num(head.seq);
  if (headSeq > last) {
    return fail(records, { seq: last + 1, reason: `record${headSeq > last + 1 ? `s ${last + 1}–${headSeq} are` : ` ${last + 1} is`} missing: the chain head says the log ends at seq ${headSeq}` });
  }
  if (headSeq < last) return fail(records, { seq: headSeq + 1, reason: `records after seq ${headSeq}, where the chain head says the log ends, were inserted outside kubemend` });
  if (head.hash !== prev) return fail(records, { seq: last, reason: `record ${last} does not match the hash in the chain head: it was rewritten` });
  if (headSeq > 0) {
    if (!head.key_id || !head.signature) return fail(records, { seq: headSeq, reason: 'the chain head is not signed: it was rewritten' });
    requireKeys();
    const check = keys.check(headMessage({ seq: headSeq, hash: head.hash }), { keyId: head.key_id, signature: head.signature });
    if (check !== 'valid') {
      return fail(records, {
        seq: headSeq,
        reason: `the chain head ${check === 'untrusted' ? `is signed by untrusted key ${head.key_id}` : 'signature is invalid'}: records were rewritten and re-hashed, or the head was replaced`,
      });
    }
  }
  return { ok: true, records, head: head.hash, ...(from ? { fromCheckpoint: startSeq } : {}) };
}
