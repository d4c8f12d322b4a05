// What the rollout watcher reads from the informer caches, as plain
// functions: which revision a workload's current template runs as and which
// pods are of it, who made a change and what it changed, and how long the
// smoke window after it lasts. Nothing here asks the API server.
import { parseDuration } from '../../common/index.ts';
import { imagesOf, isPodReady, templateKey, type KubeObject } from '../../kube/index.ts';
import { diffObjects } from '../diff.ts';

/** The workloads whose rollouts get a smoke window. */
export const ROLLOUT_WORKLOADS: readonly string[] = ['Deployment', 'StatefulSet', 'DaemonSet'];
/** What the watcher reads: the workloads, a Deployment's ReplicaSets, the pods, the namespaces' annotations. */
export const ROLLOUT_KINDS: readonly string[] = [...ROLLOUT_WORKLOADS, 'ReplicaSet', 'Pod', 'Namespace'];
/** On a workload or its namespace: a duration (`5m`, `90s`), or `off` / `0` to have no smoke window. */
export const SMOKE_WINDOW_ANNOTATION = 'kubemend.dev/smoke-window';

const REVISION = 'deployment.kubernetes.io/revision';
const STS_REVISION_LABEL = 'controller-revision-hash';
const DS_GENERATION_LABEL = 'pod-template-generation';
const DS_GENERATION_ANNOTATION = 'deprecated.daemonset.template.generation';

const TERMINATED = ['reason', 'exitCode', 'finishedAt'];
const POD_STATUSES = ['name', 'restartCount', 'state.waiting.reason', ...TERMINATED.map((f) => `state.terminated.${f}`), ...TERMINATED.map((f) => `lastState.terminated.${f}`)];
const WORKLOAD = ['spec.template', 'spec.replicas', 'spec.updateStrategy.type', `metadata.annotations["${SMOKE_WINDOW_ANNOTATION}"]`];

/**
 * What the watcher reads of each kind (the informer caches keep these while
 * a rule has `source: rollout`; kube/projection.ts). A read added below
 * without its path here reads a field the cache may not have.
 */
export const ROLLOUT_FIELDS: Readonly<Record<string, readonly string[]>> = {
  Deployment: [...WORKLOAD, 'spec.paused', 'status.readyReplicas'],
  StatefulSet: [...WORKLOAD, 'status.readyReplicas', 'status.observedGeneration', 'status.updateRevision', 'status.currentRevision'],
  DaemonSet: [...WORKLOAD, `metadata.annotations["${DS_GENERATION_ANNOTATION}"]`, 'status.numberReady', 'status.desiredNumberScheduled'],
  ReplicaSet: ['spec.template', `metadata.annotations["${REVISION}"]`],
  Pod: [
    'status.conditions[].type', 'status.conditions[].status', 'status.conditions[].reason',
    ...POD_STATUSES.map((f) => `status.containerStatuses[].${f}`), ...POD_STATUSES.map((f) => `status.initContainerStatuses[].${f}`),
  ],
  Namespace: [`metadata.annotations["${SMOKE_WINDOW_ANNOTATION}"]`],
};

/** Objects of a kind in one namespace, from the caches. */
export type List = (kind: string, namespace?: string) => KubeObject[];

/** A revision: what selects its pods (`id`) and what people call it (`label`: `kubectl rollout history`'s number). */
export interface Revision {
  id: string;
  label: string;
}

const controller = (o: KubeObject) => o.metadata.ownerReferences?.find((r) => r.controller);
const controlledBy = (o: KubeObject, uid: string | undefined) => uid !== undefined && controller(o)?.uid === uid;

export function templateOf(w: KubeObject): unknown {
  return w.spec?.template ?? {};
}

export function keyOfTemplate(w: KubeObject): string {
  return templateKey(templateOf(w));
}

/** The DaemonSet's template generation: its pods carry it as a label (real clusters and the sandbox alike). */
function dsGeneration(w: KubeObject): string {
  return String(w.metadata.annotations?.[DS_GENERATION_ANNOTATION] ?? w.metadata.generation ?? 1);
}

/** The revision the workload's current template runs as; undefined until its controller has made it. */
export function currentRevision(w: KubeObject, list: List): Revision | undefined {
  const ns = w.metadata.namespace;
  if (w.kind === 'Deployment') {
    const key = keyOfTemplate(w);
    const rs = list('ReplicaSet', ns).find((r) => controlledBy(r, w.metadata.uid) && templateKey(r.spec?.template) === key);
    return rs && { id: rs.metadata.name!, label: rs.metadata.annotations?.[REVISION] ?? rs.metadata.name! };
  }
  if (w.kind === 'StatefulSet') {
    if ((w.status?.observedGeneration ?? 0) < (w.metadata.generation ?? 0) || !w.status?.updateRevision) return undefined;
    return { id: w.status.updateRevision, label: w.status.updateRevision };
  }
  const gen = dsGeneration(w);
  return { id: gen, label: gen };
}

/** A Deployment's revision label now: the controller renumbers a ReplicaSet it rolls back to. */
export function relabel(w: KubeObject, rev: Revision, list: List): Revision {
  if (w.kind !== 'Deployment') return rev;
  const rs = list('ReplicaSet', w.metadata.namespace).find((r) => r.metadata.name === rev.id && controlledBy(r, w.metadata.uid));
  return { id: rev.id, label: rs?.metadata.annotations?.[REVISION] ?? rev.label };
}

/** The revision's pods that are not terminating. */
export function podsOf(w: KubeObject, rev: Revision, list: List): KubeObject[] {
  const pods = list('Pod', w.metadata.namespace).filter((p) => !p.metadata.deletionTimestamp);
  if (w.kind === 'Deployment') return pods.filter((p) => controller(p)?.kind === 'ReplicaSet' && controller(p)?.name === rev.id);
  const label = w.kind === 'StatefulSet' ? STS_REVISION_LABEL : DS_GENERATION_LABEL;
  return pods.filter((p) => controlledBy(p, w.metadata.uid) && p.metadata.labels?.[label] === rev.id);
}

