// Decodes Kubernetes protobuf request bodies (application/vnd.kubernetes.protobuf).
// kubectl 1.32's typed commands (`create deployment|job|configmap|secret|…`,
// `drain`) send them, so the sandbox must read them. The envelope is the
// magic "k8s\0" and a runtime.Unknown wrapping the object's bytes; objects are
// decoded with hand-written schemas (field numbers from k8s.io/api's
// generated.proto) covering the kinds and fields those clients set. Unknown
// fields are skipped. Go marshals every non-pointer field, so zero values of
// non-pointer scalars are dropped, as JSON's omitempty would.
import { k8sMicroTime, k8sTime } from '../../common/index.ts';
import { ApiError } from '../status.ts';
import type { K8sObject } from '../types.ts';

type Scalar = 'string' | 'bytes' | 'int' | 'bool' | 'time' | 'microtime' | 'quantity' | 'intstr' | 'strings';

interface FieldDef {
  name: string;
  type: Scalar | 'map' | (() => Schema);
  mapValue?: Scalar;
  repeated?: boolean;
  /** A pointer in Go: present means set, even when zero. */
  ptr?: boolean;
  /** Embedded struct whose fields appear inline in JSON (Probe.ProbeHandler). */
  inline?: boolean;
}
type Schema = Map<number, FieldDef>;

/** `name`, `name:int?` (pointer), `cmd:string[]`, `labels:map`, `limits:map<quantity>`, `extra:map<strings>` (map of ExtraValue); `[spec, Msg]`, `[items[], Msg]`, `[handler~, Msg]`. */
function msg(fields: Record<number, string | [string, () => Schema]>): Schema {
  const out: Schema = new Map();
  for (const [n, spec] of Object.entries(fields)) {
    let name: string;
    let type: FieldDef['type'];
    let mapValue: Scalar | undefined;
    if (Array.isArray(spec)) {
      name = spec[0];
      type = spec[1];
    } else {
      const [nm, t = 'string'] = spec.split(':');
      name = nm + (t.endsWith('[]') ? '[]' : '') + (t.endsWith('?') ? '?' : '');
      const base = t.replace(/\[\]$|\?$/, '');
      const mm = base.match(/^map(?:<(\w+)>)?$/);
      type = mm ? 'map' : (base as Scalar);
      if (mm) mapValue = (mm[1] as Scalar) ?? 'string';
    }
    const def: FieldDef = { name: name.replace(/\[\]|\?|~/g, ''), type };
    if (mapValue) def.mapValue = mapValue;
    if (name.includes('[]')) def.repeated = true;
    if (name.includes('?')) def.ptr = true;
    if (name.includes('~')) def.inline = true;
    out.set(Number(n), def);
  }
  return out;
}

const Time = msg({ 1: 'seconds:int', 2: 'nanos:int' });
const Quantity = msg({ 1: 'string' });
const IntOrString = msg({ 1: 'type:int', 2: 'intVal:int', 3: 'strVal' });
const TypeMeta = msg({ 1: 'apiVersion', 2: 'kind' });
const ExtraValue = msg({ 1: 'items:string[]' });
const Unknown = msg({ 1: ['typeMeta', () => TypeMeta], 2: 'raw:bytes', 3: 'contentEncoding', 4: 'contentType' });

const OwnerReference = msg({ 1: 'kind', 3: 'name', 4: 'uid', 5: 'apiVersion', 6: 'controller:bool?', 7: 'blockOwnerDeletion:bool?' });
const ObjectMeta = msg({
  1: 'name', 2: 'generateName', 3: 'namespace', 5: 'uid', 6: 'resourceVersion', 7: 'generation:int',
  8: 'creationTimestamp:time', 9: 'deletionTimestamp:time', 10: 'deletionGracePeriodSeconds:int?',
  11: 'labels:map', 12: 'annotations:map', 13: ['ownerReferences[]', () => OwnerReference], 14: 'finalizers:string[]',
});
const LabelSelectorRequirement = msg({ 1: 'key', 2: 'operator', 3: 'values:string[]' });
const LabelSelector = msg({ 1: 'matchLabels:map', 2: ['matchExpressions[]', () => LabelSelectorRequirement] });
const Preconditions = msg({ 1: 'uid?', 2: 'resourceVersion?' });
const DeleteOptions = msg({ 1: 'gracePeriodSeconds:int?', 2: ['preconditions', () => Preconditions], 3: 'orphanDependents:bool?', 4: 'propagationPolicy?', 5: 'dryRun:string[]' });

