// job.run: run a Job from a template and wait for it to finish. The Job's
// name derives from the operation key, so a retry or a resumed run adopts
// the Job it already created instead of starting a second one.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { Duration, redact } from '../../common/index.ts';
import { type KubeObject, listPath, pathOf } from '../../kube/index.ts';
import { ActionError, type Action, type ActionContext, type CheckResult, type PlannedCall } from '../types.ts';
import { learnLiteralEnv } from './secret-values.ts';
import { Name, OPERATION_ANNOTATION, getOptional, kube, kubeText, poll, allow } from './util.ts';

const Template = z.union([
  z.object({ configMap: z.object({ name: Name, key: Name.default('job.yaml') }) }),
  z.object({ job: z.object({ name: Name }) }),
  z.record(z.string(), z.unknown()).refine((t) => typeof t.spec === 'object' || typeof t.template === 'object', { message: 'expected a Job manifest (with spec), a Job spec (with template), {configMap: {name, key}} or {job: {name}}' }),
]);

const Params = z.object({
  namespace: Name,
  template: Template,
  /** Prefix of the Job's name (the rest is a hash of the operation key). */
  name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).max(40).default('kubemend'),
  timeout: Duration.prefault('10m'),
  interval: Duration.prefault('2s'),
  logTail: z.coerce.number().int().min(0).max(1000).default(20),
});
export type JobRunParams = z.infer<typeof Params>;

/** Labels the Job controller adds, which must not be copied into a new Job. */
const CONTROLLER_LABELS = ['controller-uid', 'batch.kubernetes.io/controller-uid', 'job-name', 'batch.kubernetes.io/job-name'];

export const jobName = (prefix: string, operationKey: string) => `${prefix}-${createHash('sha256').update(operationKey).digest('hex').slice(0, 10)}`;

function cleanSpec(spec: any): any {
  const s = structuredClone(spec ?? {});
  delete s.selector;
  delete s.manualSelector;
  delete s.suspend;
  for (const l of CONTROLLER_LABELS) delete s.template?.metadata?.labels?.[l];
  return s;
}

/** The JobSpec to run, read from wherever the template points. */
async function resolveSpec(p: JobRunParams, ctx: ActionContext): Promise<{ spec: any; labels: Record<string, string> }> {
  const t = p.template as any;
  if (t.configMap) {
    const cm = await kube<KubeObject>(ctx, 'GET', pathOf('ConfigMap', p.namespace, t.configMap.name));
    const text = cm.data?.[t.configMap.key];
    if (typeof text !== 'string') throw new ActionError('NOT_FOUND', `configmap ${p.namespace}/${t.configMap.name} has no key ${t.configMap.key}`);
    const doc = parseYaml(text);
    return doc?.kind === 'Job' ? { spec: cleanSpec(doc.spec), labels: doc.metadata?.labels ?? {} } : { spec: cleanSpec(doc), labels: {} };
  }
  if (t.job) {
    const job = await kube<KubeObject>(ctx, 'GET', pathOf('Job', p.namespace, t.job.name));
    const labels = Object.fromEntries(Object.entries(job.metadata.labels ?? {}).filter(([k]) => !CONTROLLER_LABELS.includes(k)));
    return { spec: cleanSpec(job.spec), labels };
  }
  return t.spec ? { spec: cleanSpec(t.spec), labels: t.metadata?.labels ?? {} } : { spec: cleanSpec(t), labels: {} };
}

const condition = (job: KubeObject, type: string) => (job.status?.conditions ?? []).find((c: any) => c.type === type && c.status === 'True');

async function tailOf(ctx: ActionContext, p: JobRunParams, name: string): Promise<string[]> {
  if (!p.logTail) return [];
  const pods = await kube<{ items: KubeObject[] }>(ctx, 'GET', listPath('Pod', p.namespace), { query: { labelSelector: `batch.kubernetes.io/job-name=${name}` } });
  const last = pods.items.sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '')).at(-1);
  if (!last?.spec?.nodeName) return [];
  const container = last.spec.containers?.[0]?.name;
  const text = await kubeText(ctx, pathOf('Pod', p.namespace, last.metadata.name!, 'log'), { container, tailLines: p.logTail }).catch(() => '');
  learnLiteralEnv([last.spec]);
  // Whole, before splitting: a private key spans lines.
  return redact(text).split('\n').filter(Boolean);
}