/** The label people know the revision before a change by: read when the change is seen, before the controllers move on. */
export function previousRevisionLabel(w: KubeObject, oldTemplateKey: string, list: List): string | undefined {
  if (w.kind === 'Deployment') {
    const rs = list('ReplicaSet', w.metadata.namespace).find((r) => controlledBy(r, w.metadata.uid) && templateKey(r.spec?.template) === oldTemplateKey);
    return rs?.metadata.annotations?.[REVISION];
  }
  if (w.kind === 'StatefulSet') return w.status?.currentRevision;
  return undefined;
}

/** Ready pods the workload reports: before its controller acts on a change, those of the previous revision. */
export function readyReplicas(w: KubeObject): number {
  return Number((w.kind === 'DaemonSet' ? w.status?.numberReady : w.status?.readyReplicas) ?? 0);
}

/** Pods the workload should run. */
export function desiredReplicas(w: KubeObject): number {
  return Number(w.kind === 'DaemonSet' ? w.status?.desiredNumberScheduled ?? 0 : w.spec?.replicas ?? 1);
}

/** Why the workload's pods do not follow a template change by themselves, if they do not. */
export function noRollout(w: KubeObject): string | undefined {
  if (w.spec?.updateStrategy?.type === 'OnDelete') return `its update strategy is OnDelete: pods take the new template only when someone deletes them`;
  return undefined;
}

export function readyCount(pods: KubeObject[]): number {
  return pods.filter(isPodReady).length;
}

interface ManagedFieldsEntry {
  manager?: unknown;
  operation?: unknown;
  time?: unknown;
  subresource?: unknown;
}

/**
 * The latest writer of the object other than through /status, from
 * metadata.managedFields when the cache keeps them (a projection may keep
 * only manager, operation, time and subresource, which is all this reads).
 */
export function lastWriter(o: KubeObject): { manager: string; time?: number } | undefined {
  const entries = (o.metadata as { managedFields?: unknown }).managedFields;
  if (!Array.isArray(entries)) return undefined;
  let best: { manager: string; time?: number } | undefined;
  let bestTime = -Infinity;
  for (const e of entries as ManagedFieldsEntry[]) {
    if (!e || typeof e.manager !== 'string' || !e.manager || e.subresource === 'status') continue;
    const t = typeof e.time === 'string' ? Date.parse(e.time) : NaN;
    const rank = Number.isFinite(t) ? t : -Infinity;
    // Later in the list wins a tie: the API server appends the newest entry.
    if (rank >= bestTime) {
      bestTime = rank;
      best = { manager: e.manager, ...(Number.isFinite(t) ? { time: t } : {}) };
    }
  }
  return best;
}

const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';
const CONTAINER_IMAGE = /^spec\.(?:initContainers|containers)\[name=([^\]]+)\]\.image$/;

/**
 * What a template change changed, one line: images old → new by container;
 * other fields by path only, since values (env, args) may be credentials.
 */
export function describeTemplateChange(oldTemplate: unknown, newTemplate: unknown): string {
  const parts: string[] = [];
  const paths: string[] = [];
  for (const c of diffObjects(oldTemplate ?? {}, newTemplate ?? {})) {
    const m = CONTAINER_IMAGE.exec(c.path);
    if (m) parts.push(`image ${c.old ?? 'none'} → ${c.new ?? 'none'} (container ${m[1]})`);
    else if (c.path.includes(RESTARTED_AT) || (c.new !== null && typeof c.new === 'object' && RESTARTED_AT in c.new)) parts.push('rollout restart');
    else paths.push(`template.${c.path}`);
  }
  if (paths.length) parts.push(`changed ${paths.slice(0, 5).join(', ')}${paths.length > 5 ? ` and ${paths.length - 5} more` : ''}`);
  return parts.join('; ') || 'template changed';
}

export function imagesOfTemplate(template: unknown): Record<string, string> {
  return imagesOf((template as { spec?: unknown } | undefined)?.spec);
}

/** How long the smoke window lasts, and what said so: the workload's annotation, its namespace's, or the default. */
export function windowSetting(w: KubeObject, namespace: KubeObject | undefined, defaultMs: number): { ms: number; setBy: string; problems: string[] } {
  const problems: string[] = [];
  const levels: [KubeObject | undefined, string][] = [
    [w, `annotation ${SMOKE_WINDOW_ANNOTATION} on ${w.kind!.toLowerCase()}/${w.metadata.namespace}/${w.metadata.name}`],
    [namespace, `annotation ${SMOKE_WINDOW_ANNOTATION} on namespace ${w.metadata.namespace}`],
  ];
  for (const [o, setBy] of levels) {
    const raw = o?.metadata.annotations?.[SMOKE_WINDOW_ANNOTATION];
    if (raw === undefined) continue;
    const ms = parseWindow(raw);
    if (ms === undefined) {
      problems.push(`${setBy}: "${raw}" is neither a duration (5m, 90s) nor off; ignored`);
      continue;
    }
    return { ms, setBy, problems };
  }
  return { ms: defaultMs, setBy: 'the default', problems };
}

/** `off`, `0` → 0; a duration → ms; anything else → undefined. */
export function parseWindow(raw: string): number | undefined {
  const v = raw.trim().toLowerCase();
  if (v === 'off' || v === 'false' || v === 'none') return 0;
  try {
    const ms = parseDuration(v);
    return ms >= 0 ? ms : undefined;
  } catch {
    return undefined;
  }
}
