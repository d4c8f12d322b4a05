// Deterministic JSON and the hashes controllers name their children by:
// pod-template-hash for a Deployment's ReplicaSets, and the
// ControllerRevision hashes of StatefulSets and DaemonSets.
import type { K8sObject } from '../types.ts';
import { canonicalJson } from '../canonical.ts';

export { canonicalJson };

const SAFE_ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/**
 * The core of controller.ComputeHash: FNV-1a (32 bit) of the UTF-8 text,
 * printed in decimal and mapped through rand.SafeEncodeString so the result
 * never spells words and is at most 10 characters, e.g. "7b9c6d5f4".
 */
function safeHash(text: string): string {
  let h = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  let out = '';
  for (const ch of String(h)) out += SAFE_ALPHANUMS[ch.charCodeAt(0) % SAFE_ALPHANUMS.length];
  return out;
}

/** controller.ComputeHash for a Deployment's pod template (the pod-template-hash label and ReplicaSet name suffix). */
export function podTemplateHash(template: unknown, collisionCount?: number): string {
  let text = canonicalJson(template);
  if (collisionCount !== undefined && collisionCount !== null) text += `#${collisionCount}`;
  return safeHash(text);
}

/** ControllerRevision hash of a StatefulSet's or DaemonSet's revision data plus its collision count. */
export function revisionHash(data: unknown, collisionCount = 0): string {
  return safeHash(canonicalJson(data) + (collisionCount ? String(collisionCount) : ''));
}

/** What a StatefulSet or DaemonSet stores in a ControllerRevision: its template, replacing the old one. */
export function revisionData(owner: K8sObject): any {
  return { spec: { template: { ...structuredClone(owner.spec?.template ?? {}), $patch: 'replace' } } };
}
