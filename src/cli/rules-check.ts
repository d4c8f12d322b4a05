// `kubemend rules check DIR`: validate rule files without running anything,
// for editors and CI. Problems go to stdout one per line as
// `file:line path: message`, the form editors and CI annotate from.
import type { Command } from 'commander';
import { ConfigError, formatProblem } from '../common/index.ts';
import { loadRules } from '../rules/index.ts';

export function registerRulesCheck(rulesCommand: Command): void {
  rulesCommand
    .command('check <dir>')
    .description('Validate rule files (schema, CEL, kinds, schedules, duplicate names); exit 1 listing every problem')
    .action((dir: string) => {
      try {
        const loaded = loadRules(dir);
        process.stdout.write(`ok: ${loaded.length} rule${loaded.length === 1 ? '' : 's'} in ${dir}\n`);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        for (const p of err.problems) process.stdout.write(`${formatProblem(p)}\n`);
        process.stderr.write(`${err.problems.length} problem${err.problems.length === 1 ? '' : 's'} in ${dir} (${err.code})\n`);
        process.exitCode = 1;
      }
    });
}
