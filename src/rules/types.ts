// What flows through the rules path. A Signal is one thing that happened
// (an object change, an Event, an alert, a webhook call, a schedule tick);
// a Detection is what kubemend keeps about a failure worth acting on.
import type { KubeObject } from '../kube/types.ts';

export interface Subject {
  cluster: string;
  kind: string;
  namespace?: string;
  name: string;
  uid?: string;
}

export type SignalSource = 'object' | 'event' | 'alert' | 'webhook' | 'schedule';

export interface Signal {
  source: SignalSource;
  cluster: string;
  /** Cluster time (ms) when it was observed. */
  time: number;
  /** source object: the change type. */
  operation?: 'create' | 'update' | 'delete';
  object?: KubeObject;
  oldObject?: KubeObject;
  /** source event: the core/v1 Event (object is then the Event too). */
  event?: KubeObject;
  /** source alert: one Alertmanager alert {status, labels, annotations, startsAt, endsAt, generatorURL, fingerprint}. */
  alert?: AlertPayload;
  /** source webhook: the name and JSON body. */
  webhook?: { name: string; body: unknown; headers?: Record<string, string> };
  /** source schedule: which rule's schedule ticked. */
  schedule?: { rule: string };
  /** Resync of a relisted cache: not a live transition. */
  fromRelist?: boolean;
}

export interface AlertPayload {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
  generatorURL?: string;
  fingerprint?: string;
}

export type DetectionStatus = 'pending' | 'open' | 'resolved' | 'silenced';

export interface Evidence {
  time: number;
  /** 'change': a diff of the object; 'event': a core/v1 Event; 'alert'; 'webhook'. */
  type: 'change' | 'event' | 'alert' | 'webhook' | 'state';
  summary: string;
  /** For changes: the paths that changed, old → new. */
  diff?: { path: string; old: unknown; new: unknown }[];
  event?: { reason: string; message: string; type: string; count: number; involvedObject: string };
}

export interface Detection {
  id: string;
  rule: string;
  cluster: string;
  subject: Subject;
  fingerprint: string;
  severity: 'info' | 'warning' | 'critical';
  summary: string;
  labels: Record<string, string>;
  firstSeen: number;
  lastSeen: number;
  /** How many times the rule fired for this fingerprint while open (repeats increment it). */
  count: number;
  status: DetectionStatus;
  /** The silence that matched, when status is silenced. */
  silencedBy?: string;
  /** Why a notification or action was withheld, when it was. */
  suppressed?: 'group-window' | 'rate-limit' | 'silenced';
  evidence: Evidence[];
  notifications: number;
  action?: { runbook?: string; params?: Record<string, unknown>; notify?: { channel: string } };
}

export interface Silence {
  id: string;
  /** Label matchers on the detection's labels: `name=value`, `name!=value`, `name=~regex`, `name!~regex`. */
  matchers: { name: string; op: '=' | '!=' | '=~' | '!~'; value: string }[];
  startsAt: number;
  endsAt: number;
  createdBy: string;
  comment: string;
  /** Set once the silence has ended: who expired it, or "time" when its end passed (so the expiry is audited once). */
  expiredBy?: string;
}
