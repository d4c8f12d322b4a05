// The change feed: what people and tools changed in the cluster, in time
// order, from the old/new pairs the informers already hand the engine. It
// reads only signals, so it costs the API server nothing. Status writes,
// heartbeats and bookkeeping are not changes; a ConfigMap's values and a
// container's env are never copied (only which keys changed), and the rest
// is masked by the process's redactor, as evidence is.
import { redact, redactDeep } from '../common/index.ts';
import { diffObjects, type Change, type Signal } from '../rules/index.ts';
import type { KubeObject } from '../kube/index.ts';
import { authorOf, expectedManagers } from './authors.ts';
import type { KubeAuditTrail } from './kube-audit.ts';
import type { ChangeCategory, ChangeEntry } from './types.ts';

/** The kinds whose changes the feed records (what the informers must watch for a complete feed). */
export const FEED_KINDS: readonly string[] = ['Deployment', 'StatefulSet', 'DaemonSet', 'ConfigMap', 'HorizontalPodAutoscaler', 'Node', 'LimitRange', 'ResourceQuota', 'PodDisruptionBudget'];

const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);
const GUARDRAIL_KINDS = new Set(['LimitRange', 'ResourceQuota', 'PodDisruptionBudget']);
/** Taints the node lifecycle controller sets and clears by itself: state, not someone's change. */
const CONTROLLER_TAINT = /^node\.(kubernetes\.io|cloudprovider\.kubernetes\.io)\//;
const CHANGE_CAUSE = 'kubernetes.io/change-cause';
/** ConfigMaps Kubernetes itself keeps in every namespace (root-ca-cert-publisher): bookkeeping, not anyone's change. */
const CLUSTER_CONFIGMAPS = new Set(['kube-root-ca.crt']);

export interface ChangeFeedOptions {
  /** Entries kept (oldest dropped first). Default 2000. */
  capacity?: number;
  /**
   * A create whose creationTimestamp is older than this is the informer's
   * initial list finding an existing object, not a creation. Default 60s.
   */
  createdWithinMs?: number;
  /** The GitOps/CI field managers (`*` globs); a change by any other is flagged outside the pipeline. Default DEFAULT_EXPECTED_MANAGERS. */
  expectedManagers?: readonly string[];
  /** The API server's audit events: the user behind a change, and the author of a deletion. */
  audit?: KubeAuditTrail;
}

type Described = Pick<ChangeEntry, 'category' | 'summary' | 'changes'>;

export class ChangeFeed {
  private readonly capacity: number;
  private readonly createdWithinMs: number;
  private readonly list: ChangeEntry[] = [];
  private readonly expected: (manager: string) => boolean;
  private readonly audit?: KubeAuditTrail;
  private seq = 0;

  constructor(opts: ChangeFeedOptions = {}) {
    this.capacity = opts.capacity ?? 2000;
    this.createdWithinMs = opts.createdWithinMs ?? 60_000;
    this.expected = expectedManagers(opts.expectedManagers);
    this.audit = opts.audit;
  }

