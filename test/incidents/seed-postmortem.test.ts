// kubemend's post-mortem draft of memory-cascade, compared section by
// section with the post-mortem the team wrote about the incident it replays
// (test/fixtures/postmortems/maximize-learnings-2019.md). Every learning in
// its "Cascade of failures" that the cluster's records can support must be in
// the draft; the ones they cannot (team skills, an external log stack) are
// named here with the reason, so a new section in the fixture fails until
// someone decides which it is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/store/index.ts';
import { loadRules } from '../../src/rules/loader.ts';
import { loadRunbooks } from '../../src/runbooks/loader.ts';
import { ACTIONS } from '../../src/runbooks/actions/index.ts';
import { resolveScenario } from '../../src/sandbox/scenarios/index.ts';
import { replayIncidents } from '../../src/pipeline/index.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/** Each learning of the team's post-mortem: what the draft must say, or why the records cannot say it. */
const LEARNINGS: Record<string, RegExp[] | { unsupported: string }> = {
  'No alerts fired': [/### A warning came before the impact, and nobody was told\npod-without-memory-limit fired on deployment\/reports\/report-worker \S+ before the impact, at info severity/, /## What no alert caught/, /- \[ \] Make pod-without-memory-limit page the owning team/],
  'Grafana dashboard affected by cluster problems': [/### \d\. Monitoring shared nodes with the failing workloads/, /### \d\. Monitoring was evicted during the incident/, /monitoring\/prometheus: 1 pod evicted from node-1 .* monitoring: dashboards and alerts were blind meanwhile/],
  'Not fully benefiting from our ELK stack': { unsupported: 'the cluster records nothing about log and metric stacks outside it' },
  'No CPU & memory limits on ElastAlert pod': [/## Root cause\nDeployment\/reports\/report-worker ran without a memory limit and leaked/, /- its memory grows? |- memory growing \S+\/min/, /### \d\. Containers without memory limits/, /### \d\. Namespaces without a LimitRange/, /kind: LimitRange/],
  'Ops services affecting customer facing workloads': [/### The cause shared its node with unrelated workloads\nDeployment\/reports\/report-worker ran on node-1(, node-\d)* beside [^\n]*Deployment\/shop\/web/, /- \[ \] Isolate reports workloads/],
  'No team-wide awareness of the ElastAlert change that was deployed': [/## Changes made outside the pipeline\n/, /\*\*deployment\/reports\/report-worker\*\* created [^\n]*kubectl-client-side-apply/, /- \[ \] Make changes through the pipeline/],
  // kubemend opens a smoke window on every rollout, so in a replay one ran: it fails only with the first OOMKill, when the node is already out of memory.
  'No smoke tests': [/### The smoke window after the change caught it too late\ndeployment\/reports\/report-worker created [^\n]*kubemend's smoke window failed only at T\+\S+ \(oom-killed/, /No smoke test ran in a deploy pipeline/, /- \[ \] Deploy Deployment\/reports\/report-worker through a pipeline with a smoke-test step/],
  'Knowledge of operating Kubernetes limited to part of team': { unsupported: "who on the team knows what is not in any record kubemend keeps" },
};

test("the draft of memory-cascade holds every learning of the team's own post-mortem that the records support", { timeout: 180_000 }, async () => {
  const fixture = readFileSync(here('../fixtures/postmortems/maximize-learnings-2019.md'), 'utf8');
  const cascade = fixture.slice(fixture.indexOf('## Cascade of failures'));
  const sections = [...cascade.matchAll(/^### (.+?)\s*$/gm)].map((m) => m[1]);
  assert.equal(sections.length, 8, sections.join(' | '));
  assert.deepEqual(sections.filter((s) => !(s in LEARNINGS)), [], 'every section of the team\'s post-mortem is decided: supported (and checked) or not');

  const store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'km-seed-')) });
  try {
    // As it happened: kubemend watching and diagnosing, not acting (dry run), so the cascade runs its course.
    const r = await replayIncidents({
      scenario: resolveScenario('memory-cascade').scenario,
      rules: loadRules(here('../../rules')),
      runbooks: loadRunbooks(here('../../runbooks'), { actions: ACTIONS }),
      store,
      dryRun: true,
    });
    const md = r.markdown!;
    const missing: string[] = [];
    for (const s of sections) {
      const want = LEARNINGS[s];
      if (!Array.isArray(want)) continue;
      for (const re of want) if (!re.test(md)) missing.push(`${s}: ${re}`);
    }
    assert.deepEqual(missing, [], md);
    for (const h of ['## Root cause', '## Impact', '## What kubemend did and its effect', '## Findings', '## Action items']) assert.ok(md.includes(`\n${h}\n`), h);
  } finally {
    await store.close();
  }
});
