// Fields kube-apiserver always serializes, whatever was written, because in
// its Go types they are structs or strings without omitempty, and
// encoding/json never omits a struct (a zero metav1.Time or MicroTime is
// written as null). Typed clients rely on them: the Python client refuses a
// Node whose nodeInfo lacks bootID, or a StatefulSet status without replicas.
// Stored objects get them on every write, as if they had been through Go's
// decoder and encoder (k8s.io/api 1.32 types). Not every kind is covered:
// those here are the ones typed clients trip on or that every object shows.
import type { K8sObject } from './types.ts';

/** core/v1 NodeSystemInfo: every field is `json:"x"` without omitempty. */
const NODE_INFO_ZERO = {
  machineID: '', systemUUID: '', bootID: '', kernelVersion: '', osImage: '',
  containerRuntimeVersion: '', kubeletVersion: '', kubeProxyVersion: '', operatingSystem: '', architecture: '',
};

/** Status fields that are int32s without omitempty, per kind: 0 until a controller reports. */
const STATUS_COUNTS: Record<string, string[]> = {
  'apps/replicasets': ['replicas'],
  'apps/statefulsets': ['replicas', 'availableReplicas'],
  'apps/daemonsets': ['currentNumberScheduled', 'numberMisscheduled', 'desiredNumberScheduled', 'numberReady'],
  'autoscaling/horizontalpodautoscalers': ['desiredReplicas'],
  'policy/poddisruptionbudgets': ['disruptionsAllowed', 'currentHealthy', 'desiredHealthy', 'expectedPods'],
};

/** Kinds whose spec and status are plain structs: never omitted, `{}` when empty. */
const SPEC_STATUS = new Set([
  'services', 'resourcequotas', 'apps/deployments', 'batch/jobs', ...Object.keys(STATUS_COUNTS),
]);

/** Gives a stored object the zero values its Go struct would serialize with (in place). */
export function fillStructZeros(storage: string, obj: K8sObject): void {
  if (SPEC_STATUS.has(storage)) {
    obj.spec ??= {};
    obj.status ??= {};
    for (const f of STATUS_COUNTS[storage] ?? []) obj.status[f] ??= 0;
  }
  switch (storage) {
    case 'nodes': {
      obj.spec ??= {};
      const status = (obj.status ??= {});
      status.daemonEndpoints = { ...status.daemonEndpoints, kubeletEndpoint: { Port: 0, ...status.daemonEndpoints?.kubeletEndpoint } };
      status.nodeInfo = { ...NODE_INFO_ZERO, ...status.nodeInfo };
      break;
    }
    case 'services':
      obj.status.loadBalancer ??= {};
      break;
    case 'autoscaling/horizontalpodautoscalers':
      // currentMetrics is a slice without omitempty: null until the controller has measured.
      obj.status.currentMetrics ??= null;
      break;
    case 'coordination.k8s.io/leases':
      obj.spec ??= {};
      break;
    case 'events':
      // core/v1 Event: involvedObject and source are structs, the times are metav1.Time/MicroTime,
      // reportingComponent and reportingInstance have no omitempty.
      obj.involvedObject ??= {};
      obj.source ??= {};
      obj.firstTimestamp ??= null;
      obj.lastTimestamp ??= null;
      obj.eventTime ??= null;
      obj.reportingComponent ??= '';
      obj.reportingInstance ??= '';
      break;
  }
}
