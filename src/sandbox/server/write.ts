// Writes through the HTTP API: create, update, patch (JSON, merge, strategic
// and server-side apply), delete and deletecollection. Every change goes
// through the store, so optimistic concurrency, defaulting and validation
// behave the same for HTTP clients and in-process controllers; this layer adds
// what only the API server does: URL/body agreement, dry runs, managedFields,
// and the real response shapes.
import { semanticallyEqual } from '../canonical.ts';
import { apiVersionOf, type ResourceType } from '../resources.ts';
import { ApiError } from '../status.ts';
import type { DeleteOptions } from '../store.ts';
import type { K8sObject } from '../types.ts';
import { checkIdentity, checkKind, decodeBody, decodeObject, mediaType } from './body.ts';
import type { Call, Outcome, ResourceRequest, ServerContext } from './context.ts';
import { hpaFromV1 } from '../hpa-v1.ts';
import { eventsV1ToCore, isEventsV1 } from './events-v1.ts';
import { listObjects } from './list.ts';
import { applyConfiguration, canonicalManagedFields, fieldManager, recordUpdate } from './managed.ts';
import { boolParam, chooseRendering, dryRunParam, includeObjectParam, intParam } from './negotiate.ts';
import { checkApplyBody, decodePatched, decodeWriteBody, patchBodyErrors } from './fieldvalidation.ts';
import { applyPatch } from './patch.ts';
import { methodNotAllowed } from './paths.ts';
import { isHpaV1, listItem, present, renderObject } from './render.ts';
import { strictDecodingError, unknownFields } from '../apiextensions/index.ts';
import { normalizeTimestamps } from '../timestamps.ts';

/** Types whose PUT creates a missing object (AllowCreateOnUpdate in their strategies). */
const CREATE_ON_UPDATE = new Set(['events', 'coordination.k8s.io/leases']);
/** Types whose immediate delete answers with the deleted object rather than a Status (ReturnDeletedObject). */
const RETURN_DELETED = new Set(['pods', 'services']);

export const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/apply-patch+yaml',
  'application/strategic-merge-patch+json',
];
/** Custom resources have no strategic merge keys, so the API server does not offer that patch type for them. */
const CUSTOM_PATCH_TYPES = PATCH_TYPES.slice(0, 3);

/**
 * fieldValidation for a custom resource's body: fields its schema does not
 * know are a 400 with Strict, a Warning header each with Warn (the default),
 * and silently dropped with Ignore. They are pruned in every case.
 */
export function customFieldValidation(call: Call, type: ResourceType, obj: K8sObject): Record<string, string> {
  if (!type.custom) return {};
  const directive = call.query.get('fieldValidation') || 'Warn';
  if (directive === 'Ignore') return {};
  const unknown = unknownFields(type, obj);
  if (!unknown.length) return {};
  if (directive === 'Strict') throw strictDecodingError(type, unknown);
  return { Warning: unknown.map((f) => `299 - ${JSON.stringify(`unknown field ${JSON.stringify(f)}`)}`).join(', ') };
}

const withHeaders = (out: Outcome, headers: Record<string, string>): Outcome => (Object.keys(headers).length ? { ...out, headers: { ...(out.headers ?? {}), ...headers } } : out);

export interface Writer {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  /** Recorded in managedFields for writes through a subresource (status, scale). */
  subresource?: string;
}

export function respond(ctx: ServerContext, call: Call, type: ResourceType, code: number, obj: K8sObject): Outcome {
  const body = renderObject(type, obj, {
    rendering: chooseRendering(call.headers.accept, false),
    includeObject: includeObjectParam(call.query),
    now: ctx.clock.now(),
  });
  return { code, body };
}

const dryRunOf = (call: Call) => dryRunParam(call.query.getAll('dryRun'));

/**
 * Stored form of a body sent to `type`: its timestamps decoded and re-encoded
 * as the API server does, events.k8s.io Events stored as core Events and
 * autoscaling/v1 HPAs as v2.
 */
export function toStored(type: ResourceType, obj: K8sObject): K8sObject {
  normalizeTimestamps(obj, { kind: type.kind, version: type.version, group: type.group });
  if (isEventsV1(type.group, type.storage)) return eventsV1ToCore(obj);
  if (isHpaV1(type)) return hpaFromV1(obj);
  return obj;
}

/** The NamespaceLifecycle admission plugin's immortal namespaces. */
const IMMORTAL_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);

