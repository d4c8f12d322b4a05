// What `kubemend serve` serves, from a YAML file (kind ServerConfig) plus the
// environment. Secrets come only from the environment (SLACK_SIGNING_SECRET,
// SLACK_BOT_TOKEN, SLACK_APP_TOKEN, MATTERMOST_TOKEN, MATTERMOST_COMMAND_TOKEN, console tokens
// through `tokenEnv`) or as a hash (`tokenSha256`), so the file can be kept
// in git; the file holds who is who and which channel is which room.
import { z } from 'zod';
import { ConfigError, loadConfigFile, redactor } from '../common/index.ts';
import { PLATFORMS, type SlackAdapterOptions, type MattermostAdapterOptions, type ConsoleAdapterOptions, type ConsoleUser } from '../chat/index.ts';

// Unmapped and guest users act as `platform:id`; a mapped name that looked
// like one could be mistaken for (or match policy lines written for) them.
const SubjectName = z.string().min(1).refine((n) => !PLATFORMS.some((p) => n.startsWith(`${p}:`)), {
  message: `a policy subject name; ${PLATFORMS.map((p) => `${p}:`).join(', ')} are reserved for unmapped and guest users`,
});
const Identity = z.strictObject({ name: SubjectName, groups: z.array(z.string().min(1)).default([]) });
const Rooms = z.record(z.string().min(1), z.string().min(1)).default({});
/** Users are keyed by the platform's user id, which the platform assigns: never a name users pick. */
function usersById(id: RegExp, message: string) {
  return z.record(z.string(), Identity).superRefine((users, ctx) => {
    for (const key of Object.keys(users)) if (!id.test(key)) ctx.addIssue({ code: 'custom', path: [key], message });
  }).default({});
}
const SlackUsers = usersById(/^[UW][A-Z0-9]{2,}$/, 'a Slack user id (U… or W…: the profile\'s "Copy member ID"), not a name');
const MattermostUsers = usersById(/^[a-z0-9]{26}$/, 'a Mattermost user id (26 lowercase letters and digits: System Console → Users, or `mmctl user search NAME`), not a username: users choose their own usernames');
/** What an unmapped user may do: act as `platform:id` with only these groups. Without it, unmapped users are refused. */
const Guest = z.strictObject({ groups: z.array(z.string().min(1)).default([]) }).optional();

const ConsoleUserSchema = z.strictObject({
  name: SubjectName,
  groups: z.array(z.string().min(1)).default([]),
  /** SHA-256 (hex) of the user's access token: `printf %s TOKEN | sha256sum`. */
  tokenSha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'the SHA-256 of the token, 64 hex digits').optional(),
  /** Environment variable holding the user's access token. */
  tokenEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name').optional(),
}).refine((u) => Boolean(u.tokenSha256) !== Boolean(u.tokenEnv), { message: 'give exactly one of tokenSha256 or tokenEnv' });

export const ServerSpecSchema = z.strictObject({
  /** kubemend's URL as Slack/Mattermost reach it (Mattermost button callbacks); or $KUBEMEND_PUBLIC_URL. */
  publicUrl: z.url({ protocol: /^https?$/ }).optional(),
  console: z.strictObject({
    enabled: z.boolean().default(true),
    /** The room console users talk in, as the RBAC policy names it. */
    room: z.string().min(1).default('console'),
    /** Set when kubemend is reached over HTTPS. */
    secureCookie: z.boolean().default(false),
    users: z.array(ConsoleUserSchema).default([]),
  }).prefault({}),
  slack: z.strictObject({
    /**
     * Receive over Socket Mode (a WebSocket kubemend opens to Slack) instead of
     * HTTP requests: no public URL needed; SLACK_APP_TOKEN (xapp-) instead of
     * SLACK_SIGNING_SECRET, and the /slack/* routes are not served.
     */
    socketMode: z.boolean().default(false),
    /** Web API base URL (default https://slack.com/api/). */
    apiUrl: z.url({ protocol: /^https?$/ }).optional(),
    /** Slack channel id → room name (`C0123ABCD: ops`). */
    rooms: Rooms,
    /** Slack user id → name and groups for RBAC and impersonation. */
    users: SlackUsers,
    guest: Guest,
  }).prefault({}),
  mattermost: z.strictObject({
    /** The Mattermost server (or $MATTERMOST_URL). */
    url: z.url({ protocol: /^https?$/ }).optional(),
    rooms: Rooms,
    /** Mattermost user id → name and groups (by id: users choose their own usernames). */
    users: MattermostUsers,
    guest: Guest,
  }).prefault({}),
});

export type ServerSpec = z.output<typeof ServerSpecSchema>;

const ServerConfigSchema = z.strictObject({
  apiVersion: z.literal('kubemend.dev/v1alpha1', { error: 'apiVersion must be kubemend.dev/v1alpha1' }),
  kind: z.literal('ServerConfig', { error: 'kind must be ServerConfig' }),
  metadata: z.strictObject({ name: z.string().min(1) }).optional(),
  spec: ServerSpecSchema,
});

