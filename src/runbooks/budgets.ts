// Limits on how often anything may act, read from the store so they hold
// across restarts and across processes sharing a PostgreSQL database:
// per-target actions per hour, concurrent runs per namespace and cluster,
// repeated failures of the same remediation, and a global pause.
import type { AuditTarget } from '../audit/index.ts';
import type { RunRecord, Store } from '../store/index.ts';

export interface BudgetConfig {
  /** Mutating actions allowed per target per hour (default 5). */
  actionsPerTargetPerHour: number;
  /** Runs in flight per namespace (default 2) and per cluster (default 5). */
  concurrentPerNamespace: number;
  concurrentPerCluster: number;
  /** After this many failed or escalated runs of the same runbook on a target within `failureWindowMs`, escalate instead of trying (default 3). */
  failuresBeforeEscalate: number;
  failureWindowMs: number;
}

export const PAUSED = 'remediation.paused';
export const RESUMED = 'remediation.resumed';

export const DEFAULT_BUDGETS: BudgetConfig = {
  actionsPerTargetPerHour: 5,
  concurrentPerNamespace: 2,
  concurrentPerCluster: 5,
  failuresBeforeEscalate: 3,
  failureWindowMs: 24 * 3_600_000,
};

export type Refusal =
  | { kind: 'paused'; by?: string; reason?: string }
  | { kind: 'locked'; runId: string }
  | { kind: 'concurrency'; scope: 'namespace' | 'cluster'; limit: number }
  | { kind: 'repeated-failures'; failures: number; limit: number }
  | { kind: 'invalid-params'; problems: string[] }
  /** A person's run waited for the automatic run holding the target to stop after its step, and it did not in time. */
  | { kind: 'preempt-timeout'; runId: string; runbook: string; step?: string; waitedMs: number };

export function sameTarget(a: AuditTarget, b: AuditTarget): boolean {
  return a.cluster === b.cluster && a.kind === b.kind && (a.namespace ?? '') === (b.namespace ?? '') && a.name === b.name;
}

export function targetKey(t: AuditTarget): string {
  return [t.cluster ?? '', t.kind ?? '', t.namespace ?? '', t.name ?? ''].join('/');
}

/**
 * Whether a stored run counts against this cluster's budgets: runs recorded
 * on another cluster that had the same name (another kube-system uid — a
 * rebuilt cluster, a fresh sandbox replay) spent another cluster's budget.
 */
export function sameIncarnation(run: RunRecord, clusterUid: string | undefined): boolean {
  return !clusterUid || !run.clusterUid || run.clusterUid === clusterUid;
}

export class Budgets {
  /** Replaced as a whole on a config reload. */
  config: BudgetConfig;
  private readonly store: Store;
  paused = false;

  constructor(store: Store, config: Partial<BudgetConfig> = {}) {
    this.store = store;
    this.config = { ...DEFAULT_BUDGETS, ...config };
  }

  /**
   * The global pause switch: set by `kubemend remediation pause` as an audit
   * record, so it holds across processes and restarts and says who paused
   * and why. `paused = true` pauses this process alone (tests, embedding).
   */
  async pauseState(): Promise<{ by: string; reason: string } | undefined> {
    if (this.paused) return { by: 'local', reason: 'paused in this process' };
    // The newest of either decides: one indexed read, asked before every mutating step.
    const [last] = await this.store.audit.list({ actions: [PAUSED, RESUMED], order: 'desc', limit: 1 });
    if (last?.action !== PAUSED) return undefined;
    return { by: last.actor.name, reason: last.justification ?? '' };
  }

  /**
   * Whether a new run on `target` may start now; the reason when not. Locks
   * and concurrency limits keep changes apart: a run of a runbook that only
   * reads and notifies (`readOnly`) neither waits for them nor holds them,
   * so a warning never keeps a remediation of the same target from starting.
   */
  async admit(runbook: string, target: AuditTarget, now: number, o: { selfId?: string; readOnly?: boolean; isReadOnly?: (runbook: string) => boolean; clusterUid?: string } = {}): Promise<Refusal | undefined> {
    // The reads are independent: asked together they queue together (SQLite's one connection) or run at once
    // (PostgreSQL's pool), instead of each waiting its turn behind whatever other writers queued in between.
    // They are judged in the same order as ever, so the reason given for a refusal does not change.
    const [pause, holders, allCounts, failures] = await Promise.all([
      this.pauseState(),
      o.readOnly ? [] : this.store.activeRunsOn(target, { excludeId: o.selfId }),
      o.readOnly ? [] : this.store.activeRunCounts({ cluster: target.cluster, namespace: target.namespace, excludeId: o.selfId }),
      this.store.countFailedRuns({ runbook, target, since: now - this.config.failureWindowMs, clusterUid: o.clusterUid }),
    ]);
    if (pause) return { kind: 'paused', ...pause };
    if (!o.readOnly) {
      const acting = (rb: string) => !o.isReadOnly?.(rb);
      const holder = holders.find((r) => acting(r.runbook));
      if (holder) return { kind: 'locked', runId: holder.id };
      const counts = allCounts.filter((c) => acting(c.runbook));
      const inNs = counts.reduce((n, c) => n + c.inNamespace, 0);
      if (target.namespace && inNs >= this.config.concurrentPerNamespace) return { kind: 'concurrency', scope: 'namespace', limit: this.config.concurrentPerNamespace };
      const inCluster = counts.reduce((n, c) => n + c.inCluster, 0);
      if (inCluster >= this.config.concurrentPerCluster) return { kind: 'concurrency', scope: 'cluster', limit: this.config.concurrentPerCluster };
    }
    if (failures >= this.config.failuresBeforeEscalate) return { kind: 'repeated-failures', failures, limit: this.config.failuresBeforeEscalate };
    return undefined;
  }

  /**
   * Mutating actions already taken on `target` in the last hour (from stored
   * step transitions). The store counts per runbook and step; whether a step
   * mutates is the loaded runbooks' word, asked once per (runbook, step).
   */
  async actionsInLastHour(target: AuditTarget, now: number, mutating: (action: string) => boolean, actionOf: (runbook: string, stepId: string) => string | undefined, clusterUid?: string): Promise<number> {
    let n = 0;
    for (const s of await this.store.succeededSteps({ target, since: now - 3_600_000, clusterUid })) {
      const action = actionOf(s.runbook, s.stepId);
      if (action && mutating(action)) n += s.n;
    }
    return n;
  }
}

export function describeRefusal(r: Refusal): string {
  switch (r.kind) {
    case 'paused': return `remediation is paused${r.by ? ` by ${r.by}` : ''}${r.reason ? `: ${r.reason}` : ''}`;
    case 'locked': return `another run (${r.runId}) is already acting on this target`;
    case 'concurrency': return `at most ${r.limit} runs may be in flight per ${r.scope}`;
    case 'invalid-params': return `invalid parameters: ${r.problems.join('; ')}`;
    case 'preempt-timeout': return `the automatic run ${r.runId} (${r.runbook}) did not stop within ${Math.round(r.waitedMs / 1000)}s: its step ${r.step ?? 'under way'} changes the cluster and is left to finish; that run goes on`;
    case 'repeated-failures': return `this remediation has failed ${r.failures} times on this target (limit ${r.limit}); escalating to humans instead of trying again`;
  }
}
