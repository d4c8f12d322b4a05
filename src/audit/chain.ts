// The hash chain's arithmetic. A record's hash covers the previous record's
// hash and the canonical JSON of its own fields, so changing, removing or
// moving any record changes every hash after it. Canonical JSON (sorted keys,
// no whitespace, JSON's own number and string forms) makes the bytes — and so
// the hash — independent of key order or of which process wrote them, and lets
// anyone re-check an exported record with a few lines of code.
import { createHash } from 'node:crypto';
import type { AuditInput, AuditRecord } from './types.ts';

/** prevHash of the first record of a log that has never been pruned. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * Deterministic JSON: object keys sorted by UTF-16 code units, undefined
 * members dropped, non-finite numbers rejected (JSON cannot hold them, and a
 * silent `null` would make the stored record differ from what was appended).
 */
export function canonicalJson(value: unknown): string {
  return located(() => encode(value), '$');
}

/**
 * A value JSON cannot hold, thrown from deep inside encode(); the path to it
 * is put together while the throw unwinds, so the common case (nothing to
 * report) builds no path strings: appends encode every record (issue 16).
 */
class Unencodable extends Error {
  readonly segments: string[] = [];
}

/** Runs an encoding of the value at `path`, turning an Unencodable into a TypeError that names where it is. */
function located<T>(fn: () => T, path: string): T {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof Unencodable)) throw err;
    throw new TypeError(`${path}${err.segments.reverse().join('')}: ${err.message}`);
  }
}

function encode(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
    return encode((v as { toJSON(): unknown }).toJSON());
  }
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(v)) throw new Unencodable(`${v} cannot be stored in JSON`);
      return JSON.stringify(v);
    case 'object': {
      if (Array.isArray(v)) {
        let out = '[';
        for (let i = 0; i < v.length; i++) {
          const x = v[i];
          if (i > 0) out += ',';
          out += x === undefined || typeof x === 'function' ? 'null' : member(x, i);
        }
        return `${out}]`;
      }
      const keys = Object.keys(v).sort();
      let out = '{';
      for (const k of keys) {
        const x = (v as Record<string, unknown>)[k];
        if (x === undefined || typeof x === 'function' || typeof x === 'symbol') continue;
        out += `${out.length > 1 ? ',' : ''}${JSON.stringify(k)}:${member(x, k)}`;
      }
      return `${out}}`;
    }
    default:
      throw new Unencodable(`a ${typeof v} cannot be stored in JSON`);
  }
}

/** encode() of a member, by its key or index; the path segment is only written when the member cannot be encoded. */
function member(x: unknown, at: string | number): string {
  try {
    return encode(x);
  } catch (err) {
    if (err instanceof Unencodable) err.segments.push(typeof at === 'number' ? `[${at}]` : `.${at}`);
    throw err;
  }
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The chain step: hash = sha256(prevHash + "\n" + canonical record body). */
export function chainHash(prevHash: string, body: string): string {
  return sha256Hex(`${prevHash}\n${body}`);
}

/**
 * The canonical JSON of a record body for any seq, encoded (and so checked:
 * a NaN deep in `data` throws here) before the seq is known. The body's keys
 * are split around "seq" in canonical order, so template(n) is exactly
 * canonicalJson({ ...body, seq: n }). Appends encode outside the chain's lock,
 * and a bad record fails its own caller, never the group it would have joined.
 */
export function bodyTemplate(body: Omit<RecordBody, 'seq'>): (seq: number) => string {
  const before: string[] = [];
  const after: string[] = [];
  for (const k of Object.keys(body).sort()) {
    const x = (body as Record<string, unknown>)[k];
    if (k === 'seq' || x === undefined || typeof x === 'function' || typeof x === 'symbol') continue;
    (k < 'seq' ? before : after).push(`${JSON.stringify(k)}:${located(() => encode(x), `$.${k}`)}`);
  }
  const head = before.length ? `{${before.join(',')},"seq":` : '{"seq":';
  const tail = after.length ? `,${after.join(',')}}` : '}';
  return (seq) => `${head}${seq}${tail}`;
}

/** "sha256:<hex>" of any JSON value, for AuditInput.beforeDigest/afterDigest. */
export function digest(value: unknown): string {
  return `sha256:${sha256Hex(canonicalJson(value))}`;
}

/** The hashed part of a record: everything but prevHash and hash. */
export type RecordBody = Omit<AuditRecord, 'prevHash' | 'hash'>;

const ACTOR_TYPES = new Set(['user', 'rule', 'system']);
const OUTCOMES = new Set(['success', 'failure', 'denied', 'pending', 'info']);

/**
 * Builds the body stored for an input: only the documented fields (so a caller
 * cannot smuggle in `seq` or `hash`), empty target parts dropped.
 */
export function recordBody(input: AuditInput, seq: number, id: string, time: number): RecordBody {
  const { actor, action } = input;
  if (!actor || !ACTOR_TYPES.has(actor.type) || typeof actor.name !== 'string' || actor.name === '') {
    throw new TypeError(`audit record needs an actor {type: user|rule|system, name}, got ${JSON.stringify(actor)}`);
  }
  if (typeof action !== 'string' || action === '') throw new TypeError('audit record needs an action, e.g. "runbook.step.succeeded"');
  if (input.outcome !== undefined && !OUTCOMES.has(input.outcome)) throw new TypeError(`unknown audit outcome "${input.outcome}"`);
  if (!Number.isFinite(time)) throw new TypeError(`audit record time must be epoch milliseconds, got ${time}`);
  const target = input.target && Object.fromEntries(Object.entries(input.target).filter(([, v]) => typeof v === 'string' && v !== ''));
  const body: RecordBody = {
    seq,
    id,
    time,
    actor: { type: actor.type, name: actor.name },
    action,
    target: target && Object.keys(target).length > 0 ? target : undefined,
    justification: input.justification,
    link: input.link,
    outcome: input.outcome,
    beforeDigest: input.beforeDigest,
    afterDigest: input.afterDigest,
    diff: input.diff,
    detectionId: input.detectionId,
    runId: input.runId,
    incidentId: input.incidentId,
    data: input.data,
  };
  for (const k of Object.keys(body) as (keyof RecordBody)[]) if (body[k] === undefined) delete body[k];
  return body;
}