const LocalObjectReference = msg({ 1: 'name' });
const KeySelector = msg({ 1: ['ref~', () => LocalObjectReference], 2: 'key', 3: 'optional:bool?' });
const EnvVarSource = msg({
  1: ['fieldRef', () => msg({ 1: 'apiVersion', 2: 'fieldPath' })],
  2: ['resourceFieldRef', () => msg({ 1: 'containerName', 2: 'resource', 3: ['divisor', () => Quantity] })],
  3: ['configMapKeyRef', () => KeySelector],
  4: ['secretKeyRef', () => KeySelector],
});
const EnvVar = msg({ 1: 'name', 2: 'value', 3: ['valueFrom', () => EnvVarSource] });
const EnvFromSource = msg({ 1: 'prefix', 2: ['configMapRef', () => msg({ 1: ['ref~', () => LocalObjectReference], 2: 'optional:bool?' })], 3: ['secretRef', () => msg({ 1: ['ref~', () => LocalObjectReference], 2: 'optional:bool?' })] });
const ContainerPort = msg({ 1: 'name', 2: 'hostPort:int', 3: 'containerPort:int', 4: 'protocol', 5: 'hostIP' });
const ResourceRequirements = msg({ 1: 'limits:map<quantity>', 2: 'requests:map<quantity>' });
const VolumeMount = msg({ 1: 'name', 2: 'readOnly:bool', 3: 'mountPath', 4: 'subPath', 5: 'mountPropagation?', 6: 'subPathExpr' });
const ProbeHandler = msg({
  1: ['exec', () => msg({ 1: 'command:string[]' })],
  2: ['httpGet', () => msg({ 1: 'path', 2: 'port:intstr', 3: 'host', 4: 'scheme', 5: ['httpHeaders[]', () => msg({ 1: 'name', 2: 'value' })] })],
  3: ['tcpSocket', () => msg({ 1: 'port:intstr', 2: 'host' })],
  4: ['grpc', () => msg({ 1: 'port:int', 2: 'service?' })],
});
const Probe = msg({ 1: ['handler~', () => ProbeHandler], 2: 'initialDelaySeconds:int', 3: 'timeoutSeconds:int', 4: 'periodSeconds:int', 5: 'successThreshold:int', 6: 'failureThreshold:int', 7: 'terminationGracePeriodSeconds:int?' });
const Container = msg({
  1: 'name', 2: 'image', 3: 'command:string[]', 4: 'args:string[]', 5: 'workingDir', 6: ['ports[]', () => ContainerPort],
  7: ['env[]', () => EnvVar], 8: ['resources', () => ResourceRequirements], 9: ['volumeMounts[]', () => VolumeMount],
  10: ['livenessProbe', () => Probe], 11: ['readinessProbe', () => Probe], 13: 'terminationMessagePath', 14: 'imagePullPolicy',
  16: 'stdin:bool', 17: 'stdinOnce:bool', 18: 'tty:bool', 19: ['envFrom[]', () => EnvFromSource], 20: 'terminationMessagePolicy',
  22: ['startupProbe', () => Probe], 24: 'restartPolicy?',
});
const KeyToPath = msg({ 1: 'key', 2: 'path', 3: 'mode:int?' });
const VolumeSource = msg({
  1: ['hostPath', () => msg({ 1: 'path', 2: 'type?' })],
  2: ['emptyDir', () => msg({ 1: 'medium', 2: ['sizeLimit', () => Quantity] })],
  6: ['secret', () => msg({ 1: 'secretName', 2: ['items[]', () => KeyToPath], 3: 'defaultMode:int?', 4: 'optional:bool?' })],
  10: ['persistentVolumeClaim', () => msg({ 1: 'claimName', 2: 'readOnly:bool' })],
  19: ['configMap', () => msg({ 1: ['ref~', () => LocalObjectReference], 2: ['items[]', () => KeyToPath], 3: 'defaultMode:int?', 4: 'optional:bool?' })],
});
const Volume = msg({ 1: 'name', 2: ['source~', () => VolumeSource] });
const Toleration = msg({ 1: 'key', 2: 'operator', 3: 'value', 4: 'effect', 5: 'tolerationSeconds:int?' });
const PodSpec = msg({
  1: ['volumes[]', () => Volume], 2: ['containers[]', () => Container], 3: 'restartPolicy', 4: 'terminationGracePeriodSeconds:int?',
  5: 'activeDeadlineSeconds:int?', 6: 'dnsPolicy', 7: 'nodeSelector:map', 8: 'serviceAccountName', 9: 'serviceAccount', 10: 'nodeName',
  11: 'hostNetwork:bool', 12: 'hostPID:bool', 13: 'hostIPC:bool', 15: ['imagePullSecrets[]', () => LocalObjectReference], 16: 'hostname',
  17: 'subdomain', 19: 'schedulerName', 20: ['initContainers[]', () => Container], 21: 'automountServiceAccountToken:bool?',
  22: ['tolerations[]', () => Toleration], 24: 'priorityClassName', 25: 'priority:int?', 30: 'enableServiceLinks:bool?',
});
const PodTemplateSpec = msg({ 1: ['metadata', () => ObjectMeta], 2: ['spec', () => PodSpec] });

