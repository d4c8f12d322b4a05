// A sandbox served over HTTP and an ActionContext pointing at it, for the
// runbook action tests. `manual: true` uses a ManualClock, so nothing in the
// cluster changes unless the test advances time: that is how plan tests
// prove the store saw no write at all.
import { KubeConfig } from '@kubernetes/client-node';
import { ManualClock } from '../../src/common/clock.ts';
import { KubeHttp } from '../../src/kube/http.ts';
import { Sandbox, type SandboxOptions } from '../../src/sandbox/cluster.ts';
import type { Action, ActionContext, ApprovalDecision, Notification } from '../../src/runbooks/types.ts';

export const SERVICE_USER = 'system:serviceaccount:kubemend:remediator';

export interface Fixture {
  sandbox: Sandbox;
  kube: KubeHttp;
  notifications: Notification[];
  logs: string[];
  ctx(over?: Partial<ActionContext>): ActionContext;
  /** Parses `raw` with the action's schema and runs it. */
  run<P>(action: Action<P>, raw: unknown, over?: Partial<ActionContext>): ReturnType<Action<P>['run']>;
  plan<P>(action: Action<P>, raw: unknown, over?: Partial<ActionContext>): ReturnType<Action<P>['plan']>;
  check<P>(action: Action<P>, raw: unknown, over?: Partial<ActionContext>): Promise<unknown>;
  /** API requests other than GET since `mark` (an index into the request log). */
  mutationsSince(mark: number): { method: string; path: string; user?: string; code: number }[];
  mark(): number;
  writes(): string;
  close(): Promise<void>;
}

export async function cluster(opts: SandboxOptions & { manual?: boolean; decide?: () => Promise<ApprovalDecision> } = {}): Promise<Fixture> {
  const clock = opts.manual ? new ManualClock() : undefined;
  const sandbox = new Sandbox({ speed: 50, ...opts, ...(clock ? { clock } : {}) });
  await sandbox.listen();
  const kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  const kube = new KubeHttp(kc);
  const notifications: Notification[] = [];
  const logs: string[] = [];
  const ctx = (over: Partial<ActionContext> = {}): ActionContext => ({
    cluster: 'sandbox',
    kube,
    as: { user: SERVICE_USER },
    dryRun: false,
    clock: sandbox.clock,
    signal: new AbortController().signal,
    target: {},
    runId: 'run-1',
    stepId: 'step-1',
    operationKey: 'run-1/step-1',
    notifier: { send: async (n) => void notifications.push(n) },
    approvals: { request: opts.decide ?? (async () => ({ decision: 'approved', by: 'alice' })) },
    log: (m) => void logs.push(m),
    ...over,
  });
  const log = () => sandbox.api!.requestLog;
  return {
    sandbox,
    kube,
    notifications,
    logs,
    ctx,
    // Every request an action makes here is checked against its access declaration (the deployment's ClusterRole comes from it).
    run: (action, raw, over) => declared(action, (c) => action.run(action.params.parse(raw), c), ctx(over)),
    plan: (action, raw, over) => declared(action, (c) => action.plan(action.params.parse(raw), c), ctx(over)),
    check: (action, raw, over) => declared(action, (c) => action.check!(action.params.parse(raw), c), ctx(over)),
    mark: () => log().length,
    mutationsSince: (mark) => log().slice(mark).filter((e) => e.method !== 'GET'),
    writes: () => JSON.stringify([...sandbox.store.writes].sort()),
    close: () => sandbox.stop(),
  };
}

/** Runs `fn` with the action's declared access in force; a request outside it fails the test even when the action tolerated the failure. */
async function declared<T>(action: Action, fn: (c: ActionContext) => Promise<T>, c: ActionContext): Promise<T> {
  const access = c.access ?? { action: action.name, rules: action.access, violations: [] };
  try {
    return await fn({ ...c, access });
  } finally {
    if (access.violations.length) throw new Error(access.violations.join('\n'));
  }
}

/** Polls a condition in real time (the sandbox runs on its own clock). */
export async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function deployment(name: string, image: string, opts: { namespace?: string; replicas?: number; memoryLimit?: string; labels?: Record<string, string>; progressDeadlineSeconds?: number } = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: opts.namespace ?? 'default', labels: { app: name } },
    spec: {
      replicas: opts.replicas ?? 2,
      ...(opts.progressDeadlineSeconds ? { progressDeadlineSeconds: opts.progressDeadlineSeconds } : {}),
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name, ...(opts.labels ?? {}) } },
        spec: {
          containers: [{ name, image, readinessProbe: { httpGet: { path: '/healthz', port: 8080 } }, resources: { requests: { cpu: '50m', memory: '64Mi' }, ...(opts.memoryLimit ? { limits: { memory: opts.memoryLimit } } : {}) } }],
        },
      },
    },
  };
}

/** A deployment is fully rolled out on its current template. */
export function rolledOut(sandbox: Sandbox, ns: string, name: string): boolean {
  const d = sandbox.store.get('apps/deployments', ns, name);
  const st = d?.status ?? {};
  const want = d?.spec?.replicas ?? 1;
  return Boolean(d) && (st.observedGeneration ?? 0) >= (d!.metadata.generation ?? 0) && st.updatedReplicas === want && st.availableReplicas === want && st.replicas === want;
}

export const IMAGES = {
  'shop/web:1': { readySeconds: 1, logs: ['web 1 listening'] },
  'shop/web:2': { exitAfterSeconds: 1, exitCode: 2, logs: ['web 2 starting'], exitLogs: ['panic: nil map', 'password=hunter2 token: abcdefgh12345'] },
  'shop/web:3': { readySeconds: 1, logs: ['web 3 listening'] },
};
