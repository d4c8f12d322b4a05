// The chat command grammar. Every mistake gets a message that says what was
// wrong and the usage line of the command meant, so an engineer mid-incident
// fixes the command on the first retry instead of reading docs. Nothing is
// assumed: the namespace is always explicit (never "default").
import { closest } from '../runbooks/index.ts';
import { GrammarError } from './grammar-error.ts';
import { DESK_USAGE, parseDesk, type DeskCommand } from './desk-grammar.ts';

export const WORKLOAD_ACTIONS = ['restart', 'rollback', 'promote', 'scale', 'status'] as const;
export type WorkloadAction = (typeof WORKLOAD_ACTIONS)[number];
export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';

export interface ActionCommand {
  type: 'action';
  action: WorkloadAction;
  kind: WorkloadKind;
  name: string;
  namespace: string;
  cluster?: string;
  replicas?: number;
  toRevision?: number;
  fromNamespace?: string;
  fromCluster?: string;
  /** promote: go ahead from an unhealthy source once an approver other than the requester approves. */
  force?: boolean;
  reason?: string;
  link?: string;
}

export interface DecisionCommand {
  type: 'confirm' | 'cancel' | 'approve' | 'deny';
  id: string;
  comment?: string;
}

export interface JustifyCommand {
  type: 'justify';
  id: string;
  reason?: string;
  link?: string;
}

export interface HelpCommand {
  type: 'help';
  topic?: string;
}

export type Command = ActionCommand | DecisionCommand | JustifyCommand | HelpCommand | DeskCommand;
export type Parsed = { ok: true; command: Command } | { ok: false; error: string; usage: string };

const JUSTIFY = '--reason "WHY" --link ALERT-URL|det:ID|TICKET';

export const USAGE: Record<string, string> = {
  restart: `restart deployment|statefulset|daemonset/NAME -n NAMESPACE [--cluster CLUSTER] ${JUSTIFY}`,
  rollback: `rollback deployment/NAME -n NAMESPACE [--to-revision N] [--cluster CLUSTER] ${JUSTIFY}`,
  promote: `promote deployment|statefulset|daemonset/NAME -n NAMESPACE --from SOURCE-NAMESPACE [--from-cluster CLUSTER] [--cluster CLUSTER] [--force] ${JUSTIFY}`,
  scale: `scale deployment|statefulset/NAME -n NAMESPACE --replicas N [--cluster CLUSTER] ${JUSTIFY}`,
  // Status asks for a justification unless justification.forStatus is off (helpText drops it then).
  status: `status deployment|statefulset|daemonset/NAME -n NAMESPACE [--cluster CLUSTER] ${JUSTIFY}`,
  justify: 'justify ID --reason "WHY" --link ALERT-URL|det:ID|TICKET',
  confirm: 'confirm ID',
  cancel: 'cancel ID',
  approve: 'approve ID [comment]',
  deny: 'deny ID [reason]',
  ...DESK_USAGE,
  help: 'help [COMMAND]',
};

export const COMMANDS = Object.keys(USAGE);

const KINDS: Record<string, WorkloadKind> = {
  deployment: 'Deployment', deployments: 'Deployment', deploy: 'Deployment',
  statefulset: 'StatefulSet', statefulsets: 'StatefulSet', sts: 'StatefulSet',
  daemonset: 'DaemonSet', daemonsets: 'DaemonSet', ds: 'DaemonSet',
};

const KINDS_FOR: Record<WorkloadAction, WorkloadKind[]> = {
  restart: ['Deployment', 'StatefulSet', 'DaemonSet'],
  rollback: ['Deployment'],
  promote: ['Deployment', 'StatefulSet', 'DaemonSet'],
  scale: ['Deployment', 'StatefulSet'],
  status: ['Deployment', 'StatefulSet', 'DaemonSet'],
};

