// Who changed what, with the real kubectl against the sandbox: every change
// in the feed names the tool that made it (kubectl-client-side-apply,
// kubectl-set, a GitOps controller) and when; the API server's audit webhook
// adds the user; changes by tools outside the expected managers are flagged
// in the timeline and the post-mortem. Skipped when kubectl is not installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { Sandbox } from '../../src/sandbox/index.ts';
import { loadRules, type Detection } from '../../src/rules/index.ts';
import { Pipeline } from '../../src/pipeline/index.ts';
import { createApp } from '../../src/server/index.ts';
import { openStore } from '../../src/store/index.ts';
import { buildTimeline, draftPostmortem, gatherIncident, renderMarkdown } from '../../src/incidents/index.ts';
import { hasKubectl } from '../helpers/kubectl.ts';
import { until } from '../helpers/serve-process.ts';
import { auditEvent, eventList } from '../helpers/kube-audit.ts';

const run = promisify(execFile);
const TOKEN = 'apiserver-audit-token';

const RULES = `apiVersion: kubemend.dev/v1alpha1
kind: Rule
metadata: { name: broken-image }
spec:
  source: object
  match: { kinds: [Deployment] }
  when: "object.spec.template.spec.containers.exists(c, c.image.endsWith(':broken'))"
  summary: "'deployment ' + object.metadata.name + ' runs a broken image'"
  severity: warning
---
apiVersion: kubemend.dev/v1alpha1
kind: Rule
metadata: { name: changed-by-hand }
spec:
  source: object
  match: { kinds: [Deployment] }
  when: "has(object.metadata.managedFields) && object.metadata.managedFields.exists(m, m.manager == 'kubectl-set')"
  summary: "'deployment ' + object.metadata.name + ' was changed with kubectl set'"
  severity: info
`;

const WEB = `apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: default }
spec:
  replicas: 1
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers: [{ name: web, image: "nginx:1.27", resources: { limits: { memory: 128Mi } } }]
`;

/** HH:MM:SS of a managedFields time (whole seconds). */
const hms = (ms: number) => new Date(ms).toISOString().slice(11, 19);

