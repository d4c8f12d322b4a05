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
  /** 'change': a diff of the object; 'event': a core/v1 Event; 'alert'; 'webhook'. */
  type: 'change' | 'event' | 'alert' | 'webhook' | 'state';
  summary: string;
  /** For changes: the paths that changed, old → new. */
  diff?: { path: string; old: unknown; new: unknown }[];
  event?: { reason: string; message: string; type: string; count: number; involvedObject: string };
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
  action?: { runbook?: string; params?: Record<string, unknown>; notify?: { channel: string } };
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
export type StepStatus = 'pending' | 'started' | 'succeeded' | 'failed' | 'timed-out' | 'skipped' | 'unknown';

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

export interface IncidentRecord {
  id: string;
  title: string;
  cluster: string;
  /** Mitigated: a run that changed the cluster succeeded on it and nothing new opened since; resolved: quiet for the resolve period. */
  status: 'open' | 'mitigated' | 'resolved';
  severity: 'info' | 'warning' | 'critical';
  openedAt: number;
  mitigatedAt?: number;
  resolvedAt?: number;
  detectionIds: string[];
  data: Record<string, unknown>;
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
  listDetections(q?: { status?: Detection['status']; rule?: string; cluster?: string; since?: number; limit?: number }): Promise<Detection[]>;

  putSilence(s: Silence): Promise<void>;
  listSilences(q?: { activeAt?: number }): Promise<Silence[]>;

  createRun(r: RunRecord): Promise<void>;
  updateRun(id: string, patch: Partial<Omit<RunRecord, 'id'>>): Promise<void>;
  getRun(id: string): Promise<RunRecord | undefined>;
  listRuns(q?: { status?: RunStatus[]; runbook?: string; since?: number; limit?: number }): Promise<RunRecord[]>;
  /** Appends a step transition (never updates one). */
  addTransition(t: StepTransition): Promise<void>;
  transitions(runId: string): Promise<StepTransition[]>;

  putChatRequest(r: ChatRequestRecord): Promise<void>;
  getChatRequest(id: string): Promise<ChatRequestRecord | undefined>;
  listChatRequests(q?: { status?: ChatRequestRecord['status'][]; user?: string; limit?: number }): Promise<ChatRequestRecord[]>;

  putIncident(i: IncidentRecord): Promise<void>;
  getIncident(id: string): Promise<IncidentRecord | undefined>;
  listIncidents(q?: { status?: IncidentRecord['status']; since?: number; limit?: number }): Promise<IncidentRecord[]>;
}
