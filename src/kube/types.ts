// Kubernetes objects as plain JSON, as the API server sends them.

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
    /** In the informers' caches: the compact form (ManagedFieldsEntry), see transform.ts. */
    managedFields?: unknown[];
    [k: string]: unknown;
  };
  [k: string]: any;
}

/** One writer of an object, as the informers' caches keep metadata.managedFields (no field sets). */
export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  /** RFC 3339, to the second, as the API server stamps it. */
  time?: string;
  /** status, scale …; absent for writes of the object itself. */
  subresource?: string;
}
