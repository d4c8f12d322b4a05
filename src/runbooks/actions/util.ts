// Shared plumbing for the runbook actions: Kubernetes calls that carry the
// run's identity and abort signal and fail with classified ActionErrors,
// abortable cluster-time polling, and the "prepare, then apply" shape that
// gives every mutating action a dry-run plan built from the same code path
// as the real run.
import { z } from 'zod';
import { KubeApiError, UnknownKindError, describeAccess, grants, requestInfo, type ApiAccess, type KubeGet, type KubeObject, type RequestOptions } from '../../kube/index.ts';
import { KubemendError, type ActionReason } from '../../common/index.ts';
import { ActionError, type Action, type ActionContext, type ActionResult, type CheckResult, type PlannedCall } from '../types.ts';

/** Written on every object an action mutates, so a re-check after a crash can tell whether the mutation landed. */
export const OPERATION_ANNOTATION = 'kubemend.dev/operation';
export const STRATEGIC = 'application/strategic-merge-patch+json';
export const MERGE = 'application/merge-patch+json';
export const JSON_PATCH = 'application/json-patch+json';
/** How often waits poll the API, in cluster time (what `kubectl rollout status` effectively does through its watch). */
export const POLL_MS = 2000;

export const Name = z.string().min(1);
export const WorkloadKind = z.enum(['Deployment', 'StatefulSet', 'DaemonSet']);
export type WorkloadKind = z.infer<typeof WorkloadKind>;

const STATUS_REASONS: Record<number, ActionReason> = { 400: 'BAD_REQUEST', 401: 'UNAUTHORIZED', 403: 'FORBIDDEN', 404: 'NOT_FOUND', 405: 'NOT_ALLOWED', 409: 'CONFLICT', 410: 'GONE', 422: 'INVALID', 429: 'THROTTLED' };

/** The short name a step fails with when the Kubernetes API answers `status` (0: no answer). */
export function apiReason(status: number): ActionReason {
  return status === 0 ? 'NETWORK' : status >= 500 ? 'SERVER_ERROR' : (STATUS_REASONS[status] ?? 'API_REJECTED');
}

/**
 * Any failure inside a step as an ActionError. A Kubernetes API failure's
 * short name follows its status, so whether it is retried follows the status
 * too (through the registry), never the message.
 */
export function toActionError(err: unknown): ActionError {
  if (err instanceof ActionError) return err;
  if (err instanceof KubeApiError) return new ActionError(err.denied ? 'RBAC_DENIED' : apiReason(err.status), err.message, { cause: err });
  if (err instanceof UnknownKindError) return new ActionError('INVALID', err.message, { cause: err });
  if ((err as Error)?.name === 'AbortError') return new ActionError('ABORTED', 'the step was cancelled or timed out', { cause: err });
  if (err instanceof KubemendError) return new ActionError('ERROR', `${err.code} ${err.message}`, { cause: err });
  return new ActionError('INTERNAL', (err as Error)?.message ?? String(err), { cause: err });
}

const aborted = () => new ActionError('ABORTED', 'the step was cancelled or timed out');

/**
 * Refuses a request the running action did not declare (ActionContext.access),
 * before it is sent; every request passes here just before it goes out, so a
 * declared one is announced (ActionContext.sending).
 */
export function checkDeclared(ctx: ActionContext, method: string, path: string, query: RequestOptions['query'] = {}): void {
  const info = ctx.access && requestInfo(method, path, query);
  if (!ctx.access || !info || grants(ctx.access.rules, info)) {
    ctx.sending?.();
    return;
  }
  const message = `internal: ${ctx.access.action} made a request its access declaration does not list (${describeAccess(info)}: ${method} ${path}); declare it in the action's access so the deployment's ClusterRole grants it`;
  // Kept as well as thrown: an action that tolerates a failed read (a log tail) must not hide it.
  ctx.access.violations.push(message);
  throw new ActionError('INTERNAL', message);
}

/** One Kubernetes request as the run's identity, cancelled with the step. */
export async function kube<T = any>(ctx: ActionContext, method: string, path: string, opts: Omit<RequestOptions, 'signal'> = {}): Promise<T> {
  if (ctx.signal.aborted) throw aborted();
  checkDeclared(ctx, method, path, opts.query);
  try {
    return await ctx.kube.request<T>(method, path, { ...opts, signal: ctx.signal }, ctx.as);
  } catch (err) {
    if (ctx.signal.aborted) throw aborted();
    throw toActionError(err);
  }
}

/** A GET whose answer is text (pod logs): never parsed as JSON, even when a log line is JSON. */
export async function kubeText(ctx: ActionContext, path: string, query: RequestOptions['query'] = {}): Promise<string> {
  checkDeclared(ctx, 'GET', path, query);
  try {
    const res = await ctx.kube.raw('GET', path, { query, signal: ctx.signal }, ctx.as);
    const text = await res.text();
    if (res.status >= 400) {
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // plain-text error body
      }
      throw KubeApiError.fromResponse('GET', path, res.status, body, res.headers.get('retry-after'));
    }
    return text;
  } catch (err) {
    if (ctx.signal.aborted) throw aborted();
    throw toActionError(err);
  }
}

