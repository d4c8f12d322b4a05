// What flows through the rules path. A Signal is one thing that happened
// (an object change, an Event, an alert, a webhook call, a schedule tick, a
// rollout's smoke window reaching a phase);
// a Detection is what kubemend keeps about a failure worth acting on.
import type { KubeObject } from '../kube/index.ts';
import type { SmokeReport } from '../store/index.ts';

// Detections and silences are persisted records: they are defined with the
// Store (src/store/) so the layers below rules can keep them.
export type { Subject, DetectionStatus, Evidence, Detection, Silence, SmokeReport, SmokePhase, RolloutChange, Regression } from '../store/index.ts';

export type SignalSource = 'object' | 'event' | 'alert' | 'webhook' | 'schedule' | 'rollout';

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
  /** source rollout: the smoke window after a rollout (object is then the workload, as cached). */
  rollout?: SmokeReport;
  /** source schedule: which rule's schedule ticked. */
  schedule?: { rule: string };
  /** Resync of a relisted cache: not a live transition. */
  fromRelist?: boolean;
  /** Found by an informer's first LIST: it existed before kubemend (or a newly watched kind) started watching. */
  initial?: boolean;
  /** When the informer received the watch event (real time, latencyNow()): the start of the latency metrics. */
  seenAt?: number;
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
