// The parts of core/v1 defaulting (pkg/apis/core/v1/defaults.go and its
// generated SetObjectDefaults_*) that reach inside a pod spec's lists — what a
// real cluster stores, and what the validators expect to find: a volume
// without a source is an emptyDir, modes are 0644, ports are TCP, probes have
// their timings, httpGet a path and scheme, downward API selectors an
// apiVersion; resource quantities are rounded up to milli units and written in
// canonical form. The same for pods and pod templates (Deployments, Jobs …).
import { canonicalQuantity, parseQuantityExact, roundUp } from './quantity-canonical.ts';

const MODE_0644 = 0o644;
const isObj = (v: unknown): v is Record<string, any> => !!v && typeof v === 'object' && !Array.isArray(v);
const each = (v: unknown): any[] => (Array.isArray(v) ? v.filter(isObj) : []);

/** The volume sources SetDefaults_Volume looks for before making a volume an emptyDir. */
const SOURCES = ['hostPath', 'emptyDir', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'secret', 'nfs', 'iscsi', 'glusterfs',
  'persistentVolumeClaim', 'rbd', 'flexVolume', 'cinder', 'cephfs', 'flocker', 'downwardAPI', 'fc', 'azureFile', 'configMap',
  'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'projected', 'portworxVolume', 'scaleIO', 'storageos', 'csi', 'ephemeral', 'image'];

/** SetObjectDefaults_* for the lists of a pod spec. */
export function defaultPodSpecLists(spec: any): void {
  for (const v of each(spec.volumes)) defaultVolume(v);
  for (const c of [...each(spec.initContainers), ...each(spec.containers)]) defaultContainer(c);
  if (isObj(spec.overhead)) spec.overhead = resourceList(spec.overhead);
}

/** SetDefaults_Pod's part for host-network pods (pods only, not templates): a hostPort is the containerPort. */
export function defaultHostNetworkPorts(spec: any): void {
  if (spec?.hostNetwork !== true) return;
  for (const c of [...each(spec.initContainers), ...each(spec.containers)]) {
    for (const p of each(c.ports)) if (!p.hostPort) p.hostPort = p.containerPort;
  }
}

function defaultVolume(v: any): void {
  if (!SOURCES.some((k) => v[k] !== undefined && v[k] !== null)) v.emptyDir = {};
  if (isObj(v.hostPath)) v.hostPath.type ??= '';
  if (isObj(v.secret)) v.secret.defaultMode ??= MODE_0644;
  if (isObj(v.configMap)) v.configMap.defaultMode ??= MODE_0644;
  if (isObj(v.downwardAPI)) {
    v.downwardAPI.defaultMode ??= MODE_0644;
    for (const f of each(v.downwardAPI.items)) defaultFieldRef(f.fieldRef);
  }
  if (isObj(v.projected)) {
    v.projected.defaultMode ??= MODE_0644;
    for (const s of each(v.projected.sources)) {
      for (const f of each(s.downwardAPI?.items)) defaultFieldRef(f.fieldRef);
      if (isObj(s.serviceAccountToken)) s.serviceAccountToken.expirationSeconds ??= 3600;
    }
  }
  if (isObj(v.emptyDir) && v.emptyDir.sizeLimit !== undefined) {
    const q = parseQuantityExact(v.emptyDir.sizeLimit);
    if (q) v.emptyDir.sizeLimit = canonicalQuantity(q);
  }
}

function defaultContainer(c: any): void {
  for (const p of each(c.ports)) p.protocol ||= 'TCP';
  for (const e of each(c.env)) defaultFieldRef(e.valueFrom?.fieldRef);
  if (isObj(c.resources)) {
    if (isObj(c.resources.limits)) c.resources.limits = resourceList(c.resources.limits);
    if (isObj(c.resources.requests)) c.resources.requests = resourceList(c.resources.requests);
  }
  for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
    if (!isObj(probe)) continue;
    // SetDefaults_Probe: zero is "not set".
    if (!probe.timeoutSeconds) probe.timeoutSeconds = 1;
    if (!probe.periodSeconds) probe.periodSeconds = 10;
    if (!probe.successThreshold) probe.successThreshold = 1;
    if (!probe.failureThreshold) probe.failureThreshold = 3;
    defaultHttpGet(probe.httpGet);
    if (isObj(probe.grpc)) probe.grpc.service ??= '';
  }
  for (const hook of [c.lifecycle?.postStart, c.lifecycle?.preStop]) if (isObj(hook)) defaultHttpGet(hook.httpGet);
}

function defaultHttpGet(h: unknown): void {
  if (!isObj(h)) return;
  h.path ||= '/';
  h.scheme ||= 'HTTP';
}

function defaultFieldRef(f: unknown): void {
  if (isObj(f)) f.apiVersion ||= 'v1';
}

/** SetDefaults_ResourceList (round up to milli units) and the canonical form the API server writes back. */
function resourceList(list: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(list)) {
    const q = parseQuantityExact(v);
    out[k] = q ? canonicalQuantity(roundUp(q, -3)) : v;
  }
  return out;
}