export function createObject(ctx: ServerContext, type: ResourceType, obj: K8sObject, who: Writer, dryRun: boolean, applied = false): K8sObject {
  if (obj.metadata.resourceVersion) {
    throw new ApiError(500, 'InternalError', 'Internal error occurred: resourceVersion should not be set on objects to be created');
  }
  const stored = toStored(type, obj);
  if (!applied) {
    // The creator owns what the object holds once defaulted, as the field manager sees a create.
    const requested = stored.metadata.managedFields;
    const preview = ctx.store.create(type.storage, structuredClone({ ...stored, metadata: { ...stored.metadata, managedFields: undefined } }), { dryRun: true });
    stored.metadata.managedFields = recordUpdate(undefined, { ...preview, metadata: { ...preview.metadata, managedFields: requested } }, who, ctx.clock.now());
  }
  return ctx.store.create(type.storage, stored, { dryRun });
}

/**
 * An update that stamps managedFields only when something changed, so no-op
 * writes keep their resourceVersion and wake no watchers, as on a real server.
 */
export function commitUpdate(ctx: ServerContext, type: ResourceType, input: K8sObject, who: Writer, opts: { subresource?: 'status'; dryRun: boolean }): K8sObject {
  const storage = type.storage;
  const stored = toStored(type, input);
  const { namespace, name } = stored.metadata;
  const old = ctx.store.get(storage, type.namespaced ? namespace : undefined, name ?? '');
  if (!old) throw ApiError.notFound(type.group, type.plural, name ?? '');
  // An apply brings its managedFields worked out; any other write is recorded here.
  const requested = stored.metadata.managedFields;
  stored.metadata.managedFields = old.metadata.managedFields;
  const preview = ctx.store.update(storage, structuredClone(stored), { subresource: opts.subresource, dryRun: true });
  const managed = who.operation === 'Apply'
    ? (requested as unknown[])
    : recordUpdate(old, { ...preview, metadata: { ...preview.metadata, managedFields: requested } }, { ...who, subresource: who.subresource ?? opts.subresource }, ctx.clock.now());
  preview.metadata.managedFields = managed;
  if (opts.dryRun) return preview;
  if (semanticallyEqual(preview, { ...old, metadata: { ...old.metadata, managedFields: canonicalManagedFields(old.metadata.managedFields) } })) return old;
  if (opts.subresource === 'status') {
    // The store keeps metadata from the stored object on status writes; this
    // is the API server's own bookkeeping, so it goes in with the status.
    return ctx.store.mutate(storage, old.metadata.namespace, old.metadata.name!, (d) => {
      d.status = preview.status;
      d.metadata.managedFields = managed;
    }, { subresource: 'status' })!;
  }
  stored.metadata.managedFields = managed;
  return ctx.store.update(storage, stored);
}

export function writer(call: Call, type: ResourceType, operation: 'Apply' | 'Update' = 'Update'): Writer {
  return { manager: fieldManager(call, operation === 'Apply'), operation, apiVersion: apiVersionOf(type) };
}

/** A create or update body decoded into its type: unknown fields dropped, wrong types refused. */
function typedBody(call: Call, type: ResourceType): K8sObject {
  const obj = decodeWriteBody(call, type, decodeObject(call));
  if (!obj.metadata || typeof obj.metadata !== 'object') obj.metadata = {};
  return obj;
}

export function handleCreate(ctx: ServerContext, call: Call, r: ResourceRequest): Outcome {
  if (r.type.namespaced && r.namespace === undefined) {
    throw methodNotAllowed();
  }
  const obj = typedBody(call, r.type);
  checkKind(obj, r.type);
  checkIdentity(obj, r.namespace, undefined);
  const warnings = customFieldValidation(call, r.type, obj);
  const created = createObject(ctx, r.type, obj, writer(call, r.type), dryRunOf(call));
  return withHeaders(respond(ctx, call, r.type, 201, created), warnings);
}

export function handleUpdate(ctx: ServerContext, call: Call, r: ResourceRequest): Outcome {
  const obj = typedBody(call, r.type);
  checkKind(obj, r.type);
  checkIdentity(obj, r.namespace, r.name);
  const warnings = customFieldValidation(call, r.type, obj);
  const dryRun = dryRunOf(call);
  const who = writer(call, r.type);
  if (!r.subresource && CREATE_ON_UPDATE.has(r.type.storage) && !ctx.store.get(r.type.storage, r.namespace, r.name!)) {
    delete obj.metadata.resourceVersion;
    return respond(ctx, call, r.type, 201, createObject(ctx, r.type, obj, who, dryRun));
  }
  const sub = r.subresource === 'status' ? 'status' : undefined;
  return withHeaders(respond(ctx, call, r.type, 200, commitUpdate(ctx, r.type, obj, who, { subresource: sub, dryRun })), warnings);
}

