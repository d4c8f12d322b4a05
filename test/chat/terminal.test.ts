// The terminal adapter and `kubemend chat`: lines in, replies out (buttons
// shown with what pressing them sends), async results printed as they come,
// /user and /room to try a four-eyes approval alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { TerminalAdapter, trialUser } from '../../src/chat/terminal.ts';
import { runChat } from '../../src/cli/chat.ts';
import { chatFixture, LINK, until } from './fixture.ts';

function pipe() {
  const input = new PassThrough();
  const output = new PassThrough();
  let text = '';
  output.on('data', (d) => (text += String(d)));
  return { input, output, text: () => text };
}

test('a production request approved by switching user, end to end through the terminal', async () => {
  const f = await chatFixture();
  const io = pipe();
  const term = new TerminalAdapter({ input: io.input, output: io.output, user: trialUser('sam', ['sre']), room: 'ops', trial: true });
  try {
    await term.start(f.engine);
    io.input.write(`scale deployment/web -n prod --replicas 3 --reason "more headroom before the launch" --link ${LINK}\n`);
    await until(() => /\[Confirm: confirm [a-z2-9]{6}\]/.test(io.text()), 'the confirmation');
    const id = /confirm ([a-z2-9]{6})\]/.exec(io.text())![1];
    assert.match(io.text(), new RegExp(`kubemend: ${id} will scale deployment prod/web from 2 to 3 on cluster sandbox, then wait for the rollout\\.\\n  Justification: `));
    io.input.write(`confirm ${id}\n/user dave sre\n/room approvals\napprove ${id}\n`);
    await until(() => new RegExp(`${id} done`).test(io.text()), 'the result');
    const out = io.text();
    assert.match(out, /kubemend: @sre-leads .* needs approval: sam asks to scale/);
    assert.match(out, /\[Approve: approve [a-z2-9]{6}\] \[Deny: deny [a-z2-9]{6}\]/);
    assert.match(out, /you are dave \(groups: sre\) in #approvals/);
    assert.match(out, new RegExp(`kubemend: \\[#ops\\] ${id}: approved by dave; running`));
    assert.match(out, new RegExp(`kubemend: \\[#ops\\] ${id} done: scale deployment prod/web from 2 to 3`));
    io.input.write('help\n/nonsense\n');
    io.input.end();
    await term.closed;
    assert.match(io.text(), /kubemend \(only you\): kubemend chat commands/);
    assert.match(io.text(), /terminal commands:\n {2}\/user NAME/);
  } finally {
    await term.stop();
    await f.close();
  }
});

test('kubemend chat --sandbox answers piped commands and exits at the end of input', async () => {
  const io = pipe();
  io.input.end('status deployment/checkout -n shop --reason "checking" --link DEMO-1\nrestart deployment/checkout -n kube-system --reason "should be refused" --link DEMO-1\n');
  await runChat({ sandbox: true, scenario: 'crashloop', speed: 20, context: [], room: 'ops', production: [], dataDir: mkdtempSync(join(tmpdir(), 'km-chat-cli-')) }, { input: io.input, output: io.output, interactive: false });
  const out = io.text();
  assert.match(out, /kubemend chat: you are alice in #ops; policy .*config\/chat-policy\.csv/);
  assert.match(out, /kubemend: deployment shop\/checkout on cluster sandbox: \d\/3 ready/);
  assert.match(out, /KM-CHAT-001 [a-z2-9]{6}: not allowed — restart in namespace kube-system on cluster sandbox is explicitly denied/);
});

test('kubemend chat on real clusters insists on a chat config', async () => {
  await assert.rejects(runChat({ kubeconfig: '/dev/null', context: [], room: 'ops', production: [] }), /KM-CLI-001|--kubeconfig needs --config FILE/);
  await assert.rejects(runChat({ context: [], room: 'ops', production: [] }), /pass --sandbox to try the bot/);
});
