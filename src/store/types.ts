// The persistence contract every part of kubemend writes through. Two
// implementations (node:sqlite, PostgreSQL) pass the same test suite. Every
// method that changes state is one transaction: a crash leaves either the
// whole write or none of it.
import type { AuditLog, AuditTarget, Actor } from '../audit/index.ts';

/** What a detection is about: one object (or alert subject) in one cluster. */
export interface Subject {
  cluster: string;
  kind: string;
  namespace?: string;
  name: string;
  uid?: string;
}

export type DetectionStatus = 'pending' | 'open' | 'resolved' | 'silenced';

export interface Evidence {
  time: number;
  /** 'change': a diff of the object; 'event': a core/v1 Event; 'alert'; 'webhook'; 'rollout': a smoke window after a rollout. */
  type: 'change' | 'event' | 'alert' | 'webhook' | 'state' | 'rollout';
  summary: string;
  /** For changes: the paths that changed, old → new. */
  diff?: { path: string; old: unknown; new: unknown }[];
  event?: { reason: string; message: string; type: string; count: number; involvedObject: string };
  /** For rollouts: the change and what its smoke window saw. */
  rollout?: SmokeReport;
}

/** One rollout of a workload's pod template, by whoever made it. */
export interface RolloutChange {
  workload: { kind: string; namespace: string; name: string; uid?: string };
  /** The new revision: a Deployment's revision number, a StatefulSet's updateRevision, a DaemonSet's template generation; absent until its controller has made it. */
  revision?: string;
  /** The revision it replaced; absent when the workload was created (a first revision has nothing to roll back to). */
  previous?: {
    revision?: string;
    images: Record<string, string>;
    /** It had ready pods when the change was seen, and its own smoke window (if kubemend saw one) did not fail. */
    healthy: boolean;
    readyReplicas: number;
  };
  /** Container → image of the new template. */
  images: Record<string, string>;
  /** What changed in the template, old → new: "image web:1.4 → web:1.5 (container web)". */
  summary: string;
  /** The field manager that last wrote the object other than through /status (kubectl-set, helm, argocd …), when the object carries managedFields. */
  author?: string;
  /** When the change was made: the author's managedFields time, else when kubemend saw it. */
  at: number;
  /** When kubemend saw it. */
  observedAt: number;
  generation?: number;
}

/** What a smoke window found wrong with the new revision's pods. */
export interface Regression {
  type: 'restart' | 'oom-killed' | 'unready' | 'never-ready';
  pod: string;
  container?: string;
  /** One line: "pod web-7d9-x container web restarted 2 time(s) (last Error, exit 2)". */
  message: string;
  /** Cluster time it was seen. */
  time: number;
  reason?: string;
  exitCode?: number;
}

/** started → passed | failed, or: skipped (disabled by annotation), superseded (another rollout came first), cancelled (the workload was deleted). */
export type SmokePhase = 'started' | 'passed' | 'failed' | 'skipped' | 'superseded' | 'cancelled';

/** A smoke window after a rollout: the change, the window and, once it ends, what it found. */
export interface SmokeReport {
  /** Stable for the window: cluster/kind/namespace/name@revision-time. */
  id: string;
  cluster: string;
  phase: SmokePhase;
  change: RolloutChange;
  /** Its length, when it opens and closes (cluster time), and what set the length. */
  window: { ms: number; opensAt: number; closesAt: number; setBy: string };
  regressions: Regression[];
  /** The new revision's pods (not terminating) and how many are ready, at the last look. */
  pods: number;
  readyPods: number;
  /** Why a window was skipped, superseded or cancelled. */
  reason?: string;
  /** Cluster time of this phase. */
  time: number;
}

export interface Detection {
  id: string;
  rule: string;
  cluster: string;
  subject: Subject;
  fingerprint: string;
  severity: 'info' | 'warning' | 'critical';
  summary: string;
  labels: Record<string, string>;
  firstSeen: number;
  lastSeen: number;
  /** How many times the rule fired for this fingerprint while open (repeats increment it). */
  count: number;
  status: DetectionStatus;
  /** The silence that matched, when status is silenced. */
  silencedBy?: string;
  /** Why a notification or action was withheld, when it was. */
  suppressed?: 'group-window' | 'rate-limit' | 'silenced';
  evidence: Evidence[];
  notifications: number;
  action?: {
    runbook?: string;
    params?: Record<string, unknown>;
    notify?: { channel: string };
    /** 'offer': the runbook is offered to people (recorded and announced), never started automatically. Default 'auto'. */
    mode?: 'auto' | 'offer';
    /** Set when the rule's action.when did not hold at the last firing: why the runbook is not started. */
    withheld?: string;
  };
}