/** The run's reads for the shared kube helpers (readWorkload …): as the run's identity, cancelled with the step, failing with ActionErrors. */
export function reads(ctx: ActionContext): KubeGet {
  return (path, query) => kube(ctx, 'GET', path, { query });
}

/** GET that answers undefined for 404 instead of failing. */
export async function getOptional<T = KubeObject>(ctx: ActionContext, path: string): Promise<T | undefined> {
  try {
    return await kube<T>(ctx, 'GET', path);
  } catch (err) {
    if (err instanceof ActionError && err.reason === 'NOT_FOUND') return undefined;
    throw err;
  }
}

/** Sleeps in cluster time; rejects as soon as the step is aborted. */
export function sleep(ctx: ActionContext, ms: number): Promise<void> {
  if (ctx.signal.aborted) return Promise.reject(aborted());
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      timer.cancel();
      reject(aborted());
    };
    const timer = ctx.clock.setTimeout(() => {
      ctx.signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Calls `probe` every `intervalMs` of cluster time until it returns a value;
 * after `timeoutMs` fails with TIMEOUT carrying the last progress message.
 */
export async function poll<T>(
  ctx: ActionContext,
  opts: { timeoutMs: number; intervalMs?: number; what: string },
  probe: () => Promise<{ done: true; value: T } | { done: false; progress: string }>,
): Promise<T> {
  const deadline = ctx.clock.now() + opts.timeoutMs;
  let last = '';
  for (;;) {
    const r = await probe();
    if (r.done) return r.value;
    if (r.progress !== last) ctx.log(r.progress);
    last = r.progress;
    const left = deadline - ctx.clock.now();
    if (left <= 0) throw new ActionError('TIMEOUT', `timed out after ${Math.round(opts.timeoutMs / 1000)}s waiting for ${opts.what}: ${last}`);
    await sleep(ctx, Math.min(opts.intervalMs ?? POLL_MS, left));
  }
}

/** What a mutating action found out while reading: the calls it would make and the change to apply. */
export interface Prepared {
  calls: PlannedCall[];
  outputs: Record<string, unknown>;
  /** Absent when the object is already as wanted (the run is then a no-op). */
  apply?: () => Promise<Record<string, unknown> | void>;
}

/**
 * Builds plan() and run() from one `prepare`: plan returns its calls, run
 * applies them unless in dry-run, so what `--dry-run` shows is what runs.
 */
export function mutating<P>(def: {
  name: string;
  description: string;
  params: z.ZodType<P>;
  access: readonly ApiAccess[];
  prepare: (p: P, ctx: ActionContext) => Promise<Prepared>;
  check: (p: P, ctx: ActionContext) => Promise<CheckResult>;
}): Action<P> {
  return {
    name: def.name,
    description: def.description,
    params: def.params,
    access: def.access,
    mutates: true,
    plan: async (p, ctx) => (await def.prepare(p, ctx)).calls,
    async run(p, ctx): Promise<ActionResult> {
      const prepared = await def.prepare(p, ctx);
      if (ctx.dryRun || !prepared.apply) return { outputs: { ...prepared.outputs, changed: false }, mutated: false, calls: prepared.calls };
      const extra = await prepared.apply();
      return { outputs: { ...prepared.outputs, ...(extra ?? {}), changed: true }, mutated: true, calls: prepared.calls };
    },
    check: def.check,
  };
}

/** An action that only reads or waits: in dry-run its run() is its plan. */
export function readOnly<P>(def: Omit<Action<P>, 'mutates' | 'check'>): Action<P> {
  return {
    ...def,
    mutates: false,
    async run(p, ctx) {
      if (ctx.dryRun) return { outputs: {}, mutated: false, calls: await def.plan(p, ctx) };
      return def.run(p, ctx);
    },
  };
}

export const operationOf = (obj: KubeObject | undefined) => obj?.metadata?.annotations?.[OPERATION_ANNOTATION];

/** check() for actions that stamp OPERATION_ANNOTATION on the object they change. */
export async function checkStamped(ctx: ActionContext, path: string, outputs?: (obj: KubeObject) => Record<string, unknown>): Promise<CheckResult> {
  const obj = await getOptional(ctx, path);
  if (!obj) return { state: 'unknown', reason: `${path} no longer exists` };
  if (operationOf(obj) === ctx.operationKey) return { state: 'done', outputs: outputs?.(obj) };
  return { state: 'not-done' };
}

const SECRET_HEADERS = /^(authorization|proxy-authorization|cookie|set-cookie|x-api-key|x-auth-token)$/i;

export function redactHeaders(h: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!h) return undefined;
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, SECRET_HEADERS.test(k) ? '[redacted]' : v]));
}

export const objName = (kind: string, namespace: string | undefined, name: string) => `${kind.toLowerCase()} ${namespace ? `${namespace}/` : ''}${name}`;

/** Access shorthand for action declarations: `read('apps', ['deployments'])` is get on them. */
export const allow = (group: string, resources: string[], verbs: string[], when?: string): ApiAccess => ({ group, resources, verbs, ...(when ? { when } : {}) });
