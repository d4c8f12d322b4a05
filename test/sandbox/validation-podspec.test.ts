// Where pod specs are validated and in what order, checked against
// pkg/apis/core/validation (1.32) ValidatePodSpec / ValidatePodTemplateSpec,
// apps' ValidatePodTemplateSpecForReplicaSet / ValidateDaemonSetSpec /
// ValidatePodTemplateSpecForStatefulSet (which does not validate the spec in
// 1.32) and batch's validateJobSpec; and that every shipped scenario and the
// conformance fixture still validate.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { ManualClock } from '../../src/common/clock.ts';
import { Sandbox } from '../../src/sandbox/cluster.ts';
import { listScenarios, playFast } from '../../src/sandbox/scenarios/index.ts';
import { RESOURCES } from '../../src/sandbox/resources.ts';
import type { K8sObject } from '../../src/sandbox/types.ts';
import { accepted, newStore, refusal } from './validation-helpers.ts';

const badContainer = { name: 'app', image: 'nginx:1.27', livenessProbe: {}, ports: [{ containerPort: 0 }] };
const template = (labels: Record<string, string>, spec: Record<string, unknown> = {}) => ({ metadata: { labels }, spec: { containers: [badContainer], ...spec } });

describe('pod spec validation: order and owners', { timeout: 60_000 }, () => {
  const store = newStore();

  it('a Pod lists volumes, containers, init containers, then pod-level faults, in ValidatePodSpec\'s order', () => {
    const r = refusal(store, 'pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'many' }, spec: {
      restartPolicy: 'Sometimes',
      tolerations: [{ operator: 'Equal' }],
      affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'zone', labelSelector: { matchLabels: { a: 'b' } }, namespaces: ['x'] }] } },
      initContainers: [{ name: 'init', image: 'busybox', readinessProbe: { exec: { command: ['x'] } } }],
      containers: [badContainer],
      volumes: [{ name: 'v', configMap: {} }],
    } });
    assert.deepEqual(r.causes.map((c) => c[0]), [
      'spec.volumes[0].configMap.name',
      'spec.containers[0].ports[0].containerPort',
      'spec.containers[0].livenessProbe',
      'spec.initContainers[0].readinessProbe',
      'spec.restartPolicy',
      'spec.tolerations[0].operator',
    ]);
    assert.match(r.message, /^Pod "many" is invalid: \[spec\.volumes\[0\]\.configMap\.name: Required value, spec\.containers\[0\]\.ports\[0\]\.containerPort: Required value, /);
  });

  it('Deployments, ReplicaSets and DaemonSets validate their template\'s labels (on spec.template.labels) and spec, then restartPolicy Always', () => {
    for (const [storage, kind] of [['apps/deployments', 'Deployment'], ['apps/replicasets', 'ReplicaSet'], ['apps/daemonsets', 'DaemonSet']]) {
      const r = refusal(store, storage, { apiVersion: 'apps/v1', kind, metadata: { name: 'w' }, spec: { selector: { matchLabels: { app: 'w' } }, template: template({ app: 'w', tier: 'front end' }, { restartPolicy: 'OnFailure' }) } });
      assert.deepEqual(r.causes.map((c) => c[0]), [
        'spec.template.labels',
        'spec.template.spec.containers[0].ports[0].containerPort',
        'spec.template.spec.containers[0].livenessProbe',
        'spec.template.spec.restartPolicy',
      ], kind);
      assert.equal(r.causes[3][2], 'Unsupported value: "OnFailure": supported values: "Always"');
      assert.ok(r.message.startsWith(`${kind}.apps "w" is invalid: [spec.template.labels: Invalid value: "front end": `), r.message);
    }
  });

  it('a StatefulSet\'s template spec is not validated in 1.32, only its labels and restart policy (ValidatePodTemplateSpecForStatefulSet)', () => {
    const sts = (labels: Record<string, string>, spec: Record<string, unknown> = {}): K8sObject => ({
      apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: `db${Object.keys(labels).length}` },
      spec: { serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template: template(labels, spec) },
    });
    // Mounting a volumeClaimTemplate is what the template cannot be checked for.
    accepted(store, 'apps/statefulsets', sts({ app: 'db' }));
    assert.deepEqual(refusal(store, 'apps/statefulsets', sts({ app: 'db', tier: 'x y' }, { restartPolicy: 'Never' })).causes.map((c) => c[0]), ['spec.template.labels', 'spec.template.spec.restartPolicy']);
  });

  it('Jobs and CronJobs validate the template under their own paths; Always reads as unset for a Job (validateJobSpec)', () => {
    const job = refusal(store, 'batch/jobs', { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' }, spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox', env: [{ name: '', value: 'x' }] }] } } } });
    assert.deepEqual(job.causes, [
      ['spec.template.spec.containers[0].env[0].name', 'FieldValueRequired', 'Required value'],
      ['spec.template.spec.restartPolicy', 'FieldValueRequired', 'Required value: valid values: "OnFailure", "Never"'],
    ]);
    assert.equal(job.message, 'Job.batch "j" is invalid: [spec.template.spec.containers[0].env[0].name: Required value, spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"]');
    const cron = refusal(store, 'batch/cronjobs', { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'c' }, spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox', env: [{ name: 'A=B', value: 'x' }] }] } } } } } });
    assert.deepEqual(cron.causes.map((c) => c[0]), ['spec.jobTemplate.spec.template.spec.containers[0].env[0].name']);
  });
});

describe('what ships still validates', { timeout: 120_000 }, () => {
  it('the conformance fixture with one of every kind is accepted as a whole', () => {
    const sandbox = new Sandbox({ clock: new ManualClock() });
    const docs = parseAllDocuments(readFileSync(new URL('../conformance/fixtures/every-kind.yaml', import.meta.url), 'utf8')).map((d) => d.toJSON()).filter(Boolean);
    for (const doc of docs) {
      const storage = RESOURCES.find((t) => t.kind === doc.kind && `${t.group ? `${t.group}/` : ''}${t.version}` === doc.apiVersion)?.storage;
      assert.ok(storage, `a type for ${doc.apiVersion} ${doc.kind}`);
      if (doc.kind === 'Namespace' && sandbox.store.get('namespaces', undefined, doc.metadata.name)) continue;
      accepted(sandbox.store, storage, doc);
    }
  });

  it('every shipped scenario plays to its end without a refused step or pod', async () => {
    for (const { scenario } of listScenarios()) {
      const errors: string[] = [];
      const play = playFast(scenario, { onError: (_step, err) => errors.push((err as Error).message) });
      await play.run();
      play.runner.stop();
      const refused = play.sandbox.store.list('events').items.filter((e) => e.reason === 'FailedCreate' && / is invalid: /.test(e.message ?? ''));
      assert.deepEqual([...errors, ...refused.map((e) => e.message)], [], scenario.metadata.name);
      await play.sandbox.stop();
    }
  });
});