export interface Silence {
  id: string;
  /** Label matchers on the detection's labels: `name=value`, `name!=value`, `name=~regex`, `name!~regex`. */
  matchers: { name: string; op: '=' | '!=' | '=~' | '!~'; value: string }[];
  startsAt: number;
  endsAt: number;
  createdBy: string;
  comment: string;
  /** Set once the silence has ended: who expired it, or "time" when its end passed (so the expiry is audited once). */
  expiredBy?: string;
}

/** preempted: an automatic run stopped at a step boundary so that a person's confirmed chat action on its target could run. */
export type RunStatus = 'pending' | 'running' | 'waiting-approval' | 'succeeded' | 'failed' | 'escalated' | 'cancelled' | 'preempted' | 'dry-run' | 'abandoned';
/** abandoned: the process driving the run stopped leading while the step was under way (or before it began); the next leader re-checks it. */
export type StepStatus = 'pending' | 'started' | 'succeeded' | 'failed' | 'timed-out' | 'skipped' | 'unknown' | 'abandoned';

/** Runs in these states hold their target's lock and are driven (or waiting to be driven) by a process. */
export const ACTIVE_RUN_STATUSES: readonly RunStatus[] = ['pending', 'running', 'waiting-approval'];

/**
 * The leader term a run is driven under: the Lease's holder and its
 * transition count when it was acquired. A new leader's term differs in
 * both, so the store can refuse the writes of a deposed one.
 */
export interface Fence {
  holder: string;
  term: number;
}

/** A stop asked of whichever process drives the run (a chat cancel or pre-emption taken on another replica). */
export interface StopRequest {
  by: Actor;
  reason: string;
  data?: Record<string, unknown>;
  status: 'cancelled' | 'preempted';
}

export interface RunRecord {
  id: string;
  runbook: string;
  detectionId?: string;
  incidentId?: string;
  cluster: string;
  /** The cluster's identity when the run started (kube-system namespace uid), so a resume never acts on another cluster of the same name. */
  clusterUid?: string;
  target: AuditTarget;
  status: RunStatus;
  params: Record<string, unknown>;
  /** Who or what started it; chat runs carry the user (used for impersonation). */
  startedBy: Actor;
  dryRun: boolean;
  createdAt: number;
  updatedAt: number;
  /** Current step id (null when finished). */
  currentStep?: string | null;
  outputs: Record<string, unknown>;
  /**
   * The target lock this run holds while it is active (kept in a unique
   * column, so two runs can never hold one target); absent for runs that
   * change nothing (dry runs, read-only runbooks).
   */
  lockKey?: string;
  /** The leader term driving the run (leader election on); the store refuses writes made under another. */
  fence?: Fence;
  /** The identity mutations impersonate (a chat user with their groups), so any process can drive the run. */
  as?: { user: string; groups?: string[] };
  /** Asked to stop at the next step boundary; the process driving the run applies it. */
  stop?: StopRequest;
  /** The runbook's step graph when the run started (absent on runs recorded before it was kept). */
  graph?: RunGraph;
}

/** Where a page of runs ended: its last run's creation time and id. */
export interface RunCursor {
  createdAt: number;
  id: string;
}

/**
 * A runbook's step graph as a run started with it: the steps in file order
 * with their action and the edges each outcome follows (a step id, `end` or
 * `escalate`). Kept with the run so it can be drawn after the runbook is
 * reloaded or removed.
 */
export interface RunGraph {
  start: string;
  steps: { id: string; action: string; description?: string; success: string; failure: string; timeout: string }[];
}

export interface StepTransition {
  runId: string;
  stepId: string;
  attempt: number;
  status: StepStatus;
  time: number;
  /** Outputs of a finished step, or the error. */
  output?: unknown;
  error?: string;
  /** Idempotency key sent with the mutation, so an unknown outcome can be re-checked. */
  operationKey?: string;
}

export interface ChatRequestRecord {
  id: string;
  user: string;
  room: string;
  adapter: string;
  command: string;
  action: string;
  cluster?: string;
  target: AuditTarget;
  justification?: string;
  link?: string;
  status: 'awaiting-justification' | 'awaiting-confirmation' | 'awaiting-approval' | 'approved' | 'denied' | 'executed' | 'failed' | 'expired' | 'cancelled';
  approvals: { user: string; decision: 'approve' | 'deny'; time: number; comment?: string }[];
  createdAt: number;
  updatedAt: number;
  runId?: string;
}

/**
 * open: a detection opened it, nobody has acknowledged it; acknowledged: a
 * person took it; mitigated: a run that changed the cluster succeeded on it
 * and its detections resolved (docs/incidents.md, "Lifecycle"); resolved:
 * quiet for the resolve period, or resolved by a person; postmortem: resolved,
 * and a post-mortem draft was made of it.
 */
