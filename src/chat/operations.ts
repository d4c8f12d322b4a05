// What a chat command does to the cluster: the runbook that carries it out
// (src/chat/runbooks/chat-*.yaml, run by the RunbookExecutor like any other
// runbook, so locks, budgets, durable steps and audit all apply) and a
// preview made from the action's own dry-run plan, read as the chat user.
// The confirmation a user sees is therefore what the action computed, not a
// paraphrase of the command: "scale deployment shop/web from 3 to 5".
import { fileURLToPath } from 'node:url';
import type { AuditTarget } from '../audit/index.ts';
import type { Clock } from '../common/index.ts';
import type { Identity, KubeHttp } from '../kube/index.ts';
import { ACTIONS, loadRunbooks, type LoadedRunbook, type Action, type ActionContext } from '../runbooks/index.ts';
import type { ActionCommand } from './grammar.ts';

export const CHAT_RUNBOOK_DIR = fileURLToPath(new URL('./runbooks/', import.meta.url));

let loaded: LoadedRunbook[] | undefined;

/** The chat runbooks, loaded and checked once; add them to the executor's runbooks. */
export function chatRunbooks(): LoadedRunbook[] {
  loaded ??= loadRunbooks(CHAT_RUNBOOK_DIR, { actions: ACTIONS });
  return loaded;
}

export interface Operation {
  runbook: string;
  params: Record<string, unknown>;
  target: AuditTarget;
  /** The mutating action and its parameters, for the preview. */
  action: Action;
  actionParams: Record<string, unknown>;
}

/** Who approves a promote's override (the chat approver groups) and for how long they are asked. */
export interface OverrideApproval {
  groups: string[];
  timeoutMs: number;
}

/** The longest an override waits for its approval: the promote step's own timeout (chat-promote.yaml) leaves room for the change. */
export const MAX_OVERRIDE_WAIT_MS = 40 * 60_000;

export function operationFor(cmd: ActionCommand, cluster: string, override?: OverrideApproval): Operation {
  const target: AuditTarget = { cluster, kind: cmd.kind, namespace: cmd.namespace, name: cmd.name };
  const base = { cluster, namespace: cmd.namespace, name: cmd.name };
  const workload = { kind: cmd.kind, namespace: cmd.namespace, name: cmd.name };
  switch (cmd.action) {
    case 'restart':
      return { runbook: 'chat-restart', params: { ...base, kind: cmd.kind }, target, action: ACTIONS.get('k8s.rolloutRestart')!, actionParams: workload };
    case 'rollback':
      return { runbook: 'chat-rollback', params: { ...base, toRevision: cmd.toRevision ?? 0 }, target, action: ACTIONS.get('k8s.rollback')!, actionParams: { namespace: cmd.namespace, name: cmd.name, ...(cmd.toRevision ? { toRevision: cmd.toRevision } : {}) } };
    case 'promote':
      return {
        runbook: 'chat-promote',
        params: {
          ...base, kind: cmd.kind, fromNamespace: cmd.fromNamespace ?? '', fromCluster: cmd.fromCluster ?? '',
          ...(cmd.force ? { override: true, approvers: approversOf(override), approvalTimeout: Math.min(override?.timeoutMs ?? MAX_OVERRIDE_WAIT_MS, MAX_OVERRIDE_WAIT_MS) } : {}),
        },
        target,
        action: ACTIONS.get('k8s.promote')!,
        actionParams: {
          ...workload, ...(cmd.fromNamespace ? { fromNamespace: cmd.fromNamespace } : {}), ...(cmd.fromCluster ? { fromCluster: cmd.fromCluster } : {}),
          ...(cmd.force ? { override: true, approvers: approversOf(override) } : {}),
        },
      };
    case 'scale':
      return { runbook: 'chat-scale', params: { ...base, kind: cmd.kind, replicas: cmd.replicas }, target, action: ACTIONS.get('k8s.scale')!, actionParams: { ...workload, replicas: cmd.replicas } };
    case 'status':
      throw new Error('internal: status is read-only: it has no operation');
  }
}

function approversOf(o: OverrideApproval | undefined): string {
  if (!o?.groups.length) throw new Error('internal: a forced promote needs the approver groups');
  return o.groups.join(',');
}

export interface ReadContextOptions {
  cluster: string;
  kube: KubeHttp;
  kubeFor: (cluster: string) => KubeHttp | undefined;
  as: Identity;
  clock: Clock;
  target: AuditTarget;
}

/** An ActionContext that can only read (dry run, no notifier or approvals): for previews and `status`. */
export function readContext(o: ReadContextOptions): ActionContext {
  return {
    cluster: o.cluster,
    kube: o.kube,
    kubeFor: o.kubeFor,
    as: o.as,
    dryRun: true,
    clock: o.clock,
    signal: AbortSignal.timeout(30_000),
    target: o.target,
    runId: 'chat-preview',
    stepId: 'preview',
    operationKey: 'chat-preview',
    notifier: { send: async () => {} },
    approvals: { request: async () => ({ decision: 'timeout' }) },
    log: () => {},
  };
}

export interface Preview {
  /** What will happen, e.g. "scale deployment shop/web from 3 to 5 on cluster prod". */
  text: string;
  /** False when the cluster already is as asked (nothing to do). */
  changes: boolean;
  /** Verdicts the action reached by reading (promote: the source's health), shown before the confirmation. */
  checks?: string[];
}

export async function preview(op: Operation, ctx: ActionContext, cmd: ActionCommand): Promise<Preview> {
  const calls = await op.action.plan(op.action.params.parse(op.actionParams), ctx);
  const where = ` on cluster ${ctx.cluster}`;
  const mutations = calls.filter((c) => c.method !== 'GET' && c.method !== 'CHECK');
  const checks = calls.filter((c) => c.method === 'CHECK').map((c) => c.description);
  if (!mutations.length) return { text: `${nothingToDo(cmd)}${where}`, changes: false };
  // The restart stamp in the plan is the preview's time, not the run's: showing it would promise a time that will not be.
  const text = mutations.map((c) => c.description.replace(/ \(restartedAt [^)]*\)$/, ' (a rolling restart of every pod)')).join('; ');
  return { text: `${text}${where}, then wait for the rollout`, changes: true, ...(checks.length ? { checks } : {}) };
}

function nothingToDo(cmd: ActionCommand): string {
  const what = `${cmd.kind.toLowerCase()} ${cmd.namespace}/${cmd.name}`;
  if (cmd.action === 'scale') return `${what} already has ${cmd.replicas} replicas: nothing to do`;
  if (cmd.action === 'promote') return `${what} already runs the source's images: nothing to do`;
  if (cmd.action === 'rollback') return `${what} already runs the revision asked for: nothing to do`;
  return `${what}: nothing to do`;
}
