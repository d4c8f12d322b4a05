// kubemend's command line. Each command lives in its own file; this one only
// wires them into commander and turns errors into exit codes.
import { Command, CommanderError } from 'commander';
import { KubemendError } from '../common/errors.ts';
import { registerSandbox } from './sandbox.ts';
import { registerScenarios } from './scenarios.ts';
import { registerDemo } from './demo.ts';
import { registerRules } from './rules.ts';
import { registerWatch } from './watch.ts';
import { registerSilence } from './silence.ts';
import { registerAudit } from './audit.ts';
import { registerRunbooksCheck } from './runbooks-check.ts';
import { registerRun } from './run.ts';
import { registerRuns } from './runs.ts';

export function buildProgram(): Command {
  const program = new Command('kubemend')
    .description('Keeps Kubernetes workloads healthy: watch, detect, remediate through audited runbooks.')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  registerSandbox(program);
  registerScenarios(program);
  registerRules(program);
  registerWatch(program);
  registerSilence(program);
  registerAudit(program);
  registerRunbooksCheck(program);
  registerRun(program);
  registerRuns(program);
  registerDemo(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
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

if (import.meta.main) {
  const code = await main(process.argv);
  if (code !== 0) process.exitCode = code;
}
