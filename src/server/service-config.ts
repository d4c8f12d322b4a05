// The service's one configuration file (kind: Config): clusters, rules and
// runbooks, RBAC policy, chat, the HTTP server and its adapters, webhooks,
// remediation budgets, incidents and the store. Validated once with every
// problem as `file:line path: message`, defaults filled, paths resolved
// against the file's directory, then frozen. Secrets are never in the file:
// only the names of environment variables that hold them.
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError, deepFreeze, loadConfigFile, Duration } from '../common/index.ts';
import { ChatSettingsSchema, type ChatSettings } from '../chat/index.ts';
import { DEFAULT_EXPECTED_MANAGERS } from '../incidents/index.ts';
import { NotificationsSchema } from '../notify/index.ts';
import { ServerSpecSchema } from './serve-config.ts';
import { WebhooksConfigSchema } from './webhook-config.ts';
import { LeaderElectionSchema } from './leader-config.ts';
import { ElasticsearchTraceSchema } from '../notify/index.ts';

const Listen = z.string().regex(/^(?:\[[^\]]+\]|[^:]*):\d{1,5}$/, 'HOST:PORT, e.g. 0.0.0.0:8080 (port 0 picks a free one)');
const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name');

export const ServiceSpecSchema = z.strictObject({
  clusters: z.strictObject({
    /** kubeconfig file (default $KUBECONFIG or ~/.kube/config). */
    kubeconfig: z.string().min(1).optional(),
    /** Contexts to watch and act on; each becomes a cluster named after it (default: the current context). */
    contexts: z.array(z.string().min(1)).default([]),
  }).prefault({}),
  /** Directory (or file) of rules; default the shipped rules/. */
  rules: z.string().min(1).optional(),
  /** Directory (or file) of runbooks; default the shipped runbooks/. */
  runbooks: z.string().min(1).optional(),
  /** The chat RBAC policy (CSV or YAML); default config/chat-policy.csv. */
  policy: z.string().min(1).optional(),
  /** The chat bot's settings (as in a ChatConfig's spec, without policy). */
  chat: ChatSettingsSchema.omit({ policy: true }).prefault({}),
  /** The HTTP server: where it listens, the console, Slack and Mattermost. */
  server: ServerSpecSchema.extend({
    listen: Listen.default('127.0.0.1:8080'),
    /** Log level of the server's request log (pino). */
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('warn'),
  }).prefault({}),
  webhooks: WebhooksConfigSchema.prefault({}),
  remediation: z.strictObject({
    /** Start runbooks for detections (false: detect, record and chat only). */
    enabled: z.boolean().default(true),
    dryRun: z.boolean().default(false),
    /** Where escalations go (a chat room); default each runbook's own. */
    escalationChannel: z.string().min(1).optional(),
  }).prefault({}),
  budgets: z.strictObject({
    /** Mutating actions allowed per target per hour. */
    actionsPerTargetPerHour: z.number().int().min(0).default(5),
    concurrentPerNamespace: z.number().int().min(1).default(2),
    concurrentPerCluster: z.number().int().min(1).default(5),
    /** Failed or escalated runs of one runbook on one target before kubemend stops trying and escalates. */
    failuresBeforeEscalate: z.number().int().min(1).default(3),
    failureWindow: Duration.default(24 * 3_600_000),
    /** Wait this long after a run ends before acting again on a still-firing detection. */
    coolDown: Duration.default(60_000),
  }).prefault({}),
  smoke: z.strictObject({
    /**
     * The smoke window after every rollout (rules with source: rollout) when neither the
     * workload nor its namespace has the kubemend.dev/smoke-window annotation; 0 or off: none.
     */
    window: z.union([z.literal('off'), Duration]).transform((v) => (v === 'off' ? 0 : v)).default(5 * 60_000),
  }).prefault({}),
  incidents: z.strictObject({
    enabled: z.boolean().default(true),
    /** A detection joins an open incident whose last activity is at most this long ago. */
    window: Duration.default(15 * 60_000),
    /** Quiet time after which an incident resolves. */
    resolveAfter: Duration.default(30 * 60_000),
  }).prefault({}),
  changes: z.strictObject({
    /**
     * The field managers of the GitOps/CI path (`*` matches any run of characters);
     * a change by any other writer is flagged "made outside the pipeline".
     * Kubernetes' own components and kubemend are always expected.
     */
    expectedManagers: z.array(z.string().min(1).max(128).regex(/^[\x21-\x7e]+$/, 'a field manager name: printable, no spaces')).default([...DEFAULT_EXPECTED_MANAGERS]),
    /** How far apart a change and the API server's audit event of it may be (clock skew, watch and batch delays). */
    auditTolerance: Duration.default(5_000),
  }).prefault({}),
  store: z.strictObject({
    /** postgres://… or a SQLite file; prefer dbEnv for URLs with passwords. */
    db: z.string().min(1).optional(),
    /** Environment variable holding the database URL. */
    dbEnv: EnvName.optional(),
    /** Data directory (SQLite file, audit signing key); default $KUBEMEND_HOME or ~/.kubemend. */
    dataDir: z.string().min(1).optional(),
    /** The audit signing key (Ed25519 PEM), e.g. a Secret mounted read-only; default $KUBEMEND_AUDIT_KEY, else <dataDir>/audit-key.pem. */
    auditKeyFile: z.string().min(1).optional(),
    /** The key must be provided: refuse to start (KM-AUDIT-002) instead of generating one. Default $KUBEMEND_AUDIT_REQUIRE_KEY. */
    requireAuditKey: z.boolean().optional(),
    /** Where every signed audit head is also written, outside the database (docs/audit.md, "Witnesses"). */
    auditWitness: z.strictObject({
      /** An append-only JSON Lines file, on storage the database's users cannot write. */
      file: z.string().min(1).optional(),
      /** NAMESPACE/NAME of a ConfigMap only kubemend may update. */
      configMap: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'NAMESPACE/NAME, e.g. kubemend-audit/audit-witness').optional(),
      /** The kubeconfig context of the ConfigMap's cluster (default: the first of clusters.contexts, else the current one). */
      context: z.string().min(1).optional(),
      /** At most one write per witness per interval (default: the file after every append, the ConfigMap every 10s). */
      interval: Duration.optional(),
    }).refine((w) => w.file || w.configMap, { message: 'name a file, a configMap, or both' }).optional(),
  }).refine((s) => !(s.db && s.dbEnv), { message: 'give db or dbEnv, not both' }).prefault({}),
  cel: z.strictObject({
    /** Largest estimated cost a rule expression or runbook template may have; costlier ones are refused at load (docs/rules.md, "Cost"). */
    budget: z.number().int().positive().default(100_000),
    /** Cost one evaluation may spend over real data before it is abandoned. */
    runtimeLimit: z.number().int().positive().default(1_000_000),
  }).prefault({}),
  silences: z.strictObject({
    /** How often the store's silences are re-read. */
    syncInterval: Duration.default(5_000),
  }).prefault({}),
  /** Where notifications go: routes, receivers, time intervals, delivery limits (docs/notifications.md); absent: none are sent. */
  notifications: NotificationsSchema.optional(),
  /** Replicas elect a leader on a Lease; only the leader acts (docs/ha.md). */
  leaderElection: LeaderElectionSchema.prefault({}),
  /** Where the audit log is also shipped (docs/trace.md). */
  trace: z.strictObject({
    elasticsearch: ElasticsearchTraceSchema.optional(),
  }).prefault({}),
  reload: z.strictObject({
    /** Apply changes to rules, runbooks, policy and this file without a restart. */
    enabled: z.boolean().default(true),
    /** How often the files are checked (a ConfigMap mount changes by a symlink swap, which polling always sees). */
    interval: Duration.default(2_000),
  }).prefault({}),
});