export type IncidentStatus = 'open' | 'acknowledged' | 'mitigated' | 'resolved' | 'postmortem';
export const INCIDENT_STATUSES: readonly IncidentStatus[] = ['open', 'acknowledged', 'mitigated', 'resolved', 'postmortem'];
/** Incidents still under way: what `incidents` lists by default. */
export const ACTIVE_INCIDENT_STATUSES: readonly IncidentStatus[] = ['open', 'acknowledged', 'mitigated'];

/** A person's note on an incident (redacted, bounded). */
export interface IncidentNote {
  by: string;
  time: number;
  text: string;
}

export interface IncidentRecord {
  id: string;
  title: string;
  cluster: string;
  status: IncidentStatus;
  severity: 'info' | 'warning' | 'critical';
  openedAt: number;
  mitigatedAt?: number;
  resolvedAt?: number;
  detectionIds: string[];
  data: Record<string, unknown>;
  /** The person assigned to it. */
  owner?: string;
  /** The first person who acknowledged it; kept when it mitigates or reopens. */
  acknowledgedBy?: string;
  acknowledgedAt?: number;
  notes?: IncidentNote[];
  /** Who resolved it: a person, "quiet" (the resolve period passed) or "merged" (it joined another incident). */
  resolvedBy?: string;
  /** Why, in the words of whoever resolved it. */
  resolveReason?: string;
  /** When a post-mortem draft was first made of it after it resolved, and by whom. */
  postmortemAt?: number;
  postmortemBy?: string;
}

/** A queued delivery of a notification to a receiver (the outbox, src/notify/). */
export interface OutboxRecord {
  id: string;
  receiver: string;
  /** Deliveries of one (receiver, key) go out one at a time, oldest first. */
  key: string;
  /** The notification (a NotifyEvent), kept as JSON. */
  event: unknown;
  status: 'pending' | 'dead';
  attempts: number;
  createdAt: number;
  /** Not before this time (back-off, group_wait). */
  nextAt: number;
  lastError?: string;
}

export interface OutboxClaim {
  now: number;
  /** Most rows to claim. */
  limit: number;
  /** The claim holds until now + leaseMs; a process that dies with it lets it lapse. */
  leaseMs: number;
  /** Who claims (a process id), kept for inspection. */
  owner: string;
  /** Ids this process already has in flight (never claimed twice by one process). */
  exclude?: string[];
}

/** A write made on behalf of a leader term (see Fence). */
export interface WriteFence {
  fence?: Fence;
}

