// Subresources other than eviction: status (whole object on GET, only .status
// written on PUT/PATCH), autoscaling/v1 Scale for deployments, replicasets and
// statefulsets, pods/binding (the scheduler's write) and namespaces/finalize.
import { selectorToString } from '../selectors.ts';
import { ApiError } from '../status.ts';
import type { ResourceType } from '../resources.ts';
import type { K8sObject } from '../types.ts';
import { k8sTime } from '../../common/index.ts';
import { checkIdentity, checkKind, decodeObject } from './body.ts';
import type { Call, Outcome, ResourceRequest, ServerContext } from './context.ts';
import { methodNotAllowed } from './paths.ts';
import { dryRunParam, fieldValidationParam } from './negotiate.ts';
import { commitUpdate, patchBody, respond, writer } from './write.ts';
import { getPath, setPath } from '../apiextensions/index.ts';

const SCALE = { apiVersion: 'autoscaling/v1', kind: 'Scale' };

function current(ctx: ServerContext, r: ResourceRequest): K8sObject {
  const obj = ctx.store.get(r.type.storage, r.namespace, r.name!);
  if (!obj) throw ApiError.notFound(r.type.group, r.type.plural, r.name!);
  return obj;
}

export function toScale(obj: K8sObject, type?: ResourceType): K8sObject {
  const m = obj.metadata;
  const metadata = { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp };
  const custom = type?.custom?.scale;
  if (custom) {
    // A custom resource's scale reads the paths its CRD names; the selector is already a string there.
    const selector = custom.labelSelectorPath ? getPath(obj, custom.labelSelectorPath) : undefined;
    const spec = getPath(obj, custom.specReplicasPath);
    return {
      ...SCALE,
      metadata,
      spec: typeof spec === 'number' ? { replicas: spec } : {},
      status: { replicas: Number(getPath(obj, custom.statusReplicasPath) ?? 0), ...(typeof selector === 'string' ? { selector } : {}) },
    };
  }
  return {
    ...SCALE,
    metadata,
    spec: { replicas: obj.spec?.replicas ?? 0 },
    status: { replicas: obj.status?.replicas ?? 0, selector: selectorToString(obj.spec?.selector) },
  };
}

export function handleGetSubresource(ctx: ServerContext, call: Call, r: ResourceRequest): Outcome {
  const obj = current(ctx, r);
  if (r.subresource === 'scale') return { code: 200, body: toScale(obj, r.type) };
  if (r.subresource === 'status') return respond(ctx, call, r.type, 200, obj);
  throw methodNotAllowed();
}

export { methodNotAllowed };

/** Writes a Scale's spec.replicas to its parent, honouring the Scale's resourceVersion as a precondition. */
function writeScale(ctx: ServerContext, call: Call, type: ResourceType, parent: K8sObject, scale: K8sObject): Outcome {
  checkKind(scale, type, SCALE);
  const replicas = scale.spec?.replicas ?? 0;
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
    throw ApiError.invalid('Scale', parent.metadata.name!, 'autoscaling', [{ field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`, reason: 'FieldValueInvalid' }]);
  }
  const next = structuredClone(parent);
  if (type.custom?.scale) setPath(next, type.custom.scale.specReplicasPath, replicas);
  else next.spec = { ...(next.spec ?? {}), replicas };
  next.metadata.resourceVersion = scale.metadata?.resourceVersion || parent.metadata.resourceVersion;
  const who = { ...writer(call, type), subresource: 'scale' };
  const dryRun = dryRunParam(call.query.getAll('dryRun'));
  return { code: 200, body: toScale(commitUpdate(ctx, type, next, who, { dryRun }), type) };
}

export function handleUpdateSubresource(ctx: ServerContext, call: Call, r: ResourceRequest): Outcome {
  fieldValidationParam(call.query);
  if (r.subresource === 'scale') {
    const scale = decodeObject(call);
    checkIdentity(scale, r.namespace, r.name);
    return writeScale(ctx, call, r.type, current(ctx, r), scale);
  }
  if (r.subresource === 'finalize') return finalize(ctx, call, r);
  throw methodNotAllowed();
}

export function handlePatchSubresource(ctx: ServerContext, call: Call, r: ResourceRequest): Outcome {
  fieldValidationParam(call.query);
  if (r.subresource !== 'scale') throw methodNotAllowed();
  const parent = current(ctx, r);
  const scale = toScale(parent, r.type);
  const patched = patchBody(call, structuredClone(scale));
  if (!patched.metadata || typeof patched.metadata !== 'object') patched.metadata = {};
  checkIdentity(patched, r.namespace, r.name);
  return writeScale(ctx, call, r.type, parent, patched);
}

/** PUT namespaces/{name}/finalize: only spec.finalizers changes; an emptied, terminating namespace goes away. */
function finalize(ctx: ServerContext, call: Call, r: ResourceRequest): Outcome {
  const body = decodeObject(call);
  checkKind(body, r.type);
  checkIdentity(body, undefined, r.name);
  const ns = current(ctx, r);
  if (body.metadata.resourceVersion && body.metadata.resourceVersion !== ns.metadata.resourceVersion) {
    throw ApiError.conflict('', 'namespaces', r.name!, 'the object has been modified; please apply your changes to the latest version and try again');
  }
  const finalizers: string[] = body.spec?.finalizers ?? [];
  const updated = ctx.store.mutate('namespaces', undefined, r.name!, (n) => {
    n.spec = { ...(n.spec ?? {}), finalizers };
    if (!finalizers.length) delete n.spec.finalizers;
  })!;
  if (updated.metadata.deletionTimestamp && !finalizers.length && !updated.metadata.finalizers?.length) {
    return respond(ctx, call, r.type, 200, ctx.store.remove('namespaces', updated));
  }
  return respond(ctx, call, r.type, 200, updated);
}

/** POST pods/{name}/binding: what the scheduler does to place a pod. */
export function handleBinding(ctx: ServerContext, call: Call, r: ResourceRequest): Outcome {
  const binding = decodeObject(call);
  checkKind(binding, r.type, { apiVersion: 'v1', kind: 'Binding' });
  checkIdentity(binding, r.namespace, r.name);
  const target = binding.target ?? {};
  if (target.kind && target.kind !== 'Node') {
    throw ApiError.invalid('Binding', r.name!, '', [{ field: 'target.kind', message: `Invalid value: "${target.kind}": must be empty or 'Node'`, reason: 'FieldValueInvalid' }]);
  }
  if (!target.name) {
    throw ApiError.invalid('Binding', r.name!, '', [{ field: 'target.name', message: 'Required value', reason: 'FieldValueRequired' }]);
  }
  const pod = current(ctx, r);
  if (pod.metadata.deletionTimestamp) {
    throw ApiError.conflict('', 'pods/binding', r.name!, `pod ${r.name} is being deleted, cannot be assigned to a host`);
  }
  if (pod.spec?.nodeName) {
    throw ApiError.conflict('', 'pods/binding', r.name!, `pod ${r.name} is already assigned to node "${pod.spec.nodeName}"`);
  }
  if (!dryRunParam(call.query.getAll('dryRun'))) {
    const now = k8sTime(ctx.clock.now());
    ctx.store.mutate('pods', r.namespace, r.name!, (p) => {
      p.spec.nodeName = target.name;
      p.status ??= {};
      const conditions: any[] = (p.status.conditions ?? []).filter((c: any) => c.type !== 'PodScheduled');
      conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now });
      p.status.conditions = conditions;
    });
  }
  return { code: 201, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 } };
}
