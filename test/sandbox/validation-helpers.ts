// Shared by the validation-*.test.ts files: a store with the default
// namespace, and what a create answers — the 422's causes as
// [field, reason, message], or the object as stored (defaults applied).
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/common/clock.ts';
import { ApiError } from '../../src/sandbox/status.ts';
import { ObjectStore } from '../../src/sandbox/store.ts';
import type { K8sObject } from '../../src/sandbox/types.ts';

export type Cause = [field: string, reason: string, message: string];

export function newStore(): ObjectStore {
  const store = new ObjectStore({ clock: new ManualClock() });
  store.create('namespaces', { metadata: { name: 'default' } });
  return store;
}

let n = 0;

/** A Pod named `name` (unique by default) with one nginx container changed by `container` and the spec changed by `spec`. */
export function pod(container: Record<string, unknown> = {}, spec: Record<string, unknown> = {}, name = `p${++n}`): K8sObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'app', image: 'nginx:1.27', ...container }], ...spec } };
}

/** The 422 a create gets: its message and causes. Fails the test when the create succeeds or fails otherwise. */
export function refusal(store: ObjectStore, storage: string, obj: K8sObject): { message: string; causes: Cause[] } {
  try {
    store.create(storage, structuredClone(obj));
  } catch (err) {
    assert.ok(err instanceof ApiError, String(err));
    assert.equal(err.code, 422, err.message);
    return { message: err.message, causes: (err.details?.causes ?? []).map((c) => [c.field ?? '', c.reason ?? '', c.message]) };
  }
  assert.fail(`${obj.kind} ${obj.metadata.name} was accepted`);
}

/** The causes of refusing a Pod with this container and spec. */
export function podCauses(store: ObjectStore, container: Record<string, unknown> = {}, spec: Record<string, unknown> = {}): Cause[] {
  return refusal(store, 'pods', pod(container, spec)).causes;
}

/** The stored object; fails the test with the refusal's message if it was refused. */
export function accepted(store: ObjectStore, storage: string, obj: K8sObject): K8sObject {
  try {
    return store.create(storage, structuredClone(obj));
  } catch (err) {
    return assert.fail(`refused: ${(err as Error).message}`);
  }
}
