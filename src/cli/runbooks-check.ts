// `kubemend runbooks check DIR`: validate runbook files without running
// anything, for editors and CI. Problems go to stdout one per line as
// `file:line path: message`, the form editors and CI annotate from.
import type { Command } from 'commander';
import { ConfigError, formatProblem } from '../common/index.ts';
import { loadRunbooks, type Action } from '../runbooks/index.ts';

export function registerRunbooksCheck(program: Command): void {
  const runbooks = program.commands.find((c) => c.name() === 'runbooks') ?? program.command('runbooks').description('Validate remediation runbooks');
  runbooks
    .command('check <dir>')
    .description('Validate runbook files (schema, step graph, templates, when, actions and their parameters, duplicate names); exit 1 listing every problem')
    .action(async (dir: string) => {
      const actions = await actionRegistry();
      try {
        const loaded = loadRunbooks(dir, actions ? { actions } : {});
        process.stdout.write(`ok: ${loaded.length} runbook${loaded.length === 1 ? '' : 's'} in ${dir}\n`);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        for (const p of err.problems) process.stdout.write(`${formatProblem(p)}\n`);
        process.stderr.write(`${err.problems.length} problem${err.problems.length === 1 ? '' : 's'} in ${dir} (${err.code})\n`);
        process.exitCode = 1;
      }
    });
}

/** The action registry, so action names and static parameters are checked too. */
async function actionRegistry(): Promise<ReadonlyMap<string, Action>> {
  const mod = (await import('../runbooks/index.ts')) as { ACTIONS: ReadonlyMap<string, Action> };
  return mod.ACTIONS;
}