const ServiceConfigSchema = z.strictObject({
  apiVersion: z.literal('kubemend.dev/v1alpha1', { error: 'apiVersion must be kubemend.dev/v1alpha1' }),
  kind: z.literal('Config', { error: 'kind must be Config' }),
  metadata: z.strictObject({ name: z.string().min(1) }).optional(),
  spec: ServiceSpecSchema,
});

export type ServiceSpec = z.output<typeof ServiceSpecSchema>;

export interface ServiceConfig extends Omit<ServiceSpec, 'rules' | 'runbooks' | 'policy'> {
  rules: string;
  runbooks: string;
  policy: string;
  /** The file it came from (undefined: defaults). */
  file?: string;
  /** Chat settings with the resolved policy path. */
  chatSettings: ChatSettings;
}

/** Loads, validates, resolves paths and freezes; undefined `file` gives every default. */
export function loadServiceConfig(file: string | undefined, defaults: { rules: string; runbooks: string; policy: string }): ServiceConfig {
  let spec: ServiceSpec;
  if (file) {
    const docs = loadConfigFile(file, ServiceConfigSchema);
    if (docs.length !== 1) throw new ConfigError([{ file, line: 1, column: 1, path: '', message: `a config file holds one Config document, found ${docs.length}` }]);
    spec = docs[0].value.spec;
  } else {
    spec = ServiceSpecSchema.parse({});
  }
  const base = file ? dirname(resolve(file)) : process.cwd();
  const at = (p: string | undefined) => (p === undefined ? undefined : p === '~' || p.startsWith('~/') ? join(homedir(), p.slice(1)) : resolve(base, p));
  const policy = at(spec.policy) ?? defaults.policy;
  return deepFreeze({
    ...spec,
    file: file && resolve(file),
    clusters: { ...spec.clusters, kubeconfig: at(spec.clusters.kubeconfig) },
    rules: at(spec.rules) ?? defaults.rules,
    runbooks: at(spec.runbooks) ?? defaults.runbooks,
    policy,
    store: {
      ...spec.store,
      dataDir: at(spec.store.dataDir),
      auditKeyFile: at(spec.store.auditKeyFile),
      auditWitness: spec.store.auditWitness && { ...spec.store.auditWitness, file: at(spec.store.auditWitness.file) },
    },
    trace: { ...spec.trace, elasticsearch: spec.trace.elasticsearch && { ...spec.trace.elasticsearch, caFile: at(spec.trace.elasticsearch.caFile) } },
    chatSettings: { ...spec.chat, policy },
  });
}
