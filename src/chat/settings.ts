// The chat bot's settings (a YAML file, kind ChatConfig): what is production,
// who approves, how long a request may wait, and what counts as a
// justification. Validated like every kubemend config: every problem as
// `file:line path: message`.
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { Duration, ConfigError, loadConfigFile } from '../common/index.ts';
import { wildcardMatch } from '../authz/index.ts';

const Regex = z.string().min(1).refine((s) => {
  try {
    new RegExp(s);
    return true;
  } catch {
    return false;
  }
}, { message: 'not a valid regular expression' });

const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name');

const Alertmanager = z.strictObject({
  /** The Alertmanager as its links show it (its --web.external-url), e.g. https://alertmanager.example.com. */
  url: z.url({ protocol: /^https?$/ }).refine((u) => !new URL(u).search && !new URL(u).hash && !new URL(u).username, 'the base URL only: no query, fragment or credentials'),
  /** Where kubemend reaches its API v2, when not at `url` (an in-cluster service). */
  apiUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** Environment variable holding a bearer token for the API. */
  bearerTokenEnv: EnvName.optional(),
  timeout: Duration.default(5_000),
});

export const ChatSettingsSchema = z.strictObject({
  /** The cluster a command without --cluster acts on. */
  defaultCluster: z.string().min(1).default('sandbox'),
  /** Where production is: clusters (every namespace) or namespaces of a cluster; patterns with * and ?. */
  production: z.array(z.strictObject({ cluster: z.string().min(1).default('*'), namespaces: z.array(z.string().min(1)).min(1).default(['*']) })).default([]),
  approval: z.strictObject({
    /** Members of these groups may approve production requests (never their own). */
    groups: z.array(z.string().min(1)).min(1).default(['sre-leads']),
    /** How long (cluster time) a production request waits for an approver. */
    timeout: Duration.default(30 * 60_000),
    /** Also post approval requests in this room. */
    room: z.string().min(1).optional(),
  }).prefault({}),
  /** How long a request waits for its justification or confirmation before it expires. */
  conversationTimeout: Duration.default(10 * 60_000),
  /**
   * How long a confirmed request waits for an automatic run that holds its
   * target to stop after its current step (pre-emption) before it gives up.
   */
  preemptTimeout: Duration.default(2 * 60_000),
  justification: z.strictObject({
    /**
     * Alertmanagers whose alert links justify actions: a link must be on one
     * of them and name an alert its API says is firing (or ended within
     * recentWindow). None configured: no URL justifies anything.
     */
    alertmanagers: z.array(Alertmanager).default([]),
    /** Replaced by alertmanagers: a host alone cannot tell a real alert from a made-up link. */
    alertHosts: z.never({ error: 'alertHosts was replaced by alertmanagers: [{ url: https://HOST }]: alert links are now checked through the Alertmanager API, not by their host' }).optional(),
    /** An alert that ended, or a detection that resolved, at most this long ago still justifies. */
    recentWindow: Duration.default(60 * 60_000),
    /** Ticket keys (e.g. OPS-123). */
    ticketPattern: Regex.default('^[A-Z][A-Z0-9]+-\\d+$'),
    jira: z.strictObject({
      url: z.url({ protocol: /^https?$/ }),
      /** A ticket justifies an action only in one of these statuses (case-insensitive). */
      allowedStatuses: z.array(z.string().min(1)).min(1).default(['Approved']),
      /** Environment variable holding a Jira personal access token (Bearer), or the API token for basic auth with userEnv. */
      tokenEnv: z.string().min(1).optional(),
      /** Environment variable holding the Jira user (Jira Cloud: e-mail) for basic auth. */
      userEnv: z.string().min(1).optional(),
      timeout: Duration.default(5_000),
      /** Comment on the ticket when the action it justified ends: who, what, why, the outcome, the run and audit ids. */
      comment: z.boolean().default(true),
      /** After a successful action, move the ticket through this transition (by its name, or the status it leads to), e.g. Done. */
      transitionOnSuccess: z.string().min(1).optional(),
      /** REST API for writing: 2 (Data Center / Server: wiki markup) or 3 (Cloud: Atlassian Document Format). Default: 3 with userEnv (Cloud's basic auth), else 2. */
      apiVersion: z.union([z.literal(2), z.literal(3)]).optional(),
      /** Retries of a comment or transition that failed on the network, 5xx or 429 (after its Retry-After), with back-off doubling from minBackoff to maxBackoff. */
      retries: z.number().int().min(0).max(20).default(5),
      minBackoff: Duration.default(1_000),
      maxBackoff: Duration.default(60_000),
    }).optional(),
    /** Ticket statuses known without a tracker (trying the bot on the sandbox); a tracker, when configured, wins. */
    tickets: z.record(z.string(), z.string()).default({}),
    /**
     * Also ask for a justification before `status` (read-only). On by default:
     * every chat action, status included, carries a justification.
     */
    forStatus: z.boolean().default(true),
    /** The shortest reason accepted, in characters. */
    minReasonLength: z.number().int().min(1).default(8),
  }).prefault({}),
  /** The highest replica count `scale` accepts. */
  maxReplicas: z.number().int().min(1).default(100),
  /** The RBAC policy file (CSV or YAML), relative to this file. */
  policy: z.string().min(1).optional(),
  /** Names the bot answers to when mentioned first (@kubemend). */
  botNames: z.array(z.string().min(1)).default(['kubemend']),
});

export type ChatSettings = z.output<typeof ChatSettingsSchema>;
export type ChatSettingsInput = z.input<typeof ChatSettingsSchema>;

const ChatConfigSchema = z.strictObject({
  apiVersion: z.literal('kubemend.dev/v1alpha1', { error: 'apiVersion must be kubemend.dev/v1alpha1' }),
  kind: z.literal('ChatConfig', { error: 'kind must be ChatConfig' }),
  metadata: z.strictObject({ name: z.string().min(1) }).optional(),
  spec: ChatSettingsSchema,
});

/** Settings with defaults filled (tests and the sandbox trial build them in code). */
export function chatSettings(input: ChatSettingsInput = {}): ChatSettings {
  return ChatSettingsSchema.parse(input);
}

/** Loads a ChatConfig file; `policy` comes back resolved against the file's directory. */
export function loadChatConfig(file: string): ChatSettings {
  const docs = loadConfigFile(file, ChatConfigSchema);
  if (docs.length !== 1) throw new ConfigError([{ file, line: 1, column: 1, path: '', message: `a chat config file holds one ChatConfig document, found ${docs.length}` }]);
  const spec = docs[0].value.spec;
  return { ...spec, policy: spec.policy && resolve(dirname(file), spec.policy) };
}

export function isProduction(s: ChatSettings, cluster: string, namespace: string): boolean {
  return s.production.some((p) => wildcardMatch(cluster, p.cluster) && p.namespaces.some((n) => wildcardMatch(namespace, n)));
}
