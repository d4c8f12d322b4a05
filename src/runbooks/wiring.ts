// Assembles remediation: the executor (with actions, budgets, notifier,
// approvals) and the remediator that feeds it detections. `kubemend run`,
// the demo and the end-to-end tests all build it here, so they run the same
// thing.
import type { Clock } from '../common/clock.ts';
import type { Identity, KubeHttp } from '../kube/http.ts';
import type { Store } from '../store/types.ts';
import type { EngineHooks } from '../rules/engine.ts';
import { ACTIONS } from './actions/index.ts';
import { ApprovalBook } from './approvals.ts';
import type { BudgetConfig } from './budgets.ts';
import { RunbookExecutor } from './executor.ts';
import type { LoadedRunbook } from './loader.ts';
import { AuditedNotifier, CollectingNotifier } from './notifiers.ts';
import { Remediator } from './remediation.ts';
import type { Notifier } from './types.ts';
import { viewOf } from './view.ts';

/** The identity runbook mutations are made as, unless a chat user started the run. */
export const SERVICE_IDENTITY: Identity = { user: 'system:serviceaccount:kubemend:remediator', groups: ['system:serviceaccounts', 'kubemend:remediators'] };

export interface RemediationOptions {
  store: Store;
  clock: Clock;
  runbooks: LoadedRunbook[];
  kube: (cluster: string) => KubeHttp | undefined;
  identity?: Identity;
  dryRun?: boolean;
  budgets?: Partial<BudgetConfig>;
  retriggerAfterMs?: number;
  /** Extra notification targets (terminal, chat); every notification is also audited and collected. */
  notifiers?: Notifier[];
  /** Who may approve for which group (default: nobody, so approvals time out). */
  approvers?: (group: string, user: string) => boolean;
  log?: (line: string) => void;
}

export interface Remediation {
  executor: RunbookExecutor;
  remediator: Remediator;
  notifications: CollectingNotifier;
  approvals: ApprovalBook;
  /** Engine hooks to pass to the detection engine (detections → runs, and their audit records). */
  hooks: EngineHooks;
}

export function wireRemediation(o: RemediationOptions): Remediation {
  const notifications = new CollectingNotifier(o.clock);
  const notifier = new AuditedNotifier(o.store.audit, o.clock, notifications, ...(o.notifiers ?? []));
  const approvals = new ApprovalBook(o.clock, o.approvers ?? (() => false));
  let remediator: Remediator | undefined;
  const executor = new RunbookExecutor({
    store: o.store,
    clock: o.clock,
    runbooks: new Map(o.runbooks.map((lr) => [lr.runbook.metadata.name, viewOf(lr)])),
    actions: ACTIONS,
    kube: o.kube,
    identity: o.identity ?? SERVICE_IDENTITY,
    notifier,
    approvals,
    budgets: o.budgets,
    dryRun: o.dryRun,
    onRunEnd: (run) => remediator?.onRunEnd(run),
    log: o.log,
  });
  remediator = new Remediator({ executor, clock: o.clock, retriggerAfterMs: o.retriggerAfterMs });
  const r = remediator;
  const hooks: EngineHooks = {
    onDetection: (d, change) => {
      if (change !== 'repeated') {
        void o.store.putDetection(d);
        void o.store.audit.append({
          time: o.clock.now(),
          actor: { type: 'rule', name: d.rule },
          action: `detection.${change}`,
          target: { cluster: d.cluster, kind: d.subject.kind, namespace: d.subject.namespace, name: d.subject.name },
          outcome: 'info',
          detectionId: d.id,
          data: { severity: d.severity, summary: d.summary, count: d.count, fingerprint: d.fingerprint, ...(d.silencedBy ? { silencedBy: d.silencedBy } : {}) },
        });
      }
      r.onDetection(d, change);
    },
  };
  return { executor, remediator, notifications, approvals, hooks };
}
