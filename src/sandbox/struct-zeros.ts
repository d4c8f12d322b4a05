// Fields kube-apiserver always serializes, whatever was written, because in
// its Go types they are structs or strings without omitempty, and
// encoding/json never omits a struct (a zero metav1.Time or MicroTime is
// written as null). Typed clients rely on them: the Python client refuses a
// Node whose nodeInfo lacks bootID. Stored objects get them on every write, as
// if they had been through Go's decoder and encoder (k8s.io/api 1.32 types).
import type { K8sObject } from './types.ts';

/** core/v1 NodeSystemInfo: every field is `json:"x"` without omitempty. */
const NODE_INFO_ZERO = {
  machineID: '', systemUUID: '', bootID: '', kernelVersion: '', osImage: '',
  containerRuntimeVersion: '', kubeletVersion: '', kubeProxyVersion: '', operatingSystem: '', architecture: '',
};

/** Gives a stored object the zero values its Go struct would serialize with (in place). */
export function fillStructZeros(storage: string, obj: K8sObject): void {
  switch (storage) {
    case 'nodes': {
      obj.spec ??= {};
      const status = (obj.status ??= {});
      status.daemonEndpoints = { ...status.daemonEndpoints, kubeletEndpoint: { Port: 0, ...status.daemonEndpoints?.kubeletEndpoint } };
      status.nodeInfo = { ...NODE_INFO_ZERO, ...status.nodeInfo };
      break;
    }
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
