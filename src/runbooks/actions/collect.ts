// k8s.collect: evidence for humans and facts for the runbook's `when`s.
// Events about the object, its ReplicaSets and pods (as `kubectl describe`
// finds them, by involvedObject field selectors), a status summary per pod,
// the log tail of failing containers (the previous instance for crash
// loops), and for Deployments the revision history with whether the
// previous revision was serving. Only GETs: it runs in dry-run too, so later
// steps' plans can use its outputs. Nothing from specs (env, Secrets) is
// copied. Before any log is read, the redactor learns the secret values the
// pods' specs hold (and, with `readSecrets`, the values of the Secrets they
// mount: secret-values.ts); then every string of the outputs — log tails,
// event and condition messages — goes through it.
import { z } from 'zod';
import { redact, redactDeep } from '../../common/index.ts';
import { type KubeObject, imagesOf, listPath, pathOf, revisionOf, readWorkload, summarizePod, type PodSummary, type WorkloadView } from '../../kube/index.ts';
import type { Action, ActionContext } from '../types.ts';
import { learnLiteralEnv, learnMountedSecrets } from './secret-values.ts';
import { Name, kube, reads, kubeText, objName, allow } from './util.ts';

const Params = z.object({
  kind: z.enum(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'Pod', 'Node']).default('Deployment'),
  namespace: Name.optional(),
  name: Name,
  /** Log lines per failing container (0: no logs). */
  logTail: z.coerce.number().int().min(0).max(1000).default(20),
  /** At most this many failing pods have their logs fetched. */
  maxLogPods: z.coerce.number().int().min(0).default(3),
  maxEvents: z.coerce.number().int().min(1).default(50),
  /**
   * Read the Secrets the pods reference, so their values are masked in the
   * logs too. Needs RBAC `get` on secrets for the run's identity; off by default.
   */
  readSecrets: z.boolean().default(false),
});
export type CollectParams = z.infer<typeof Params>;

interface EventSummary {
  type: string;
  reason: string;
  message: string;
  count: number;
  object: string;
  lastSeen?: string;
}

async function eventsAbout(ctx: ActionContext, namespace: string | undefined, kind: string, names: Set<string>, exact?: string): Promise<EventSummary[]> {
  const selector = [`involvedObject.kind=${kind}`, ...(exact ? [`involvedObject.name=${exact}`] : [])].join(',');
  const list = await kube<{ items: KubeObject[] }>(ctx, 'GET', listPath('Event', namespace), { query: { fieldSelector: selector } });
  return list.items
    .filter((e) => names.has(e.involvedObject?.name))
    .map((e) => ({
      type: e.type,
      reason: e.reason,
      message: e.message ?? '',
      count: e.count ?? 1,
      object: `${kind}/${e.involvedObject?.name}`,
      lastSeen: e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp,
    }));
}

async function logTail(ctx: ActionContext, namespace: string, pod: KubeObject, tail: number) {
  const out: { pod: string; container: string; previous: boolean; lines: string[]; error?: string }[] = [];
  for (const s of pod.status?.containerStatuses ?? []) {
    const failing = (s.restartCount ?? 0) > 0 || s.state?.waiting?.reason || (s.state?.terminated && s.state.terminated.exitCode !== 0);
    if (!failing) continue;
    // Once a container has restarted, the previous instance is one that died, and it stays that until the
    // next restart; the current log may belong to an instance that started since the status was read.
    const previous = (s.restartCount ?? 0) > 0;
    try {
      const text = await kubeText(ctx, pathOf('Pod', namespace, pod.metadata.name!, 'log'), { container: s.name, tailLines: tail, previous: previous || undefined });
      // Whole, before splitting: a private key spans lines.
      const lines = redact(text).split('\n').filter(Boolean);
      out.push({ pod: pod.metadata.name!, container: s.name, previous, lines });
    } catch (err) {
      out.push({ pod: pod.metadata.name!, container: s.name, previous, lines: [], error: (err as Error).message });
    }
  }
  return out;
}

function revisions(view: WorkloadView) {
  const list = view.replicaSets.map((rs) => ({
    revision: revisionOf(rs),
    name: rs.metadata.name,
    images: imagesOf(rs.spec?.template?.spec),
    replicas: rs.spec?.replicas ?? 0,
    readyReplicas: rs.status?.readyReplicas ?? 0,
    availableReplicas: rs.status?.availableReplicas ?? 0,
    current: rs === view.currentRS,
  }));
  const current = list.find((r) => r.current);
  const previous = list.find((r) => !r.current && (!current || r.revision < current.revision));
  return { list, current, previous };
}

