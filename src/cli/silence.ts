// `kubemend silence add|list|expire`: silences live in the store (SQLite in
// the data directory, or PostgreSQL), every change is audited, and every
// running kubemend picks changes up within its sync interval. A silenced
// detection is still recorded (status silenced), never dropped.
import type { Command } from 'commander';
import { userInfo } from 'node:os';
import { realClock } from '../common/index.ts';
import { formatMatcher, silenceState } from '../rules/index.ts';
import { openStore } from '../store/index.ts';
import { createSilence, expireSilence } from '../pipeline/index.ts';
import { collect, jsonOption, storeOptions, type StoreFlags } from './options.ts';

const out = (l: string) => process.stdout.write(`${l}\n`);

export function registerSilence(program: Command): void {
  const cmd = program.command('silence').description('Silence detections by label matchers for a time window');
  storeOptions(cmd
    .command('add')
    .description('Create a silence, e.g. --matcher namespace=shop --matcher rule=~"crash.*" --duration 2h --comment "deploy in progress"')
    .requiredOption('--matcher <m>', 'label matcher name=value, name!=value, name=~regex or name!~regex (repeatable); labels: rule, cluster, namespace, kind, name, severity and rule labels', collect)
    .option('--duration <d>', 'how long, e.g. 30m or 2h', '1h')
    .option('--starts <time>', 'start time (RFC 3339); default now')
    .requiredOption('--comment <text>', 'why: a ticket or alert link and a reason')
    .option('--author <name>', 'who is silencing (default: your user name)'))
    .action(async (f: StoreFlags & { matcher: string[]; duration: string; starts?: string; comment: string; author?: string }) => {
      const store = await openStore({ db: f.db, dataDir: f.dataDir });
      try {
        const s = await createSilence(store, realClock, { matchers: f.matcher, duration: f.duration, startsAt: f.starts, comment: f.comment, createdBy: f.author ?? userInfo().username });
        out(`silence ${s.id} until ${new Date(s.endsAt).toISOString()}: ${s.matchers.map(formatMatcher).join(', ')}`);
      } finally {
        await store.close();
      }
    });
  storeOptions(jsonOption(cmd
    .command('list')
    .description('List silences (pending, active, recently expired)')))
    .action(async (f: StoreFlags & { json?: boolean }) => {
      const store = await openStore({ db: f.db, dataDir: f.dataDir });
      try {
        const now = realClock.now();
        // As in Alertmanager, expired silences stay listed for five days.
        const all = (await store.listSilences()).filter((s) => s.endsAt > now - 5 * 86_400_000);
        if (f.json) {
          out(JSON.stringify(all, null, 2));
          return;
        }
        const by = Math.max(2, ...all.map((s) => s.createdBy.length));
        out(`${'ID'.padEnd(36)}  STATE    ${'ENDS'.padEnd(24)}  ${'BY'.padEnd(by)}  MATCHERS / COMMENT`);
        for (const s of all) out(`${s.id}  ${silenceState(s, now).padEnd(7)}  ${new Date(s.endsAt).toISOString().padEnd(24)}  ${s.createdBy.padEnd(by)}  ${s.matchers.map(formatMatcher).join(', ')} — ${s.comment}`);
      } finally {
        await store.close();
      }
    });
  storeOptions(cmd
    .command('expire <id>')
    .description('End a silence now')
    .option('--author <name>', 'who ends it (default: your user name)'))
    .action(async (id: string, f: StoreFlags & { author?: string }) => {
      const store = await openStore({ db: f.db, dataDir: f.dataDir });
      try {
        if (!(await expireSilence(store, realClock, id, { type: 'user', name: f.author ?? userInfo().username }))) {
          process.stderr.write(`error: no pending or active silence ${id} (see kubemend silence list)\n`);
          process.exitCode = 1;
          return;
        }
        out(`silence ${id} expired`);
      } finally {
        await store.close();
      }
    });
}
