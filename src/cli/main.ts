// kubemend's command line. Each command lives in its own file; this one only
// wires them into commander and turns errors into exit codes.
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { KubemendError } from '../common/index.ts';
import { exitWhenFlushed, stopWithNpmParent, tolerateClosedPipes } from './lifecycle.ts';
type Register = (program: Command) => void;

// Commands load lazily: `kubemend audit verify` should not pay for loading
// the sandbox, the CEL environment and every action (start-up time matters
// for a CLI run in scripts and tests).
const COMMANDS: Record<string, () => Promise<Register>> = {
  sandbox: async () => (await import('./sandbox.ts')).registerSandbox,
  scenarios: async () => (await import('./scenarios.ts')).registerScenarios,
  rules: async () => (await import('./rules.ts')).registerRules,
  watch: async () => (await import('./watch.ts')).registerWatch,
  silence: async () => (await import('./silence.ts')).registerSilence,
  audit: async () => (await import('./audit.ts')).registerAudit,
  runbooks: async () => (await import('./runbooks-check.ts')).registerRunbooksCheck,
  run: async () => (await import('./run.ts')).registerRun,
  runs: async () => (await import('./runs.ts')).registerRuns,
  remediation: async () => (await import('./remediation.ts')).registerRemediation,
  demo: async () => (await import('./demo.ts')).registerDemo,
  incidents: async () => (await import('./incidents.ts')).registerIncidents,
  chat: async () => (await import('./chat.ts')).registerChat,
  serve: async () => (await import('./serve.ts')).registerServe,
};

/** The package's version: one place to bump it (the image and `--version` read it). */
export const VERSION: string = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;

/** The program with every command, only `command` when it is a known one, none for `--version`. */
export async function buildProgram(command?: string): Promise<Command> {
  const program = new Command('kubemend')
    .description('Keeps Kubernetes workloads healthy: watch, detect, remediate through audited runbooks.')
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride();
  const names = command && command in COMMANDS ? [command] : command === '--version' || command === '-V' ? [] : Object.keys(COMMANDS);
  for (const register of await Promise.all(names.map((n) => COMMANDS[n]()))) register(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await (await buildProgram(argv[2])).parseAsync(argv);
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode; // commander already printed it
    if (err instanceof KubemendError) {
      process.stderr.write(`error: ${err.render()}\n`);
      return 1;
    }
    process.stderr.write(`error: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}

/**
 * The process entry (bin/kubemend.js, `node src/cli/main.ts`): runs the
 * command, stopping it if the npm that launched it goes away, then exits once
 * its output is flushed (src/cli/lifecycle.ts).
 */
export async function runCli(argv: string[]): Promise<never> {
  tolerateClosedPipes();
  stopWithNpmParent();
  return exitWhenFlushed(await main(argv));
}

if (import.meta.main) await runCli(process.argv);
