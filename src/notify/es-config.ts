// spec.trace.elasticsearch of the service config: where the audit log is
// shipped (docs/trace.md). Secrets are never in the file, only the names of
// the environment variables holding them; resolveEsAuth reads them once at
// start-up so a missing one fails there, with KM-TRACE-005, not at 3 a.m.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { Duration, Errors, KubemendError } from '../common/index.ts';

const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name');
/** Credentials in a URL would end up in log lines; they belong in the *Env variables. */
const HttpUrl = z.url({ protocol: /^https?$/ }).refine((u) => { const p = new URL(u); return !p.username && !p.password; }, { message: 'no credentials in the URL: use apiKeyEnv, or usernameEnv and passwordEnv' });

/**
 * Elasticsearch's index name rules (lowercase; none of \ / * ? " < > | , # : or
 * space; not starting with - _ +), which data stream names share; ".ds-" is
 * the backing indices' prefix and refused for a stream.
 */
const DataStreamName = z.string().max(255).regex(/^[a-z0-9][a-z0-9._+-]*$/, 'a data stream name: lowercase letters, digits and . _ + -, e.g. logs-kubemend.audit-default')
  .refine((n) => !n.startsWith('.ds-'), { message: 'must not start with .ds- (the prefix of backing indices)' });

export const ElasticsearchTraceSchema = z.strictObject({
  /** Ship (true) or leave the config in place but stop shipping (false). */
  enabled: z.boolean().default(true),
  /** What answers at the URLs; OpenSearch maps the free-form `kubemend.data` as flat_object instead of flattened. */
  flavor: z.enum(['elasticsearch', 'opensearch']).default('elasticsearch'),
  /** One node's URL, or several: a request that cannot reach one tries the next. */
  url: HttpUrl.optional(),
  urls: z.array(HttpUrl).min(1).optional(),
  /** type-dataset-namespace, as Elastic names data streams; the logs-*-* form gets the built-in ILM/retention views in Kibana. */
  dataStream: DataStreamName.default('logs-kubemend.audit-default'),
  /** PUT the index template at start (needs manage_index_templates); false: an administrator installs it. */
  manageTemplate: z.boolean().default(true),
  /** The index template's name (default: the data stream's). */
  templateName: z.string().min(1).max(255).regex(/^[^\s/\\*?"<>|,#:]+$/, 'an index template name').optional(),
  /** Above the built-in logs-*-* template's 100, so this mapping wins for the stream. */
  templatePriority: z.number().int().min(101).default(200),
  /** Variable holding an API key in its encoded form (base64 of id:key), sent as `Authorization: ApiKey …`. */
  apiKeyEnv: EnvName.optional(),
  /** Variables holding a user and password, sent as HTTP basic auth. */
  usernameEnv: EnvName.optional(),
  passwordEnv: EnvName.optional(),
  /** PEM file of the CA that signed the cluster's certificate (default: the system's CAs). */
  caFile: z.string().min(1).optional(),
  /** Records per _bulk request, and a cap on its body size in bytes. */
  batchSize: z.number().int().min(1).max(10_000).default(500),
  batchBytes: z.number().int().min(4096).max(100 * 1024 * 1024).default(5 * 1024 * 1024),
  /** How often the audit log is polled for new records when there is no backlog. */
  flushInterval: Duration.default(5_000),
  /** Longest wait between retries of a failing cluster (exponential back-off with jitter up to this). */
  maxBackoff: Duration.default(60_000),
  /** How long one HTTP request may take before it is abandoned and retried. */
  requestTimeout: Duration.default(30_000),
}).superRefine((c, ctx) => {
  if (!c.url && !c.urls) ctx.addIssue({ code: 'custom', path: ['urls'], message: 'name the cluster: url or urls' });
  if (c.url && c.urls) ctx.addIssue({ code: 'custom', path: ['url'], message: 'give url or urls, not both' });
  if (c.apiKeyEnv && (c.usernameEnv || c.passwordEnv)) ctx.addIssue({ code: 'custom', path: ['apiKeyEnv'], message: 'use an API key or a username and password, not both' });
  if (Boolean(c.usernameEnv) !== Boolean(c.passwordEnv)) ctx.addIssue({ code: 'custom', path: [c.usernameEnv ? 'passwordEnv' : 'usernameEnv'], message: 'basic auth needs both usernameEnv and passwordEnv' });
});

export type ElasticsearchTraceInput = z.input<typeof ElasticsearchTraceSchema>;
export type ElasticsearchTraceConfig = z.output<typeof ElasticsearchTraceSchema>;

/** The config with defaults filled, from a plain object (tests, programmatic use); throws zod's error on a bad one. */
export function elasticsearchTrace(input: ElasticsearchTraceInput): ElasticsearchTraceConfig {
  return ElasticsearchTraceSchema.parse(input);
}

/** What the HTTP client needs, resolved from the environment once. */
export interface EsConnection {
  urls: string[];
  /** The Authorization header's value, or undefined for none. Never logged. */
  authorization?: string;
  /** PEM text of the CA file. */
  ca?: string;
  timeoutMs: number;
}

export function resolveEsConnection(c: ElasticsearchTraceConfig, env: NodeJS.ProcessEnv = process.env): EsConnection {
  const missing: string[] = [];
  const read = (name: string | undefined) => {
    if (!name) return undefined;
    const v = env[name];
    if (!v) missing.push(name);
    return v;
  };
  let authorization: string | undefined;
  if (c.apiKeyEnv) {
    const key = read(c.apiKeyEnv);
    if (key) authorization = `ApiKey ${key.trim()}`;
  } else if (c.usernameEnv) {
    const user = read(c.usernameEnv);
    const pass = read(c.passwordEnv);
    if (user && pass) authorization = `Basic ${Buffer.from(`${user}:${pass}`, 'utf8').toString('base64')}`;
  }
  if (missing.length) {
    throw new KubemendError(Errors.TRACE_CONFIG, `trace.elasticsearch: the environment variable${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not set`);
  }
  let ca: string | undefined;
  if (c.caFile) {
    try {
      ca = readFileSync(c.caFile, 'utf8');
    } catch (err) {
      throw new KubemendError(Errors.TRACE_CONFIG, `trace.elasticsearch.caFile ${c.caFile} cannot be read: ${(err as Error).message}`, { cause: err });
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new KubemendError(Errors.TRACE_CONFIG, `trace.elasticsearch.caFile ${c.caFile} holds no PEM certificate`);
  }
  const urls = (c.urls ?? [c.url as string]).map((u) => u.replace(/\/+$/, ''));
  return { urls, authorization, ca, timeoutMs: c.requestTimeout };
}
