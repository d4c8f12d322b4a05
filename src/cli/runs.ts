// `kubemend runs list|show`: what remediation did, from the store.
import type { Command } from 'commander';
import { formatDuration } from '../common/index.ts';
import { openStore, type RunRecord } from '../store/index.ts';
import { jsonOption, storeOptions, type StoreFlags } from './options.ts';

type Flags = StoreFlags & { json?: boolean };

export function registerRuns(program: Command): void {
  const cmd = program.command('runs').description('Runbook runs and their step timelines');
  storeOptions(jsonOption(cmd
    .command('list')
    .description('List runs, newest first')
    .option('--status <s>', 'only runs with this status (running, succeeded, failed, escalated, …)')
    .option('--limit <n>', 'at most this many', (v) => Number(v), 50)))
    .action(async (f: Flags & { status?: RunRecord['status']; limit: number }) => {
      const store = await openStore({ db: f.db, dataDir: f.dataDir });
      try {
        const runs = (await store.listRuns({ status: f.status ? [f.status] : undefined })).sort((a, b) => b.createdAt - a.createdAt).slice(0, f.limit);
        if (f.json) return void process.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
        process.stdout.write('ID                                    RUNBOOK          TARGET                                  STATUS      STARTED                   BY\n');
        for (const r of runs) {
          const target = `${(r.target.kind ?? '').toLowerCase()}/${r.target.namespace ? `${r.target.namespace}/` : ''}${r.target.name}`;
          process.stdout.write(`${r.id}  ${r.runbook.padEnd(15)}  ${target.padEnd(38)}  ${(r.status + (r.dryRun ? '*' : '')).padEnd(10)}  ${new Date(r.createdAt).toISOString().padEnd(24)}  ${r.startedBy.type}:${r.startedBy.name}\n`);
        }
      } finally {
        await store.close();
      }
    });
  storeOptions(jsonOption(cmd
    .command('show <id>')
    .description('Show a run: its steps with outcomes and durations')))
    .action(async (id: string, f: Flags) => {
      const store = await openStore({ db: f.db, dataDir: f.dataDir });
      try {
        const run = (await store.getRun(id)) ?? (await store.listRuns({})).find((r) => r.id.startsWith(id));
        if (!run) {
          process.stderr.write(`error: no run ${id} (see kubemend runs list)\n`);
          process.exitCode = 1;
          return;
        }
        const ts = await store.transitions(run.id);
        if (f.json) return void process.stdout.write(`${JSON.stringify({ run, transitions: ts }, null, 2)}\n`);
        const out: string[] = [
          `run ${run.id}${run.dryRun ? ' (dry run)' : ''}`,
          `runbook   ${run.runbook}`,
          `target    ${run.cluster} ${run.target.kind} ${run.target.namespace ? `${run.target.namespace}/` : ''}${run.target.name}`,
          `status    ${run.status}`,
          `started   ${new Date(run.createdAt).toISOString()} by ${run.startedBy.type}:${run.startedBy.name}${run.detectionId ? ` (detection ${run.detectionId})` : ''}`,
          '',
          'STEP             ATTEMPT  OUTCOME     DURATION  DETAIL',
        ];
        const started = new Map<string, number>();
        for (const t of ts) {
          const k = `${t.stepId}#${t.attempt}`;
          if (t.status === 'started') {
            started.set(k, t.time);
            continue;
          }
          const d = started.has(k) ? formatDuration(t.time - started.get(k)!) : '-';
          const detail = t.error ?? summarize(t.output);
          out.push(`${t.stepId.padEnd(15)}  ${String(t.attempt).padEnd(7)}  ${t.status.padEnd(10)}  ${d.padEnd(8)}  ${detail}`);
        }
        process.stdout.write(`${out.join('\n')}\n`);
      } finally {
        await store.close();
      }
    });
}

function summarize(output: unknown): string {
  if (!output || typeof output !== 'object') return '';
  const o = output as { calls?: string[]; outputs?: Record<string, unknown> };
  if (o.calls?.length) return o.calls.join('; ').slice(0, 160);
  return JSON.stringify(o.outputs ?? {}).slice(0, 160);
}
