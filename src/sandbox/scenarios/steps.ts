// What a scenario step does to the sandbox. Steps write to the store directly;
// one with `fieldManager` is also authored the way the API server records a
// client's write (managedFields), and `kubectl-client-side-apply` leaves the
// last-applied-configuration annotation `kubectl apply` writes, so change
// history reads like a real cluster's.
import { storedForm } from '../hpa-v1.ts';
import { KubemendError, Errors } from '../../common/index.ts';
import type { Sandbox } from '../cluster.ts';
import { apiVersionOf } from '../resources.ts';
import type { K8sObject } from '../types.ts';
import { recordUpdate } from '../server/managed.ts';
import { applyPatch } from '../server/patch.ts';
import { findKind } from './kinds.ts';
import type { ScenarioStep } from './schema.ts';

const PATCH_TYPES = {
  strategic: 'application/strategic-merge-patch+json',
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
} as const;

export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const CLIENT_SIDE_APPLY = 'kubectl-client-side-apply';

/** JSON with object keys sorted, as Go marshals the maps kubectl builds the annotation from. */
function sortedJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(sortedJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${sortedJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** kubectl apply's annotation: the manifest as given (its namespace filled in, this annotation left out), one line. */
function lastApplied(manifest: K8sObject, namespace: string | undefined): string {
  const annotations = { ...(manifest.metadata.annotations ?? {}) };
  delete annotations[LAST_APPLIED];
  const metadata = { ...manifest.metadata, annotations, ...(namespace ? { namespace } : {}) };
  return `${sortedJson({ ...manifest, metadata })}\n`;
}

/**
 * The object as `manager` writes it: for kubectl apply the annotation, and
 * the managedFields entry owning what the write changed once the object is
 * defaulted (`preview` is the store's dry run of the write).
 */
function authored(obj: K8sObject, manifest: K8sObject | undefined, previous: K8sObject | undefined, who: { manager: string; apiVersion: string }, now: number, preview: (o: K8sObject) => K8sObject): K8sObject {
  const { manager, apiVersion } = who;
  if (manifest && manager === CLIENT_SIDE_APPLY) {
    obj.metadata.annotations = { ...(obj.metadata.annotations ?? {}), [LAST_APPLIED]: lastApplied(manifest, obj.metadata.namespace) };
  }
  const defaulted = preview(structuredClone(obj));
  obj.metadata.managedFields = recordUpdate(previous, { ...defaulted, metadata: { ...defaulted.metadata, managedFields: obj.metadata.managedFields } }, { manager, operation: 'Update', apiVersion }, now);
  return obj;
}

export function applyStep(sb: Sandbox, step: ScenarioStep): void {
  const store = sb.store;
  const manager = step.fieldManager;
  const now = sb.clock.now();
  if (step.apply) {
    for (const m of step.apply as K8sObject[]) {
      const t = findKind(m.kind!, m.apiVersion)!;
      const ns = t.namespaced ? m.metadata.namespace ?? 'default' : undefined;
      const cur = store.get(t.storage, ns, m.metadata.name!);
      let obj = storedForm(structuredClone(m) as K8sObject);
      const write = (o: K8sObject, dryRun = false) => (cur
        ? store.update(t.storage, { ...o, metadata: { ...o.metadata, resourceVersion: cur.metadata.resourceVersion } }, { dryRun })
        : store.create(t.storage, o, { dryRun }));
      if (manager) obj = authored({ ...obj, metadata: { ...obj.metadata, ...(ns ? { namespace: ns } : {}) } }, m, cur, { manager, apiVersion: apiVersionOf(t) }, now, (o) => write(o, true));
      write(obj);
    }
  } else if (step.patch) {
    const p = step.patch;
    const t = findKind(p.kind, p.apiVersion)!;
    const ns = t.namespaced ? p.namespace ?? 'default' : undefined;
    const cur = store.get(t.storage, ns, p.name);
    if (!cur) throw new KubemendError(Errors.SCENARIO_INVALID, `scenario patch: ${p.kind} ${ns ? `${ns}/` : ''}${p.name} does not exist`);
    const patched = applyPatch(PATCH_TYPES[p.type], cur, p.patch);
    store.update(t.storage, manager ? authored(patched, undefined, cur, { manager, apiVersion: apiVersionOf(t) }, now, (o) => store.update(t.storage, o, { dryRun: true })) : patched);
  } else if (step.delete) {
    const d = step.delete;
    const t = findKind(d.kind, d.apiVersion)!;
    store.delete(t.storage, t.namespaced ? d.namespace ?? 'default' : undefined, d.name, { propagationPolicy: 'Background' });
  } else if (step.images) {
    for (const [ref, b] of Object.entries(step.images)) sb.images.set(ref, { ...b, logs: b.logs && [...b.logs], exitLogs: b.exitLogs && [...b.exitLogs] });
  } else if (step.kubeletDown) {
    sb.nodeHealth.markDown(step.kubeletDown.node, sb.clock.now() + step.kubeletDown.for);
  } else if (step.compactHistory) {
    store.compact();
  } else if (step.fault) {
    sb.faults.add({ ...step.fault });
  }
}
