// Connects detections to runbooks. A new (or re-opened) detection whose rule
// names a runbook starts a run; a detection that keeps firing after its run
// ended starts another after a cool-down, so a remediation that did not fix
// the problem is tried again, until the budgets stop it and the run
// escalates. Escalated detections, and those whose run a person pre-empted,
// are left to humans. A rule may only offer its runbook (it is announced for
// a person to start, never started), and may withhold it while its
// action.when does not hold: both are recorded.
import type { Clock } from '../common/index.ts';
import type { Detection, DetectionChange } from '../rules/index.ts';
import type { RunRecord } from '../store/index.ts';
import type { RunbookExecutor, TriggerResult } from './executor.ts';

export interface RemediatorOptions {
  executor: RunbookExecutor;
  clock: Clock;
  /** Wait this long after a run ends before acting again on a still-firing detection (default 60s). */
  retriggerAfterMs?: number;
  onTrigger?: (d: Detection, result: TriggerResult) => void;
  /** A new or re-opened detection that names a runbook and gets no run, and why: every "not acting" is a decision worth recording. */
  onSkip?: (d: Detection, runbook: string, reason: string) => void;
  /** A new or re-opened detection whose rule offers its runbook (mode: offer): announce it, start nothing. */
  onOffer?: (d: Detection, runbook: string) => void;
}

interface Track {
  runId?: string;
  endedAt?: number;
  lastStatus?: RunRecord['status'];
  starting?: boolean;
  /** The runbook was withheld (action.when) when last seen: a later firing where it holds may start it. */
  withheld?: boolean;
}

export class Remediator {
  private readonly o: RemediatorOptions;
  private readonly tracks = new Map<string, Track>();
  /** Cool-down before a still-firing detection starts its runbook again (a config reload may change it). */
  retriggerAfterMs: number;

  constructor(o: RemediatorOptions) {
    this.o = o;
    this.retriggerAfterMs = o.retriggerAfterMs ?? 60_000;
  }

  /** Feed every detection change here (the engine's onDetection hook). */
  onDetection(d: Detection, change: DetectionChange): void {
    const runbook = d.action?.runbook;
    if (!runbook || d.status === 'silenced' || d.suppressed === 'rate-limit') return;
    const t = this.tracks.get(d.fingerprint) ?? {};
    this.tracks.set(d.fingerprint, t);
    if (change === 'resolved') {
      this.tracks.delete(d.fingerprint);
      return;
    }
    const opened = change === 'opened' || change === 'reopened';
    if (d.action?.withheld) {
      if (opened || !t.withheld) this.o.onSkip?.(d, runbook, `not acting, because ${d.action.withheld}`);
      t.withheld = true;
      return;
    }
    if (d.action?.mode === 'offer') {
      if (opened) this.o.onOffer?.(d, runbook);
      return;
    }
    // Withheld until now and no run yet: this firing is the first on which the runbook may act.
    const fresh = opened || (t.withheld === true && !t.runId);
    t.withheld = false;
    if (t.starting || (t.runId && this.o.executor.isActive(t.runId))) {
      if (fresh) this.o.onSkip?.(d, runbook, `run ${t.runId ?? '(starting)'} for this detection is still in flight`);
      return;
    }
    if (t.lastStatus === 'escalated') {
      if (fresh) this.o.onSkip?.(d, runbook, 'earlier runs for this detection escalated: it is left to humans');
      return;
    }
    // A person took the target over from the automation: retrying would fight them.
    if (t.lastStatus === 'preempted') {
      if (fresh) this.o.onSkip?.(d, runbook, 'a person pre-empted the earlier run for this detection from chat: it is left to humans');
      return;
    }
    // A dry run changed nothing, so planning it again after the cool-down would only repeat the same plan.
    const retry = change === 'repeated' && t.endedAt !== undefined && t.lastStatus !== 'dry-run' && this.o.clock.now() - t.endedAt >= this.retriggerAfterMs;
    if (!fresh && !retry) return;
    t.starting = true;
    void this.o.executor
      .trigger({ runbook, detection: d, startedBy: { type: 'rule', name: d.rule } })
      .then((res) => {
        if ('run' in res && res.run && !('refused' in res)) t.runId = res.run.id;
        else if ('refused' in res && res.refused.kind === 'repeated-failures') t.lastStatus = 'escalated';
        this.o.onTrigger?.(d, res);
      })
      .catch((err: unknown) => this.o.onSkip?.(d, runbook, `the run could not start: ${(err as Error).message}`))
      .finally(() => {
        t.starting = false;
      });
  }

  /**
   * A new leader catching up on a detection that was open before it led: the
   * newest run another replica started for it counts as this remediator's
   * own (in flight, or ended with its cool-down and escalation), so a
   * failover neither starts a second run nor forgets the first; with none,
   * the detection is new to remediation.
   */
  adopt(d: Detection, last: RunRecord | undefined): void {
    if (!last) return this.onDetection(d, 'opened');
    const ended = !['pending', 'running', 'waiting-approval'].includes(last.status);
    this.tracks.set(d.fingerprint, { runId: last.id, ...(ended ? { endedAt: last.updatedAt, lastStatus: last.status } : {}) });
  }

  /** Feed every finished run here (the executor's onRunEnd hook). */
  onRunEnd(run: RunRecord): void {
    for (const t of this.tracks.values()) {
      if (t.runId === run.id) {
        t.endedAt = this.o.clock.now();
        t.lastStatus = run.status;
      }
    }
  }
}
