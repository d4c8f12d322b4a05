// What the audit log records and how it is read: a record is an input plus
// its place in the hash chain. The Store (src/store/) exposes one AuditLog as
// `store.audit`; this folder owns the chain and knows nothing of the Store.
import type { AuditWitness, SignedHead } from './witness.ts';

/** Who did something: a person (chat, CLI), a rule, or kubemend itself. */
export interface Actor {
  type: 'user' | 'rule' | 'system';
  /** user name, rule name, or component (e.g. "runbook-executor"). */
  name: string;
}

export interface AuditTarget {
  cluster?: string;
  namespace?: string;
  kind?: string;
  name?: string;
}

/** What a caller hands to `audit.append`. */
export interface AuditInput {
  time?: number;
  actor: Actor;
  /** Dotted verb, e.g. detection.opened, runbook.step.succeeded, chat.restart.requested, silence.created. */
  action: string;
  target?: AuditTarget;
  justification?: string;
  /** Ticket or alert URL backing the action. */
  link?: string;
  outcome?: 'success' | 'failure' | 'denied' | 'pending' | 'info';
  /** sha256 digests of the object before/after a mutation, and/or a diff. */
  beforeDigest?: string;
  afterDigest?: string;
  diff?: unknown;
  detectionId?: string;
  runId?: string;
  incidentId?: string;
  /** Anything else worth keeping (never secrets). */
  data?: Record<string, unknown>;
}

/** A stored record: the input plus its place in the hash chain. */
export interface AuditRecord extends Required<Pick<AuditInput, 'actor' | 'action'>>, Omit<AuditInput, 'actor' | 'action' | 'time'> {
  seq: number;
  id: string;
  time: number;
  /** Hash of the previous record (or of the checkpoint it continues from). */
  prevHash: string;
  /** sha256 over prevHash + the canonical JSON of this record's fields. */
  hash: string;
}

export interface AuditQuery {
  since?: number;
  until?: number;
  actor?: string;
  action?: string;
  /** Records whose action is exactly one of these (none for an empty list). */
  actions?: readonly string[];
  /** Substring match on cluster/namespace/kind/name. */
  target?: string;
  runId?: string;
  detectionId?: string;
  incidentId?: string;
  limit?: number;
  afterSeq?: number;
  /** Records before this seq (a newest-first page's cursor). */
  beforeSeq?: number;
  /** One record by its id. */
  id?: string;
  /** By seq: 'asc' (default, oldest first) or 'desc' (newest first, e.g. the last N). */
  order?: 'asc' | 'desc';
}

export type VerifyResult =
  | { ok: true; records: number; head: string; fromCheckpoint?: number; witnesses?: WitnessSummary[] }
  | { ok: false; records: number; firstBad: { seq: number; id?: string; reason: string } };

/** What a witness check covered: its heads, the newest, and how many could be compared (older ones were pruned). */
export interface WitnessSummary {
  name: string;
  heads: number;
  newest: number;
  checked: number;
}

export interface VerifyOptions {
  /** Also check that every head these witnesses saw is still in the chain (catches a truncated tail). */
  witnesses?: readonly AuditWitness[];
}

export interface AuditLog {
  /** Appends records in one transaction, chaining hashes; returns them as stored. */
  append(inputs: AuditInput | AuditInput[]): Promise<AuditRecord[]>;
  list(q?: AuditQuery): Promise<AuditRecord[]>;
  verify(opts?: VerifyOptions): Promise<VerifyResult>;
  /** Deletes records older than `before`, writing a signed checkpoint so verification still works. */
  prune(before: number): Promise<{ removed: number; checkpointSeq?: number }>;
  /** Streams every record in order, for export. */
  iterate(q?: AuditQuery): AsyncIterable<AuditRecord>;
  /** The signed chain head as stored (undefined before the first record): what a copy elsewhere is verified against. */
  head(): Promise<SignedHead | undefined>;
}
