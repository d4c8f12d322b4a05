// `kubemend silence add|list|expire`: silences live in the data directory
// and a running `kubemend watch` picks up changes at once. A silenced
// detection is still recorded (status silenced), never dropped.
import type { Command } from 'commander';
import { userInfo } from 'node:os';
import { realClock } from '../common/clock.ts';
import { Silences, formatMatcher, silenceState } from '../rules/stages/index.ts';
import { readSilences, silencesPath, writeSilences } from '../rules/silence-file.ts';
import { collect, dataDirOption, jsonOption } from './options.ts';

export function registerSilence(program: Command): void {
  const cmd = program.command('silence').description('Silence detections by label matchers for a time window');
  dataDirOption(cmd
    .command('add')
    .description('Create a silence, e.g. --matcher namespace=shop --matcher rule=~"crash.*" --duration 2h --comment "deploy in progress"')
    .requiredOption('--matcher <m>', 'label matcher name=value, name!=value, name=~regex or name!~regex (repeatable); labels: rule, cluster, namespace, kind, name, severity and rule labels', collect)
    .option('--duration <d>', 'how long, e.g. 30m or 2h', '1h')
    .option('--starts <time>', 'start time (RFC 3339); default now')
    .requiredOption('--comment <text>', 'why: a ticket or alert link and a reason')
    .option('--author <name>', 'who is silencing (default: your user name)'))
    .action((f: { matcher: string[]; duration: string; starts?: string; comment: string; author?: string; dataDir?: string }) => {
      const file = silencesPath(f.dataDir);
      const set = new Silences(realClock);
      set.replaceAll(readSilences(file));
      const s = set.add({ matchers: f.matcher, duration: f.duration, startsAt: f.starts, comment: f.comment, createdBy: f.author ?? userInfo().username });
      writeSilences(file, set.list());
      process.stdout.write(`silence ${s.id} until ${new Date(s.endsAt).toISOString()}: ${s.matchers.map(formatMatcher).join(', ')}\n`);
    });
  dataDirOption(jsonOption(cmd
    .command('list')
    .description('List silences (pending, active, recently expired)')))
    .action((f: { json?: boolean; dataDir?: string }) => {
      const set = new Silences(realClock);
      set.replaceAll(readSilences(silencesPath(f.dataDir)));
      const all = set.list();
      if (f.json) {
        process.stdout.write(`${JSON.stringify(all, null, 2)}\n`);
        return;
      }
      process.stdout.write('ID                                    STATE    ENDS                      BY          MATCHERS / COMMENT\n');
      for (const s of all) {
        process.stdout.write(`${s.id}  ${silenceState(s, Date.now()).padEnd(7)}  ${new Date(s.endsAt).toISOString().padEnd(24)}  ${s.createdBy.padEnd(10)}  ${s.matchers.map(formatMatcher).join(', ')} — ${s.comment}\n`);
      }
    });
  dataDirOption(cmd
    .command('expire <id>')
    .description('End a silence now'))
    .action((id: string, f: { dataDir?: string }) => {
      const file = silencesPath(f.dataDir);
      const set = new Silences(realClock);
      set.replaceAll(readSilences(file));
      if (!set.expire(id)) {
        process.stderr.write(`error: no pending or active silence ${id} (see kubemend silence list)\n`);
        process.exitCode = 1;
        return;
      }
      writeSilences(file, set.list());
      process.stdout.write(`silence ${id} expired\n`);
    });
}
