// What the cache keeps of an object: managedFields and kubectl's
// last-applied-configuration can be most of an object's bytes and no rule
// needs them, so they are dropped before caching (client-go's TransformFunc).
import type { KubeObject } from './types.ts';

const BULKY_ANNOTATIONS = ['kubectl.kubernetes.io/last-applied-configuration'];

export function stripBulk(o: KubeObject): KubeObject {
  const meta = o.metadata ?? {};
  if (!meta.managedFields && !BULKY_ANNOTATIONS.some((a) => meta.annotations?.[a] !== undefined)) return o;
  const { managedFields: _drop, ...rest } = meta;
  let annotations = rest.annotations;
  if (annotations && BULKY_ANNOTATIONS.some((a) => a in annotations!)) {
    annotations = { ...annotations };
    for (const a of BULKY_ANNOTATIONS) delete annotations[a];
  }
  return { ...o, metadata: { ...rest, ...(annotations ? { annotations } : {}) } };
}