test('kubectl apply / patch / set image: the feed, the timeline and the post-mortem name each author and time; the user comes from the audit webhook', {
  skip: hasKubectl ? false : 'kubectl is not on PATH; install kubectl 1.32 to run this test',
  timeout: 90_000,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'km-authors-'));
  const sandbox = new Sandbox({ speed: 1 });
  await sandbox.listen();
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, sandbox.kubeconfig());
  writeFileSync(join(dir, 'rules.yaml'), RULES);
  writeFileSync(join(dir, 'web.yaml'), WEB);
  const kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfig());
  const store = await openStore({ dataDir: join(dir, 'data') });
  const detections: Detection[] = [];
  const pipeline = new Pipeline({
    clock: sandbox.clock,
    clusters: [{ name: 'sandbox', kubeconfig: kc }],
    rules: loadRules(join(dir, 'rules.yaml')),
    store,
    incidents: { expectedManagers: ['argocd-controller'], kubeAudit: {} },
    webhooks: {},
    sinks: [{ name: 'collect', onDetection: (d, change) => change === 'opened' && detections.push(structuredClone(d)) }],
  });
  const { app } = await createApp({ webhooks: { source: pipeline.webhooks!, alertmanager: false, kubernetesAudit: { bearerToken: TOKEN, trail: pipeline.kubeAudit!, clusters: ['sandbox'] } } });
  const kubectl = async (...args: string[]) => {
    const before = sandbox.clock.now();
    await run('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args], { timeout: 30_000 });
    return { before: Math.floor(before / 1000) * 1000, after: sandbox.clock.now() };
  };
  try {
    await pipeline.start();
    await app.listen({ host: '127.0.0.1', port: 0 });
    const feed = pipeline.incidents!.tracker.feed;

    const applied = await kubectl('apply', '-f', join(dir, 'web.yaml'));
    const synced = await kubectl('patch', 'deployment', 'web', '--type=merge', '-p', '{"spec":{"replicas":2}}', '--field-manager=argocd-controller');
    const setImage = await kubectl('set', 'image', 'deployment/web', 'web=nginx:broken');
    const [create, scale, image] = await until('three changes in the feed', () => {
      const es = feed.entries({ cluster: 'sandbox' }).filter((e) => e.object.name === 'web');
      return es.length >= 3 && es;
    }, 20_000, () => JSON.stringify(feed.entries(), null, 1));

    const within = (t: number, w: { before: number; after: number }) => t >= w.before && t <= w.after;
    assert.deepEqual([create.operation, create.author?.manager, create.author?.operation, create.outsidePipeline], ['create', 'kubectl-client-side-apply', 'Update', true]);
    assert.ok(within(create.author!.time, applied), `${create.author!.time} within the apply`);
    assert.deepEqual([scale.summary, scale.author?.manager, scale.outsidePipeline], ['replicas 1 → 2', 'argocd-controller', undefined], 'an expected manager is not flagged');
    assert.ok(within(scale.author!.time, synced));
    assert.deepEqual([image.category, image.author?.manager, image.outsidePipeline], ['image', 'kubectl-set', true]);
    assert.ok(within(image.author!.time, setImage));
    assert.ok(detections.some((d) => d.rule === 'changed-by-hand'), 'rules see the kept managedFields');

    // What kube-apiserver's audit webhook would send for the set image (the sandbox has no audit backend).
    const ref = { resource: 'deployments', apiGroup: 'apps', namespace: 'default', name: 'web' };
    const batch = eventList([auditEvent({ id: 'k-1', at: image.time - 20, verb: 'patch', user: 'alice@example.com', fieldManager: 'kubectl-set', ...ref })]);
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const res = await fetch(`${base}/webhooks/kubernetes-audit`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(batch) });
    assert.deepEqual(await res.json(), { accepted: 1, kept: 1, ignored: 0 });

    const [incident] = await until('the incident', () => pipeline.incidents!.tracker.openIncidents().length === 1 && pipeline.incidents!.tracker.openIncidents(), 20_000);
    await pipeline.flush();
    const ctx = await gatherIncident(store, incident.id);
    const pm = draftPostmortem(ctx);
    assert.deepEqual(pm.triggers.map((c) => [c.summary, c.author?.manager, c.author?.user]), [['image nginx:1.27 → nginx:broken (container web)', 'kubectl-set', 'alice@example.com']]);
    assert.deepEqual(pm.outsidePipeline.map((c) => c.author?.manager), ['kubectl-client-side-apply', 'kubectl-set']);
    const md = renderMarkdown(pm);
    assert.match(md, new RegExp(`\\*\\*deployment/default/web\\*\\* image nginx:1\\.27 → nginx:broken \\(container web\\) \\(by kubectl-set \\(alice@example\\.com\\) at ${hms(image.author!.time)}; \\*\\*made outside the pipeline\\*\\*\\)`));
    const section = md.split('## Changes made outside the pipeline')[1]?.split('\n## ')[0] ?? '';
    assert.match(section, new RegExp(`deployment/default/web\\*\\* created .*by kubectl-client-side-apply at ${hms(create.author!.time)}`));
    assert.doesNotMatch(section, /replicas 1 → 2/, 'the GitOps controller\'s change is not a finding');
    assert.match(md, /Make changes through the pipeline: 2 changes were made outside it \(kubectl-client-side-apply, kubectl-set \(alice@example\.com\)\)/);
    const timeline = buildTimeline(ctx).filter((e) => e.source === 'change').map((e) => e.text);
    assert.ok(timeline.includes(`deployment/default/web replicas 1 → 2 — by argocd-controller at ${hms(scale.author!.time)}`), timeline.join('\n'));
  } finally {
    await app.close();
    await pipeline.stop();
    await sandbox.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