/** The one persistence interface; SQLite and PostgreSQL implement it. */
export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  readonly audit: AuditLog;
  /** Runs pending migrations; idempotent. Called by open(). */
  migrate(): Promise<number>;
  close(): Promise<void>;

  putDetection(d: Detection): Promise<void>;
  getDetection(id: string): Promise<Detection | undefined>;
  /** Newest `last_seen` first; `before`: the page after the item with that last_seen and id (a keyset cursor). */
  listDetections(q?: { status?: Detection['status']; rule?: string; cluster?: string; since?: number; limit?: number; before?: { time: number; id: string } }): Promise<Detection[]>;

  putSilence(s: Silence): Promise<void>;
  listSilences(q?: { activeAt?: number }): Promise<Silence[]>;

  /** Fails with KM-STORE-006 (TargetLockedError) when an active run already holds `r.lockKey`: atomic, across processes. */
  createRun(r: RunRecord): Promise<void>;
  /** With `fence`: fails with KM-STORE-007 unless the run is still driven under that term. */
  updateRun(id: string, patch: Partial<Omit<RunRecord, 'id'>>, o?: WriteFence): Promise<void>;
  /**
   * Takes a run over for a new leader term: sets `fence` to `to` only if the
   * stored fence is still `from` (compare-and-set) and the run is active.
   * Returns the run as adopted, or undefined when another process got there first.
   */
  adoptRun(id: string, from: Fence | undefined, to: Fence, patch?: Partial<Omit<RunRecord, 'id' | 'fence'>>): Promise<RunRecord | undefined>;
  getRun(id: string): Promise<RunRecord | undefined>;
  /** Newest first; `after`: the page after that run (a console list's cursor). */
  listRuns(q?: { status?: RunStatus[]; runbook?: string; since?: number; limit?: number; after?: RunCursor }): Promise<RunRecord[]>;
  // The budgets' questions, from indexed columns (no document parsed). Active
  // means ACTIVE_RUN_STATUSES; dry runs never count; a target matches as
  // runbooks' sameTarget does; with `clusterUid`, runs recorded under another
  // uid do not count (runs without one do). Answers come per runbook (and
  // step) so the caller can apply what its loaded runbooks say.
  /** Active runs on the target, newest first. */
  activeRunsOn(target: AuditTarget, o?: { excludeId?: string }): Promise<{ id: string; runbook: string }[]>;
  /** Active runs on the cluster per runbook, and how many of them are in `namespace` (absent = ''). */
  activeRunCounts(q: { cluster: string | undefined; namespace: string | undefined; excludeId?: string }): Promise<{ runbook: string; inCluster: number; inNamespace: number }[]>;
  /** Runs of `runbook` on the target created since `since` that failed or escalated. */
  countFailedRuns(q: { runbook: string; target: AuditTarget; since: number; clusterUid?: string }): Promise<number>;
  /** Succeeded transitions at or after `since` of runs on the target created since then, per runbook and step. */
  succeededSteps(q: { target: AuditTarget; since: number; clusterUid?: string }): Promise<{ runbook: string; stepId: string; n: number }[]>;
  /** Appends a step transition (never updates one); with `fence`, only while the run is driven under that term. */
  addTransition(t: StepTransition, o?: WriteFence): Promise<void>;
  transitions(runId: string): Promise<StepTransition[]>;

  putChatRequest(r: ChatRequestRecord): Promise<void>;
  getChatRequest(id: string): Promise<ChatRequestRecord | undefined>;
  listChatRequests(q?: { status?: ChatRequestRecord['status'][]; user?: string; limit?: number }): Promise<ChatRequestRecord[]>;

  /** A webhook signal a follower received, for the leader to ingest (leader election on). */
  relaySignal(time: number, signal: unknown): Promise<void>;
  /** Relayed signals after `afterSeq`, oldest first. */
  relayedSignals(afterSeq: number, limit?: number): Promise<{ seq: number; time: number; signal: unknown }[]>;
  /** Forgets relayed signals up to and including `seq` (the leader has ingested them). */
  dropRelayedSignals(uptoSeq: number): Promise<void>;

  /** Queues deliveries (one transaction); ids are unique, a repeated id is ignored. */
  enqueueDeliveries(rows: Omit<OutboxRecord, 'status' | 'attempts' | 'lastError'>[]): Promise<void>;
  /**
   * Claims due pending deliveries, each the oldest pending one of its
   * (receiver, key), by a lease: safe with several processes on one database.
   */
  claimDeliveries(q: OutboxClaim): Promise<OutboxRecord[]>;
  /** The receiver took it: the row is removed. */
  completeDelivery(id: string): Promise<void>;
  /** Back to pending at `nextAt`, its lease released. */
  retryDelivery(id: string, u: { attempts: number; nextAt: number; error: string }): Promise<void>;
  /** Given up: kept with status dead (no longer blocks its key). */
  deadLetterDelivery(id: string, u: { attempts: number; error: string }): Promise<void>;
  listDeliveries(q?: { status?: OutboxRecord['status']; receiver?: string; limit?: number }): Promise<OutboxRecord[]>;
  /** Pending deliveries and the creation time of the oldest. */
  outboxStats(): Promise<{ pending: number; dead: number; oldestPendingAt?: number }>;
  getNotifyState(receiver: string, key: string): Promise<string | undefined>;
  putNotifyState(receiver: string, key: string, value: string, time: number): Promise<void>;
  /** The last audit seq the named shipper delivered (0: none yet). */
  shipperCheckpoint(name: string): Promise<number>;
  /**
   * Records that the named shipper delivered every audit record up to `seq`.
   * Only ever moves forward: a deposed leader finishing a batch late cannot
   * move it back under the new leader. Returns the stored value.
   */
  advanceShipperCheckpoint(name: string, seq: number): Promise<number>;

  putIncident(i: IncidentRecord): Promise<void>;
  getIncident(id: string): Promise<IncidentRecord | undefined>;
  /**
   * Read-modify-write of one incident in one transaction, its row locked: fn
   * gets the stored record (undefined when there is none) and returns the
   * record to store, or undefined to leave it as it is; a KubemendError it
   * throws rolls back and is rethrown. fn may run more than once (a lost
   * PostgreSQL connection), so it only computes from what it is given.
   * Resolves with what is stored afterwards.
   */
  updateIncident(id: string, fn: (current: IncidentRecord | undefined) => IncidentRecord | undefined): Promise<IncidentRecord | undefined>;
  /** `status`: one status or any of several; `owner`: assigned to that person. */
  /** Newest `openedAt` first; `before`: the page after the incident with that openedAt and id (a keyset cursor). */
  listIncidents(q?: { status?: IncidentStatus | readonly IncidentStatus[]; owner?: string; since?: number; limit?: number; before?: { time: number; id: string } }): Promise<IncidentRecord[]>;
}
