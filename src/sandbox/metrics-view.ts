// What metrics-server would answer for the sandbox's pods and nodes
// (metrics.k8s.io/v1beta1 PodMetrics and NodeMetrics), read from the usage the
// kubelet model reports. `timestamp` is a kubelet's last periodic report and
// `window` the time since the one before; a pod or node needs two reports
// before it has metrics, as metrics-server needs two scrapes. A hung kubelet
// reports nothing, so its pods and node keep the usage and timestamp of its
// last report.
import { k8sTime, parseQuantity } from '../common/index.ts';
import { goDuration } from './controllers/kubelet-runtime.ts';
import { binarySI, systemReservedMemory } from './controllers/resources-fit.ts';
import type { ObjectStore } from './store.ts';
import type { K8sObject } from './types.ts';
import type { ContainerUsage, Reports, UsageBook } from './usage.ts';

/** The node's own daemons (kubelet, runtime, OS): metrics-server's node usage is the root cgroup, not the pods' sum. */
const SYSTEM_CPU_CORES = 0.1;
const PAGE = 4096;

export interface MetricsUsage {
  cpu: string;
  memory: string;
}

export interface PodMetrics {
  metadata: { name: string; namespace: string; creationTimestamp: string; labels?: Record<string, string> };
  timestamp: string;
  window: string;
  containers: { name: string; usage: MetricsUsage }[];
}

export interface NodeMetrics {
  metadata: { name: string; creationTimestamp: string; labels?: Record<string, string> };
  timestamp: string;
  window: string;
  usage: MetricsUsage;
}

/** resource.Quantity's canonical DecimalSI form of a nanocore count: "48734912n", "50m", "2". */
export function nanocores(n: number): string {
  let v = Math.round(n);
  if (v === 0) return '0';
  const suffixes = ['n', 'u', 'm', '', 'k', 'M', 'G'];
  let i = 0;
  while (i < suffixes.length - 1 && v % 1000 === 0) {
    v /= 1000;
    i++;
  }
  return `${v}${suffixes[i]}`;
}

/** FNV-1a: the same sample always shows the same noise. */
function noise(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) / 2 ** 32;
}

/**
 * Measured values are never round: CPU within ±3% of the model's constant,
 * memory in whole pages up to 252Ki above the model's working set. Keyed by
 * the sample, so a stale sample keeps its values.
 */
function measured(u: ContainerUsage, key: string): MetricsUsage {
  const cpu = u.cpuCores * 1e9 * (0.97 + 0.06 * noise(`${key}/cpu`));
  const memory = Math.floor(u.memoryBytes / PAGE) * PAGE + Math.floor(noise(`${key}/memory`) * 64) * PAGE;
  return { cpu: nanocores(cpu), memory: binarySI(memory) };
}

/** Usage summed over containers, as metrics-server's Table shows a pod. */
export function sumUsage(us: MetricsUsage[]): MetricsUsage {
  let cpu = 0;
  let memory = 0;
  for (const u of us) {
    cpu += Math.round(parseQuantity(u.cpu) * 1e9);
    memory += parseQuantity(u.memory);
  }
  return { cpu: nanocores(cpu), memory: binarySI(memory) };
}

const ready = (r: Reports | undefined): r is Required<Reports> => r?.previous !== undefined;

function meta(o: K8sObject, now: number): { creationTimestamp: string; labels?: Record<string, string> } {
  const labels = o.metadata.labels;
  return { creationTimestamp: k8sTime(now), ...(labels && Object.keys(labels).length ? { labels: { ...labels } } : {}) };
}

/** Containers in the pod's own order: sidecars (restartable init containers) first. */
function containerOrder(pod: K8sObject): string[] {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c: { name: string }) => c.name);
}

export function podMetricsOf(usage: UsageBook, pod: K8sObject, now: number): PodMetrics | undefined {
  const ns = pod.metadata.namespace!;
  const name = pod.metadata.name!;
  const u = usage.pod(ns, name);
  if (!u || u.node !== pod.spec?.nodeName || u.containers.size === 0 || !ready(u.reports)) return undefined;
  const { at, previous } = u.reports;
  const containers = containerOrder(pod)
    .filter((c) => u.containers.has(c))
    .map((c) => ({ name: c, usage: measured(u.containers.get(c)!, `${ns}/${name}/${c}@${at}`) }));
  return {
    metadata: { name, namespace: ns, ...meta(pod, now) },
    timestamp: k8sTime(at),
    window: goDuration(at - previous),
    containers,
  };
}

export function nodeMetricsOf(usage: UsageBook, node: K8sObject, now: number): NodeMetrics | undefined {
  const name = node.metadata.name!;
  const r = usage.nodeReportsOf(name);
  if (!ready(r)) return undefined;
  const pods = usage.node(name);
  const total = { cpuCores: pods.cpuCores + SYSTEM_CPU_CORES, memoryBytes: pods.memoryBytes + systemReservedMemory(node) };
  return {
    metadata: { name, ...meta(node, now) },
    timestamp: k8sTime(r.at),
    window: goDuration(r.at - r.previous),
    usage: measured(total, `${name}@${r.at}`),
  };
}

/** Pods with metrics, sorted by namespace and name as metrics-server sorts them. */
export function listPodMetrics(store: ObjectStore, usage: UsageBook, namespace: string | undefined, keep: (pod: K8sObject) => boolean, now: number): PodMetrics[] {
  const out: PodMetrics[] = [];
  for (const p of store.list('pods', namespace).items) {
    if (!keep(p)) continue;
    const m = podMetricsOf(usage, p, now);
    if (m) out.push(m);
  }
  return out.sort((a, b) => (a.metadata.namespace === b.metadata.namespace ? cmp(a.metadata.name, b.metadata.name) : cmp(a.metadata.namespace, b.metadata.namespace)));
}

export function listNodeMetrics(store: ObjectStore, usage: UsageBook, keep: (node: K8sObject) => boolean, now: number): NodeMetrics[] {
  const out: NodeMetrics[] = [];
  for (const n of store.list('nodes').items) {
    if (!keep(n)) continue;
    const m = nodeMetricsOf(usage, n, now);
    if (m) out.push(m);
  }
  return out.sort((a, b) => cmp(a.metadata.name, b.metadata.name));
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
