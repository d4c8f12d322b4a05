// A rule whose action is `notify` reaches people: the engine's grouped
// notification goes out through the same audited notifiers as runbooks'
// notify steps (before, it reached no sink in serve or run).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/store/index.ts';
import { loadRules } from '../../src/rules/loader.ts';
import { ScenarioSession } from '../../src/pipeline/index.ts';
import { resolveScenario } from '../../src/sandbox/scenarios/index.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

test('pod-evicted (action: notify) sends one audited notification per group on memory-cascade', { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'km-rule-notify-'));
  mkdirSync(join(dir, 'rules'));
  writeFileSync(join(dir, 'rules', 'pod-evicted.yaml'), readFileSync(here('../../rules/pod-evicted.yaml'), 'utf8'));
  const store = await openStore({ dataDir: join(dir, 'data') });
  // Dry run: the cascade runs its course (nothing contains the leak), so pods are evicted.
  const s = await ScenarioSession.start({ scenario: resolveScenario('memory-cascade').scenario, rules: loadRules(join(dir, 'rules')), runbooks: [], store, dryRun: true });
  try {
    await s.runToEnd();
    const sent = s.remediation.notifications.sent.filter((n) => n.title.startsWith('pod-evicted'));
    assert.ok(sent.length >= 1, JSON.stringify(s.remediation.notifications.sent.map((n) => n.title)));
    assert.equal(sent[0].channel, 'default');
    assert.match(sent[0].text, /evicted.*\(detection [0-9a-f-]+\)/);
    const audited = await store.audit.list({ action: 'notify.sent' });
    assert.ok(audited.some((a) => String(a.data?.title ?? '').startsWith('pod-evicted')), JSON.stringify(audited.map((a) => a.data)));
  } finally {
    await s.stop();
    await store.close();
  }
});
