// The metrics.k8s.io shapes metrics-server serves (NodeMetrics, PodMetrics:
// `kubectl top`) and their memory figures in bytes. Usage is the working set
// over the sample's window, which is what the kubelet's eviction and the
// kernel's OOM killer are measured against.
import { tryQuantity } from '../common/index.ts';
import type { KubeObject } from './types.ts';

export const METRICS_API = '/apis/metrics.k8s.io/v1beta1';

export interface Usage {
  cpu?: string;
  memory?: string;
}

/** One sample as the poller keeps it: the API's fields, plus the sample before it when there was one. */
export interface NodeMetrics extends KubeObject {
  timestamp?: string;
  window?: string;
  usage?: Usage;
  /** Added by kubemend's poller: the previous sample of the same node, so a rule can see growth. */
  previous?: { timestamp?: string; window?: string; usage?: Usage };
}

export interface PodMetrics extends KubeObject {
  timestamp?: string;
  window?: string;
  containers?: { name: string; usage?: Usage }[];
}

/** Memory in bytes of a usage map; undefined when absent or malformed. */
export function memoryBytes(usage: Usage | undefined): number | undefined {
  return tryQuantity(usage?.memory);
}

/** Each container's memory in bytes (containers without a readable figure left out). */
export function containerMemory(pm: PodMetrics | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const c of pm?.containers ?? []) {
    const b = memoryBytes(c.usage);
    if (b !== undefined) out.set(c.name, b);
  }
  return out;
}

/** The pod's memory in bytes (sum over its containers), undefined without any figure. */
export function podMemoryBytes(pm: PodMetrics | undefined): number | undefined {
  const per = containerMemory(pm);
  return per.size ? [...per.values()].reduce((a, b) => a + b, 0) : undefined;
}
