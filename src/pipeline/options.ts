// What a pipeline is built from (pipeline.ts): the clusters, the rules, the
// store, and which sinks and services are on. Every command fills these in;
// nothing else assembles the data path.
import type { ConsoleLinks, Clock } from '../common/index.ts';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Store, IncidentRecord } from '../store/index.ts';
import type { LoadedRule } from '../rules/index.ts';
import type { IncidentChange } from '../incidents/index.ts';
import type { ChatSettings, TicketChecker } from '../chat/index.ts';
import type { Authorizer } from '../authz/index.ts';
import type { NotifyEvent } from '../notify/index.ts';
import type { RemediationSettings } from './remediation.ts';
import type { Sink } from './sink.ts';
import type { LeaderElectionOptions } from './leadership.ts';

export interface ClusterConn {
  /** What detections, runs and policies call the cluster (the kubeconfig context name). */
  name: string;
  kubeconfig: KubeConfig;
  /** Resolves once the cluster's writes so far are durable (the sandbox's state file); real API servers need none. */
  durable?: () => Promise<void>;
}

export interface PipelineOptions {
  clock: Clock;
  clusters: ClusterConn[];
  rules: LoadedRule[];
  /** Needed by the recorder, remediation, incidents and silences. */
  store?: Store;
  /** Store and audit every detection change (default: when a store is given). */
  record?: boolean;
  /** Start runbooks for detections whose rule names one (default: off). */
  remediation?: RemediationSettings | false;
  /** Correlate detections into incidents (default: off). */
  incidents?: false | {
    windowMs?: number;
    resolveAfterMs?: number;
    onIncident?: (i: IncidentRecord, change: IncidentChange) => void;
    /** The GitOps/CI field managers; changes by others are flagged outside the pipeline (default DEFAULT_EXPECTED_MANAGERS). */
    expectedManagers?: readonly string[];
    /** Keep the API server's audit events (fed by the server's audit webhook route) to name the user behind each change. */
    kubeAudit?: { toleranceMs?: number; capacity?: number; retentionMs?: number };
  };
  /** Accept Alertmanager and generic webhook signals (the HTTP side is server/'s). */
  webhooks?: false | { clusterLabel?: string };
  /** Tick `source: schedule` rules (default true). */
  schedules?: boolean;
  /** Smoke windows after rollouts, for `source: rollout` rules: the window when no annotation sets one (default 5m; 0: none). */
  smoke?: { windowMs?: number };
  /** Follow the store's silences, re-read every `intervalMs` (default: on when a store is given, 5s). */
  silences?: false | { intervalMs?: number };
  /** The chat bot on this pipeline's executor (its runbooks are added; approvals are decided in chat). */
  chat?: { settings: ChatSettings; authorizer: Authorizer; tickets?: TicketChecker; env?: NodeJS.ProcessEnv; links?: ConsoleLinks };
  /**
   * Namespaces marked production for the rules' production(), besides the
   * Namespace labels (docs/rules.md); default: the chat settings' production
   * list when chat is on, else labels only.
   */
  production?: (cluster: string, namespace: string) => boolean;
  /**
   * Where notification events go (the routes and outbox of src/notify/):
   * incidents' state changes, runs and their steps, approvals, escalations,
   * runbook notify steps. Only the leader emits them.
   */
  notify?: { emit(e: NotifyEvent): unknown; links?: ConsoleLinks };
  /** More sinks (printer, notifiers, collectors), after the built-in ones; every replica's get every call. */
  sinks?: Sink[];
  /**
   * High availability: replicas elect a leader on a Lease in the first (or
   * the named) cluster; only the leader's recorder, remediation and incident
   * sinks act, and only it drives runs (leadership.ts). Needs a store.
   */
  leaderElection?: LeaderElectionOptions;
  /**
   * Cache whole objects, not only the fields the rules and the other readers
   * read (cache-fields.ts): every field shows in a change's evidence, at
   * about 2.5× the memory per pod. Default false.
   */
  cacheWholeObjects?: boolean;
  /** Warnings and progress for operators. */
  log?: (line: string) => void;
}
