// A Kubernetes API failure's code and retryability follow its HTTP status
// through the registry, and a runbook step failing on it inherits the same
// retry decision; messages play no part.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Errors, KubemendError } from '../../src/common/errors.ts';
import { KubeApiError } from '../../src/kube/errors.ts';
import { toActionError } from '../../src/runbooks/actions/util.ts';
import { ActionError } from '../../src/runbooks/types.ts';

const RETRYABLE = new Set([0, 409, 429, 500, 502, 503, 504]);
const STATUSES = [0, 400, 401, 403, 404, 405, 406, 408, 409, 410, 413, 422, 429, 500, 502, 503, 504];

test('a KubeApiError is a KubemendError whose retryability follows the status: 409, 429, 5xx and network failures', () => {
  for (const status of STATUSES) {
    const e = status === 0 ? KubeApiError.network('GET', '/api/v1/pods', new Error('connect ECONNREFUSED')) : KubeApiError.fromResponse('GET', '/api/v1/pods', status, { message: 'please retry later' }, null);
    assert.ok(e instanceof KubemendError, String(status));
    assert.match(e.code, /^KM-KUBE-0\d\d$/);
    assert.equal(e.retryable, RETRYABLE.has(status), `status ${status}`);
  }
  assert.equal(KubeApiError.fromResponse('GET', '/x', 403, { message: 'forbidden' }, null).code, Errors.KUBE_FORBIDDEN.code);
  assert.equal(KubeApiError.fromResponse('PATCH', '/x', 422, { message: 'bad' }, null).code, Errors.KUBE_INVALID.code);
  assert.equal(KubeApiError.fromResponse('GET', '/x', 418, 'teapot', null).code, Errors.KUBE_REJECTED.code);
});

test('a step failing on an API error gets a short name by status and the same retry decision', () => {
  const expected: Record<number, string> = { 0: 'NETWORK', 400: 'BAD_REQUEST', 401: 'UNAUTHORIZED', 403: 'FORBIDDEN', 404: 'NOT_FOUND', 405: 'NOT_ALLOWED', 406: 'API_REJECTED', 408: 'API_REJECTED', 409: 'CONFLICT', 410: 'GONE', 413: 'API_REJECTED', 422: 'INVALID', 429: 'THROTTLED', 500: 'SERVER_ERROR', 502: 'SERVER_ERROR', 503: 'SERVER_ERROR', 504: 'SERVER_ERROR' };
  for (const status of STATUSES) {
    const api = new KubeApiError(`status ${status}`, status, 'Whatever');
    const step = toActionError(api);
    assert.ok(step instanceof ActionError);
    assert.equal(step.reason, expected[status], `status ${status}`);
    assert.equal(step.retryable, api.retryable, `status ${status}: the step retries exactly when the API error is retryable`);
    assert.match(step.code, /^KM-ACTION-0\d\d$/);
    assert.equal(step.cause, api);
  }
});

test('other failures inside a step: aborts, kubemend errors and bugs are final', () => {
  const abort = toActionError(Object.assign(new Error('This operation was aborted'), { name: 'AbortError' }));
  assert.deepEqual([abort.reason, abort.retryable], ['ABORTED', false]);
  const store = toActionError(new KubemendError(Errors.STORE_UNAVAILABLE, 'connection refused'));
  assert.deepEqual([store.reason, store.retryable], ['ERROR', false]);
  assert.match(store.message, /^KM-STORE-001 connection refused$/);
  const bug = toActionError(new TypeError("Cannot read properties of undefined (reading 'spec')"));
  assert.deepEqual([bug.reason, bug.code, bug.retryable], ['INTERNAL', Errors.ACTION_INTERNAL.code, false]);
  const own = new ActionError('PDB_BLOCKED', 'budget');
  assert.equal(toActionError(own), own);
  assert.deepEqual([own.code, own.fix, own.retryable], [Errors.ACTION_PDB_BLOCKED.code, Errors.ACTION_PDB_BLOCKED.fix, true]);
});

test("an RBAC refusal names the missing permission (who, verb, resource, group, namespace); other 403s stay FORBIDDEN", () => {
  const msg = 'deployments.apps "checkout" is forbidden: User "system:serviceaccount:kubemend:remediator" cannot patch resource "deployments" in API group "apps" in the namespace "shop"';
  const e = KubeApiError.fromResponse('PATCH', '/apis/apps/v1/namespaces/shop/deployments/checkout', 403, { kind: 'Status', message: msg, reason: 'Forbidden', code: 403 }, null);
  assert.equal(e.code, Errors.KUBE_RBAC_DENIED.code);
  assert.equal(e.status, 403, 'callers that test the status still see 403');
  assert.deepEqual(e.denied, { user: 'system:serviceaccount:kubemend:remediator', verb: 'patch', resource: 'deployments', group: 'apps', namespace: 'shop' });
  assert.equal(e.message, `missing RBAC permission: "system:serviceaccount:kubemend:remediator" may not patch deployments (API group "apps") in namespace "shop" — PATCH /apis/apps/v1/namespaces/shop/deployments/checkout: ${msg}`);
  const step = toActionError(e);
  assert.deepEqual([step.reason, step.code, step.retryable], ['RBAC_DENIED', Errors.ACTION_RBAC_DENIED.code, false]);
  const cluster = KubeApiError.fromResponse('POST', '/api/v1/namespaces/a/pods/p/eviction', 403, { message: 'users "carol" is forbidden: User "system:serviceaccount:kubemend:kubemend" cannot impersonate resource "users" in API group "" at the cluster scope' }, null);
  assert.deepEqual(cluster.denied, { user: 'system:serviceaccount:kubemend:kubemend', verb: 'impersonate', resource: 'users', group: '' });
  const quota = KubeApiError.fromResponse('POST', '/api/v1/namespaces/a/pods', 403, { message: 'pods "p" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=5, limited: pods=5' }, null);
  assert.deepEqual([quota.code, quota.denied, toActionError(quota).reason], [Errors.KUBE_FORBIDDEN.code, undefined, 'FORBIDDEN'], 'admission refusals are not RBAC\'s');
});
