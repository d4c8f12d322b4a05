// `status`: what an on-call engineer looks at first — replicas, images,
// rollout conditions, unhealthy pods and recent warning events — read as the
// chat user (impersonated, so they see only what their own RBAC allows).
// Deliberately never from the pod spec's env, volumes or anything else that
// can hold a Secret's value; event messages still pass the redactor.
import type { Clock } from '../common/index.ts';
import { imagesOf, kubeGet, listPath, readWorkload, summarizePod, type Identity, type KubeGet, type KubeHttp, type KubeObject } from '../kube/index.ts';

/** Where and as whom to read: the chat user's identity on one cluster. */
export interface StatusContext {
  cluster: string;
  kube: KubeHttp;
  as?: Identity;
  clock: Clock;
  signal?: AbortSignal;
}

export interface StatusOptions {
  /** Warning events newer than this are shown (default 1 hour). */
  eventWindowMs?: number;
  maxEvents?: number;
  maxPods?: number;
}

export async function workloadStatus(ctx: StatusContext, target: { kind: string; namespace: string; name: string }, o: StatusOptions = {}): Promise<string> {
  const get = kubeGet(ctx.kube, { as: ctx.as, signal: ctx.signal });
  const view = await readWorkload(get, target.kind, target.namespace, target.name);
  const obj = view.obj;
  const st = obj.status ?? {};
  const lines: string[] = [];
  const what = `${target.kind.toLowerCase()} ${target.namespace}/${target.name} on cluster ${ctx.cluster}`;
  if (target.kind === 'DaemonSet') {
    lines.push(`${what}: ${st.numberReady ?? 0}/${st.desiredNumberScheduled ?? 0} ready, ${st.updatedNumberScheduled ?? 0} up-to-date, ${st.numberAvailable ?? 0} available`);
  } else {
    const want = obj.spec?.replicas ?? 1;
    lines.push(`${what}: ${st.readyReplicas ?? 0}/${want} ready, ${st.updatedReplicas ?? 0} up-to-date, ${st.availableReplicas ?? 0} available${obj.spec?.paused ? ' (rollout paused)' : ''}`);
  }
  const revision = obj.metadata.annotations?.['deployment.kubernetes.io/revision'];
  if (revision) lines.push(`revision ${revision}${view.replicaSets.length > 1 ? ` (history: ${view.replicaSets.map((rs) => rs.metadata.annotations?.['deployment.kubernetes.io/revision']).filter(Boolean).join(', ')})` : ''}`);
  const images = imagesOf(obj.spec?.template?.spec);
  lines.push(`images: ${Object.entries(images).map(([c, i]) => `${c}=${i}`).join(', ') || 'none'}`);
  const conditions = (st.conditions ?? []) as { type: string; status: string; reason?: string; message?: string }[];
  if (conditions.length) lines.push(`conditions: ${conditions.map((c) => `${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ''}`).join(', ')}`);
  const pods = view.pods.map(summarizePod);
  const bad = pods.filter((p) => !p.ready || p.restarts > 0 || p.reasons.length);
  lines.push(`pods: ${pods.length}, ${pods.filter((p) => p.ready).length} ready${bad.length ? `; not healthy:` : ''}`);
  for (const p of bad.slice(0, o.maxPods ?? 5)) {
    lines.push(`  ${p.name} ${p.phase ?? 'Unknown'}${p.ready ? ' ready' : ' not ready'}, restarts ${p.restarts}${p.reasons.length ? `, ${p.reasons.join(', ')}` : ''}${p.lastTermination?.reason ? ` (last exit: ${p.lastTermination.reason}${p.lastTermination.exitCode !== undefined ? ` code ${p.lastTermination.exitCode}` : ''})` : ''}`);
  }
  if (bad.length > (o.maxPods ?? 5)) lines.push(`  … and ${bad.length - (o.maxPods ?? 5)} more`);
  const names = new Set([target.name, ...view.replicaSets.map((rs) => rs.metadata.name!), ...view.pods.map((p) => p.metadata.name!)]);
  const events = await warnings(get, target.namespace, names, ctx.clock.now() - (o.eventWindowMs ?? 3_600_000));
  if (events.length) {
    lines.push(`recent warning events:`);
    for (const e of events.slice(0, o.maxEvents ?? 5)) lines.push(`  ${e.count}× ${e.reason} ${e.object}: ${truncate(e.message, 160)}`);
  } else {
    lines.push('no warning events in the last hour');
  }
  return lines.join('\n');
}

interface Warning {
  reason: string;
  object: string;
  message: string;
  count: number;
  last: number;
}

async function warnings(get: KubeGet, namespace: string, names: Set<string>, since: number): Promise<Warning[]> {
  const list = await get<{ items: KubeObject[] }>(listPath('Event', namespace), { fieldSelector: 'type=Warning' });
  const grouped = new Map<string, Warning>();
  for (const e of list.items) {
    if (!names.has(e.involvedObject?.name)) continue;
    const last = Date.parse(e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp ?? '') || 0;
    if (last < since) continue;
    const object = `${String(e.involvedObject?.kind ?? '').toLowerCase()}/${e.involvedObject?.name}`;
    const key = `${e.reason}\u0000${object}`;
    const prev = grouped.get(key);
    const count = e.count ?? e.series?.count ?? 1;
    if (!prev) grouped.set(key, { reason: e.reason, object, message: e.message ?? '', count, last });
    else {
      prev.count += count;
      if (last >= prev.last) Object.assign(prev, { message: e.message ?? prev.message, last });
    }
  }
  return [...grouped.values()].sort((a, b) => b.last - a.last);
}

function truncate(s: string, n: number): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > n ? `${one.slice(0, n - 1)}…` : one;
}
