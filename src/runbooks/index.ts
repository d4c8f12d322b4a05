// Remediation: runbook loading and checking, templates, the executor with its
// budgets, locks and approvals, notifiers and the action catalogue
// (runbooks/actions/).
export type { Action, ActionContext, Notifier } from './types.ts';
export { loadRunbooks, checkRuleRunbooks, type LoadedRunbook } from './loader.ts';
export { closest } from './graph.ts';
export type { RunbookExecutor } from './executor.ts';
export type { ApprovalBook, PendingApproval } from './approvals.ts';
export { describeRefusal, Budgets, PAUSED, RESUMED } from './budgets.ts';
export { LineNotifier } from './notifiers.ts';
export { ACTIONS } from './actions/index.ts';
