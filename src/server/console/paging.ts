// Keyset pages for the console's lists, filtered by what the reader may see.
// The store pages by (time, id) newest first; items the policy hides (or an
// in-memory filter drops) are skipped, so a page is read in batches until it
// is full. A reader who may see almost nothing must not make one request
// scan the whole table: after MAX_BATCHES the page ends short and its cursor
// says where to go on.
import { Errors, KubemendError } from '../../common/index.ts';

export interface Cursor {
  time: number;
  id: string;
}

export interface Page<T> {
  items: T[];
  /** The cursor of the next page; absent on the last. */
  next?: string;
}

const MAX_BATCHES = 8;

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.time, c.id])).toString('base64url');
}

/** The cursor a client sent back; KM-CONSOLE-011 when it is not one this server made. */
export function decodeCursor(v: unknown): Cursor | undefined {
  if (v === undefined || v === '') return undefined;
  try {
    const [time, id] = JSON.parse(Buffer.from(String(v), 'base64url').toString('utf8')) as unknown[];
    if (Number.isFinite(time) && typeof id === 'string' && id.length <= 200) return { time: time as number, id };
  } catch {
    // fall through to the error below
  }
  throw new KubemendError(Errors.CONSOLE_BAD_REQUEST, 'the cursor is not one this server made: start the list again without it');
}

/**
 * One page of `limit` items that `keep` accepts, reading `fetch(before, n)`
 * (newest first, after `before`) in batches.
 */
export async function pageOf<T>(
  fetch: (before: Cursor | undefined, n: number) => Promise<T[]>,
  key: (t: T) => Cursor,
  keep: (t: T) => boolean | Promise<boolean>,
  limit: number,
  from?: Cursor,
): Promise<Page<T>> {
  const items: T[] = [];
  let before = from;
  const batch = Math.max(limit, 50);
  for (let i = 0; i < MAX_BATCHES; i++) {
    const rows = await fetch(before, batch);
    for (const r of rows) {
      before = key(r);
      if (!(await keep(r))) continue;
      items.push(r);
      if (items.length === limit) return { items, next: encodeCursor(before) };
    }
    if (rows.length < batch) return { items };
  }
  return { items, ...(before ? { next: encodeCursor(before) } : {}) };
}
