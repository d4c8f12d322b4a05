// A witness in the cluster: a ConfigMap holding the newest signed heads, which
// the database's users cannot touch — only kubemend's service account may
// update it (RBAC on that one object) and auditors read it. Written through
// the Kubernetes API with optimistic concurrency, so two kubemend processes
// merge their heads instead of overwriting each other's.
import { Errors, KubemendError } from '../common/index.ts';
import { KubeApiError, type KubeHttp } from '../kube/index.ts';
import { FileWitness, headLine, parseHeadLines, type AuditWitness, type SignedHead } from './witness.ts';

export const WITNESS_KEY = 'heads.jsonl';
/** Heads kept: enough history to catch a rewritten recent past, far below the 1 MiB object limit (~230 bytes a head). */
const KEEP = 64;
/** One API write per this long at most, unless the feed says otherwise: the truncation a ConfigMap cannot see is that window's appends. */
export const CONFIGMAP_INTERVAL_MS = 10_000;
/** Each conflict means another writer's update landed: with a handful of kubemend processes one of these rounds is ours. */
const ATTEMPTS = 10;

interface ConfigMap {
  metadata?: { resourceVersion?: string };
  data?: Record<string, string>;
}

export class ConfigMapWitness implements AuditWitness {
  readonly name: string;
  readonly minIntervalMs: number;
  private readonly http: KubeHttp;
  private readonly namespace: string;
  private readonly cmName: string;
  private readonly keep: number;

  constructor(http: KubeHttp, namespace: string, name: string, opts: { keep?: number; minIntervalMs?: number } = {}) {
    this.http = http;
    this.namespace = namespace;
    this.cmName = name;
    this.keep = opts.keep ?? KEEP;
    this.minIntervalMs = opts.minIntervalMs ?? CONFIGMAP_INTERVAL_MS;
    this.name = `configmap ${namespace}/${name}`;
  }

  async record(head: SignedHead): Promise<void> {
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      const cm = await this.read();
      const heads = cm ? this.parse(cm) : [];
      if (heads.some((h) => h.seq === head.seq && h.hash === head.hash)) return;
      const merged = [...heads, head].sort((a, b) => a.seq - b.seq).slice(-this.keep);
      const body = {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: this.cmName, namespace: this.namespace, labels: { 'app.kubernetes.io/managed-by': 'kubemend' }, ...(cm ? { resourceVersion: cm.metadata?.resourceVersion } : {}) },
        data: { [WITNESS_KEY]: merged.map((h) => `${headLine(h)}\n`).join('') },
      };
      try {
        if (cm) await this.http.request('PUT', this.path(), { body });
        else await this.http.request('POST', `/api/v1/namespaces/${this.namespace}/configmaps`, { body });
        return;
      } catch (err) {
        // Another writer got there first (a stale resourceVersion, or it created the object): merge again.
        if (err instanceof KubeApiError && err.status === 409) continue;
        throw this.failed('write', err);
      }
    }
    throw new KubemendError(Errors.AUDIT_WITNESS, `cannot write the audit witness ${this.name}: it kept changing under ${ATTEMPTS} attempts`);
  }

  async heads(): Promise<SignedHead[]> {
    const cm = await this.read();
    if (!cm) throw new KubemendError(Errors.AUDIT_WITNESS, `the audit witness ${this.name} does not exist`);
    return this.parse(cm);
  }

  private async read(): Promise<ConfigMap | undefined> {
    try {
      return await this.http.request<ConfigMap>('GET', this.path());
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return undefined;
      throw this.failed('read', err);
    }
  }

  private parse(cm: ConfigMap): SignedHead[] {
    return parseHeadLines(cm.data?.[WITNESS_KEY] ?? '', `${this.name} key ${WITNESS_KEY}`);
  }

  private path(): string {
    return `/api/v1/namespaces/${this.namespace}/configmaps/${this.cmName}`;
  }

  private failed(what: string, err: unknown): KubemendError {
    return new KubemendError(Errors.AUDIT_WITNESS, `cannot ${what} the audit witness ${this.name}: ${(err as Error).message}`, { cause: err });
  }
}

export type WitnessSpec = { kind: 'file'; path: string } | { kind: 'configmap'; namespace: string; name: string };

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** `configmap:NAMESPACE/NAME`, `file:PATH` or a plain PATH. */
export function parseWitnessSpec(spec: string): WitnessSpec {
  const cm = /^configmap:(.*)$/i.exec(spec);
  if (cm) {
    const [ns, name, extra] = cm[1].split('/');
    if (extra !== undefined || !ns || !name || !DNS_LABEL.test(ns) || !DNS_NAME.test(name)) {
      throw new KubemendError(Errors.AUDIT_WITNESS, `"${spec}" is not a ConfigMap witness; write configmap:NAMESPACE/NAME, e.g. configmap:kubemend-audit/audit-witness`);
    }
    return { kind: 'configmap', namespace: ns, name };
  }
  const path = spec.replace(/^file:/i, '');
  if (!path) throw new KubemendError(Errors.AUDIT_WITNESS, 'an audit witness needs a file path (file:PATH) or configmap:NAMESPACE/NAME');
  return { kind: 'file', path };
}

/** The witness a spec names; a ConfigMap needs the API of the cluster that holds it. */
export function openWitness(spec: string | WitnessSpec, kube?: () => KubeHttp): AuditWitness {
  const s = typeof spec === 'string' ? parseWitnessSpec(spec) : spec;
  if (s.kind === 'file') return new FileWitness(s.path);
  if (!kube) throw new KubemendError(Errors.AUDIT_WITNESS, `the audit witness configmap ${s.namespace}/${s.name} needs a cluster: pass a kubeconfig (and context) that reaches it`);
  return new ConfigMapWitness(kube(), s.namespace, s.name);
}
