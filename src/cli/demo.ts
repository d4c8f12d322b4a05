// `kubemend demo`: the whole loop on a fresh machine, no cluster needed. The
// sandbox replays a bad deploy; the shipped rules detect the crash loop; the
// bad-deploy runbook rolls it back, waits, smoke-checks and notifies; every
// step lands in the hash-chained audit log, which is then verified.
import type { Command } from 'commander';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from './run.ts';
import { openStore } from '../store/index.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('The whole loop on the sandbox: a bad deploy is detected, rolled back, verified, notified and audited')
    .option('--scenario <name>', 'scenario to replay', 'crashloop')
    .option('--data-dir <dir>', 'where the demo keeps its store (default: a fresh temporary directory)')
    .action(async (f: { scenario: string; dataDir?: string }) => {
      const dataDir = f.dataDir ?? mkdtempSync(join(tmpdir(), 'kubemend-demo-'));
      const out = (l: string) => process.stdout.write(`${l}\n`);
      out('kubemend demo: detect → decide → remediate → verify → audit, on the embedded sandbox cluster');
      out(`store and audit log: ${dataDir}`);
      out('');
      await runCommand({
        sandbox: true,
        scenario: f.scenario,
        rules: join(ROOT, 'rules'),
        runbooks: join(ROOT, 'runbooks'),
        context: [],
        dataDir,
        exitWhenDone: true,
      }, out);
      const store = await openStore({ dataDir });
      try {
        const v = await store.audit.verify();
        const n = (await store.audit.list({})).length;
        out('');
        out(v.ok ? `audit log: ${n} records, hash chain verified (head ${v.head.slice(0, 16)}…)` : `audit log BROKEN at record ${v.firstBad.seq}: ${v.firstBad.reason}`);
      } finally {
        await store.close();
      }
      out('');
      out('Look closer:');
      out(`  npx kubemend runs list --data-dir ${dataDir}`);
      out(`  npx kubemend runs show <run id> --data-dir ${dataDir}`);
      out(`  npx kubemend incidents list --data-dir ${dataDir}`);
      out(`  npx kubemend incidents postmortem <incident id> --data-dir ${dataDir}   # the post-mortem draft`);
      out(`  npx kubemend audit list --data-dir ${dataDir}`);
      out(`  npx kubemend audit verify --data-dir ${dataDir}`);
      out('  npx kubemend rules test rules --scenario memory-cascade      # detections for a node-killing memory leak');
      out('  npx kubemend sandbox --scenario crashloop --kubeconfig-out /tmp/kc   # then drive it with kubectl');
      out('  npx kubemend chat --sandbox                                   # the chat bot in your terminal');
      out('  npx kubemend serve --sandbox --speed 10                       # the whole service: detection, remediation, console, /metrics');
    });
}
