// The concrete fixes a post-mortem proposes for each guardrail finding, as
// YAML a team can review and apply. Values that need a measurement say so in
// a comment rather than pretend to know.
import { stringify } from 'yaml';

/** Every snapshot of an incident proposes the same fixes again: the YAML of each document is made once (its JSON is the key: the same document, the same YAML; the comment is put before it each time). */
const made = new Map<string, string>();
const MADE_MAX = 5000;

function yaml(doc: unknown, comment?: string): string {
  const key = JSON.stringify(doc);
  let text = made.get(key);
  if (text === undefined) {
    text = stringify(doc, { flowCollectionPadding: true }).trimEnd();
    if (made.size >= MADE_MAX) made.clear();
    made.set(key, text);
  }
  return `${comment ? `# ${comment}\n` : ''}${text}`;
}

export function memoryLimitFix(workload: string, containers: string[]): string {
  const [kind, ns, name] = workload.split('/');
  const patch = {
    spec: { template: { spec: { containers: containers.map((c) => ({ name: c, resources: { requests: { memory: '512Mi' }, limits: { memory: '1Gi' } } })) } } },
  };
  return yaml(patch, `kubectl -n ${ns} patch ${kind.toLowerCase()} ${name} --type strategic --patch-file memory.yaml\n# size from the container's p99 working set plus ~25% headroom; limit = request keeps it Guaranteed-like`);
}

export function limitRangeFix(namespace: string): string {
  return yaml({
    apiVersion: 'v1',
    kind: 'LimitRange',
    metadata: { name: 'default-memory', namespace },
    spec: { limits: [{ type: 'Container', defaultRequest: { memory: '256Mi' }, default: { memory: '512Mi' }, max: { memory: '4Gi' } }] },
  }, 'containers created without memory settings get these; pods over max are rejected');
}

export function monitoringPoolFix(namespace: string, app: string): string {
  const node = yaml({
    spec: { taints: [{ key: 'dedicated', value: 'monitoring', effect: 'NoSchedule' }] },
    metadata: { labels: { 'node-role.kubernetes.io/monitoring': '' } },
  }, 'a dedicated node pool: label and taint its nodes (kubectl label/taint node …)');
  const pod = yaml({
    spec: {
      template: {
        spec: {
          priorityClassName: 'system-cluster-critical',
          nodeSelector: { 'node-role.kubernetes.io/monitoring': '' },
          tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'monitoring', effect: 'NoSchedule' }],
        },
      },
    },
  }, `${namespace}/${app}: run only on that pool, ahead of workloads for scheduling and eviction`);
  return `${node}\n---\n${pod}`;
}

export function antiAffinityFix(app: string, workloads: string[]): string {
  return yaml({
    spec: {
      template: {
        spec: {
          affinity: {
            podAntiAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: [{
                topologyKey: 'kubernetes.io/hostname',
                labelSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: workloads.map((w) => w.split('/')[2]).sort() }] },
              }],
            },
          },
        },
      },
    },
  }, `without a dedicated pool: keep ${app} off the nodes running these workloads`);
}

export function pdbFix(workload: string, labels: Record<string, string>, minAvailable: number | string): string {
  const [, ns, name] = workload.split('/');
  return yaml({
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name, namespace: ns },
    spec: { minAvailable, selector: { matchLabels: labels } },
  }, 'drains and evictions through the Eviction API keep this many pods running');
}

export function replicasFix(workload: string): string {
  const [kind, ns, name] = workload.split('/');
  return yaml({ spec: { replicas: 2 } }, `kubectl -n ${ns} patch ${kind.toLowerCase()} ${name} --type merge --patch-file replicas.yaml (then add a PodDisruptionBudget with minAvailable: 1)`);
}