type FlagName = 'namespace' | 'cluster' | 'replicas' | 'to-revision' | 'from' | 'from-cluster' | 'force' | 'reason' | 'link';
/** Flags that take no value. */
const SWITCHES: FlagName[] = ['force'];
const FLAGS_FOR: Record<WorkloadAction, FlagName[]> = {
  restart: ['namespace', 'cluster', 'reason', 'link'],
  rollback: ['namespace', 'cluster', 'to-revision', 'reason', 'link'],
  promote: ['namespace', 'cluster', 'from', 'from-cluster', 'force', 'reason', 'link'],
  scale: ['namespace', 'cluster', 'replicas', 'reason', 'link'],
  status: ['namespace', 'cluster', 'reason', 'link'],
};
const ALIASES: Record<string, FlagName> = { n: 'namespace', ns: 'namespace', context: 'cluster', revision: 'to-revision', 'from-namespace': 'from' };

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
export const REQUEST_ID = /^[a-z0-9]{6}$/;


/** Splits like a shell: "double", 'single' and chat clients' “smart” quotes group words; Slack's <url|label> becomes the url. */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  const quotes: Record<string, string> = { '"': '"', "'": "'", '“': '”', '‘': '’', '„': '“' };
  let cur: string | undefined;
  let close: string | undefined;
  for (const c of text) {
    if (close) {
      if (c === close || (close === '”' && c === '"')) close = undefined;
      else cur += c;
    } else if (quotes[c] && (cur === undefined || cur.endsWith('='))) {
      close = quotes[c];
      cur ??= '';
    } else if (/\s/.test(c)) {
      if (cur !== undefined) out.push(cur);
      cur = undefined;
    } else cur = (cur ?? '') + c;
  }
  if (close) throw new GrammarError(`a quote is not closed (${text.slice(-20)})`, 'quote text with "…"');
  if (cur !== undefined) out.push(cur);
  return out.map((t) => t.replace(/^<((?:https?|mailto):[^|>]+)(?:\|[^>]*)?>$/, '$1'));
}

/** Drops a leading mention of the bot: `@kubemend`, `kubemend:`, Slack's `<@U123>`. */
function dropMention(tokens: string[], botNames: string[]): string[] {
  const first = tokens[0]?.toLowerCase().replace(/[:,]$/, '');
  if (first === undefined) return tokens;
  if (/^<@[a-z0-9]+(\|[^>]*)?>$/i.test(first) || botNames.some((b) => first === `@${b}` || first === b)) return tokens.slice(1);
  return tokens;
}

export function parseCommand(text: string, opts: { botNames?: string[] } = {}): Parsed {
  try {
    return { ok: true, command: parse(dropMention(tokenize(text.trim()), (opts.botNames ?? ['kubemend']).map((b) => b.toLowerCase()))) };
  } catch (err) {
    if (err instanceof GrammarError) return { ok: false, error: err.message, usage: err.usage };
    throw err;
  }
}

function parse(tokens: string[]): Command {
  if (!tokens.length) return { type: 'help' };
  const verb = tokens[0].toLowerCase();
  const rest = tokens.slice(1);
  if (verb === 'help' || verb === '?' || verb === '--help') return { type: 'help', topic: rest[0]?.toLowerCase() };
  if ((WORKLOAD_ACTIONS as readonly string[]).includes(verb)) return parseAction(verb as WorkloadAction, rest);
  if (verb === 'undo') return parseAction('rollback', rest);
  if (verb === 'confirm' || verb === 'cancel') return { type: verb, id: requestId(verb, rest, true) };
  if (verb === 'approve' || verb === 'deny') return { type: verb, id: requestId(verb, rest, false), comment: rest.slice(1).join(' ') || undefined };
  if (verb === 'justify') return parseJustify(rest);
  const desk = parseDesk(verb, rest);
  if (desk) return desk;
  throw new GrammarError(`unknown command "${tokens[0]}"${closest(verb, COMMANDS)}`, `commands: ${COMMANDS.join(', ')}; "help COMMAND" shows one`);
}

