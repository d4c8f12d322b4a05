// Pending approvals: an `approval` step waits here until someone in the
// named group decides (chat, API or CLI call `decide`) or the time limit
// passes in cluster time. Denial and time-out follow the step's failure edge.
import { randomUUID } from 'node:crypto';
import type { Clock } from '../common/index.ts';
import type { ApprovalDecision, ApprovalGate } from './types.ts';

export interface PendingApproval {
  id: string;
  runId: string;
  stepId: string;
  group: string;
  summary: string;
  requestedAt: number;
  expiresAt: number;
  /** The person the run acts for: never the one who approves (four-eyes). */
  requester?: string;
}

export class ApprovalBook implements ApprovalGate {
  private readonly clock: Clock;
  private readonly pending = new Map<string, PendingApproval & { resolve: (d: ApprovalDecision) => void }>();
  /** Who belongs to which approver group; an empty list lets nobody approve. */
  private readonly members: (group: string, user: string) => boolean;
  onRequest?: (p: PendingApproval) => void;

  constructor(clock: Clock, members: (group: string, user: string) => boolean) {
    this.clock = clock;
    this.members = members;
  }

  request(req: { runId: string; stepId: string; group: string; summary: string; timeoutMs: number; signal: AbortSignal; requester?: string }): Promise<ApprovalDecision> {
    const id = randomUUID();
    const now = this.clock.now();
    // Asked with a signal already aborted: nobody waits for an answer, so nothing is put to the approvers.
    if (req.signal.aborted) return Promise.reject(req.signal.reason);
    return new Promise<ApprovalDecision>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => settle({ decision: 'timeout' }), req.timeoutMs);
      const settle = (d: ApprovalDecision) => {
        timer.cancel();
        this.pending.delete(id);
        resolve(d);
      };
      req.signal.addEventListener('abort', () => {
        timer.cancel();
        this.pending.delete(id);
        reject(req.signal.reason);
      }, { once: true });
      const entry = { id, runId: req.runId, stepId: req.stepId, group: req.group, summary: req.summary, requestedAt: now, expiresAt: now + req.timeoutMs, ...(req.requester ? { requester: req.requester } : {}), resolve: settle };
      this.pending.set(id, entry);
      this.onRequest?.(strip(entry));
    });
  }

  list(): PendingApproval[] {
    return [...this.pending.values()].map(strip);
  }

  /** Records a decision; refuses users outside the group, and the request's own requester (four-eyes, whichever front end asks). */
  decide(id: string, user: string, decision: 'approved' | 'denied', comment?: string): { ok: true } | { ok: false; reason: string } {
    const p = this.pending.get(id);
    if (!p) return { ok: false, reason: `no pending approval ${id}` };
    if (p.requester && p.requester === user) return { ok: false, reason: `${user} asked for this and cannot decide it too; someone else in ${p.group} must (four-eyes)` };
    if (!this.members(p.group, user)) return { ok: false, reason: `${user} is not in approver group ${p.group}` };
    p.resolve({ decision, by: user, comment });
    return { ok: true };
  }
}

function strip(p: PendingApproval & { resolve?: unknown }): PendingApproval {
  const { resolve: _r, ...rest } = p;
  return rest;
}