export function loadServerConfig(file: string | undefined): ServerSpec {
  if (!file) return ServerSpecSchema.parse({});
  const docs = loadConfigFile(file, ServerConfigSchema);
  if (docs.length !== 1) throw new ConfigError([{ file, line: 1, column: 1, path: '', message: `a server config file holds one ServerConfig document, found ${docs.length}` }]);
  return docs[0].value.spec;
}

export interface ResolvedAdapters {
  slack?: SlackAdapterOptions;
  mattermost?: MattermostAdapterOptions;
  console?: ConsoleAdapterOptions;
  /** Names of what is missing for a half-configured adapter. */
  problems: string[];
}

/** Adapter options from the spec and the environment; an adapter is on when its credentials are set. */
export function resolveAdapters(spec: ServerSpec, env: NodeJS.ProcessEnv, publicUrl?: string): ResolvedAdapters {
  const problems: string[] = [];
  const out: ResolvedAdapters = { problems };
  const signing = env.SLACK_SIGNING_SECRET;
  const bot = env.SLACK_BOT_TOKEN;
  const app = env.SLACK_APP_TOKEN;
  // Credentials read here are never shown: the process's redactor masks them in every text it sees.
  for (const v of [signing, bot, app, env.MATTERMOST_TOKEN, ...(env.MATTERMOST_COMMAND_TOKEN ?? '').split(',')]) redactor.addSecret(v?.trim());
  const slack = { botToken: bot!, slackApiUrl: spec.slack.apiUrl ?? env.SLACK_API_URL, rooms: spec.slack.rooms, users: spec.slack.users, guest: spec.slack.guest };
  if (spec.slack.socketMode) {
    // Socket Mode signs nothing: the app-level token opens the connection, so no signing secret is asked for.
    if (app && bot) out.slack = { ...slack, socketMode: true, appToken: app };
    else if (app || bot) problems.push(`Slack in Socket Mode needs both SLACK_APP_TOKEN and SLACK_BOT_TOKEN (only ${app ? 'SLACK_APP_TOKEN' : 'SLACK_BOT_TOKEN'} is set)`);
  } else if (signing && bot) {
    out.slack = { ...slack, signingSecret: signing };
  } else if (signing || bot) {
    problems.push(`Slack needs both SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN (only ${signing ? 'SLACK_SIGNING_SECRET' : 'SLACK_BOT_TOKEN'} is set)${app ? '; SLACK_APP_TOKEN is for Socket Mode (server.slack.socketMode: true)' : ''}`);
  } else if (app) {
    problems.push('SLACK_APP_TOKEN is set but server.slack.socketMode is not true: set it (and SLACK_BOT_TOKEN) to use Socket Mode');
  }
  const mmUrl = spec.mattermost.url ?? env.MATTERMOST_URL;
  const mmToken = env.MATTERMOST_TOKEN;
  if (mmUrl || mmToken) {
    const commandTokens = (env.MATTERMOST_COMMAND_TOKEN ?? '').split(',').map((t) => t.trim()).filter(Boolean);
    const url = publicUrl ?? spec.publicUrl ?? env.KUBEMEND_PUBLIC_URL;
    if (!mmUrl) problems.push('Mattermost needs MATTERMOST_URL (or mattermost.url in the server config)');
    if (!mmToken) problems.push('Mattermost needs MATTERMOST_TOKEN (a bot account\'s access token)');
    if (!commandTokens.length) problems.push('Mattermost needs MATTERMOST_COMMAND_TOKEN (the slash command or outgoing webhook token; several, comma-separated)');
    if (!url) problems.push('Mattermost needs kubemend\'s public URL for its buttons (--public-url, publicUrl or KUBEMEND_PUBLIC_URL)');
    if (mmUrl && mmToken && commandTokens.length && url) {
      out.mattermost = { serverUrl: mmUrl, botToken: mmToken, commandTokens, publicUrl: url, rooms: spec.mattermost.rooms, users: spec.mattermost.users, guest: spec.mattermost.guest };
    }
  }
  if (spec.console.enabled) {
    const users: ConsoleUser[] = [];
    for (const u of spec.console.users) {
      const token = u.tokenEnv ? env[u.tokenEnv] : undefined;
      redactor.addSecret(token);
      if (u.tokenEnv && !token) problems.push(`console user ${u.name}: $${u.tokenEnv} is not set`);
      else users.push({ name: u.name, groups: u.groups, token, tokenSha256: u.tokenSha256 });
    }
    // Behind a proxy the browser's Origin is the public URL, which the Host header may not be.
    const pub = publicUrl ?? spec.publicUrl ?? env.KUBEMEND_PUBLIC_URL;
    out.console = { users, room: spec.console.room, secureCookie: spec.console.secureCookie, origins: pub ? [new URL(pub).origin] : [] };
  }
  return out;
}