async function planJob(p: JobRunParams, ctx: ActionContext): Promise<PlannedCall[]> {
  const name = jobName(p.name, ctx.operationKey);
  const { spec } = await resolveSpec(p, ctx);
  return [
    { method: 'POST', path: listPath('Job', p.namespace), body: { metadata: { name, namespace: p.namespace }, spec }, description: `create job ${p.namespace}/${name}` },
    { method: 'WAIT', path: pathOf('Job', p.namespace, name), description: `wait up to ${Math.round(p.timeout / 1000)}s for job ${p.namespace}/${name} to complete` },
  ];
}

export const jobRun: Action<JobRunParams> = {
  name: 'job.run',
  description: 'Create a Job from a template (inline, a ConfigMap or an existing Job) and wait for it to complete.',
  params: Params,
  access: [
    allow('', ['configmaps', 'pods/log'], ['get']),
    allow('batch', ['jobs'], ['create', 'get']),
    allow('', ['pods'], ['list']),
  ],
  mutates: true,
  plan: planJob,
  async run(p, ctx) {
    const calls = await planJob(p, ctx);
    if (ctx.dryRun) return { outputs: { job: jobName(p.name, ctx.operationKey) }, mutated: false, calls };
    const name = jobName(p.name, ctx.operationKey);
    const path = pathOf('Job', p.namespace, name);
    let created = false;
    const existing = await getOptional(ctx, path);
    if (existing) {
      if (existing.metadata.annotations?.[OPERATION_ANNOTATION] !== ctx.operationKey) throw new ActionError('NAME_TAKEN', `job ${p.namespace}/${name} exists and was not created by this step`);
      ctx.log(`adopting job ${p.namespace}/${name} created by an earlier attempt`);
    } else {
      const { spec, labels } = await resolveSpec(p, ctx);
      const body = {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: {
          name,
          namespace: p.namespace,
          labels: { ...labels, 'app.kubernetes.io/managed-by': 'kubemend' },
          annotations: { [OPERATION_ANNOTATION]: ctx.operationKey, 'kubemend.dev/run': ctx.runId, 'kubemend.dev/step': ctx.stepId },
        },
        spec,
      };
      await kube(ctx, 'POST', listPath('Job', p.namespace), { body });
      created = true;
    }
    const started = ctx.clock.now();
    const job = await poll(ctx, { timeoutMs: p.timeout, intervalMs: p.interval, what: `job ${p.namespace}/${name}` }, async () => {
      const j = await kube<KubeObject>(ctx, 'GET', path);
      if (condition(j, 'Complete') || condition(j, 'Failed')) return { done: true, value: j };
      return { done: false, progress: `job ${p.namespace}/${name}: ${j.status?.active ?? 0} active, ${j.status?.succeeded ?? 0} succeeded, ${j.status?.failed ?? 0} failed` };
    });
    const logs = await tailOf(ctx, p, name);
    const failed = condition(job, 'Failed');
    if (failed) throw new ActionError('JOB_FAILED', `job ${p.namespace}/${name} failed: ${failed.reason ?? ''} ${failed.message ?? ''}`.trim() + (logs.length ? `; last log lines: ${logs.slice(-3).join(' | ')}` : ''));
    return {
      outputs: { job: name, succeeded: job.status?.succeeded ?? 0, failed: job.status?.failed ?? 0, completionTime: job.status?.completionTime, waitedMs: ctx.clock.now() - started, logs },
      mutated: created,
      calls,
    };
  },
  async check(p, ctx): Promise<CheckResult> {
    const name = jobName(p.name, ctx.operationKey);
    const job = await getOptional(ctx, pathOf('Job', p.namespace, name));
    // A Job still running or failed is "not done": run() adopts it rather than creating another.
    if (job && condition(job, 'Complete')) return { state: 'done', outputs: { job: name, succeeded: job.status?.succeeded ?? 0 } };
    return { state: 'not-done' };
  },
};
