// deploy/ as `kubectl kustomize` renders it (kubectl 1.32's built-in
// kustomize): each overlay yields the objects docs/deploy.md promises, locked
// down as it says, its ConfigMaps hold the repository's rules, runbooks,
// policy and a service config that loads, Secrets are only referenced, and
// the ClusterRoles grant exactly what the code says kubemend's identities ask
// for — nothing missing, nothing more.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accessTriples } from '../../src/kube/index.ts';
import { loadServiceConfig } from '../../src/server/index.ts';
import { loadRules } from '../../src/rules/index.ts';
import { ACTIONS, checkRuleRunbooks, loadRunbooks } from '../../src/runbooks/index.ts';
import { needs } from '../conformance/harness.ts';
import { ROOT, configMap, expectedAccess, find, materialize, one, overlay, render, roleTriples, type Doc } from './fixture.ts';

const skip = needs('kubectl');
const yamlFiles = (dir: string) => readdirSync(join(ROOT, dir)).filter((f) => f.endsWith('.yaml')).sort();

describe('deploy/: what kustomize renders', { skip, timeout: 60_000 }, () => {
  it('each overlay renders the same set of objects, all in namespace kubemend, no Secret among them', async () => {
    for (const name of ['single', 'ha'] as const) {
      const docs = await render(overlay(name));
      const kinds = docs.map((d) => `${d.kind}/${d.kind === 'ConfigMap' ? d.metadata.name.replace(/-[a-z0-9]{10}$/, '') : d.metadata.name}`).sort();
      const expected = [
        'ClusterRole/kubemend', 'ClusterRole/kubemend-remediator', 'ClusterRoleBinding/kubemend', 'ClusterRoleBinding/kubemend-remediator',
        'ConfigMap/kubemend-config', 'ConfigMap/kubemend-policy', 'ConfigMap/kubemend-rules', 'ConfigMap/kubemend-runbooks',
        'Deployment/kubemend', 'Namespace/kubemend', 'PodDisruptionBudget/kubemend', 'Role/kubemend', 'RoleBinding/kubemend',
        'Service/kubemend', 'ServiceAccount/kubemend', ...(name === 'single' ? ['PersistentVolumeClaim/kubemend-data'] : []),
      ].sort();
      assert.deepEqual(kinds, expected, name);
      for (const d of docs) {
        if (['Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(d.kind)) continue;
        assert.equal(d.metadata.namespace, 'kubemend', `${name}: ${d.kind}/${d.metadata.name}`);
      }
      assert.equal(find(docs, 'Secret').length, 0, 'Secrets are referenced, never shipped');
      assert.doesNotMatch(JSON.stringify(docs), /postgres:\/\/|BEGIN [A-Z ]*PRIVATE KEY|xox[bp]-/, 'no credential inlined');
    }
  });

  it('the Deployment: replicas, probes, requests and limits, non-root, read-only root, no escalation, no capabilities, RuntimeDefault seccomp', async () => {
    const single = one(await render(overlay('single')), 'Deployment', 'kubemend');
    const ha = one(await render(overlay('ha')), 'Deployment', 'kubemend');
    assert.deepEqual([single.spec.replicas, ha.spec.replicas], [1, 2]);
    assert.deepEqual(single.spec.strategy, { type: 'Recreate' }, 'the RWO claim is released before the next pod mounts it');
    for (const dep of [single, ha]) {
      const pod = dep.spec.template.spec;
      const c = pod.containers[0];
      assert.equal(pod.serviceAccountName, 'kubemend');
      assert.equal(c.image, 'ghcr.io/kubemend/kubemend:0.1.0');
      assert.deepEqual(c.args, ['serve', '--config', '/etc/kubemend/config/kubemend.yaml']);
      assert.deepEqual(c.livenessProbe.httpGet, { path: '/healthz', port: 'http' });
      assert.deepEqual(c.readinessProbe.httpGet, { path: '/readyz', port: 'http' });
      assert.deepEqual(c.ports, [{ name: 'http', containerPort: 8080 }]);
      for (const k of ['requests', 'limits']) assert.ok(c.resources[k].cpu && c.resources[k].memory, `${k} for cpu and memory`);
      assert.equal(pod.securityContext.runAsNonRoot, true);
      assert.ok(pod.securityContext.runAsUser > 0);
      assert.deepEqual(pod.securityContext.seccompProfile, { type: 'RuntimeDefault' });
      assert.deepEqual(c.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] } });
      const mounts = Object.fromEntries(c.volumeMounts.map((m: any) => [m.mountPath, m]));
      for (const p of ['/etc/kubemend/config', '/etc/kubemend/rules', '/etc/kubemend/runbooks', '/etc/kubemend/policy']) assert.equal(mounts[p]?.readOnly, true, p);
      assert.ok(mounts['/tmp'] && mounts['/var/lib/kubemend'], 'the only writable places: /tmp and the data directory');
      assert.deepEqual(c.envFrom, [{ secretRef: { name: 'kubemend-env', optional: true } }]);
    }
    const vol = (dep: Doc, name: string) => dep.spec.template.spec.volumes.find((v: any) => v.name === name);
    assert.deepEqual(vol(single, 'data'), { name: 'data', persistentVolumeClaim: { claimName: 'kubemend-data' } });
    const env = Object.fromEntries(ha.spec.template.spec.containers[0].env.map((e: any) => [e.name, e]));
    assert.deepEqual(env.KUBEMEND_DB.valueFrom, { secretKeyRef: { name: 'kubemend-postgres', key: 'url' } }, 'PostgreSQL from a Secret');
    assert.equal(env.KUBEMEND_AUDIT_REQUIRE_KEY.value, 'true', 'both replicas sign with one key, never a generated one');
    assert.equal(vol(ha, 'audit-key').secret.secretName, 'kubemend-audit-key');
    assert.equal(single.spec.template.spec.containers[0].env.some((e: any) => e.name === 'KUBEMEND_DB'), false, 'single: SQLite in the data directory');
  });

  it('the PodDisruptionBudget, the PVC and the Service with its Prometheus annotations', async () => {
    const single = await render(overlay('single'));
    const ha = await render(overlay('ha'));
    assert.deepEqual(one(ha, 'PodDisruptionBudget').spec, { minAvailable: 1, selector: { matchLabels: { 'app.kubernetes.io/name': 'kubemend' } } });
    assert.equal(one(single, 'PodDisruptionBudget').spec.maxUnavailable, 1, 'a single replica may still be drained');
    assert.deepEqual(one(single, 'PersistentVolumeClaim').spec.accessModes, ['ReadWriteOnce']);
    const svc = one(ha, 'Service');
    assert.deepEqual(svc.metadata.annotations, { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8080', 'prometheus.io/path': '/metrics' });
    assert.deepEqual(svc.spec.ports, [{ name: 'http', port: 8080, targetPort: 'http' }]);
    assert.deepEqual(svc.spec.selector, one(ha, 'Deployment').spec.selector.matchLabels);
  });

  it('the ConfigMaps hold the repository\'s rules, runbooks and policy, file for file, and each directory\'s generator lists them all', async () => {
    const docs = await render(overlay('single'));
    for (const [dir, cm] of [['rules', 'kubemend-rules'], ['runbooks', 'kubemend-runbooks']]) {
      const data = configMap(docs, cm).data;
      assert.deepEqual(Object.keys(data).sort(), yamlFiles(dir), `${cm}: every file in ${dir}/ (add a new one to ${dir}/Kustomization)`);
      for (const f of yamlFiles(dir)) assert.equal(data[f], readFileSync(join(ROOT, dir, f), 'utf8'), `${dir}/${f}`);
    }
    assert.deepEqual(configMap(docs, 'kubemend-policy').data, { 'chat-policy.csv': readFileSync(join(ROOT, 'config/chat-policy.csv'), 'utf8') });
    const volumes = Object.fromEntries(one(docs, 'Deployment').spec.template.spec.volumes.filter((v: any) => v.configMap).map((v: any) => [v.name, v.configMap.name]));
    for (const [vol, cm] of Object.entries({ config: 'kubemend-config', rules: 'kubemend-rules', runbooks: 'kubemend-runbooks', policy: 'kubemend-policy' })) {
      assert.equal(volumes[vol], configMap(docs, cm).metadata.name, `volume ${vol} names the generated (hashed) ConfigMap`);
    }
  });

  it('the service config, read as the pod reads its mounts, loads, and its rules and runbooks load and fit together', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'km-deploy-mounts-'));
    const file = materialize(await render(overlay('ha')), dir);
    const config = loadServiceConfig(file, { rules: 'unused', runbooks: 'unused', policy: 'unused' });
    assert.deepEqual([config.rules, config.runbooks, config.policy], [join(dir, 'rules'), join(dir, 'runbooks'), join(dir, 'policy/chat-policy.csv')]);
    assert.equal(config.server.listen, '0.0.0.0:8080', 'probes and the Service reach the pod\'s address');
    assert.equal(config.chatSettings.defaultCluster, 'inClusterContext', 'the cluster client-node makes of the pod\'s ServiceAccount');
    assert.equal(config.store.db, undefined, 'no URL in the file: $KUBEMEND_DB from the Secret');
    const rules = loadRules(config.rules);
    const runbooks = loadRunbooks(config.runbooks, { actions: ACTIONS });
    assert.deepEqual(checkRuleRunbooks(rules, runbooks), []);
    assert.equal(rules.length, yamlFiles('rules').length);
  });
});