function requestId(verb: string, rest: string[], alone: boolean): string {
  const id = rest[0]?.toLowerCase();
  if (!id) throw new GrammarError(`${verb} needs the request id (6 letters and digits, shown when the request was made)`, USAGE[verb]);
  if (!REQUEST_ID.test(id)) throw new GrammarError(`"${rest[0]}" is not a request id; ids are 6 lower-case letters and digits, like 3f2a9c`, USAGE[verb]);
  if (alone && rest.length > 1) throw new GrammarError(`${verb} takes only the request id, not "${rest.slice(1).join(' ')}"`, USAGE[verb]);
  return id;
}

function parseJustify(rest: string[]): JustifyCommand {
  const id = requestId('justify', rest, false);
  const words: string[] = [];
  let reason: string | undefined;
  let link: string | undefined;
  for (let i = 1; i < rest.length; i++) {
    const [flag, inline] = splitFlag(rest[i]);
    if (flag === 'reason' || flag === 'link') {
      const v = inline ?? rest[++i];
      if (v === undefined || v.startsWith('--')) throw new GrammarError(`--${flag} needs a value`, USAGE.justify);
      if (flag === 'reason') reason = v;
      else link = v;
    } else if (flag) throw new GrammarError(`justify takes --reason and --link, not --${flag}`, USAGE.justify);
    else words.push(rest[i]);
  }
  if (words.length) reason = [reason, ...words].filter(Boolean).join(' ');
  return { type: 'justify', id, reason, link };
}

function splitFlag(tok: string): [FlagName | string | undefined, string | undefined] {
  const m = /^--?([a-z][a-z-]*)(?:=(.*))?$/i.exec(tok);
  if (!m || /^-\d/.test(tok)) return [undefined, undefined];
  const name = m[1].toLowerCase();
  return [ALIASES[name] ?? name, m[2]];
}

function parseAction(action: WorkloadAction, rest: string[]): ActionCommand {
  const usage = USAGE[action];
  const allowed = FLAGS_FOR[action];
  const values = new Map<FlagName, string>();
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const [flag, inline] = splitFlag(rest[i]);
    if (!flag) {
      positional.push(rest[i]);
      continue;
    }
    if (!(allowed as string[]).includes(flag)) {
      throw new GrammarError(`${action} has no flag --${flag}${closest(flag, allowed.map((f) => f))}`, usage);
    }
    if (values.has(flag as FlagName)) throw new GrammarError(`--${flag} is given twice`, usage);
    if (SWITCHES.includes(flag as FlagName)) {
      if (inline !== undefined) throw new GrammarError(`--${flag} takes no value`, usage);
      values.set(flag as FlagName, 'true');
      continue;
    }
    const v = inline ?? rest[++i];
    if (v === undefined || (v.startsWith('-') && !/^-\d/.test(v))) throw new GrammarError(`--${flag} needs a value`, usage);
    values.set(flag as FlagName, v);
  }
  const { kind, name } = target(action, positional, usage);
  const namespace = values.get('namespace');
  if (!namespace) throw new GrammarError(`say which namespace with -n NAMESPACE (kubemend never assumes "default")`, usage);
  if (!DNS_LABEL.test(namespace) || namespace.length > 63) throw new GrammarError(`"${namespace}" is not a namespace name (lower-case letters, digits and dashes)`, usage);
  const cmd: ActionCommand = { type: 'action', action, kind, name, namespace };
  const cluster = values.get('cluster');
  if (cluster !== undefined) cmd.cluster = cluster;
  if (action === 'scale') {
    const r = values.get('replicas');
    if (r === undefined) throw new GrammarError('scale needs --replicas N', usage);
    cmd.replicas = integer('--replicas', r, 0, usage);
  }
  if (action === 'rollback' && values.has('to-revision')) cmd.toRevision = integer('--to-revision', values.get('to-revision')!, 1, usage);
  if (action === 'promote') {
    const from = values.get('from');
    const fromCluster = values.get('from-cluster');
    if (!from && !fromCluster) throw new GrammarError('promote needs the source: --from NAMESPACE (and/or --from-cluster CLUSTER)', usage);
    if (from && !DNS_LABEL.test(from)) throw new GrammarError(`"${from}" is not a namespace name`, usage);
    if (from) cmd.fromNamespace = from;
    if (fromCluster) cmd.fromCluster = fromCluster;
    if (values.has('force')) cmd.force = true;
    if ((from ?? namespace) === namespace && (fromCluster ?? cluster) === cluster) throw new GrammarError('promote copies images from another namespace or cluster; the source is the target itself', usage);
  }
  if (values.has('reason')) cmd.reason = values.get('reason');
  if (values.has('link')) cmd.link = values.get('link');
  return cmd;
}

