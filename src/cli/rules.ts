// `kubemend rules check|test`: validate rules, and try them against an
// incident scenario before they meet production.
import type { Command } from 'commander';
import { formatDuration } from '../common/index.ts';
import { resolveScenario } from '../sandbox/index.ts';
import { loadRules } from '../rules/index.ts';
import { playRules } from '../pipeline/index.ts';
import { registerRulesCheck } from './rules-check.ts';
import { registerRulesFields } from './rules-fields.ts';

export function registerRules(program: Command): void {
  const rules = program.command('rules').description('Validate detection rules and test them against scenarios');
  registerRulesCheck(rules);
  registerRulesFields(rules);
  rules
    .command('test <dir>')
    .description('Play a scenario on the sandbox at high speed and print every detection the rules make')
    .requiredOption('--scenario <name|file>', 'scenario name from scenarios/ or a path to a scenario file')
    .option('--json', 'print the detections as JSON')
    .action(async (dir: string, flags: { scenario: string; json?: boolean }) => {
      const loaded = loadRules(dir);
      const { scenario } = resolveScenario(flags.scenario);
      const out = (l: string) => process.stdout.write(`${l}\n`);
      if (!flags.json) out(`playing ${scenario.metadata.name} (${formatDuration(scenario.spec.duration)} of virtual time) with ${loaded.length} rules from ${dir}`);
      const result = await playRules({
        rules: loaded,
        scenario,
        onDetection: flags.json ? undefined : (d, change, t) => {
          const s = d.subject;
          const subject = `${s.kind.toLowerCase()}/${s.namespace ? `${s.namespace}/` : ''}${s.name}`;
          if (change === 'repeated') return;
          out(`[+${formatDuration(t).padStart(6)}] ${change.padEnd(8)} ${d.rule.padEnd(28)} ${subject.padEnd(44)} ${d.severity.padEnd(8)} ${d.summary}`);
        },
      });
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({
          scenario: scenario.metadata.name,
          durationMs: result.durationMs,
          detections: result.detections.map((d) => ({ ...d, firstSeenMs: d.firstSeen - result.startedAt, lastSeenMs: d.lastSeen - result.startedAt })),
          notifications: result.notifications.length,
          timeline: result.timeline,
        }, null, 2)}\n`);
        return;
      }
      out('');
      out('DETECTION                     SUBJECT                                      COUNT  STATUS    FIRST     LAST');
      for (const d of result.detections) {
        const s = d.subject;
        const subject = `${s.kind.toLowerCase()}/${s.namespace ? `${s.namespace}/` : ''}${s.name}`;
        out(`${d.rule.padEnd(29)} ${subject.padEnd(44)} ${String(d.count).padStart(5)}  ${d.status.padEnd(9)} +${formatDuration(d.firstSeen - result.startedAt).padEnd(8)} +${formatDuration(d.lastSeen - result.startedAt)}`);
      }
      out(`${result.detections.length} detections, ${result.notifications.length} notifications`);
    });
}
