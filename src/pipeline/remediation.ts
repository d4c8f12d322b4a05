// Remediation's parts, assembled once: the executor (actions, budgets,
// notifier, approvals), the remediator that turns detections into runs, and
// the sink that feeds it. Chat and detections share this one executor in a
// process, so one set of locks and budgets covers both.
import type { Clock } from '../common/index.ts';
import type { Identity, KubeHttp } from '../kube/index.ts';
import type { RunRecord, Store } from '../store/index.ts';
import type { Detection } from '../rules/index.ts';
import { type Fencing, ACTIONS, ApprovalBook, type BudgetConfig, RunbookExecutor, type LoadedRunbook, AuditedNotifier, CollectingNotifier, Remediator, type Notifier, viewOf, type RunbookView } from '../runbooks/index.ts';
import { RemediationSink } from './remediation-sink.ts';

/** The identity runbook mutations are made as, unless a chat user started the run. */
export const SERVICE_IDENTITY: Identity = { user: 'system:serviceaccount:kubemend:remediator', groups: ['system:serviceaccounts', 'kubemend:remediators'] };

export interface RemediationSettings {
  runbooks: LoadedRunbook[];
  /** Start runbooks for detections whose rule names one (default true); false keeps the executor for chat alone. */
  auto?: boolean;
  dryRun?: boolean;
  budgets?: Partial<BudgetConfig>;
  /** Cool-down before a still-firing detection starts its runbook again (default 60s). */
  retriggerAfterMs?: number;
  identity?: Identity;
  /** Extra notification targets (terminal, chat); every notification is also audited and collected. */
  notifiers?: Notifier[];
  /** Who may approve runbook approval steps for which group (default: nobody, so they time out). */
  approvers?: (group: string, user: string) => boolean;
  escalationChannel?: string;
}

export interface Remediation {
  executor: RunbookExecutor;
  remediator: Remediator;
  notifications: CollectingNotifier;
  approvals: ApprovalBook;
  sink: RemediationSink;
  /** Swap the runbooks new runs use (hot reload). */
  setRunbooks(runbooks: LoadedRunbook[]): void;
}

export function viewsOf(runbooks: LoadedRunbook[]): Map<string, RunbookView> {
  return new Map(runbooks.map((lr) => [lr.runbook.metadata.name, viewOf(lr)]));
}

export function buildRemediation(o: RemediationSettings & {
  store: Store;
  clock: Clock;
  kube: (cluster: string) => KubeHttp | undefined;
  clusterUid?: (cluster: string) => string | undefined;
  durable?: (cluster: string) => Promise<void>;
  log?: (line: string) => void;
  /** Every run's end, after the remediator has seen it (the incident tracker's mitigation). */
  onRunEnd?: (run: RunRecord) => void;
  /** Leader election: only the leader drives runs (runbooks/fencing.ts). */
  fencing?: Fencing;
}): Remediation {
  const notifications = new CollectingNotifier(o.clock);
  const notifier = new AuditedNotifier(o.store.audit, o.clock, notifications, ...(o.notifiers ?? []));
  const approvals = new ApprovalBook(o.clock, o.approvers ?? (() => false));
  let remediator: Remediator | undefined;
  // Records of not acting (skips, offers) are written beside the runs: flush() waits for them too.
  const writes = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    writes.add(p);
    void p.finally(() => writes.delete(p));
  };
  const executor = new RunbookExecutor({
    store: o.store,
    clock: o.clock,
    runbooks: viewsOf(o.runbooks),
    actions: ACTIONS,
    kube: o.kube,
    clusterUid: o.clusterUid,
    durable: o.durable,
    identity: o.identity ?? SERVICE_IDENTITY,
    notifier,
    approvals,
    budgets: o.budgets,
    dryRun: o.dryRun,
    escalationChannel: o.escalationChannel,
    onRunEnd: (run) => {
      remediator?.onRunEnd(run);
      o.onRunEnd?.(run);
    },
    log: o.log,
    fencing: o.fencing,
  });
  // What the remediator decided about a detection instead of starting a run, on record as the rule's decision.
  const ruleRecord = (d: Detection, action: string, data: Record<string, unknown>) => o.store.audit.append({
    time: o.clock.now(),
    actor: { type: 'rule', name: d.rule },
    action,
    target: { cluster: d.cluster, kind: d.subject.kind, namespace: d.subject.namespace, name: d.subject.name },
    outcome: 'info',
    detectionId: d.id,
    data,
  });
  remediator = new Remediator({
    executor,
    clock: o.clock,
    retriggerAfterMs: o.retriggerAfterMs,
    onSkip: (d, runbook, reason) => {
      o.log?.(`not starting ${runbook} for ${d.rule} on ${d.subject.kind}/${d.subject.name}: ${reason}`);
      track(ruleRecord(d, 'runbook.run.skipped', { runbook, reason }).catch((err: unknown) => o.log?.(`error: could not audit a skipped run: ${(err as Error).message}`)));
    },
    // Offered, not started: the offer is on record and in front of people, who decide.
    onOffer: (d, runbook) => {
      const target = `${d.subject.kind.toLowerCase()}/${d.subject.namespace ? `${d.subject.namespace}/` : ''}${d.subject.name}`;
      o.log?.(`offering ${runbook} for ${d.rule} on ${target}: the rule offers it, a person starts it`);
      const audited = ruleRecord(d, 'runbook.run.offered', { runbook, params: d.action?.params ?? {}, reason: `the rule ${d.rule} offers runbook ${runbook} (action.mode: offer): it is not started automatically` });
      const sent = notifier.send({
        channel: o.escalationChannel ?? 'default',
        severity: d.severity,
        kind: 'offer',
        title: `Offered: runbook ${runbook} for ${target}`,
        text: `${d.summary}. The rule ${d.rule} offers runbook ${runbook} and does not start it by itself: a person decides (detection ${d.id}).`,
        detectionId: d.id,
      });
      track(Promise.all([audited, sent]).catch((err: unknown) => o.log?.(`error: could not record the offer of ${runbook}: ${(err as Error).message}`)));
    },
  });
  return {
    executor,
    remediator,
    notifications,
    approvals,
    sink: new RemediationSink(executor, o.auto === false ? undefined : remediator, o.log, async () => {
      while (writes.size) await Promise.all([...writes]);
    }, (n) => {
      // A rule whose action is `notify` (hpa-at-max, pod-evicted): one message per group flush, through the same audited notifiers as runbooks.
      // The engine notifies for every group flush; only rules whose action is `notify` ask for a message (the rest have runbooks or are findings).
      const ds = n.detections.filter((d) => d.action?.notify);
      if (!ds.length) return;
      const worst = ds.some((d) => d.severity === 'critical') ? 'critical' : ds.some((d) => d.severity === 'warning') ? 'warning' : 'info';
      track(notifier.send({
        channel: n.channel,
        severity: worst,
        title: ds.length === 1 ? `${ds[0].rule}: ${ds[0].summary}` : `${ds[0]?.rule}: ${ds.length} detections`,
        text: ds.slice(0, 10).map((d) => `${d.summary} (detection ${d.id})`).join('\n') + (ds.length > 10 ? `\n… and ${ds.length - 10} more` : ''),
        ...(ds[0] ? { detectionId: ds[0].id } : {}),
      }).catch((err: unknown) => o.log?.(`error: could not send the notification of ${ds[0]?.rule}: ${(err as Error).message}`)));
    }),
    setRunbooks: (runbooks) => executor.setRunbooks(viewsOf(runbooks)),
  };
}
