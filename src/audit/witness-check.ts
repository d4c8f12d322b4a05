// Verification against a witness, after the chain itself verified in the same
// read snapshot. The chain proves the records agree with each other and with
// the signed head in the database; the witness proves that head is not an
// older one put back: every head the witness saw must still be in the chain.
import { num, type SqlExec } from '../common/index.ts';
import { headMessage, type AuditKeys } from './checkpoint.ts';
import type { VerifyResult, WitnessSummary } from './types.ts';
import type { SignedHead } from './witness.ts';

const CHUNK = 500;

/** `chain` is the ok result of verifyChain in this snapshot; `heads` were read from the witness before the snapshot was taken. */
export async function checkWitness(tx: SqlExec, keys: AuditKeys, chain: Extract<VerifyResult, { ok: true }>, name: string, heads: readonly SignedHead[]): Promise<VerifyResult | WitnessSummary> {
  const fail = (seq: number, reason: string): VerifyResult => ({ ok: false, records: chain.records, firstBad: { seq, reason } });
  const cp = chain.fromCheckpoint ?? 0;
  const last = cp + chain.records;
  const when = (h: SignedHead) => new Date(h.time).toISOString();

  for (const h of heads) {
    const check = keys.check(headMessage(h), { keyId: h.keyId, signature: h.signature });
    if (check !== 'valid') {
      return fail(h.seq, `the witness (${name}) holds a head for seq ${h.seq} ${check === 'untrusted' ? `signed by untrusted key ${h.keyId}` : 'whose signature is invalid'}: the witness was written by someone else, or altered`);
    }
  }
  const newest = heads.reduce<SignedHead | undefined>((a, h) => (!a || h.seq > a.seq ? h : a), undefined);
  if (newest && newest.seq > last) {
    return fail(last + 1, `record${newest.seq > last + 1 ? `s ${last + 1}–${newest.seq} are` : ` ${last + 1} is`} missing: the witness (${name}) saw the chain reach seq ${newest.seq} at ${when(newest)}, but the database ends at seq ${last}: the newest records were deleted and an older signed head put back`);
  }

  // Heads at or below the checkpoint were pruned with their records; the checkpoint's own seq is still known.
  const [checkpoint] = cp > 0 ? await tx.query<{ hash: string }>('SELECT hash FROM audit_checkpoints WHERE seq = ?', [cp]) : [];
  const wanted = [...new Set(heads.filter((h) => h.seq > cp).map((h) => h.seq))].sort((a, b) => a - b);
  const stored = new Map<number, string>();
  for (let i = 0; i < wanted.length; i += CHUNK) {
    const part = wanted.slice(i, i + CHUNK);
    const rows = await tx.query<{ seq: unknown; hash: string }>(`SELECT seq, hash FROM audit_log WHERE seq IN (${part.map(() => '?').join(', ')})`, part);
    for (const r of rows) stored.set(num(r.seq), r.hash);
  }
  let checked = 0;
  for (const h of [...heads].sort((a, b) => a.seq - b.seq)) {
    const have = h.seq > cp ? stored.get(h.seq) : h.seq === cp ? checkpoint?.hash : undefined;
    if (h.seq < cp || (h.seq === cp && !checkpoint)) continue;
    if (have !== h.hash) {
      return fail(h.seq, `record ${h.seq} is not the one the witness (${name}) saw at ${when(h)} (hash ${h.hash.slice(0, 16)}…, now ${have ? `${have.slice(0, 16)}…` : 'none'}): the chain was rewritten up to there and signed again`);
    }
    checked++;
  }
  return { name, heads: heads.length, newest: newest?.seq ?? 0, checked };
}
