// `kubemend demo`: until detection and remediation exist, the demo is the
// sandbox replaying the memory-cascade incident, with what to run against it.
import type { Command } from 'commander';
import { runSandbox } from './sandbox.ts';
import { parseSpeed } from './flags.ts';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('Show kubemend on a fresh machine: the sandbox replays the memory-cascade incident')
    .option('--speed <x>', 'virtual time speed', parseSpeed)
    .option('--exit-when-done', 'exit when the scenario has finished')
    .action(async (flags: { speed?: number; exitWhenDone?: boolean }) => {
      await runSandbox({ port: 0, host: '127.0.0.1', scenario: 'memory-cascade', speed: flags.speed, exitWhenDone: flags.exitWhenDone });
    });
}
