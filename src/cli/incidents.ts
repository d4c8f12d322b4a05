// `kubemend incidents list | show ID | postmortem ID | replay --scenario NAME`:
// the incidents in the store, one incident's timeline, its post-mortem draft,
// and a scenario replayed on the sandbox to draft one.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { openStore, type IncidentRecord } from '../store/index.ts';
import { ConfigError, formatDuration, realClock } from '../common/index.ts';
import { type IncidentData, buildTimeline, clock, gatherIncident, draftPostmortem, markPostmortem, renderMarkdown } from '../incidents/index.ts';
import { badValue } from './flags.ts';
import { jsonOption, storeOptions, type StoreFlags } from './options.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

type Format = 'md' | 'json';

function parseFormat(v: string): Format {
  if (v === 'md' || v === 'markdown') return 'md';
  if (v === 'json') return 'json';
  throw badValue(`"${v}" is not a format; use md or json.`);
}

const write = (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);

export function registerIncidents(program: Command): void {
  const cmd = program.command('incidents').description('Incidents correlated from detections: list, timeline, post-mortem draft, scenario replay');

  jsonOption(storeOptions(cmd.command('list').description('List incidents, newest first')))
    .option('--status <s>', 'open, acknowledged, mitigated, resolved or postmortem')
    .option('--limit <n>', 'at most this many', (v) => Number(v), 50)
    .action(async (f: StoreFlags & { status?: IncidentRecord['status']; limit: number; json?: boolean }) => {
      const store = await openStore({ db: f.db, dataDir: f.dataDir });
      try {
        const list = await store.listIncidents({ status: f.status, limit: f.limit });
        if (f.json) return void write(JSON.stringify(list, null, 2));
        write('ID                          STATUS        SEVERITY  OPENED                DETECTIONS  OWNER       TITLE');
        for (const i of list) write(`${i.id.padEnd(26)}  ${i.status.padEnd(12)}  ${i.severity.padEnd(8)}  ${new Date(i.openedAt).toISOString().slice(0, 19).padEnd(20)}  ${String(i.detectionIds.length).padEnd(10)}  ${(i.owner ?? '-').padEnd(10)}  ${i.title}`);
      } finally {
        await store.close();
      }
    });

  jsonOption(storeOptions(cmd.command('show <id>').description('Show an incident: its detections, why each belongs, and the timeline')), 'print the incident and its timeline as JSON')
    .action(async (id: string, f: StoreFlags & { json?: boolean }) => {
      const store = await openStore({ db: f.db, dataDir: f.dataDir });
      try {
        const ctx = await gatherIncident(store, id);
        const timeline = buildTimeline(ctx);
        if (f.json) return void write(JSON.stringify({ incident: ctx.incident, timeline }, null, 2));
        const i = ctx.incident;
        const data = i.data as unknown as IncidentData;
        const lines = [
          `incident ${i.id}: ${i.title}`,
          `status    ${i.status}${i.mitigatedAt && !i.resolvedAt ? ` at ${new Date(i.mitigatedAt).toISOString()}` : ''}${i.resolvedAt ? ` at ${new Date(i.resolvedAt).toISOString()}${data.resolvedBecause ? ` (${data.resolvedBecause})` : ''}` : ''}`,
          `severity  ${i.severity}`,
          `opened    ${new Date(i.openedAt).toISOString()} on ${i.cluster}, last activity ${formatDuration(data.lastActivityAt - i.openedAt)} later`,
          '',
          'DETECTIONS',
          ...data.detections.map((d) => `  ${clock(d.firstSeen)}  ${d.rule.padEnd(28)} ${`${d.subject.kind.toLowerCase()}/${d.subject.namespace ? `${d.subject.namespace}/` : ''}${d.subject.name}`.padEnd(48)} ${d.joinedVia}`),
          '',
          'TIMELINE',
          ...timeline.map((e) => `  ${clock(e.time)}  ${e.source.padEnd(9)} ${e.text}`),
          '',
          `post-mortem draft: kubemend incidents postmortem ${i.id}`,
        ];
        write(lines.join('\n'));
      } finally {
        await store.close();
      }
    });

  storeOptions(cmd.command('postmortem <id>').description('Draft the post-mortem of an incident (Markdown or JSON)'))
    .option('--format <f>', 'md or json', parseFormat, 'md' as Format)
    .option('--out <file>', 'write it to this file instead of standard output')
    .option('--by <name>', 'who drafts it, for the audit log (default: the OS user)')
    .action(async (id: string, f: StoreFlags & { format: Format; out?: string; by?: string }) => {
      const store = await openStore({ db: f.db, dataDir: f.dataDir });
      try {
        const ctx = await gatherIncident(store, id);
        const model = draftPostmortem(ctx);
        emit(f.format === 'json' ? JSON.stringify(model, null, 2) : renderMarkdown(model), f.out);
        // A resolved incident's draft moves it on to `postmortem` (once), audited with who drafted it.
        await markPostmortem(store, ctx.incident.id, { type: 'user', name: f.by ?? userInfo().username }, realClock.now());
      } finally {
        await store.close();
      }
    });

  storeOptions(cmd.command('replay').description('Replay a scenario on the sandbox with the shipped rules and runbooks, track its incidents and draft the post-mortem'))
    .requiredOption('--scenario <name|file>', 'the scenario to replay (kubemend scenarios list)')
    .option('--out <file>', 'write the post-mortem draft here (default: standard output)')
    .option('--format <f>', 'md or json', parseFormat, 'md' as Format)
    .option('--rules <dir>', 'rule files', join(ROOT, 'rules'))
    .option('--runbooks <dir>', 'runbook files', join(ROOT, 'runbooks'))
    .option('--dry-run', 'remediation plans its steps but changes nothing (the scenario unfolds untouched)')
    .option('--quiet', 'no progress lines')
    .action(async (f: StoreFlags & { scenario: string; out?: string; format: Format; rules: string; runbooks: string; dryRun?: boolean; quiet?: boolean }) => {
      // Only replay needs the sandbox, the rules and the runbooks: list, show and postmortem start without them.
      const [{ resolveScenario }, { loadRules }, { ACTIONS }, { checkRuleRunbooks, loadRunbooks }, { replayIncidents }] = await Promise.all([
        import('../sandbox/index.ts'), import('../rules/index.ts'), import('../runbooks/index.ts'), import('../runbooks/index.ts'), import('../pipeline/index.ts'),
      ]);
      const { scenario } = resolveScenario(f.scenario);
      const rules = loadRules(f.rules);
      const runbooks = loadRunbooks(f.runbooks, { actions: ACTIONS });
      const wiring = checkRuleRunbooks(rules, runbooks);
      if (wiring.length) throw new ConfigError(wiring);
      // Progress goes to stderr so the draft alone can be piped from stdout.
      const say = (l: string) => process.stderr.write(`${l}\n`);
      const dataDir = f.dataDir ?? (f.db ? undefined : mkdtempSync(join(tmpdir(), 'kubemend-incidents-')));
      const store = await openStore({ db: f.db, dataDir });
      try {
        say(`replaying ${scenario.metadata.name}${f.dryRun ? ' (dry run)' : ''} with ${rules.length} rules and ${runbooks.length} runbooks; store: ${f.db ?? dataDir}`);
        const r = await replayIncidents({ scenario, rules, runbooks, store, dryRun: f.dryRun, out: f.quiet ? undefined : say });
        say('');
        say(`${r.incidents.length} incident${r.incidents.length === 1 ? '' : 's'}:`);
        for (const i of r.incidents) say(`  ${i.id}  ${i.status.padEnd(8)} ${i.severity.padEnd(8)} ${String(i.detectionIds.length).padStart(3)} detections  ${i.title}${i.id === r.primary?.id ? '  <- drafted' : ''}`);
        if (!r.postmortem) {
          say('no incident opened: nothing to draft');
          return;
        }
        emit(f.format === 'json' ? JSON.stringify(r.postmortem, null, 2) : r.markdown!, f.out);
        if (f.out) say(`post-mortem draft written to ${f.out}`);
        const where = f.db ? `--db ${f.db}` : `--data-dir ${dataDir}`;
        say(`look closer: kubemend incidents show ${r.primary!.id} ${where}   |   kubemend audit list --incident ${r.primary!.id} ${where}`);
      } finally {
        await store.close();
      }
    });
}

function emit(text: string, out?: string): void {
  if (out) writeFileSync(out, text.endsWith('\n') ? text : `${text}\n`);
  else write(text);
}