const JobSpec = msg({
  1: 'parallelism:int?', 2: 'completions:int?', 3: 'activeDeadlineSeconds:int?', 4: ['selector', () => LabelSelector], 5: 'manualSelector:bool?',
  6: ['template', () => PodTemplateSpec], 7: 'backoffLimit:int?', 8: 'ttlSecondsAfterFinished:int?', 9: 'completionMode?', 10: 'suspend:bool?',
});
const ResourceAttributes = msg({ 1: 'namespace', 2: 'verb', 3: 'group', 4: 'version', 5: 'resource', 6: 'subresource', 7: 'name' });
const NonResourceAttributes = msg({ 1: 'path', 2: 'verb' });
const SubjectAccessReviewSpec = msg({
  1: ['resourceAttributes', () => ResourceAttributes], 2: ['nonResourceAttributes', () => NonResourceAttributes],
  3: 'user', 4: 'groups:string[]', 5: 'extra:map<strings>', 6: 'uid',
});
const PolicyRule = msg({ 1: 'verbs:string[]', 2: 'apiGroups:string[]', 3: 'resources:string[]', 4: 'resourceNames:string[]', 5: 'nonResourceURLs:string[]' });
const Subject = msg({ 1: 'kind', 2: 'apiGroup', 3: 'name', 4: 'namespace' });
const RoleRef = msg({ 1: 'apiGroup', 2: 'kind', 3: 'name' });

const object = (spec: () => Schema, extra: Record<number, string | [string, () => Schema]> = {}) =>
  msg({ 1: ['metadata', () => ObjectMeta], 2: ['spec', spec], 3: ['status', () => msg({})], ...extra });

