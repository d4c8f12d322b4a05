// Chat RBAC policies, from a casbin CSV file or a YAML file (kind
// ChatPolicy). Both become the same rules; every problem is reported as
// `file:line path: message` before anything is enforced, because a policy
// that half-loads is a policy that silently allows or denies the wrong thing.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, parseConfig, type ConfigProblem } from '../common/index.ts';

/**
 * What a chat user can be allowed to do. `approve` is approving someone else's
 * production request; `incidents` and `runs` read them (list, show);
 * `incident` acknowledges, assigns, notes and resolves; `abort` stops a run;
 * `audit` reads the audit log in the web console (its records, the chain's
 * verification and signed head, the export).
 * `silence` creates and expires silences (the web console).
 */
export const CHAT_ACTIONS = ['restart', 'rollback', 'promote', 'scale', 'status', 'approve', 'incidents', 'incident', 'runs', 'abort', 'audit', 'silence'] as const;
export type ChatAction = (typeof CHAT_ACTIONS)[number];

export interface PolicyRule {
  /** A user name, `group:<name>`, or `*`. */
  sub: string;
  cluster: string;
  namespace: string;
  /** Room (channel) pattern; a leading `#` is ignored. */
  room: string;
  /** A ChatAction or `*`. */
  action: string;
  effect: 'allow' | 'deny';
  /** Where it was written, for explanations: `file:line`. */
  source: string;
}

/** `g, alice, group:sre`: alice is a member of group sre. */
export interface GroupRule {
  member: string;
  group: string;
  source: string;
}

export interface Policy {
  rules: PolicyRule[];
  groups: GroupRule[];
}

export const GROUP_PREFIX = 'group:';

/** Group names are always compared with their `group:` prefix, so a user called "sre" is not the group sre. */
export const asGroup = (g: string) => (g.startsWith(GROUP_PREFIX) ? g : `${GROUP_PREFIX}${g}`);
/** Rooms are compared without a leading `#` (Slack shows it, ids do not have it). */
export const roomName = (r: string) => r.replace(/^#/, '');

/** Loads a policy file: `.csv` as casbin lines, `.yaml`/`.yml` as a ChatPolicy document. */
export function loadPolicyFile(file: string): Policy {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError([{ file, line: 0, column: 0, path: '', message: `cannot read policy file: ${(err as Error).message}` }]);
  }
  return /\.ya?ml$/i.test(file) ? parseYamlPolicy(file, text) : parseCsvPolicy(file, text);
}

/**
 * casbin's CSV format: `p, sub, cluster, namespace, room, action[, effect]`
 * and `g, member, group`. Lines starting with `#` are comments; fields may
 * be double-quoted. The effect defaults to allow.
 */
export function parseCsvPolicy(file: string, text: string): Policy {
  const problems: ConfigProblem[] = [];
  const policy: Policy = { rules: [], groups: [] };
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const trimmed = raw.trim();
    if (!trimmed || trimmed.startsWith('#')) return;
    const at = (message: string) => problems.push({ file, line, column: 1, path: '', message });
    const fields = splitCsv(trimmed);
    if (!fields) return at('unterminated quote');
    const [type, ...rest] = fields;
    const source = `${file}:${line}`;
    if (type === 'p') {
      if (rest.length < 5 || rest.length > 6) return at(`a "p" line has 5 or 6 fields after p (sub, cluster, namespace, room, action[, effect]), got ${rest.length}`);
      const [sub, cluster, namespace, room, action, effect = 'allow'] = rest;
      const err = checkRule({ sub, cluster, namespace, room, action, effect });
      if (err) return at(err);
      policy.rules.push({ sub, cluster, namespace, room: roomName(room), action, effect: effect as 'allow' | 'deny', source });
    } else if (type === 'g') {
      if (rest.length !== 2 || !rest[0] || !rest[1]) return at(`a "g" line is g, member, group; got ${rest.length} fields after g`);
      policy.groups.push({ member: rest[0], group: asGroup(rest[1]), source });
    } else {
      at(`a line starts with p (a permission) or g (a group membership), not "${type}"`);
    }
  });
  if (problems.length) throw new ConfigError(problems);
  return policy;
}

function splitCsv(line: string): string[] | undefined {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  let wasQuoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"' && !cur.trim()) {
      quoted = true;
      wasQuoted = true;
      cur = '';
    } else if (c === ',') {
      out.push(wasQuoted ? cur : cur.trim());
      cur = '';
      wasQuoted = false;
    } else if (!wasQuoted) cur += c;
  }
  if (quoted) return undefined;
  out.push(wasQuoted ? cur : cur.trim());
  return out;
}

function checkRule(r: Record<string, string>): string | undefined {
  for (const k of ['sub', 'cluster', 'namespace', 'room', 'action'] as const) if (!r[k]) return `${k} is empty (write * for any)`;
  if (r.action !== '*' && !(CHAT_ACTIONS as readonly string[]).includes(r.action)) return `unknown action "${r.action}"; use one of ${CHAT_ACTIONS.join(', ')} or *`;
  if (r.effect !== 'allow' && r.effect !== 'deny') return `effect is allow or deny, not "${r.effect}"`;
  return undefined;
}

const Patterns = z.array(z.string().min(1)).min(1).default(['*']);

const ChatPolicySchema = z.strictObject({
  apiVersion: z.literal('kubemend.dev/v1alpha1', { error: 'apiVersion must be kubemend.dev/v1alpha1' }),
  kind: z.literal('ChatPolicy', { error: 'kind must be ChatPolicy' }),
  metadata: z.strictObject({ name: z.string().min(1), description: z.string().optional() }).optional(),
  spec: z.strictObject({
    /** user → groups it belongs to (in addition to the groups the chat platform reports). */
    groups: z.record(z.string().min(1), z.array(z.string().min(1))).default({}),
    rules: z.array(z.strictObject({
      subjects: z.array(z.string().min(1)).min(1),
      clusters: Patterns,
      namespaces: Patterns,
      rooms: Patterns,
      actions: z.array(z.union([z.enum(CHAT_ACTIONS), z.literal('*')], { error: `use one of ${CHAT_ACTIONS.join(', ')} or *` })).min(1),
      effect: z.enum(['allow', 'deny']).default('allow'),
    })).default([]),
  }),
});

/** The YAML form: each rule lists subjects × clusters × namespaces × rooms × actions, expanded into casbin rules. */
export function parseYamlPolicy(file: string, text: string): Policy {
  const policy: Policy = { rules: [], groups: [] };
  for (const doc of parseConfig(file, text, ChatPolicySchema)) {
    for (const [member, groups] of Object.entries(doc.value.spec.groups)) {
      for (const g of groups) policy.groups.push({ member, group: asGroup(g), source: `${file}:${doc.line}` });
    }
    doc.value.spec.rules.forEach((r, i) => {
      const source = `${file}:${doc.line} spec.rules[${i}]`;
      for (const sub of r.subjects) for (const cluster of r.clusters) for (const namespace of r.namespaces) for (const room of r.rooms) for (const action of r.actions) {
        policy.rules.push({ sub, cluster, namespace, room: roomName(room), action, effect: r.effect, source });
      }
    });
  }
  return policy;
}
