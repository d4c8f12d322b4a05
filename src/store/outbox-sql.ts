// The notification outbox in SQL (migration 4). Claiming is a lease set by
// compare-and-set (`lease_until <= now` in the UPDATE's WHERE). On
// PostgreSQL the candidates are read FOR UPDATE SKIP LOCKED, so a second
// process claiming at the same moment takes the next free rows instead of
// waiting for (and then losing) the same ones; on SQLite the write lock
// serializes claims. Only the oldest pending row of a (receiver,
// dkey) is claimable, so a key's deliveries go out in order even across
// processes; dead rows are left out, so one undeliverable row never blocks
// its key for good.
import { num, optStr, type SqlDb, type SqlValue } from '../common/index.ts';
import type { OutboxClaim, OutboxRecord } from './types.ts';

type Row = { id: string; receiver: string; dkey: string; status: string; attempts: unknown; created_at: unknown; next_at: unknown; last_error: unknown; doc: string };

const COLS = 'id, receiver, dkey, status, attempts, created_at, next_at, last_error, doc';

function record(r: Row): OutboxRecord {
  const out: OutboxRecord = {
    id: r.id,
    receiver: r.receiver,
    key: r.dkey,
    event: JSON.parse(r.doc) as unknown,
    status: r.status as OutboxRecord['status'],
    attempts: num(r.attempts),
    createdAt: num(r.created_at),
    nextAt: num(r.next_at),
  };
  const e = optStr(r.last_error);
  if (e !== undefined) out.lastError = e;
  return out;
}

export async function enqueueDeliveries(db: SqlDb, rows: Omit<OutboxRecord, 'status' | 'attempts' | 'lastError'>[]): Promise<void> {
  if (!rows.length) return;
  await db.transaction(async (tx) => {
    for (const r of rows) {
      await tx.exec(
        'INSERT INTO notify_outbox (id, receiver, dkey, status, attempts, created_at, next_at, lease_until, doc) VALUES (?, ?, ?, ?, 0, ?, ?, 0, ?) ON CONFLICT DO NOTHING',
        [r.id, r.receiver, r.key, 'pending', r.createdAt, r.nextAt, JSON.stringify(r.event)],
      );
    }
  });
}

export async function claimDeliveries(db: SqlDb, q: OutboxClaim): Promise<OutboxRecord[]> {
  if (q.limit <= 0) return [];
  const exclude = q.exclude ?? [];
  const notIn = exclude.length ? ` AND o.id NOT IN (${exclude.map(() => '?').join(', ')})` : '';
  return db.transaction(async (tx) => {
    const candidates = await tx.query<Row>(
      `SELECT ${COLS.split(', ').map((c) => `o.${c}`).join(', ')} FROM notify_outbox o
       WHERE o.status = 'pending' AND o.next_at <= ? AND o.lease_until <= ?${notIn}
         AND NOT EXISTS (SELECT 1 FROM notify_outbox p WHERE p.receiver = o.receiver AND p.dkey = o.dkey AND p.status = 'pending' AND p.seq < o.seq)
       ORDER BY o.seq LIMIT ${Math.floor(q.limit)}${tx.dialect === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : ''}`,
      [q.now, q.now, ...exclude],
    );
    const claimed: OutboxRecord[] = [];
    for (const c of candidates) {
      const { changes } = await tx.exec(
        "UPDATE notify_outbox SET lease_until = ?, lease_owner = ? WHERE id = ? AND status = 'pending' AND lease_until <= ?",
        [q.now + q.leaseMs, q.owner, c.id, q.now],
      );
      if (changes === 1) claimed.push(record(c));
    }
    return claimed;
  });
}

export async function completeDelivery(db: SqlDb, id: string): Promise<void> {
  await db.exec('DELETE FROM notify_outbox WHERE id = ?', [id]);
}

export async function retryDelivery(db: SqlDb, id: string, u: { attempts: number; nextAt: number; error: string }): Promise<void> {
  await db.exec('UPDATE notify_outbox SET attempts = ?, next_at = ?, last_error = ?, lease_until = 0, lease_owner = NULL WHERE id = ?', [u.attempts, u.nextAt, u.error, id]);
}

export async function deadLetterDelivery(db: SqlDb, id: string, u: { attempts: number; error: string }): Promise<void> {
  await db.exec("UPDATE notify_outbox SET status = 'dead', attempts = ?, last_error = ?, lease_until = 0, lease_owner = NULL WHERE id = ?", [u.attempts, u.error, id]);
}

export async function listDeliveries(db: SqlDb, q: { status?: OutboxRecord['status']; receiver?: string; limit?: number } = {}): Promise<OutboxRecord[]> {
  const where: string[] = [];
  const params: SqlValue[] = [];
  if (q.status) where.push('status = ?') && params.push(q.status);
  if (q.receiver) where.push('receiver = ?') && params.push(q.receiver);
  const limit = q.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(q.limit))}` : '';
  const rows = await db.query<Row>(`SELECT ${COLS} FROM notify_outbox${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq${limit}`, params);
  return rows.map(record);
}

export async function outboxStats(db: SqlDb): Promise<{ pending: number; dead: number; oldestPendingAt?: number }> {
  const rows = await db.query<{ status: string; n: unknown; oldest: unknown }>('SELECT status, COUNT(*) AS n, MIN(created_at) AS oldest FROM notify_outbox GROUP BY status');
  const by = new Map(rows.map((r) => [r.status, r]));
  const p = by.get('pending');
  return {
    pending: p ? num(p.n) : 0,
    dead: by.get('dead') ? num(by.get('dead')!.n) : 0,
    ...(p && p.oldest !== null ? { oldestPendingAt: num(p.oldest) } : {}),
  };
}

export async function getNotifyState(db: SqlDb, receiver: string, key: string): Promise<string | undefined> {
  const [row] = await db.query<{ value: string }>('SELECT value FROM notify_state WHERE receiver = ? AND skey = ?', [receiver, key]);
  return row?.value;
}

export async function putNotifyState(db: SqlDb, receiver: string, key: string, value: string, time: number): Promise<void> {
  await db.exec('INSERT INTO notify_state (receiver, skey, value, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (receiver, skey) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at', [receiver, key, value, time]);
}