const KINDS: Record<string, Schema> = {
  Deployment: object(() => msg({
    1: 'replicas:int?', 2: ['selector', () => LabelSelector], 3: ['template', () => PodTemplateSpec],
    4: ['strategy', () => msg({ 1: 'type', 2: ['rollingUpdate', () => msg({ 1: 'maxUnavailable:intstr?', 2: 'maxSurge:intstr?' })] })],
    5: 'minReadySeconds:int', 6: 'revisionHistoryLimit:int?', 7: 'paused:bool', 9: 'progressDeadlineSeconds:int?',
  })),
  ReplicaSet: object(() => msg({ 1: 'replicas:int?', 2: ['selector', () => LabelSelector], 3: ['template', () => PodTemplateSpec], 4: 'minReadySeconds:int' })),
  Job: object(() => JobSpec),
  CronJob: object(() => msg({
    1: 'schedule', 8: 'timeZone?', 2: 'startingDeadlineSeconds:int?', 3: 'concurrencyPolicy', 4: 'suspend:bool?',
    5: ['jobTemplate', () => msg({ 1: ['metadata', () => ObjectMeta], 2: ['spec', () => JobSpec] })],
    6: 'successfulJobsHistoryLimit:int?', 7: 'failedJobsHistoryLimit:int?',
  })),
  // Only v1's (what `kubectl autoscale` sends); v2 is another message with the same kind.
  'autoscaling/v1/HorizontalPodAutoscaler': object(() => msg({
    1: ['scaleTargetRef', () => msg({ 1: 'kind', 2: 'name', 3: 'apiVersion' })], 2: 'minReplicas:int?', 3: 'maxReplicas:int', 4: 'targetCPUUtilizationPercentage:int?',
  })),
  TokenRequest: object(() => msg({ 1: 'audiences:string[]', 4: 'expirationSeconds:int?', 3: ['boundObjectRef', () => msg({ 1: 'kind', 2: 'apiVersion', 3: 'name', 4: 'uid' })] })),
  TokenReview: object(() => msg({ 1: 'token', 2: 'audiences:string[]' })),
  SelfSubjectReview: msg({ 1: ['metadata', () => ObjectMeta] }),
  SelfSubjectAccessReview: object(() => msg({ 1: ['resourceAttributes', () => ResourceAttributes], 2: ['nonResourceAttributes', () => NonResourceAttributes] })),
  SubjectAccessReview: object(() => SubjectAccessReviewSpec),
  LocalSubjectAccessReview: object(() => SubjectAccessReviewSpec),
  SelfSubjectRulesReview: object(() => msg({ 1: 'namespace' })),
  Role: msg({ 1: ['metadata', () => ObjectMeta], 2: ['rules[]', () => PolicyRule] }),
  ClusterRole: msg({
    1: ['metadata', () => ObjectMeta], 2: ['rules[]', () => PolicyRule],
    3: ['aggregationRule', () => msg({ 1: ['clusterRoleSelectors[]', () => LabelSelector] })],
  }),
  RoleBinding: msg({ 1: ['metadata', () => ObjectMeta], 2: ['subjects[]', () => Subject], 3: ['roleRef', () => RoleRef] }),
  ClusterRoleBinding: msg({ 1: ['metadata', () => ObjectMeta], 2: ['subjects[]', () => Subject], 3: ['roleRef', () => RoleRef] }),
  PriorityClass: msg({ 1: ['metadata', () => ObjectMeta], 2: 'value:int', 3: 'globalDefault:bool', 4: 'description', 5: 'preemptionPolicy?' }),
  Pod: object(() => PodSpec),
  Namespace: object(() => msg({ 1: 'finalizers:string[]' })),
  Service: object(() => msg({
    1: ['ports[]', () => msg({ 1: 'name', 2: 'protocol', 3: 'port:int', 4: 'targetPort:intstr', 5: 'nodePort:int', 6: 'appProtocol?' })],
    2: 'selector:map', 3: 'clusterIP', 4: 'type', 5: 'externalIPs:string[]', 7: 'sessionAffinity', 10: 'externalName',
    11: 'externalTrafficPolicy', 18: 'clusterIPs:string[]', 19: 'ipFamilies:string[]', 17: 'ipFamilyPolicy?',
  }), { 3: ['status', () => msg({ 1: ['loadBalancer', () => msg({})] })] }),
  ResourceQuota: object(() => msg({ 1: 'hard:map<quantity>', 2: 'scopes:string[]' })),
  PodDisruptionBudget: object(() => msg({ 1: 'minAvailable:intstr?', 2: ['selector', () => LabelSelector], 3: 'maxUnavailable:intstr?', 4: 'unhealthyPodEvictionPolicy?' })),
  Scale: object(() => msg({ 1: 'replicas:int' }), { 3: ['status', () => msg({ 1: 'replicas:int', 2: 'selector' })] }),
  ConfigMap: msg({ 1: ['metadata', () => ObjectMeta], 2: 'data:map', 3: 'binaryData:map<bytes>', 4: 'immutable:bool?' }),
  Secret: msg({ 1: ['metadata', () => ObjectMeta], 2: 'data:map<bytes>', 3: 'type', 4: 'stringData:map', 5: 'immutable:bool?' }),
  ServiceAccount: msg({ 1: ['metadata', () => ObjectMeta], 2: ['secrets[]', () => msg({ 1: 'kind', 2: 'namespace', 3: 'name', 4: 'uid', 5: 'apiVersion' })], 3: ['imagePullSecrets[]', () => LocalObjectReference], 4: 'automountServiceAccountToken:bool?' }),
  Eviction: msg({ 1: ['metadata', () => ObjectMeta], 2: ['deleteOptions', () => DeleteOptions] }),
  Binding: msg({ 1: ['metadata', () => ObjectMeta], 2: ['target', () => msg({ 1: 'kind', 2: 'namespace', 3: 'name', 4: 'uid', 5: 'apiVersion' })] }),
  DeleteOptions,
};