function target(action: WorkloadAction, positional: string[], usage: string): { kind: WorkloadKind; name: string } {
  let kindWord: string | undefined;
  let name: string | undefined;
  const [first, second, ...extra] = positional;
  if (first?.includes('/')) {
    [kindWord, name] = first.split('/', 2);
    if (second !== undefined) extra.unshift(second);
  } else {
    kindWord = first;
    name = second;
  }
  if (!kindWord) throw new GrammarError(`${action} needs a workload, like ${action} deployment/web -n shop`, usage);
  if (extra.length) throw new GrammarError(`unexpected "${extra.join(' ')}"; quote text that has spaces (--reason "…")`, usage);
  const kind = KINDS[kindWord.toLowerCase()];
  const kinds = KINDS_FOR[action];
  const names = kinds.map((k) => k.toLowerCase()).join(', ');
  if (!kind) throw new GrammarError(`${action} works on ${names}, not "${kindWord}"`, usage);
  if (!kinds.includes(kind)) throw new GrammarError(`${action} works on ${names}, not ${kind.toLowerCase()}`, usage);
  if (!name) throw new GrammarError(`which ${kind.toLowerCase()}? write ${kind.toLowerCase()}/NAME`, usage);
  if (!DNS_SUBDOMAIN.test(name) || name.length > 253) throw new GrammarError(`"${name}" is not a valid ${kind.toLowerCase()} name (lower-case letters, digits, dashes and dots)`, usage);
  return { kind, name };
}

function integer(flag: string, v: string, min: number, usage: string): number {
  if (!/^\d+$/.test(v)) throw new GrammarError(`${flag} takes a whole number, not "${v}"`, usage);
  const n = Number(v);
  if (n < min || !Number.isSafeInteger(n)) throw new GrammarError(`${flag} must be at least ${min}`, usage);
  return n;
}

const STATUS_UNJUSTIFIED = 'status deployment|statefulset|daemonset/NAME -n NAMESPACE [--cluster CLUSTER]';

const NOTES: Record<string, string> = {
  justify: 'answer a request that asks why',
  confirm: 'go ahead with your request',
  cancel: 'drop your request',
  approve: 'approvers, for production',
  deny: 'approvers, for production',
  incidents: 'incidents under way (--all: every one)',
  runs: 'runbook runs under way (--all: the recent ones)',
  help: 'the usage of one command',
};

export interface HelpOptions {
  /** Whether `status` asks for a justification (settings justification.forStatus; on unless configured off). */
  statusNeedsJustification?: boolean;
}

/** A command's usage line as the settings make it: what to type so nothing more is asked. */
export function usageOf(command: string, o: HelpOptions = {}): string | undefined {
  return command === 'status' && o.statusNeedsJustification === false ? STATUS_UNJUSTIFIED : USAGE[command];
}

/** The help text: every command's usage line (a note after " — "), or one command's usage. */
export function helpText(topic?: string, o: HelpOptions = {}): string {
  if (topic && USAGE[topic]) return `usage: ${usageOf(topic, o)}`;
  const lines = [
    'kubemend chat commands (the workload is kind/name; -n is required):',
    ...COMMANDS.map((c) => `  ${usageOf(c, o)}${NOTES[c] ? ` — ${NOTES[c]}` : ''}`),
    'A justification is a reason plus a link: a firing alert on a configured Alertmanager (its alert list filtered by alertname), a detection (det:ID) or an approved ticket (e.g. OPS-123).',
  ];
  if (topic) lines.unshift(`no command "${topic}"${closest(topic, COMMANDS)}`);
  return lines.join('\n');
}
