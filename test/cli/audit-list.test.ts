// `kubemend audit list` as a table a person reads: every column starts at the
// same place on every line whatever the values' lengths, an overlong value is
// cut with an ellipsis, and runbook step records say which step (issue 10).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/store/index.ts';
import type { AuditInput } from '../../src/audit/index.ts';

const BIN = fileURLToPath(new URL('../../bin/kubemend.js', import.meta.url));
const HEADERS = ['SEQ', 'TIME', 'ACTOR', 'ACTION', 'STEP', 'TARGET', 'OUTCOME', 'DETAILS'];

test('audit list lines its columns up for any width and names the step of runbook.step records', { timeout: 120_000 }, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'km-audit-list-'));
  const target = { cluster: 'prod-eu-west-1', namespace: 'payments', kind: 'Deployment', name: 'checkout' };
  const longRule = `crashloop-${'x'.repeat(60)}`;
  const step = (status: string, id: string, attempt = 1): AuditInput => ({
    actor: { type: 'system', name: 'runbook-executor' }, action: `runbook.step.${status}`, target, runId: 'r1', outcome: status === 'started' ? 'pending' : status === 'failed' ? 'failure' : 'success',
    data: { runbook: 'bad-deploy', step: id, attempt, action: 'kube.rollback', dryRun: false },
  });
  const store = await openStore({ dataDir });
  try {
    await store.audit.append([
      { actor: { type: 'rule', name: longRule }, action: 'detection.opened', target: { ...target, kind: 'Pod', name: `checkout-${'7f9c4d'.repeat(12)}` }, detectionId: 'd1', outcome: 'info' },
      { actor: { type: 'user', name: 'al' }, action: 'silence.created', target: { cluster: 'c' } },
      step('started', 'rollback'),
      step('succeeded', 'rollback'),
      step('failed', 'waitRollout'),
      step('started', 'waitRollout', 2),
      // A step id anywhere else is not a runbook step.
      { actor: { type: 'user', name: 'bob' }, action: 'chat.restart.requested', target, data: { step: 'not-a-step' }, justification: 'crash-looping', outcome: 'pending' },
    ]);
  } finally {
    await store.close();
  }

  const out = execFileSync(process.execPath, [BIN, 'audit', 'list', '--data-dir', dataDir], { encoding: 'utf8' });
  const lines = out.trimEnd().split('\n');
  assert.equal(lines.length, 8);
  const starts = HEADERS.map((h) => lines[0].indexOf(h));
  assert.deepEqual(starts.map((s) => s >= 0), HEADERS.map(() => true), lines[0]);
  for (const line of lines.slice(1)) {
    // SEQ is right-aligned: its last digit sits under the header's last letter.
    assert.notEqual(line[starts[0] + 2], ' ', `SEQ ends under its header:\n${lines[0]}\n${line}`);
    // DETAILS may be empty, and then the line ends after OUTCOME.
    for (const s of starts.slice(1).filter((s) => s < line.length)) {
      assert.equal(line.slice(s - 2, s), '  ', `a column boundary at ${s}:\n${lines[0]}\n${line}`);
      assert.notEqual(line[s], ' ', `a value starts at ${s}:\n${lines[0]}\n${line}`);
    }
  }
  assert.ok(lines.some((l) => l.length > starts[7]), 'some rows have details');
  const cell = (line: string, i: number) => line.slice(starts[i], i + 1 < starts.length ? starts[i + 1] : undefined).trim();
  const actor = cell(lines[1], 2);
  assert.ok(actor.endsWith('…') && `rule:${longRule}`.startsWith(actor.slice(0, -1)), actor);
  assert.ok(actor.length <= 40, `actor cut to at most 40 characters: ${actor}`);
  assert.ok(cell(lines[1], 5).endsWith('…'), 'an overlong target is cut');
  assert.deepEqual(lines.slice(1).map((l) => cell(l, 4)), ['-', '-', 'rollback', 'rollback', 'waitRollout', 'waitRollout#2', '-']);
  assert.equal(cell(lines[2], 2), 'user:al');
  assert.equal(cell(lines[7], 7), 'crash-looping');
});