class Reader {
  pos = 0;
  readonly buf: Buffer;
  constructor(buf: Buffer) {
    this.buf = buf;
  }
  done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error('truncated varint');
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
    }
  }
  bytes(): Buffer {
    const len = Number(this.varint());
    if (this.pos + len > this.buf.length) throw new Error('truncated field');
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
}

const toInt = (v: bigint) => Number(BigInt.asIntN(64, v));

function scalar(type: Scalar, r: Reader): unknown {
  switch (type) {
    case 'int': return toInt(r.varint());
    case 'bool': return r.varint() !== 0n;
    case 'string': return r.bytes().toString('utf8');
    case 'bytes': return r.bytes().toString('base64');
    case 'quantity': return (decode(Quantity, r.bytes()) as { string?: string }).string ?? '0';
    case 'strings': return (decode(ExtraValue, r.bytes()) as { items?: string[] }).items ?? [];
    case 'time':
    case 'microtime': {
      const t = decode(Time, r.bytes()) as { seconds?: number; nanos?: number };
      if (!t.seconds) return null;
      const ms = t.seconds * 1000 + Math.floor((t.nanos ?? 0) / 1e6);
      return type === 'time' ? k8sTime(ms) : k8sMicroTime(ms);
    }
    case 'intstr': {
      const v = decode(IntOrString, r.bytes()) as { type?: number; intVal?: number; strVal?: string };
      return v.type === 1 ? v.strVal ?? '' : v.intVal ?? 0;
    }
  }
}

const isZero = (v: unknown) => v === '' || v === 0 || v === false || v === null;

function decode(schema: Schema, buf: Buffer): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const r = new Reader(buf);
  while (!r.done()) {
    const tag = toInt(r.varint());
    const field = schema.get(tag >>> 3);
    const wire = tag & 7;
    if (!field) {
      r.skip(wire);
      continue;
    }
    let value: unknown;
    if (field.type === 'map') {
      const entry = new Reader(r.bytes());
      let key = '';
      let val: unknown = '';
      while (!entry.done()) {
        const t = toInt(entry.varint());
        if (t >>> 3 === 1) key = entry.bytes().toString('utf8');
        else if (t >>> 3 === 2) val = scalar(field.mapValue ?? 'string', entry);
        else entry.skip(t & 7);
      }
      const map = (out[field.name] ??= {}) as Record<string, unknown>;
      map[key] = val;
      continue;
    }
    if (typeof field.type === 'function') {
      value = decode(field.type(), r.bytes());
      if (field.inline && !field.repeated) {
        Object.assign(out, value);
        continue;
      }
    } else if (field.type === 'int' && wire === 2) {
      // A packed repeated varint field.
      const packed = new Reader(r.bytes());
      const list = (out[field.name] ??= []) as unknown[];
      while (!packed.done()) list.push(toInt(packed.varint()));
      continue;
    } else {
      value = scalar(field.type, r);
    }
    if (field.repeated) ((out[field.name] ??= []) as unknown[]).push(value);
    else if (field.ptr || !isZero(value)) out[field.name] = value;
    else delete out[field.name];
  }
  return out;
}

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** Decodes a `k8s\0`-prefixed protobuf body into the JSON form of the object. */
export function decodeK8sProtobuf(buf: Buffer): K8sObject {
  if (buf.length < 4 || !buf.subarray(0, 4).equals(MAGIC)) {
    throw ApiError.badRequest('provided protobuf body does not start with the Kubernetes protobuf envelope');
  }
  let env: Record<string, any>;
  try {
    env = decode(Unknown, buf.subarray(4));
  } catch (err) {
    throw ApiError.badRequest(`unable to decode protobuf envelope: ${(err as Error).message}`);
  }
  const kind = env.typeMeta?.kind ?? '';
  const schema = KINDS[`${env.typeMeta?.apiVersion ?? ''}/${kind}`] ?? KINDS[kind];
  if (!schema) {
    throw new ApiError(415, 'UnsupportedMediaType', `the sandbox cannot decode ${kind || 'this object'} from application/vnd.kubernetes.protobuf - send application/json instead`);
  }
  let obj: Record<string, unknown>;
  try {
    obj = decode(schema, Buffer.from(env.raw ?? '', 'base64'));
  } catch (err) {
    throw ApiError.badRequest(`unable to decode ${kind} from protobuf: ${(err as Error).message}`);
  }
  return { apiVersion: env.typeMeta?.apiVersion, kind, ...obj } as K8sObject;
}
