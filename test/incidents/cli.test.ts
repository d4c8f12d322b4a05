// `kubemend incidents …` as a user runs it: replay a scenario into a store,
// then list, show and draft from that store in separate processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/kubemend.js', import.meta.url));
const km = (...args: string[]) => execFileSync(process.execPath, [BIN, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

test('incidents replay --scenario memory-cascade writes a post-mortem draft; list, show and postmortem read the store', { timeout: 240_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'km-inc-cli-'));
  const out = join(dir, 'postmortem.md');
  const data = join(dir, 'data');
  km('incidents', 'replay', '--scenario', 'memory-cascade', '--out', out, '--data-dir', data, '--quiet');
  const md = readFileSync(out, 'utf8');
  for (const h of ['# Post-mortem (draft): node-memory-high on node/node-1', '## Summary', '## Timeline', '## Triggering change(s)', '## What kubemend did and its effect', '## Guardrail findings', '## What no alert caught', '## Action items', '## Appendix: audit trail']) {
    assert.ok(md.includes(h), `missing ${h}`);
  }
  const section = (h: string) => md.slice(md.indexOf(`## ${h}`), md.indexOf('\n## ', md.indexOf(`## ${h}`) + 3));
  const guardrails = section('Guardrail findings');
  assert.match(guardrails, /### \d\. Containers without memory limits/);
  assert.match(guardrails, /Deployment\/reports\/report-worker: container worker without a memory limit/);
  assert.match(guardrails, /### \d\. Namespaces without a LimitRange[\s\S]*\*\*Affects:\*\* [^\n]*reports/);
  assert.match(guardrails, /monitoring\/prometheus-\S+ ran on node-1 with Deployment\/reports\/report-worker/);
  // The replay remediates: the worker is limited, so monitoring is never evicted and the missing limit is a finding fixed during the incident.
  assert.doesNotMatch(guardrails, /Monitoring was evicted during the incident/);
  assert.match(guardrails, /\*\*Affects:\*\* Deployment\/reports\/report-worker \(fixed during the incident: Deployment\/reports\/report-worker\)/);
  assert.match(guardrails, /kind: LimitRange/);
  const uncaught = section('What no alert caught');
  assert.match(uncaught, /\n\| T\+[^|]+ \| [^|]+ \| [^|]+ \||was covered by a detection when it happened/, 'signals no alert caught, or that every one was covered');
  assert.match(section('What kubemend did and its effect'), /node-unhealthy/);

  const list = JSON.parse(km('incidents', 'list', '--json', '--data-dir', data));
  assert.equal(list.length, 1);
  const id: string = list[0].id;
  assert.match(md, new RegExp(`incident \`${id}\``));
  const show = km('incidents', 'show', id.slice(0, 14), '--data-dir', data);
  assert.match(show, new RegExp(`^incident ${id}: node-memory-high on node/node-1`));
  assert.match(show, /DETECTIONS\n[\s\S]*node-memory-high\s+node\/node-1\s+opened the incident/);
  const model = JSON.parse(km('incidents', 'postmortem', id, '--format', 'json', '--data-dir', data));
  assert.equal(model.incident.id, id);
  assert.ok(model.guardrails.some((g: { id: string }) => g.id === 'no-memory-limit'));
  assert.equal(km('incidents', 'postmortem', id, '--data-dir', data), md, 'the draft from the store is the draft the replay wrote');

  const missing = spawnSync(process.execPath, [BIN, 'incidents', 'postmortem', 'inc-nope', '--data-dir', data], { encoding: 'utf8' });
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /KM-INCIDENT-001 no incident inc-nope/);
  const badFormat = spawnSync(process.execPath, [BIN, 'incidents', 'postmortem', id, '--format', 'pdf', '--data-dir', data], { encoding: 'utf8' });
  assert.equal(badFormat.status, 1);
  assert.match(badFormat.stderr, /KM-CLI-001 "pdf" is not a format/);
});