  /** Feed every signal here; returns the entry when the signal was a meaningful change. */
  observe(signal: Signal): ChangeEntry | undefined {
    if (signal.source !== 'object' || !signal.object || !signal.operation) return undefined;
    const o = signal.object;
    const kind = o.kind ?? '';
    if (!FEED_KINDS.includes(kind)) return undefined;
    if (kind === 'ConfigMap' && CLUSTER_CONFIGMAPS.has(o.metadata.name ?? '')) return undefined;
    let d: Described | undefined;
    if (signal.operation === 'create') {
      const created = Date.parse(o.metadata.creationTimestamp ?? '');
      if (Number.isFinite(created) && signal.time - created > this.createdWithinMs) return undefined;
      d = describeCreate(o);
    } else if (signal.operation === 'delete') {
      d = { category: kind === 'Node' || WORKLOADS.has(kind) ? 'lifecycle' : GUARDRAIL_KINDS.has(kind) ? 'guardrail' : 'config', summary: 'deleted', changes: [] };
    } else if (signal.oldObject) {
      d = describeUpdate(kind, signal.oldObject, o);
    }
    if (!d) return undefined;
    // A spec's args, commands or annotations can carry a credential; entries reach the console and incidents' stored timelines.
    d = { ...d, summary: redact(d.summary), changes: redactDeep(d.changes) };
    const cause = o.metadata.annotations?.[CHANGE_CAUSE];
    const author = signal.operation === 'delete' ? undefined : authorOf(signal.oldObject, o);
    const entry: ChangeEntry = {
      seq: ++this.seq,
      time: signal.time,
      cluster: signal.cluster,
      object: { kind, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}), name: o.metadata.name ?? '' },
      operation: signal.operation,
      ...d,
      ...(cause && cause !== signal.oldObject?.metadata.annotations?.[CHANGE_CAUSE] ? { by: cause } : {}),
      ...(author ? { author, ...(this.expected(author.manager) ? {} : { outsidePipeline: true }) } : {}),
    };
    this.withUser(entry);
    this.list.push(entry);
    if (this.list.length > this.capacity) this.list.splice(0, this.list.length - this.capacity);
    return entry;
  }

  /** Entries in time order, optionally in [since, until] and for one cluster. */
  entries(q: { since?: number; until?: number; cluster?: string } = {}): ChangeEntry[] {
    const out = this.list.filter((e) => (q.since === undefined || e.time >= q.since) && (q.until === undefined || e.time <= q.until) && (!q.cluster || e.cluster === q.cluster));
    // The API server sends its audit events in batches, often after the watch delivered the change: ask again until one matches.
    for (const e of out) this.withUser(e);
    return out;
  }

  /** Adds the user (and, for a deletion or a writer that does not stamp managedFields, the author) from the audit trail. */
  private withUser(e: ChangeEntry): void {
    if (!this.audit || e.author?.user) return;
    const hit = this.audit.match({ cluster: e.cluster, kind: e.object.kind, namespace: e.object.namespace, name: e.object.name, operation: e.operation, time: e.time, writtenAt: e.author?.time, manager: e.author?.manager });
    if (!hit) return;
    const who = { user: hit.user, ...(hit.impersonated ? { impersonated: hit.impersonated } : {}) };
    e.author = e.author ? { ...e.author, ...who } : { manager: hit.manager ?? 'unknown', time: hit.time, ...(hit.subresource ? { subresource: hit.subresource } : {}), ...who, from: 'audit' };
    // An event that names no manager says who, not with which tool: nothing to flag.
    if (this.expected(e.author.manager) || e.author.manager === 'unknown') delete e.outsidePipeline;
    else e.outsidePipeline = true;
  }

  get size(): number {
    return this.list.length;
  }
}

function describeCreate(o: KubeObject): Described {
  const kind = o.kind ?? '';
  if (WORKLOADS.has(kind)) {
    const cs: any[] = o.spec?.template?.spec?.containers ?? [];
    const images = cs.map((c) => c.image).join(', ');
    const noLimit = cs.filter((c) => !c.resources?.limits?.memory).map((c) => c.name);
    const replicas = kind === 'DaemonSet' ? '' : `, replicas ${o.spec?.replicas ?? 1}`;
    return { category: 'lifecycle', summary: `created (image ${images}${replicas}${noLimit.length ? `; no memory limit on ${noLimit.join(', ')}` : ''})`, changes: [] };
  }
  if (kind === 'ConfigMap') return { category: 'config', summary: `created with keys ${keysOf(o).join(', ') || '(none)'}`, changes: [] };
  if (kind === 'HorizontalPodAutoscaler') return { category: 'scaling', summary: `created (min ${o.spec?.minReplicas ?? 1}, max ${o.spec?.maxReplicas})`, changes: [] };
  if (kind === 'Node') return { category: 'lifecycle', summary: 'joined the cluster', changes: [] };
  return { category: 'guardrail', summary: 'created', changes: [] };
}

function describeUpdate(kind: string, old: KubeObject, cur: KubeObject): Described | undefined {
  if (kind === 'ConfigMap') return describeConfigMap(old, cur);
  if (kind === 'Node') return describeNode(old, cur);
  const diff = diffObjects(old.spec ?? {}, cur.spec ?? {}).map((c) => ({ ...c, path: `spec.${c.path}` }));
  if (!diff.length) return undefined;
  if (kind === 'HorizontalPodAutoscaler') return { category: 'scaling', summary: diff.map(short).join('; '), changes: diff.map(plain) };
  if (GUARDRAIL_KINDS.has(kind)) return { category: 'guardrail', summary: diff.map(short).join('; '), changes: diff.map(plain) };
  return describeWorkload(diff);
}

const CONTAINER = /^spec\.template\.spec\.(?:initContainers|containers)\[name=([^\]]+)\]\.(.+)$/;
const RANK: ChangeCategory[] = ['image', 'resources', 'config', 'replicas', 'template'];

