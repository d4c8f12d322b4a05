// What a container's command does, for the commands people run in pods:
// `sleep 3600`, `sh -c "echo hi; sleep 5; exit 3"`, `true`, `while true; do
// date; sleep 10; done`. A command is compiled into a program of timed steps
// (write a log line, sleep, exit) that the kubelet model plays in cluster
// time. Anything outside this small model (a server binary, a script file, a
// pipe) is not interpreted: the container keeps its image's behaviour.
// The model is documented in src/sandbox/README.md ("Container commands").
import { Compiler, Unmodelled, basename } from './command-compiler.ts';

export type Op =
  | { out: string }
  /** `date`: the virtual time when it runs. */
  | { date: true }
  /** Milliseconds; Infinity sleeps until the container is stopped. */
  | { sleep: number }
  | { exit: number };

export interface Program {
  ops: Op[];
  /** Ops from this index on repeat for ever (a `while true` loop). */
  loop?: number;
  /** Exit status when the ops run out. */
  status: number;
}

export type CommandOutcome =
  | { kind: 'image' }
  | { kind: 'program'; program: Program }
  | { kind: 'startError'; message: string };

const SHELLS = new Set(['sh', 'bash', 'ash', 'dash', 'zsh']);
/** Shell builtins with no executable of their name: as a container's command the runtime cannot start them. */
const BUILTIN_ONLY = new Set(['exit', 'cd', 'export', 'set', 'source', '.', ':', 'trap', 'exec', 'unset', 'return', 'eval', 'shift']);

export interface CommandInput {
  command?: string[];
  args?: string[];
  /** Literal env values (`value:`), for `$(VAR)` in command/args and `$VAR` in scripts. */
  env?: Record<string, string>;
  hostname: string;
}

export function interpretCommand(input: CommandInput): CommandOutcome {
  const { command, args } = input;
  if (!command?.length && !args?.length) return { kind: 'image' };
  const env = { HOSTNAME: input.hostname, HOME: '/root', ...input.env };
  // Without a command, args go to the image's entrypoint; the official images'
  // entrypoints run a command they are given, and images without one run it directly.
  const argv = [...(command ?? []), ...(args ?? [])].map((a) => expandKubeVars(a, env));
  const name = basename(argv[0]);
  if (BUILTIN_ONLY.has(name)) {
    return {
      kind: 'startError',
      message: `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: exec: "${argv[0]}": executable file not found in $PATH: unknown`,
    };
  }
  try {
    const c = new Compiler(env, input.hostname);
    if (SHELLS.has(name)) c.shell(argv.slice(1));
    else c.simple(argv);
    return { kind: 'program', program: c.finish() };
  } catch (e) {
    if (e instanceof Unmodelled) return { kind: 'image' };
    throw e;
  }
}

/** The kubelet's `$(VAR)` expansion of command and args; `$$(VAR)` stays `$(VAR)`, unknown names stay as written. */
export function expandKubeVars(s: string, env: Record<string, string>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, v: string | undefined) => (m === '$$' ? '$' : v !== undefined && v in env ? env[v] : m));
}

