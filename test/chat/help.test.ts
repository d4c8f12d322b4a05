// What `help` shows is what works: every command line of the help, filled in,
// is accepted by the grammar, and a workload command typed as the help shows
// it goes ahead without being asked for anything more (issue 10: help showed
// `status` without the justification it needs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMMANDS, helpText, parseCommand, type Command } from '../../src/chat/grammar.ts';
import { chatFixture, LINK } from './fixture.ts';

/** The command lines of a help text: the usage, without the note after " — ". */
function helpCommands(help: string): string[] {
  return help.split('\n').filter((l) => l.startsWith('  ')).map((l) => l.trim().split(' — ')[0]);
}

const SAMPLES: Record<string, string> = { NAME: 'web', NAMESPACE: 'shop', 'SOURCE-NAMESPACE': 'prod', CLUSTER: 'sandbox', N: '2', COMMAND: 'scale', USER: 'bob', TEXT: 'restarted by hand' };

/** A usage line made a command: optional parts included, the first of alternatives, samples for placeholders. */
function fillIn(usage: string, id = 'a1b2c3'): string {
  return usage
    .replace(/\[([^\]]+)\]/g, '$1')
    .replace(/\b([a-z]+)(\|[a-z]+)+\/NAME\b/, '$1/NAME')
    .replace(/\bUSER\|me\b/, 'USER')
    .replace('"WHY"', '"checkout crash-loops since the deploy"')
    .replace('ALERT-URL|det:ID|TICKET', LINK)
    .replace(/\bID\b/g, id)
    .replace(/\b[A-Z][A-Z-]*\b/g, (w) => SAMPLES[w] ?? w);
}

const verbOf = (c: Command) => (c.type === 'action' ? c.action : c.type);

for (const statusNeedsJustification of [true, false]) {
  test(`every command line of the help parses as shown (status ${statusNeedsJustification ? 'with' : 'without'} a justification)`, () => {
    const lines = helpCommands(helpText(undefined, { statusNeedsJustification }));
    // A command with subcommands (incident, run) has a line for each.
    assert.deepEqual([...new Set(lines.map((l) => l.split(' ')[0]))], COMMANDS, 'the help shows every command, in order');
    for (const line of lines) {
      const text = fillIn(line);
      const parsed = parseCommand(text);
      assert.ok(parsed.ok, `${text}: ${parsed.ok ? '' : `${parsed.error}; usage ${parsed.usage}`}`);
      assert.equal(verbOf(parsed.command), line.split(' ')[0], text);
      if (parsed.command.type === 'action' && parsed.command.action !== 'status') assert.ok(parsed.command.reason && parsed.command.link, `${text} carries its justification`);
    }
    const status = lines.find((l) => l.startsWith('status '))!;
    assert.equal(/--reason .*--link /.test(status), statusNeedsJustification, status);
  });
}

test('a workload command typed as the help shows it is not asked for anything more', async () => {
  for (const forStatus of [true, false]) {
    const f = await chatFixture({ settings: { justification: { tickets: { [LINK]: 'Approved' }, forStatus } } });
    try {
      const [help] = await f.say('alice', 'help');
      const status = helpCommands(help.text).find((l) => l.startsWith('status '))!;
      assert.equal(/--reason .*--link /.test(status), forStatus, `the help follows justification.forStatus: ${status}`);
      for (const line of helpCommands(help.text).filter((l) => /^(restart|rollback|promote|scale|status) /.test(l))) {
        const text = fillIn(line);
        const [reply] = await f.say('alice', text);
        assert.doesNotMatch(reply.text, /justification is required|^why |KM-CHAT-002/i, `forStatus ${forStatus}: ${text}\n→ ${reply.text}`);
        if (line.startsWith('status ')) assert.match(reply.text, /^deployment shop\/web on cluster sandbox: \d\/3 ready/, text);
        else assert.match(reply.text, /Confirm within .*: confirm [a-z0-9]{6}|^[a-z0-9]{6}: /, `${text}\n→ ${reply.text}`);
      }
    } finally {
      await f.close();
    }
  }
});
