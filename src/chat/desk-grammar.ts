// The grammar of the incident and run commands: `incidents`, `incident
// show|ack|assign|resolve|note`, `runs`, `run show|abort`. Ids may be given
// whole or as a unique prefix (replies show runs by their first 8
// characters), so they are checked for shape here and resolved by the
// handlers.
import { closest } from '../runbooks/index.ts';
import { GrammarError } from './grammar-error.ts';

export type IncidentVerb = 'show' | 'ack' | 'assign' | 'resolve' | 'note';
export type RunVerb = 'show' | 'abort';

export interface ListCommand {
  type: 'incidents' | 'runs';
  all: boolean;
}

export interface IncidentCommand {
  type: 'incident';
  verb: IncidentVerb;
  id: string;
  /** assign: the new owner, or `me`. */
  user?: string;
  /** resolve: why. */
  reason?: string;
  /** note: the text. */
  text?: string;
}

export interface RunCommand {
  type: 'run';
  verb: RunVerb;
  id: string;
  /** abort: why (optional, recorded). */
  reason?: string;
}

export type DeskCommand = ListCommand | IncidentCommand | RunCommand;

export const INCIDENT_USAGE: Record<IncidentVerb, string> = {
  show: 'incident show ID',
  ack: 'incident ack ID',
  assign: 'incident assign ID USER|me',
  resolve: 'incident resolve ID [--reason "WHY"]',
  note: 'incident note ID "TEXT"',
};

export const RUN_USAGE: Record<RunVerb, string> = {
  show: 'run show ID',
  abort: 'run abort ID [--reason "WHY"]',
};

/** One help line per subcommand (the help indents each). */
export const DESK_USAGE: Record<string, string> = {
  incidents: 'incidents [--all]',
  incident: Object.values(INCIDENT_USAGE).join('\n  '),
  runs: 'runs [--all]',
  run: Object.values(RUN_USAGE).join('\n  '),
};

/** Incident ids (inc-20260101-000150-3f2a9c) and run ids (UUIDs), or a prefix of one. */
const ID = /^[a-z0-9][a-z0-9-]{2,63}$/;
/** A policy subject: a user name as the RBAC policy writes it. */
const USER = /^[a-zA-Z0-9][a-zA-Z0-9._@-]{0,63}$/;

/** The command, or undefined when `verb` is not one of these. */
export function parseDesk(verb: string, rest: string[]): DeskCommand | undefined {
  if (verb === 'incidents' || verb === 'runs') return { type: verb, all: listFlags(verb, rest) };
  if (verb === 'incident') return parseIncident(rest);
  if (verb === 'run') return parseRun(rest);
  return undefined;
}

function listFlags(verb: string, rest: string[]): boolean {
  const usage = DESK_USAGE[verb];
  if (!rest.length) return false;
  if (rest.length === 1 && /^--?all$/i.test(rest[0])) return true;
  throw new GrammarError(`${verb} takes only --all, not "${rest.join(' ')}"`, usage);
}

function sub<V extends string>(noun: string, rest: string[], verbs: readonly V[], usage: Record<V, string>): { verb: V; id: string; args: string[] } {
  const all = verbs.map((v) => usage[v]).join('; ');
  const word = rest[0]?.toLowerCase();
  if (!word) throw new GrammarError(`${noun} needs what to do: ${verbs.join(', ')}`, all);
  if (!(verbs as readonly string[]).includes(word)) throw new GrammarError(`${noun} has no "${rest[0]}"${closest(word, [...verbs])}; use ${verbs.join(', ')}`, all);
  const verb = word as V;
  const id = rest[1]?.toLowerCase();
  if (!id) throw new GrammarError(`${noun} ${verb} needs the ${noun} id (or the start of it)`, usage[verb]);
  if (!ID.test(id)) throw new GrammarError(`"${rest[1]}" is not ${noun === 'incident' ? 'an incident' : 'a run'} id; ids are lower-case letters, digits and dashes (at least 3)`, usage[verb]);
  return { verb, id, args: rest.slice(2) };
}

/** `--reason WHY` (or `--reason=WHY`) and nothing else. */
function reasonOnly(args: string[], usage: string): string | undefined {
  if (!args.length) return undefined;
  const m = /^--reason(?:=(.*))?$/i.exec(args[0]);
  const value = m ? (m[1] ?? args[1]) : undefined;
  const used = m ? (m[1] !== undefined ? 1 : 2) : 0;
  if (!m) throw new GrammarError(`unexpected "${args.join(' ')}"; give a reason with --reason "…"`, usage);
  if (value === undefined || !value.trim()) throw new GrammarError('--reason needs a value', usage);
  if (args.length > used) throw new GrammarError(`unexpected "${args.slice(used).join(' ')}"; quote the reason: --reason "…"`, usage);
  return value;
}

function parseIncident(rest: string[]): IncidentCommand {
  const { verb, id, args } = sub('incident', rest, ['show', 'ack', 'assign', 'resolve', 'note'] as const, INCIDENT_USAGE);
  const usage = INCIDENT_USAGE[verb];
  switch (verb) {
    case 'show':
    case 'ack':
      if (args.length) throw new GrammarError(`incident ${verb} takes only the id, not "${args.join(' ')}"`, usage);
      return { type: 'incident', verb, id };
    case 'assign': {
      const [user, ...extra] = args;
      if (!user) throw new GrammarError('incident assign needs the person: a user name, or me', usage);
      if (!USER.test(user) || extra.length) throw new GrammarError(`"${args.join(' ')}" is not a user name (or me)`, usage);
      return { type: 'incident', verb, id, user: user.toLowerCase() === 'me' ? 'me' : user };
    }
    case 'resolve':
      return { type: 'incident', verb, id, reason: reasonOnly(args, usage) };
    case 'note': {
      const text = args.join(' ').trim();
      if (!text) throw new GrammarError('incident note needs the text, quoted: "what you saw or did"', usage);
      return { type: 'incident', verb, id, text };
    }
  }
}

function parseRun(rest: string[]): RunCommand {
  const { verb, id, args } = sub('run', rest, ['show', 'abort'] as const, RUN_USAGE);
  if (verb === 'show') {
    if (args.length) throw new GrammarError(`run show takes only the id, not "${args.join(' ')}"`, RUN_USAGE.show);
    return { type: 'run', verb, id };
  }
  return { type: 'run', verb, id, reason: reasonOnly(args, RUN_USAGE.abort) };
}