function describeWorkload(diff: Change[]): Described {
  const parts: { category: ChangeCategory; text: string }[] = [];
  const changes: ChangeEntry['changes'] = [];
  const envTouched = new Set<string>();
  for (const c of diff) {
    const m = CONTAINER.exec(c.path);
    if (m && m[2] === 'image') parts.push({ category: 'image', text: `image ${c.old ?? 'none'} → ${c.new ?? 'none'} (container ${m[1]})` });
    else if (m && m[2].startsWith('resources')) parts.push({ category: 'resources', text: `${m[2].replace(/^resources\.?/, '') || 'resources'} ${fmt(c.old)} → ${fmt(c.new)} (container ${m[1]})` });
    else if (m && /^env(From)?\b/.test(m[2])) {
      // Values of env vars may be credentials: only say which container's env changed.
      if (!envTouched.has(m[1])) parts.push({ category: 'config', text: `env changed (container ${m[1]})` });
      envTouched.add(m[1]);
      changes.push({ path: c.path });
      continue;
    } else if (c.path === 'spec.replicas') parts.push({ category: 'replicas', text: `replicas ${fmt(c.old)} → ${fmt(c.new)}` });
    else if (c.path.includes('kubectl.kubernetes.io/restartedAt')) parts.push({ category: 'template', text: 'rollout restart' });
    else parts.push({ category: 'template', text: short(c) });
    changes.push(plain(c));
  }
  const category = RANK.find((r) => parts.some((p) => p.category === r)) ?? 'template';
  return { category, summary: parts.map((p) => p.text).join('; '), changes };
}

function describeConfigMap(old: KubeObject, cur: KubeObject): Described | undefined {
  const before = new Map(keyValues(old));
  const after = new Map(keyValues(cur));
  const added = [...after.keys()].filter((k) => !before.has(k));
  const removed = [...before.keys()].filter((k) => !after.has(k));
  const changed = [...after.keys()].filter((k) => before.has(k) && before.get(k) !== after.get(k));
  if (!added.length && !removed.length && !changed.length) return undefined;
  const text = [changed.length && `changed ${changed.join(', ')}`, added.length && `added ${added.join(', ')}`, removed.length && `removed ${removed.join(', ')}`].filter(Boolean).join('; ');
  return { category: 'config', summary: `data keys ${text}`, changes: [...changed, ...added, ...removed].map((k) => ({ path: `data.${k}` })) };
}

function describeNode(old: KubeObject, cur: KubeObject): Described | undefined {
  const parts: string[] = [];
  const changes: ChangeEntry['changes'] = [];
  if (Boolean(old.spec?.unschedulable) !== Boolean(cur.spec?.unschedulable)) {
    parts.push(cur.spec?.unschedulable ? 'cordoned' : 'uncordoned');
    changes.push({ path: 'spec.unschedulable', old: Boolean(old.spec?.unschedulable), new: Boolean(cur.spec?.unschedulable) });
  }
  const taints = (o: KubeObject) => new Set(((o.spec?.taints ?? []) as { key: string; effect: string; value?: string }[]).filter((t) => !CONTROLLER_TAINT.test(t.key)).map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`));
  const [a, b] = [taints(old), taints(cur)];
  const added = [...b].filter((t) => !a.has(t));
  const removed = [...a].filter((t) => !b.has(t));
  for (const t of added) parts.push(`taint ${t} added`);
  for (const t of removed) parts.push(`taint ${t} removed`);
  if (added.length || removed.length) changes.push({ path: 'spec.taints', old: [...a], new: [...b] });
  for (const c of diffObjects(old.metadata.labels ?? {}, cur.metadata.labels ?? {})) {
    parts.push(`label ${c.path} ${fmt(c.old)} → ${fmt(c.new)}`);
    changes.push({ path: `metadata.labels.${c.path}`, old: c.old, new: c.new });
  }
  return parts.length ? { category: 'schedulability', summary: parts.join('; '), changes } : undefined;
}

function keyValues(o: KubeObject): [string, string][] {
  const out: [string, string][] = [];
  for (const field of ['data', 'binaryData'] as const) for (const [k, v] of Object.entries((o[field] ?? {}) as Record<string, string>)) out.push([k, v]);
  return out;
}

function keysOf(o: KubeObject): string[] {
  return keyValues(o).map(([k]) => k);
}

function fmt(v: unknown): string {
  if (v === undefined || v === null) return 'none';
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
}

function short(c: Change): string {
  return `${c.path} ${fmt(c.old)} → ${fmt(c.new)}`;
}

function plain(c: Change): { path: string; old?: unknown; new?: unknown } {
  return { path: c.path, ...(c.old !== undefined ? { old: c.old } : {}), ...(c.new !== undefined ? { new: c.new } : {}) };
}
