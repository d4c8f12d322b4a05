// The options many commands share come from src/cli/options.ts: one
// spelling, one help text and one default everywhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { buildProgram } from '../../src/cli/main.ts';
import { HELP, clusterOptions, collect, jsonOption, storeOptions } from '../../src/cli/options.ts';

/** Flags whose help says more than the shared text, on purpose: what differs for that command. */
const NARROWER = new Map([
  ['demo --data-dir', 'the demo keeps its store in a fresh temporary directory unless told otherwise'],
  ['chat --kubeconfig', 'on clusters the chat needs a chat config too'],
  ['serve --kubeconfig', 'the service config names the clusters first'],
  ['serve --context', 'the service config names the contexts first'],
]);

const FLAGS: Record<string, { flags: string; help?: string }> = {
  '--db': { flags: '--db <url>', help: HELP.db },
  '--data-dir': { flags: '--data-dir <dir>', help: HELP.dataDir },
  '--kubeconfig': { flags: '--kubeconfig <path>', help: HELP.kubeconfig },
  '--context': { flags: '--context <name>', help: HELP.context },
  '--json': { flags: '--json' },
};

/** Every command that runs, named by its path (`audit list`). */
function leaves(c: Command, path: string[] = []): [string, Command][] {
  return c.commands.length ? c.commands.flatMap((s) => leaves(s, [...path, s.name()])) : [[path.join(' '), c]];
}

test('the shared options parse as every command expects', { timeout: 120_000 }, () => {
  const parse = (args: string[]) => jsonOption(storeOptions(clusterOptions(new Command('x').exitOverride()))).parse(args, { from: 'user' }).opts();
  assert.deepEqual(parse([]), { context: [] }, 'no --context means the current context, as an empty list');
  assert.deepEqual(parse(['--kubeconfig', 'kc', '--context', 'a', '--context', 'b', '--db', 'postgres://h/db', '--data-dir', 'd', '--json']), {
    kubeconfig: 'kc', context: ['a', 'b'], db: 'postgres://h/db', dataDir: 'd', json: true,
  });
  assert.deepEqual(collect('b', collect('a')), ['a', 'b']);
  const custom = storeOptions(clusterOptions(jsonOption(new Command('y'), 'one JSON object per line'), { kubeconfig: 'kubeconfig of the clusters to act on' }), { dataDir: 'scratch space' });
  const help = Object.fromEntries(custom.options.map((o) => [o.long, o.description]));
  assert.deepEqual(help, { '--json': 'one JSON object per line', '--kubeconfig': 'kubeconfig of the clusters to act on', '--context': HELP.context, '--db': HELP.db, '--data-dir': 'scratch space' });
});

test('every command spells the shared options alike and, takes their help from options.ts', { timeout: 120_000 }, async () => {
  const program = await buildProgram();
  const seen = new Set<string>();
  const all = leaves(program);
  for (const n of ['audit list', 'runs show', 'silence expire', 'incidents postmortem', 'remediation status', 'watch']) assert.ok(all.some(([name]) => name === n), n);
  for (const [name, cmd] of all) {
    const opts = new Map(cmd.options.map((o) => [o.long!, o]));
    if (opts.has('--db')) assert.ok(opts.has('--data-dir'), `${name}: --db without --data-dir`);
    for (const [long, want] of Object.entries(FLAGS)) {
      const o = opts.get(long);
      if (!o) continue;
      seen.add(long);
      assert.equal(o.flags, want.flags, `${name} ${long}`);
      if (long === '--context') assert.deepEqual(o.defaultValue, [], `${name} --context defaults to none (the current context)`);
      if (want.help && !NARROWER.has(`${name} ${long}`)) assert.equal(o.description, want.help, `${name} ${long}: help text from options.ts`);
    }
  }
  assert.deepEqual([...seen].sort(), Object.keys(FLAGS).sort());
});
