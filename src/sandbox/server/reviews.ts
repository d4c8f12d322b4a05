// The create-only review APIs: authentication.k8s.io SelfSubjectReview
// (`kubectl auth whoami`) and TokenReview, and authorization.k8s.io's
// SelfSubjectAccessReview (`kubectl auth can-i`), SubjectAccessReview,
// LocalSubjectAccessReview and SelfSubjectRulesReview (`can-i --list`).
// Nothing is stored: each answer is the request with its status filled in
// (201), as the real registries do. Access reviews are answered by RBAC over
// the stored roles and bindings whether or not RBAC is enforced.
import type { UserInfo } from '../authn.ts';
import { userOfToken } from '../authn.ts';
import { authorize, rulesFor, type Attributes } from '../rbac.ts';
import { ApiError, type StatusCause } from '../status.ts';
import { ISSUER } from '../tokens.ts';
import type { K8sObject } from '../types.ts';
import { checkIdentity, checkKind, decodeObject } from './body.ts';
import { tokenAuth, type Call, type Outcome, type ResourceRequest, type ServerContext } from './context.ts';
import { dryRunParam, fieldValidationParam } from './negotiate.ts';

const invalid = (kind: string, group: string, causes: StatusCause[], name = '') => ApiError.invalid(kind, name, group, causes);

/** UserInfo as the API shows it: empty members left out. */
export function userInfoJson(u: UserInfo): Record<string, unknown> {
  const out: Record<string, unknown> = { username: u.username };
  if (u.uid) out.uid = u.uid;
  if (u.groups.length) out.groups = u.groups;
  if (u.extra && Object.keys(u.extra).length) out.extra = u.extra;
  return out;
}

function reviewAttributes(spec: any, user: UserInfo): Attributes {
  const r = spec.resourceAttributes;
  if (r) {
    const a: Attributes = { user, verb: r.verb ?? '', resourceRequest: true, apiGroup: r.group ?? '', apiVersion: r.version ?? '', resource: r.resource ?? '' };
    if (r.namespace) a.namespace = r.namespace;
    if (r.subresource) a.subresource = r.subresource;
    if (r.name) a.name = r.name;
    return a;
  }
  const n = spec.nonResourceAttributes ?? {};
  return { user, verb: n.verb ?? '', resourceRequest: false, path: n.path ?? '' };
}

function accessStatus(ctx: ServerContext, spec: any, user: UserInfo): Record<string, unknown> {
  const d = authorize(ctx.store, reviewAttributes(spec, user));
  const status: Record<string, unknown> = { allowed: d.allowed };
  if (d.reason) status.reason = d.reason;
  if (d.evaluationError) status.evaluationError = d.evaluationError;
  return status;
}

/** ValidateSubjectAccessReviewSpec: exactly one kind of attributes (and, where asked, a user or group). */
function checkAccessSpec(kind: string, spec: any, needSubject: boolean): void {
  const causes: StatusCause[] = [];
  if (spec.resourceAttributes && spec.nonResourceAttributes) {
    causes.push({ field: 'spec.nonResourceAttributes', message: `Invalid value: ${JSON.stringify(spec.nonResourceAttributes)}: cannot be specified in combination with resourceAttributes`, reason: 'FieldValueInvalid' });
  }
  if (!spec.resourceAttributes && !spec.nonResourceAttributes) {
    causes.push({ field: 'spec.resourceAttributes', message: 'Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified', reason: 'FieldValueInvalid' });
  }
  if (needSubject && !spec.user && !(spec.groups ?? []).length) {
    causes.push({ field: 'spec.user', message: `Invalid value: ${JSON.stringify(spec.user ?? '')}: at least one of user or group must be specified`, reason: 'FieldValueInvalid' });
  }
  if (causes.length) throw invalid(kind, 'authorization.k8s.io', causes);
}

/** POST to one of the review collections. */
export function handleReview(ctx: ServerContext, call: Call, r: ResourceRequest): Outcome {
  fieldValidationParam(call.query);
  dryRunParam(call.query.getAll('dryRun'));
  const obj = decodeObject(call);
  checkKind(obj, r.type);
  checkIdentity(obj, r.namespace, undefined);
  const spec: any = obj.spec && typeof obj.spec === 'object' ? obj.spec : {};
  const kind = r.type.kind;
  let status: Record<string, unknown>;
  switch (kind) {
    case 'SelfSubjectReview':
      status = { userInfo: userInfoJson(call.user) };
      break;
    case 'TokenReview': {
      if (!spec.token) throw ApiError.badRequest('token is required for TokenReview in authentication');
      const audiences: string[] = spec.audiences?.length ? spec.audiences : [ISSUER];
      const res = userOfToken(spec.token, tokenAuth(ctx), audiences);
      status = 'user' in res ? { authenticated: true, user: userInfoJson(res.user), audiences } : { user: {}, ...(res.error ? { error: res.error } : {}) };
      break;
    }
    case 'SelfSubjectAccessReview':
      checkAccessSpec(kind, spec, false);
      status = accessStatus(ctx, spec, call.user);
      break;
    case 'SubjectAccessReview':
    case 'LocalSubjectAccessReview': {
      checkAccessSpec(kind, spec, true);
      if (kind === 'LocalSubjectAccessReview') {
        const ns = spec.resourceAttributes?.namespace;
        if (spec.nonResourceAttributes) {
          throw invalid(kind, 'authorization.k8s.io', [{ field: 'spec.nonResourceAttributes', message: `Invalid value: ${JSON.stringify(spec.nonResourceAttributes)}: disallowed on this kind of request`, reason: 'FieldValueInvalid' }]);
        }
        if (ns !== r.namespace) {
          throw invalid(kind, 'authorization.k8s.io', [{ field: 'spec.resourceAttributes.namespace', message: `Invalid value: ${JSON.stringify(ns ?? '')}: must match metadata.namespace`, reason: 'FieldValueInvalid' }]);
        }
      }
      const subject: UserInfo = { username: spec.user ?? '', groups: spec.groups ?? [] };
      if (spec.uid) subject.uid = spec.uid;
      if (spec.extra) subject.extra = spec.extra;
      status = accessStatus(ctx, spec, subject);
      break;
    }
    case 'SelfSubjectRulesReview': {
      if (!spec.namespace) throw ApiError.badRequest('no namespace on request');
      const rules = rulesFor(ctx.store, call.user, spec.namespace);
      status = { resourceRules: rules.resourceRules, nonResourceRules: rules.nonResourceRules, incomplete: rules.incomplete };
      if (rules.evaluationError) status.evaluationError = rules.evaluationError;
      break;
    }
    default:
      throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
  }
  const { apiVersion: _a, kind: _k, metadata, status: _s, ...rest } = obj;
  const body: K8sObject = { kind, apiVersion: `${r.type.group}/${r.type.version}`, metadata: { ...metadata, creationTimestamp: null as unknown as string }, ...rest, status };
  if (kind === 'SelfSubjectReview') delete body.spec;
  return { code: 201, body };
}
