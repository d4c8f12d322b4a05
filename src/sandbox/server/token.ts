// POST serviceaccounts/{name}/token: a TokenRequest answered with a signed
// service account token (`kubectl create token`), as
// pkg/registry/core/serviceaccount/storage/token.go does: audiences default to
// the API server's, expirationSeconds to an hour (at least ten minutes), and a
// bound Pod or Secret must exist (and match its uid when one is given).
import { k8sTime } from '../../common/index.ts';
import { ApiError } from '../status.ts';
import { ISSUER, type IssueRequest } from '../tokens.ts';
import type { K8sObject } from '../types.ts';
import { checkKind, decodeObject } from './body.ts';
import type { Call, Outcome, ResourceRequest, ServerContext } from './context.ts';
import { dryRunParam, fieldValidationParam } from './negotiate.ts';

const TOKEN_REQUEST = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest' };
const MIN_SECONDS = 600;
const MAX_SECONDS = 2 ** 32;

const invalid = (name: string, field: string, message: string) =>
  ApiError.invalid('TokenRequest', name, 'authentication.k8s.io', [{ field, message, reason: 'FieldValueInvalid' }]);

export function handleTokenRequest(ctx: ServerContext, call: Call, r: ResourceRequest): Outcome {
  fieldValidationParam(call.query);
  const dryRun = dryRunParam(call.query.getAll('dryRun'));
  const name = r.name!;
  const ns = r.namespace!;
  const req = decodeObject(call);
  checkKind(req, r.type, TOKEN_REQUEST);
  if (req.metadata.name && req.metadata.name !== name) {
    throw invalid(name, 'metadata.name', `Invalid value: ${JSON.stringify(req.metadata.name)}: must match the service account name if specified`);
  }
  if (req.metadata.namespace && req.metadata.namespace !== ns) {
    throw invalid(name, 'metadata.namespace', `Invalid value: ${JSON.stringify(req.metadata.namespace)}: must match the service account namespace if specified`);
  }
  const spec: any = req.spec && typeof req.spec === 'object' ? { ...req.spec } : {};
  spec.expirationSeconds ??= 3600;
  if (typeof spec.expirationSeconds !== 'number' || spec.expirationSeconds < MIN_SECONDS) {
    throw invalid(name, 'spec.expirationSeconds', `Invalid value: ${JSON.stringify(spec.expirationSeconds)}: may not specify a duration less than 10 minutes`);
  }
  if (spec.expirationSeconds > MAX_SECONDS) {
    throw invalid(name, 'spec.expirationSeconds', `Invalid value: ${spec.expirationSeconds}: may not specify a duration larger than 2^32 seconds`);
  }
  const sa = ctx.store.get('serviceaccounts', ns, name);
  if (!sa) throw ApiError.notFound('', 'serviceaccounts', name);
  if (!spec.audiences?.length) spec.audiences = [ISSUER];
  const bound = boundObject(ctx, ns, name, spec.boundObjectRef);
  if (bound) spec.boundObjectRef = { ...spec.boundObjectRef, uid: bound.ref.uid };
  else spec.boundObjectRef = null;
  const issue: IssueRequest = { namespace: ns, serviceAccount: { name, uid: sa.metadata.uid! }, audiences: spec.audiences, expirationSeconds: spec.expirationSeconds, bound };
  const token = dryRun ? '' : ctx.tokens.issue(issue).token;
  const body: K8sObject = {
    kind: TOKEN_REQUEST.kind,
    apiVersion: TOKEN_REQUEST.apiVersion,
    metadata: { ...req.metadata, name, namespace: ns, creationTimestamp: null as unknown as string },
    spec,
    status: { token, expirationTimestamp: k8sTime(ctx.clock.now() + spec.expirationSeconds * 1000) },
  };
  return { code: 201, body };
}

function boundObject(ctx: ServerContext, ns: string, saName: string, ref: any): IssueRequest['bound'] {
  if (!ref) return undefined;
  const group = String(ref.apiVersion ?? 'v1').includes('/') ? String(ref.apiVersion).split('/')[0] : '';
  const storage = group === '' ? ({ Pod: 'pods', Secret: 'secrets', Node: 'nodes' } as Record<string, string>)[ref.kind] : undefined;
  if (!storage) throw ApiError.badRequest(`cannot bind token to object of type ${group ? `${group}/` : '/'}${String(ref.apiVersion ?? '').split('/').pop()}, Kind=${ref.kind}`);
  const obj = ctx.store.get(storage, storage === 'nodes' ? undefined : ns, ref.name ?? '');
  if (!obj) throw ApiError.notFound('', storage, ref.name ?? '');
  if (ref.kind === 'Pod' && (obj.spec?.serviceAccountName ?? 'default') !== saName) {
    throw ApiError.badRequest(`cannot bind token for serviceaccount "${saName}" to pod running with different serviceaccount name.`);
  }
  if (ref.uid && ref.uid !== obj.metadata.uid) {
    throw ApiError.conflict('', ref.kind, ref.name, `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`);
  }
  return { kind: ref.kind, ref: { name: obj.metadata.name!, uid: obj.metadata.uid! } };
}