/** Applies a PATCH body of any supported type but apply to `original` (already in the requested version). */
export function patchBody(call: Call, original: K8sObject, type?: ResourceType): K8sObject {
  const ct = mediaType(call.contentType);
  const accepted = type?.custom ? CUSTOM_PATCH_TYPES : PATCH_TYPES;
  if (!accepted.includes(ct)) {
    throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`);
  }
  const body = decodeBody(call, accepted.join(', '));
  // Only the scale subresource gets here with an apply body; it takes the replicas it names.
  const as = ct === 'application/apply-patch+yaml' ? 'application/merge-patch+json' : ct;
  return applyPatch(as, original, body);
}

export function handlePatch(ctx: ServerContext, call: Call, r: ResourceRequest): Outcome {
  const ct = mediaType(call.contentType);
  const patchErrors = patchBodyErrors(call, ct);
  const apply = ct === 'application/apply-patch+yaml';
  if (!apply && call.query.has('force')) {
    throw new ApiError(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch', {
      group: 'meta.k8s.io', kind: 'PatchOptions', causes: [{ reason: 'FieldValueForbidden', message: 'Forbidden: may not be specified for non-apply patch', field: 'force' }],
    });
  }
  const who = writer(call, r.type, apply ? 'Apply' : 'Update');
  const dryRun = dryRunOf(call);
  const current = ctx.store.get(r.type.storage, r.namespace, r.name!);
  if (!current && (!apply || r.subresource)) throw ApiError.notFound(r.type.group, r.type.plural, r.name!);
  if (apply) return serverSideApply(ctx, call, r, who, current, dryRun);
  const original = present(r.type, current!);
  let patched = patchBody(call, structuredClone(original), r.type);
  // Custom resources are decoded against their CRD's schema by their own strategy.
  if (!r.type.custom) patched = decodePatched(call, r.type, ct, patched, patchErrors, parsedPatch(call));
  checkKind(patched, r.type);
  if (!patched.metadata || typeof patched.metadata !== 'object') patched.metadata = {};
  checkIdentity(patched, r.namespace, r.name);
  // A patch that does not mention resourceVersion applies to the current object.
  if (!patched.metadata.resourceVersion) patched.metadata.resourceVersion = current!.metadata.resourceVersion;
  const warnings = customFieldValidation(call, r.type, patched);
  const sub = r.subresource === 'status' ? 'status' : undefined;
  return withHeaders(respond(ctx, call, r.type, 200, commitUpdate(ctx, r.type, patched, who, { subresource: sub, dryRun })), warnings);
}

/** The patch document as the strategic patch error quotes it (undefined when it is not JSON). */
function parsedPatch(call: Call): unknown {
  try {
    return JSON.parse(call.body ?? '');
  } catch {
    return undefined;
  }
}

/** PATCH with application/apply-patch+yaml: field ownership decides what changes (managed.ts). */
function serverSideApply(ctx: ServerContext, call: Call, r: ResourceRequest, who: Writer, current: K8sObject | undefined, dryRun: boolean): Outcome {
  const config = decodeObject(call);
  const expected = apiVersionOf(r.type);
  if (config.apiVersion && config.apiVersion !== expected) {
    throw ApiError.badRequest(`Incorrect version specified in apply patch. Specified patch version: ${config.apiVersion}, expected: ${expected}`);
  }
  checkKind(config, r.type);
  if (config.metadata.managedFields != null) throw ApiError.badRequest('metadata.managedFields must be nil');
  checkIdentity(config, r.namespace, r.name);
  checkApplyBody(call, r.type, config, r.namespace, r.name!);
  const warnings = customFieldValidation(call, r.type, config);
  const force = boolParam(call.query, 'force');
  const sub = r.subresource === 'status' ? 'status' : undefined;
  const live = current
    ? present(r.type, current)
    : ({ apiVersion: apiVersionOf(r.type), kind: r.type.kind, metadata: { name: r.name, ...(r.namespace ? { namespace: r.namespace } : {}) } } as K8sObject);
  const { object } = applyConfiguration(live, config, { ...who, subresource: sub }, force, ctx.clock.now());
  if (!current) {
    delete object.metadata.resourceVersion;
    return withHeaders(respond(ctx, call, r.type, 201, createObject(ctx, r.type, object, who, dryRun, true)), warnings);
  }
  // An applied resourceVersion is a precondition; without one the apply is to the current object.
  object.metadata.resourceVersion = config.metadata.resourceVersion || current.metadata.resourceVersion;
  return withHeaders(respond(ctx, call, r.type, 200, commitUpdate(ctx, r.type, object, who, { subresource: sub, dryRun })), warnings);
}

/** DeleteOptions from the body (kubectl) and/or the query (client-node, curl). */
export function deleteOptions(call: Call): DeleteOptions & { dryRun: boolean } {
  let body: Record<string, any> = {};
  if (call.body?.trim()) {
    const parsed = decodeBody(call);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, any>;
  }
  const grace = intParam(call.query, 'gracePeriodSeconds') ?? body.gracePeriodSeconds;
  const orphan = call.query.has('orphanDependents') ? boolParam(call.query, 'orphanDependents') : body.orphanDependents;
  const policy = call.query.get('propagationPolicy') ?? body.propagationPolicy ?? (orphan === true ? 'Orphan' : undefined);
  if (policy !== undefined && !['Foreground', 'Background', 'Orphan'].includes(policy)) {
    throw ApiError.invalid('DeleteOptions', '', 'meta.k8s.io', [{ field: 'propagationPolicy', message: `Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`, reason: 'FieldValueNotSupported' }]);
  }
  if (grace !== undefined && (typeof grace !== 'number' || !Number.isInteger(grace))) {
    throw ApiError.badRequest(`gracePeriodSeconds: Invalid value: ${JSON.stringify(grace)}: must be an integer`);
  }
  const bodyDry = Array.isArray(body.dryRun) ? body.dryRun : undefined;
  const dryRun = dryRunParam(call.query.getAll('dryRun').length ? call.query.getAll('dryRun') : bodyDry);
  return {
    // Pods clamp a negative grace period to 1s (kubectl --grace-period=-1 means "default").
    gracePeriodSeconds: grace === undefined ? undefined : grace < 0 ? 1 : grace,
    propagationPolicy: policy,
    preconditions: body.preconditions ?? undefined,
    dryRun,
  };
}

function successStatus(type: ResourceType, obj: K8sObject): Record<string, unknown> {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    // Go omits an empty group (core types).
    details: { name: obj.metadata.name, ...(type.group ? { group: type.group } : {}), kind: type.plural, uid: obj.metadata.uid },
  };
}

/** Deletes one object; the answer is the object while its deletion is pending. */
export function deleteOne(ctx: ServerContext, type: ResourceType, ns: string | undefined, name: string, opts: DeleteOptions & { dryRun: boolean }): { obj: K8sObject; pending: boolean } {
  const obj = ctx.store.delete(type.storage, ns, name, opts);
  const pending = opts.dryRun ? false : ctx.store.get(type.storage, ns, name) !== undefined;
  return { obj, pending };
}

export function handleDelete(ctx: ServerContext, call: Call, r: ResourceRequest): Outcome {
  // Admission runs before the object is looked up.
  if (r.type.storage === 'namespaces' && IMMORTAL_NAMESPACES.has(r.name!)) {
    throw new ApiError(403, 'Forbidden', `namespaces ${JSON.stringify(r.name)} is forbidden: this namespace may not be deleted`, { name: r.name, kind: 'namespaces' });
  }
  const opts = deleteOptions(call);
  const { obj, pending } = deleteOne(ctx, r.type, r.namespace, r.name!, opts);
  if (pending || RETURN_DELETED.has(r.type.storage)) return respond(ctx, call, r.type, 200, obj);
  return { code: 200, body: successStatus(r.type, obj) };
}

export async function handleDeleteCollection(ctx: ServerContext, call: Call, r: ResourceRequest): Promise<Outcome> {
  const opts = deleteOptions(call);
  const { items, resourceVersion } = await listObjects(ctx.store, r, call.query);
  const deleted: K8sObject[] = [];
  for (const o of items) {
    try {
      deleted.push(listItem(r.type, deleteOne(ctx, r.type, o.metadata.namespace, o.metadata.name!, opts).obj));
    } catch (err) {
      // Deleted meanwhile (e.g. by the garbage collector): nothing left to do.
      if (!(err instanceof ApiError && err.code === 404)) throw err;
    }
  }
  return { code: 200, body: { kind: `${r.type.kind}List`, apiVersion: apiVersionOf(r.type), metadata: { resourceVersion }, items: deleted } };
}
