import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/kubemend.js', import.meta.url));
const km = (...args: string[]) => execFileSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

test('remediation pause, status and resume go through the audit log', { timeout: 120_000 }, () => {
  const data = mkdtempSync(join(tmpdir(), 'km-pause-'));
  assert.equal(km('remediation', 'status', '--data-dir', data), 'active\n');
  assert.match(km('remediation', 'pause', '--reason', 'INC-9 freeze', '--author', 'bob', '--data-dir', data), /paused by bob: INC-9 freeze/);
  assert.equal(km('remediation', 'status', '--data-dir', data), 'paused by bob: INC-9 freeze\n');
  km('remediation', 'resume', '--reason', 'INC-9 over', '--author', 'bob', '--data-dir', data);
  assert.equal(km('remediation', 'status', '--data-dir', data), 'active\n');
  const log = JSON.parse(km('audit', 'list', '--json', '--data-dir', data));
  assert.deepEqual(log.map((r: { action: string }) => r.action).sort(), ['remediation.paused', 'remediation.resumed']);
});