describe('deploy/: least privilege, derived from the code', { skip, timeout: 60_000 }, () => {
  it('ClusterRole kubemend grants exactly what kubemend itself asks for: list/watch of the watched kinds, get namespaces, impersonate', async () => {
    const docs = await render(overlay('single'));
    assert.deepEqual(roleTriples(one(docs, 'ClusterRole', 'kubemend')), accessTriples(expectedAccess().service));
  });

  it('ClusterRole kubemend-remediator grants exactly what the shipped runbooks\' actions declare, and no Secret', async () => {
    const docs = await render(overlay('single'));
    const granted = roleTriples(one(docs, 'ClusterRole', 'kubemend-remediator'));
    assert.deepEqual(granted, accessTriples(expectedAccess().remediator));
    assert.ok(!granted.some((t) => / core\/secrets$/.test(t)), 'no shipped runbook reads Secrets (k8s.collect readSecrets is off)');
    assert.ok(!granted.some((t) => /^(delete|deletecollection|escalate|bind|impersonate) /.test(t)), granted.join('\n'));
  });

  it('the Role in kubemend: the leader Lease and impersonating the remediator by name; the bindings tie each role to its identity', async () => {
    const docs = await render(overlay('ha'));
    assert.deepEqual(roleTriples(one(docs, 'Role', 'kubemend')), [
      'create coordination.k8s.io/leases', 'get coordination.k8s.io/leases', 'impersonate core/serviceaccounts@remediator', 'update coordination.k8s.io/leases',
    ]);
    const subject = (kind: string, name: string) => one(docs, kind, name).subjects;
    assert.deepEqual(subject('ClusterRoleBinding', 'kubemend'), [{ kind: 'ServiceAccount', name: 'kubemend', namespace: 'kubemend' }]);
    assert.deepEqual(subject('RoleBinding', 'kubemend'), [{ kind: 'ServiceAccount', name: 'kubemend', namespace: 'kubemend' }]);
    assert.deepEqual(subject('ClusterRoleBinding', 'kubemend-remediator'), [{ kind: 'ServiceAccount', name: 'remediator', namespace: 'kubemend' }]);
    assert.equal(find(docs, 'ServiceAccount', 'remediator').length, 0, 'the remediator is only impersonated: no account to mint a token for');
  });

  it('the derivation itself: readSecrets, set on a step, adds get secrets; an action outside the runbooks adds nothing', async () => {
    const { runbookAccess } = await import('../../src/runbooks/index.ts');
    const runbooks = loadRunbooks(join(ROOT, 'runbooks'), { actions: ACTIONS });
    const collectStep = runbooks.find((r) => r.runbook.metadata.name === 'bad-deploy')!;
    const withSecrets = { ...collectStep, runbook: structuredClone(collectStep.runbook) } as any;
    withSecrets.runbook.spec.steps[0].with.readSecrets = true;
    assert.ok(accessTriples(runbookAccess([withSecrets], ACTIONS)).includes('get core/secrets'));
    assert.ok(!accessTriples(runbookAccess([collectStep], ACTIONS)).includes('get core/secrets'));
    assert.ok(!accessTriples(expectedAccess().remediator).includes('create batch/jobs'), 'job.run is shipped but no shipped runbook uses it');
  });
});
