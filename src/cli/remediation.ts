// `kubemend remediation pause|resume|status`: the global pause switch. It is
// an audit record, so every process sharing the store sees it, a restart
// keeps it, and the log says who pulled it and why.
import type { Command } from 'commander';
import { userInfo } from 'node:os';
import { openStore } from '../store/index.ts';
import { Budgets, PAUSED, RESUMED } from '../runbooks/index.ts';
import { storeOptions, type StoreFlags } from './options.ts';

interface Flags extends StoreFlags { reason?: string; author?: string }

export function registerRemediation(program: Command): void {
  const cmd = program.command('remediation').description('The global pause switch for automatic remediation');
  storeOptions(cmd.command('pause').description('Refuse new runs and stop in-flight runs before their next mutating step (they escalate)')
    .requiredOption('--reason <text>', 'why: an incident or change ticket')
    .option('--author <name>', 'who (default: your user name)'))
    .action((f: Flags) => toggle(PAUSED, f));
  storeOptions(cmd.command('resume').description('Allow remediation again')
    .requiredOption('--reason <text>', 'why')
    .option('--author <name>', 'who (default: your user name)'))
    .action((f: Flags) => toggle(RESUMED, f));
  storeOptions(cmd.command('status').description('Whether remediation is paused, by whom and why'))
    .action(async (f: Flags) => {
      const store = await openStore({ db: f.db, dataDir: f.dataDir });
      try {
        const p = await new Budgets(store).pauseState();
        process.stdout.write(p ? `paused by ${p.by}: ${p.reason}\n` : 'active\n');
      } finally {
        await store.close();
      }
    });
}

async function toggle(action: string, f: Flags): Promise<void> {
  const store = await openStore({ db: f.db, dataDir: f.dataDir });
  try {
    const by = f.author ?? userInfo().username;
    await store.audit.append({ actor: { type: 'user', name: by }, action, justification: f.reason, outcome: 'success' });
    process.stdout.write(`remediation ${action === PAUSED ? 'paused' : 'resumed'} by ${by}: ${f.reason}\n`);
  } finally {
    await store.close();
  }
}
