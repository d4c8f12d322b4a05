// `kubemend rules fields`: how a user sees what the informer caches keep of
// each kind for their rules (docs/rules.md, "What the cache keeps").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/kubemend.js', import.meta.url));
const RULES = fileURLToPath(new URL('../../rules', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [BIN, 'rules', 'fields', ...args], { encoding: 'utf8', timeout: 60_000 });

test('rules fields lists what is cached of each watched kind, identity always, nothing the rules do not read', { timeout: 120_000 }, () => {
  const r = run(RULES, '--json');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Record<string, string[]>;
  assert.ok(out.Pod!.includes('status.containerStatuses[].state.waiting.reason'));
  assert.ok(out.Pod!.includes('metadata.managedFields') && out.Pod!.includes('metadata.ownerReferences'));
  assert.ok(!out.Pod!.some((p) => p.startsWith('spec.volumes') || p.includes('.env')), out.Pod!.join('\n'));
  assert.deepEqual(out.NodeMetrics, ['(everything)'], 'polled, not cached');
  // The rollout watcher's needs come with rollout-regression: whole pod templates of workloads.
  assert.ok(out.Deployment!.includes('spec.template'));
  assert.ok(!out.Deployment!.includes('spec'), 'without incidents, not the whole spec');
  const inc = JSON.parse(run(RULES, '--json', '--incidents').stdout) as Record<string, string[]>;
  assert.ok(inc.Deployment!.includes('spec'), 'the change feed diffs the whole spec');
  assert.deepEqual(inc.ConfigMap!.filter((p) => !/^(metadata\.|status\.|apiVersion$|kind$)/.test(p)), ['binaryData', 'data']);
});

test('rules fields prints per kind for people, and refuses rules that do not load', { timeout: 120_000 }, () => {
  const r = run(RULES, '--kind', 'Node');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^Node\n {2}apiVersion\n/);
  assert.match(r.stdout, /\n {2}status\.allocatable\.memory\n/);
  const dir = mkdtempSync(join(tmpdir(), 'km-fields-'));
  writeFileSync(join(dir, 'bad.yaml'), 'apiVersion: kubemend.dev/v1alpha1\nkind: Rule\nmetadata: { name: bad }\nspec: { source: object, match: { kinds: [Pod] }, when: "object.", severity: info }\n');
  const bad = run(dir);
  assert.equal(bad.status, 1);
  assert.match(bad.stdout, /bad\.yaml:\d+ spec\.when/);
});
