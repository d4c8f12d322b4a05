// deploy/ against a sandbox that enforces RBAC, driven by kubectl 1.32:
// `kubectl apply --dry-run=server -k` accepts each overlay, `kubectl apply -k`
// creates it, and `kubectl auth can-i --as=…` agrees with what the code says
// kubemend's identities need — every verb on every resource allowed, and
// what no action needs (delete nodes, get secrets, writes by kubemend itself)
// refused.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type Cluster, skipKubectl, startCluster } from '../conformance/cluster.ts';
import { accessTriples } from '../../src/kube/index.ts';
import { REMEDIATOR, SA, expectedAccess, overlay, render } from './fixture.ts';

/** `verb group/resource[/sub]` → can-i arguments. */
function canIArgs(triple: string): string[] {
  const [verb, gr] = triple.split(' ');
  const [group, resource, sub] = gr.split('/');
  return [verb, group === 'core' ? resource : `${resource}.${group}`, ...(sub ? [`--subresource=${sub}`] : [])];
}

describe('deploy/ on a sandbox enforcing RBAC', { skip: skipKubectl, timeout: 180_000 }, () => {
  let c: Cluster;
  const canI = async (as: string[], ...args: string[]) => (await c.kubectlResult('auth', 'can-i', ...args, ...as)).stdout.trim();
  /**
   * Every check's answer, a few kubectl processes at a time (each is ~0.15 s of CPU and a round trip; one after the other
   * they took 5 s a list), in the order given, so the asserts below report as they did one by one.
   */
  const canIAll = async (checks: [string[], string[]][]) => {
    const answers: string[] = new Array(checks.length);
    let next = 0;
    await Promise.all(Array.from({ length: 4 }, async () => {
      for (let i = next++; i < checks.length; i = next++) answers[i] = await canI(checks[i][0], ...checks[i][1]);
    }));
    return answers;
  };
  const asSA = [`--as=${SA}`];
  // As kubemend impersonates it: the service identity's user and groups (src/pipeline/remediation.ts).
  const asRemediator = [`--as=${REMEDIATOR}`, '--as-group=system:serviceaccounts', '--as-group=kubemend:remediators'];
  before(async () => {
    c = await startCluster({ rbac: 'enforce' });
    await c.kubectl('create', 'namespace', 'shop');
  });
  after(() => c.stop());

  it('kubectl apply --dry-run=server -k accepts each overlay and stores nothing; on a new cluster only the namespace is missing, as on kube-apiserver', async () => {
    const fresh = await c.kubectlResult('apply', '--dry-run=server', '-k', overlay('single'));
    assert.notEqual(fresh.code, 0);
    for (const line of fresh.stderr.trim().split('\n')) assert.match(line, /namespaces "kubemend" not found/, 'a dry run persists no namespace for what follows it');
    await c.kubectl('create', 'namespace', 'kubemend');
    for (const name of ['single', 'ha'] as const) {
      const r = await c.kubectlResult('apply', '--dry-run=server', '-k', overlay(name));
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      const docs = await render(overlay(name));
      assert.equal(r.stdout.trim().split('\n').filter((l) => /\(server dry run\)$/.test(l)).length, docs.length, r.stdout);
    }
    assert.match((await c.kubectlResult('get', 'deployment', 'kubemend', '-n', 'kubemend')).stderr, /NotFound/);
  });

  it('kubectl apply -k creates it; applying it again changes nothing stored', async () => {
    const r = await c.kubectlResult('apply', '-k', overlay('single'));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /clusterrole\.rbac\.authorization\.k8s\.io\/kubemend-remediator created/);
    assert.match(r.stdout, /deployment\.apps\/kubemend created/);
    const versions = async () => JSON.parse(await c.kubectl('get', '-k', overlay('single'), '-o', 'json')).items.map((o: any) => `${o.kind}/${o.metadata.name}@${o.metadata.resourceVersion}`).sort();
    const before = await versions();
    assert.equal(before.length, (await render(overlay('single'))).length);
    // kubectl may still send a no-op patch (a PDB's selector is replaced whole) and print "configured"; nothing changes.
    assert.doesNotMatch(await c.kubectl('apply', '-k', overlay('single')), / created$/m);
    const after = await versions();
    const changed = after.filter((v: string) => !before.includes(v) && !/^(Deployment|PodDisruptionBudget|PersistentVolumeClaim)\//.test(v));
    assert.deepEqual(changed, [], 'no object but those whose status controllers write changed');
  });

  it('can-i as kubemend\'s ServiceAccount: each list/watch/get/impersonate it needs is allowed', async () => {
    const triples = accessTriples(expectedAccess().service);
    const answers = await canIAll(triples.map((t) => [asSA, [...canIArgs(t), '--all-namespaces']]));
    triples.forEach((t, i) => assert.equal(answers[i], 'yes', `${SA}: ${t}`));
    assert.equal(await canI(asSA, 'impersonate', 'serviceaccounts/remediator', '-n', 'kubemend'), 'yes');
    for (const verb of ['get', 'create', 'update']) assert.equal(await canI(asSA, verb, 'leases.coordination.k8s.io', '-n', 'kubemend'), 'yes', `${verb} leases`);
  });

  it('can-i as the remediator identity: each request the shipped runbooks\' actions make is allowed, in any namespace', async () => {
    const triples = accessTriples(expectedAccess().remediator);
    const answers = await canIAll(triples.map((t) => [asRemediator, [...canIArgs(t), '-n', 'shop']]));
    triples.forEach((t, i) => assert.equal(answers[i], 'yes', `${REMEDIATOR}: ${t}`));
  });

  it('and nothing more: writes by kubemend itself, Secrets, deleting nodes or workloads, other leases are refused', async () => {
    const refused: [string[], string[]][] = [
      [asSA, ['delete', 'nodes']], [asSA, ['get', 'secrets', '-n', 'shop']], [asSA, ['patch', 'deployments.apps', '-n', 'shop']],
      [asSA, ['create', 'pods', '-n', 'shop']], [asSA, ['impersonate', 'serviceaccounts/default', '-n', 'shop']],
      [asSA, ['impersonate', 'serviceaccounts/other', '-n', 'kubemend']], [asSA, ['update', 'leases.coordination.k8s.io', '-n', 'shop']],
      [asSA, ['delete', 'leases.coordination.k8s.io', '-n', 'kubemend']], [asSA, ['get', '/metrics']],
      [asRemediator, ['delete', 'nodes']], [asRemediator, ['get', 'secrets', '-n', 'shop']], [asRemediator, ['delete', 'deployments.apps', '-n', 'shop']],
      [asRemediator, ['create', 'pods', '-n', 'shop']], [asRemediator, ['impersonate', 'users']], [asRemediator, ['update', 'clusterroles.rbac.authorization.k8s.io']],
      [asRemediator, ['create', 'jobs.batch', '-n', 'shop']],
    ];
    const answers = await canIAll(refused);
    refused.forEach(([as, args], i) => assert.equal(answers[i], 'no', `${as[0]} ${args.join(' ')}`));
  });

  it('kubectl auth can-i --list as kubemend shows its namespace\'s Lease and impersonation rules (SelfSubjectRulesReview)', async () => {
    const out = await c.kubectl('auth', 'can-i', '--list', '-n', 'kubemend', ...asSA);
    assert.match(out, /^leases\.coordination\.k8s\.io\s+\[\]\s+\[\]\s+\[create get update\]$/m);
    assert.match(out, /^serviceaccounts\s+\[\]\s+\[remediator\]\s+\[impersonate\]$/m);
    assert.match(out, /^deployments\.apps\s+\[\]\s+\[\]\s+\[list watch\]$/m);
  });
});
