// `kubemend scenarios list|show`: what the shipped scenarios replay.
import type { Command } from 'commander';
import { formatDuration } from '../common/index.ts';
import { listScenarios, resolveScenario } from '../sandbox/index.ts';
import { jsonOption } from './options.ts';

export function registerScenarios(program: Command): void {
  const cmd = program.command('scenarios').description('List and describe incident scenarios for the sandbox');
  jsonOption(cmd
    .command('list')
    .description('List the shipped scenarios'))
    .action((flags: { json?: boolean }) => {
      const all = listScenarios();
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(all.map(({ file, scenario: s }) => ({ name: s.metadata.name, description: s.metadata.description, file, durationMs: s.spec.duration })), null, 2)}\n`);
        return;
      }
      const w = Math.max(...all.map((l) => l.scenario.metadata.name.length), 4);
      process.stdout.write(`${'NAME'.padEnd(w)}  DURATION  DESCRIPTION\n`);
      for (const { scenario: s } of all) {
        process.stdout.write(`${s.metadata.name.padEnd(w)}  ${formatDuration(s.spec.duration).padEnd(8)}  ${s.metadata.description ?? ''}\n`);
      }
    });
  cmd
    .command('show <name|file>')
    .description('Show a scenario\'s steps and the milestones it promises')
    .action((name: string) => {
      const { file, scenario: s } = resolveScenario(name);
      const lines = [`${s.metadata.name} (${file})`, s.metadata.description ?? '', '', `duration ${formatDuration(s.spec.duration)}, default speed ${s.spec.speed}x`, '', 'steps:'];
      for (const st of s.spec.steps) lines.push(`  +${formatDuration(st.at).padEnd(6)} ${st.name ?? describeStep(st)}`);
      lines.push('', 'milestones:');
      for (const m of s.spec.milestones) lines.push(`  ${m.name}${m.by !== undefined ? ` (by +${formatDuration(m.by)})` : ''}${m.description ? `: ${m.description}` : ''}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}

function describeStep(st: { apply?: unknown[]; patch?: { kind: string; name: string }; delete?: { kind: string; name: string }; kubeletDown?: { node: string }; images?: object; compactHistory?: true }): string {
  if (st.apply) return `apply ${st.apply.length} object(s)`;
  if (st.patch) return `patch ${st.patch.kind} ${st.patch.name}`;
  if (st.delete) return `delete ${st.delete.kind} ${st.delete.name}`;
  if (st.kubeletDown) return `kubelet on ${st.kubeletDown.node} stops responding`;
  if (st.images) return 'registry gains images';
  return 'API server compacts its watch history';
}