export const collect: Action<CollectParams> = {
  name: 'k8s.collect',
  description: 'Gather evidence: events, pod status, log tails of failing containers, revision history.',
  params: Params,
  access: [
    // The object (any collectable kind), its pods and ReplicaSets (revisions), events, failing containers' logs.
    allow('apps', ['daemonsets', 'deployments', 'replicasets', 'statefulsets'], ['get']),
    allow('batch', ['jobs'], ['get']),
    allow('', ['nodes', 'pods', 'pods/log'], ['get']),
    allow('', ['events', 'pods'], ['list']),
    allow('apps', ['replicasets'], ['list']),
    allow('', ['secrets'], ['get'], 'readSecrets'),
  ],
  mutates: false,
  runsInDryRun: true,
  async plan(p) {
    return [{ method: 'GET', path: pathOf(p.kind, p.namespace, p.name), description: `collect events, pod status and logs for ${objName(p.kind, p.namespace, p.name)}` }];
  },
  async run(p, ctx) {
    const view = await readWorkload(reads(ctx), p.kind, p.namespace, p.name);
    const ns = p.kind === 'Node' ? undefined : (p.namespace ?? view.obj.metadata.namespace);
    const pods = view.pods.map(summarizePod);
    const events = [
      ...(await eventsAbout(ctx, ns, p.kind, new Set([p.name]), p.name)),
      ...(view.replicaSets.length ? await eventsAbout(ctx, ns, 'ReplicaSet', new Set(view.replicaSets.map((rs) => rs.metadata.name!))) : []),
      ...(p.kind !== 'Pod' && pods.length ? await eventsAbout(ctx, ns, 'Pod', new Set(pods.map((x) => x.name))) : []),
    ]
      .sort((a, b) => (b.lastSeen ?? '').localeCompare(a.lastSeen ?? ''))
      .slice(0, p.maxEvents);
    const failing = view.pods.filter((pod) => {
      const s = summarizePod(pod);
      return s.restarts > 0 || (s.reasons.length > 0 && s.phase !== 'Succeeded');
    });
    const specs = [view.obj.spec?.template?.spec ?? (p.kind === 'Pod' ? view.obj.spec : undefined), ...view.pods.map((pod) => pod.spec)];
    learnLiteralEnv(specs);
    const secrets = p.readSecrets && ns ? await learnMountedSecrets(ctx, ns, specs) : undefined;
    const logs = [];
    if (p.logTail > 0) for (const pod of failing.slice(0, p.maxLogPods)) logs.push(...(await logTail(ctx, pod.metadata.namespace!, pod, p.logTail)));
    const pending = pods.filter((x) => x.phase === 'Pending' && !x.node);
    const schedulingReasons = [...new Set([
      ...events.filter((e) => e.reason === 'FailedScheduling').map((e) => e.message),
      ...view.pods.filter((pod) => pending.some((x) => x.name === pod.metadata.name))
        .flatMap((pod) => (pod.status?.conditions ?? []).filter((c: any) => c.type === 'PodScheduled' && c.status === 'False' && c.message).map((c: any) => c.message as string)),
    ])];
    const rev = revisions(view);
    const has = (reason: string) => pods.some((x: PodSummary) => x.reasons.includes(reason) || x.lastTermination?.reason === reason);
    const evidence = {
      object: {
        kind: p.kind,
        namespace: ns,
        name: p.name,
        generation: view.obj.metadata.generation,
        status: statusSummary(view.obj),
      },
      pods,
      events,
      logs,
      ...(p.kind === 'Deployment' ? { revisions: rev.list } : {}),
    };
    const outputs: Record<string, unknown> = {
      evidence,
      podCount: pods.length,
      readyPods: pods.filter((x) => x.ready).length,
      failingPods: failing.map((pod) => pod.metadata.name),
      crashLooping: has('CrashLoopBackOff'),
      oomKilled: has('OOMKilled'),
      imagePullFailing: has('ErrImagePull') || has('ImagePullBackOff'),
      pendingPods: pending.map((x) => x.name),
      schedulingReasons,
      images: p.kind === 'Node' ? undefined : imagesOf(view.obj.spec?.template?.spec ?? view.obj.spec),
      ...(secrets ? { secretsRead: secrets.read, secretsUnread: secrets.unread } : {}),
    };
    if (p.kind === 'Deployment') {
      Object.assign(outputs, {
        currentRevision: rev.current?.revision,
        previousRevision: rev.previous?.revision,
        previousImages: rev.previous?.images,
        // From the ReplicaSet's live status: a revision already scaled to zero reads as not healthy.
        previousRevisionHealthy: Boolean(rev.previous && (rev.previous.readyReplicas > 0 || rev.previous.availableReplicas > 0)),
      });
    }
    ctx.log(`collected ${events.length} events, ${pods.length} pods, ${logs.length} log tails for ${objName(p.kind, ns, p.name)}`);
    return { outputs: redactDeep(outputs), mutated: false, calls: [] };
  },
};

function statusSummary(o: KubeObject): Record<string, unknown> {
  const st = o.status ?? {};
  const picked: Record<string, unknown> = {};
  for (const k of ['replicas', 'readyReplicas', 'availableReplicas', 'updatedReplicas', 'unavailableReplicas', 'observedGeneration', 'phase', 'desiredNumberScheduled', 'numberReady', 'active', 'succeeded', 'failed']) {
    if (st[k] !== undefined) picked[k] = st[k];
  }
  picked.conditions = (st.conditions ?? []).map((c: any) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message }));
  return picked;
}
