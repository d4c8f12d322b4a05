// What the incident tracker remembers and what a post-mortem is made of.
// Everything an incident needs that the store does not already hold (the
// change feed, the Warning events and state changes, where pods ran, the
// guardrail findings) is copied into IncidentRecord.data, so a post-mortem
// can be drafted later by a process that never saw the informers.
import type { KubeObject } from '../kube/index.ts';

/** A reference to a Kubernetes object, as the timeline and findings name it. */
export interface ObjectRef {
  kind: string;
  namespace?: string;
  name: string;
}

/** Objects of a kind from the informer caches; undefined when the kind is not watched (so "none" and "unknown" differ). */
export type CacheLookup = (cluster: string, kind: string, namespace?: string) => KubeObject[] | undefined;

export type ChangeCategory = 'lifecycle' | 'image' | 'replicas' | 'resources' | 'scaling' | 'schedulability' | 'config' | 'template' | 'guardrail';

/** One meaningful change to an object, from the informers' old/new pair. */
export interface ChangeEntry {
  seq: number;
  time: number;
  cluster: string;
  object: ObjectRef;
  operation: 'create' | 'update' | 'delete';
  category: ChangeCategory;
  /** One line a person reads: "image shop/checkout:1.4.2 → shop/checkout:1.5.0 (container checkout)". */
  summary: string;
  /** Changed paths; values are left out where they could be sensitive (ConfigMap data, env). */
  changes: { path: string; old?: unknown; new?: unknown }[];
  /** Who, when the object says (kubernetes.io/change-cause); kubemend's own changes are attributed from the audit log later. */
  by?: string;
  /** The writer, from the object's managedFields and, when the API server sends its audit log, the user. */
  author?: ChangeAuthor;
  /** The author is not an expected manager (changes.expectedManagers): the change was made outside the pipeline. */
  outsidePipeline?: boolean;
}

/** Who made a change, as the API server recorded it. */
export interface ChangeAuthor {
  /** The field manager: kubectl-edit, kubectl-client-side-apply, helm, kube-controller-manager … */
  manager: string;
  operation?: 'Apply' | 'Update';
  /** When the API server stamped the write (managedFields are to the second; an audit event is exact). */
  time: number;
  /** scale, when the write went through a subresource. */
  subresource?: string;
  /** The authenticated user, from the API server's audit webhook. */
  user?: string;
  /** The user `user` impersonated. */
  impersonated?: string;
  /** Where the manager came from: the object's managedFields, or (deletions, writers that do not stamp) the audit event. */
  from: 'managedFields' | 'audit';
}

/** A Warning event (aggregated over its repeats) or a state transition seen on an object. */
export interface Observation {
  time: number;
  lastTime: number;
  count: number;
  cluster: string;
  source: 'event' | 'state';
  /** Event reason, or the state reached ("MemoryPressure", "NotReady", "OOMKilled"). */
  reason: string;
  object: ObjectRef;
  message: string;
  /** The pod's node and workload at the time, when the object is a pod. */
  node?: string;
  workload?: string;
}

/** Where a pod ran and what it belongs to, kept after the pod is gone. */
export interface Placement {
  pod: string;
  namespace: string;
  node?: string;
  /** "Deployment/ns/name" (or the pod itself when unowned). */
  workload: string;
  monitoring: boolean;
  firstSeen: number;
  deletedAt?: number;
  /** The pod was deleted while its node was involved, or by an eviction event. */
  evicted?: boolean;
}

export type DetectionRole = 'trigger' | 'impact' | 'guardrail';

/** The part of a detection an incident keeps (the engine mutates detections; this is a snapshot). */
export interface DetectionRef {
  id: string;
  rule: string;
  subject: ObjectRef;
  severity: 'info' | 'warning' | 'critical';
  summary: string;
  firstSeen: number;
  lastSeen: number;
  count: number;
  status: string;
  /** Why it belongs to the incident: the relation that linked it ("node:node-1", "workload:Deployment/reports/report-worker", "opened"). */
  joinedVia: string;
  joinedAt: number;
  /** Event reasons in its evidence, to tell which signals it covered. */
  reasons: string[];
}

export interface GuardrailFinding {
  id: 'no-memory-limit' | 'no-limitrange' | 'monitoring-colocated' | 'monitoring-evicted' | 'no-pdb' | 'single-replica';
  severity: 'high' | 'medium' | 'low';
  title: string;
  /** The workloads, namespaces or pods it is about. */
  subjects: string[];
  detail: string;
  fix: { text: string; yaml: string };
  /** Subjects for which it held when the incident began but was fixed during it (by kubemend or a person). */
  fixedDuring?: string[];
}

/** What kubemend could not check, and why (a kind the informers do not watch). */
export interface GuardrailSkip {
  id: GuardrailFinding['id'];
  reason: string;
}

/** IncidentRecord.data as the tracker writes it. */
export interface IncidentData {
  version: 1;
  lastActivityAt: number;
  /** Relation keys: node:…, workload:…, ns:…, object:…. */
  entities: string[];
  detections: DetectionRef[];
  changes: ChangeEntry[];
  observations: Observation[];
  placements: Placement[];
  guardrails: GuardrailFinding[];
  guardrailsSkipped: GuardrailSkip[];
  mergedInto?: string;
  resolvedBecause?: string;
}
