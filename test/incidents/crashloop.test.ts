// crashloop end to end, with remediation acting for real: the incident's
// timeline starts with the deploy that caused it, shows kubemend's rollback
// (attributed to its run) and the post-mortem names the trigger.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/store/index.ts';
import { loadRules } from '../../src/rules/loader.ts';
import { loadRunbooks } from '../../src/runbooks/loader.ts';
import { ACTIONS } from '../../src/runbooks/actions/index.ts';
import { resolveScenario } from '../../src/sandbox/scenarios/index.ts';
import { buildTimeline, gatherIncident } from '../../src/incidents/index.ts';
import { replayIncidents } from '../../src/pipeline/index.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const T0 = Date.UTC(2026, 0, 1);

test('crashloop: the image change that preceded it is the trigger, and the rollback run is in the timeline', { timeout: 60_000 }, async () => {
  const store = await openStore({ dataDir: mkdtempSync(join(tmpdir(), 'km-inc-cl-')) });
  try {
    const r = await replayIncidents({
      scenario: resolveScenario('crashloop').scenario,
      rules: loadRules(here('../../rules')),
      runbooks: loadRunbooks(here('../../runbooks'), { actions: ACTIONS }),
      store,
    });
    assert.equal(r.incidents.length, 1, r.incidents.map((i) => i.title).join('\n'));
    const pm = r.postmortem!;
    assert.deepEqual(pm.appendix.detections.map((d) => `${d.rule} ${d.subject}`).sort(), ['crashloop-backoff deployment/shop/checkout', 'namespace-without-limitrange namespace/shop', 'rollout-regression deployment/shop/checkout']);

    assert.equal(pm.triggers.length, 1);
    const trigger = pm.triggers[0];
    assert.deepEqual([trigger.object, trigger.category, trigger.summary, trigger.time - T0, trigger.by], [
      { kind: 'Deployment', namespace: 'shop', name: 'checkout' }, 'image', 'image shop/checkout:1.4.2 → shop/checkout:1.5.0 (container checkout)', 60_000, undefined,
    ]);

    const run = pm.remediation.find((x) => x.runbook === 'bad-deploy');
    assert.ok(run && run.status === 'succeeded' && run.mutated);
    assert.deepEqual(run.steps.map((s) => `${s.stepId}:${s.status}`), ['collect:succeeded', 'rollback:succeeded', 'waitRollout:succeeded', 'smokeCheck:succeeded', 'notify:succeeded']);
    const rollback = run.steps.find((s) => s.stepId === 'rollback')!;
    assert.equal(pm.times.mitigatedAt, rollback.time, 'mitigated when the rollback landed');
    assert.ok(pm.times.timeToMitigateMs! <= 5_000);

    const ctx = await gatherIncident(store, r.primary!.id.slice(0, 12));
    const timeline = buildTimeline(ctx);
    const at = (re: RegExp) => timeline.findIndex((e) => re.test(e.text));
    const deploy = at(/^deployment\/shop\/checkout image shop\/checkout:1\.4\.2 → shop\/checkout:1\.5\.0/);
    const detected = at(/^crashloop-backoff \[critical\] on deployment\/shop\/checkout/);
    const undo = timeline.find((e) => e.source === 'change' && /1\.5\.0 → shop\/checkout:1\.4\.2/.test(e.text));
    assert.ok(deploy >= 0 && detected > deploy, 'the deploy comes first');
    assert.match(undo!.text, new RegExp(`by kubemend \\(runbook bad-deploy run ${run.id.slice(0, 8)} step rollback\\)$`));
    assert.ok(at(/^runbook bad-deploy succeeded/) > detected);
    assert.equal(pm.kubemendChanges.length, 1);

    assert.match(r.markdown!, /## Triggering change\(s\)\n\n- 2026-01-01T00:01:00Z \(T-4s\): \*\*deployment\/shop\/checkout\*\* image shop\/checkout:1\.4\.2 → shop\/checkout:1\.5\.0/);
    assert.ok((await store.audit.verify()).ok);
  } finally {
    await store.close();
  }
});
