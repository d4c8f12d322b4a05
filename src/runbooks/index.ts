// Remediation: runbook loading and checking, templates, the executor with its
// budgets, locks and approvals, notifiers and the action catalogue
// (runbooks/actions/).
export type { Action, ActionContext, Notifier, Notification as RunbookNotification } from './types.ts';
export { loadRunbooks, checkRuleRunbooks, type LoadedRunbook } from './loader.ts';
export { closest } from './graph.ts';
export { RunbookExecutor, type TriggerResult, type Preemption } from './executor.ts';
export { ApprovalBook, type PendingApproval } from './approvals.ts';
export { describeRefusal, Budgets, PAUSED, RESUMED } from './budgets.ts';
export { LineNotifier } from './notifiers.ts';
export { ACTIONS } from './actions/index.ts';
export { runbookAccess } from './access.ts';
export type { BudgetConfig } from './budgets.ts';
export { Remediator } from './remediation.ts';
export { AuditedNotifier, CollectingNotifier } from './notifiers.ts';
export { viewOf } from './view.ts';
export type { Fencing } from './fencing.ts';
export type { RunbookView } from './view.ts';
