// Contracts between the runbook loader, the executor and the actions. An
// action is one idempotent operation with a dry-run plan; the executor owns
// ordering, retries, timeouts, locks, budgets, persistence and audit.
import type { z } from 'zod';
import { type Clock, KubemendError, actionErrorInfo, type ActionReason } from '../common/index.ts';
import type { ApiAccess, KubeHttp, Identity, KubeObject } from '../kube/index.ts';
import type { Detection } from '../rules/index.ts';
import type { AuditTarget } from '../audit/index.ts';

/** One API call an action would make: what `--dry-run` prints. */
export interface PlannedCall {
  /** CHECK: a verdict the action reached by reading (k8s.promote's source health), shown with the plan. */
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'WAIT' | 'NOTIFY' | 'HTTP' | 'APPROVAL' | 'CHECK';
  /** API path (or URL / channel / group for non-Kubernetes steps). */
  path: string;
  body?: unknown;
  /** Human description: "scale deployment shop/web from 3 to 5". */
  description: string;
}

export interface Notification {
  channel: string;
  title: string;
  text: string;
  severity?: 'info' | 'warning' | 'critical';
  runId?: string;
  detectionId?: string;
  /** What it is, for routing: a runbook `notify` step or rule (default), an escalation, or an offered runbook. */
  kind?: 'notify' | 'escalation' | 'offer';
}

export interface Notifier {
  send(n: Notification): Promise<void>;
}

export type ApprovalDecision = { decision: 'approved' | 'denied'; by: string; comment?: string } | { decision: 'timeout' };

/** Asks a named group to approve; resolves with the decision or time-out (cluster time). */
export interface ApprovalGate {
  /** `requester`: the person the run acts for, who may not approve it (four-eyes). */
  request(req: { runId: string; stepId: string; group: string; summary: string; timeoutMs: number; signal: AbortSignal; requester?: string }): Promise<ApprovalDecision>;
}

export interface ActionContext {
  cluster: string;
  /** API access for the run's cluster. Mutations must pass `as` (impersonation). */
  kube: KubeHttp;
  /** Identity mutations are made as: the service identity, or the chat user. */
  as?: Identity;
  /** Resolve another cluster's API by kubeconfig context (k8s.promote from another cluster). */
  kubeFor?: (cluster: string) => KubeHttp | undefined;
  dryRun: boolean;
  clock: Clock;
  /** Aborted on step timeout or cancellation. */
  signal: AbortSignal;
  detection?: Detection;
  target: AuditTarget;
  runId: string;
  stepId: string;
  /** Stable per run+step+attempt-independent key; sent as an annotation so a re-check can tell whether a mutation landed. */
  operationKey: string;
  notifier: Notifier;
  approvals: ApprovalGate;
  log: (message: string) => void;
  /**
   * The running action's declared API access: a request outside it fails the
   * step as a kubemend bug (INTERNAL) before it is sent, so declarations —
   * and the ClusterRoles derived from them — cannot fall behind the code.
   */
  access?: { action: string; rules: readonly ApiAccess[]; violations: string[] };
  /** Called as each API request is about to be sent (after the access check): the run's first marks its latency. */
  sending?: () => void;
}

export interface ActionResult {
  /** Values later steps can template from (`steps.<id>.outputs.<name>`). */
  outputs: Record<string, unknown>;
  /** Whether the cluster was changed (false for reads, waits, no-ops). */
  mutated: boolean;
  /** The calls made (or, in dry-run, the calls that would be made). */
  calls: PlannedCall[];
}

/** Whether a step's mutation already took effect; used after a crash when a step's outcome is unknown. */
export type CheckResult = { state: 'done'; outputs?: Record<string, unknown> } | { state: 'not-done' } | { state: 'unknown'; reason: string };

export interface Action<P = any> {
  /** e.g. 'k8s.rollback' */
  readonly name: string;
  readonly description: string;
  /** zod schema of the (templated) `with` parameters; validated before run. */
  readonly params: z.ZodType<P>;
  readonly mutates: boolean;
  /**
   * Every Kubernetes API request the action can make, as RBAC rules (group,
   * resources, verbs): what the identity it acts as must be granted. The
   * deployment's ClusterRole for kubemend's service identity is derived from
   * the declarations of the actions the shipped runbooks use (test/deploy).
   */
  readonly access: readonly ApiAccess[];
  /**
   * Only reads, and later steps branch on what it finds: a dry run runs it
   * for real (k8s.collect, k8s.findMemoryCulprit), so the plan shows the
   * branch the run would take. Never set on an action that mutates.
   */
  readonly runsInDryRun?: boolean;
  /** The calls `run` would make, without making any mutation (reads allowed). */
  plan(params: P, ctx: ActionContext): Promise<PlannedCall[]>;
  run(params: P, ctx: ActionContext): Promise<ActionResult>;
  /** For mutating actions: did a previous attempt with ctx.operationKey land? */
  check?(params: P, ctx: ActionContext): Promise<CheckResult>;
}

/**
 * A step's failure. `reason` is its short name (AT_CAP, NO_PREVIOUS_REVISION):
 * what step transitions store and runbooks and docs mention. Code, fix and
 * `retryable` come from the registry entry ACTION_<reason>, so the executor
 * decides retries from the type, never from the message or the throw site.
 */
export class ActionError extends KubemendError {
  readonly reason: ActionReason;

  constructor(reason: ActionReason, message: string, opts: { cause?: unknown } = {}) {
    super(actionErrorInfo(reason), message, opts);
    this.name = 'ActionError';
    this.reason = reason;
  }
}

/** Read access to the informer cache, when the engine runs one. */
export type CacheLookup = (cluster: string, kind: string, namespace?: string) => KubeObject[];
