// What every 1.32 cluster has without anyone creating it: a `default`
// ServiceAccount and the kube-root-ca.crt ConfigMap in every namespace
// (kube-controller-manager's serviceaccount controller and
// root-ca-cert-publisher), the default/kubernetes Service, and the two system
// PriorityClasses, with pods' priority resolved by the Priority admission
// plugin. Driven by kubectl 1.32, Debian's python3-kubernetes and raw HTTP.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { type Cluster, skipKubectl, skipPython, startCluster } from './cluster.ts';

const skip = skipKubectl;
const skipPy = skipPython();

async function until<T>(what: string, f: () => Promise<T | undefined | false>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('default ServiceAccounts, kube-root-ca.crt and default/kubernetes', { skip, timeout: 120_000 }, () => {
  let c: Cluster;
  before(async () => {
    c = await startCluster();
  });
  after(() => c.stop());

  it('kubectl get sa: a default ServiceAccount in every namespace, also in a new one, made again when deleted', async () => {
    const all = await until('default service accounts', async () => {
      const out = await c.kubectl('get', 'sa', '-A');
      return (out.match(/\bdefault\s+0\s/g) ?? []).length === 4 && out;
    });
    assert.match(all, /^NAMESPACE\s+NAME\s+SECRETS\s+AGE/);
    for (const ns of ['default', 'kube-node-lease', 'kube-public', 'kube-system']) assert.match(all, new RegExp(`${ns}\\s+default\\s+0`));
    await c.kubectl('create', 'namespace', 'shop');
    await until('shop/default', async () => (await c.kubectlResult('get', 'sa', 'default', '-n', 'shop')).code === 0);
    const uid = JSON.parse(await c.kubectl('get', 'sa', 'default', '-n', 'shop', '-o', 'json')).metadata.uid;
    await c.kubectl('delete', 'sa', 'default', '-n', 'shop');
    await until('shop/default again', async () => {
      const r = await c.kubectlResult('get', 'sa', 'default', '-n', 'shop', '-o', 'json');
      return r.code === 0 && JSON.parse(r.stdout).metadata.uid !== uid;
    });
    const sa = JSON.parse(await c.kubectl('get', 'sa', 'default', '-n', 'shop', '-o', 'json', '--show-managed-fields'));
    // It sets no field beyond its name, so the field manager may record nothing; what it records is the controller's.
    for (const m of sa.metadata.managedFields ?? []) assert.equal(m.manager, 'kube-controller-manager');
  });

  it('kube-root-ca.crt holds the cluster CA in every namespace and is put back when edited', async () => {
    const cm = await until('shop/kube-root-ca.crt', async () => {
      const r = await c.kubectlResult('get', 'configmap', 'kube-root-ca.crt', '-n', 'shop', '-o', 'json');
      return r.code === 0 && JSON.parse(r.stdout);
    });
    assert.deepEqual(Object.keys(cm.data), ['ca.crt']);
    const cert = new X509Certificate(cm.data['ca.crt']);
    assert.equal(cert.subject, 'CN=kubernetes');
    assert.equal(cert.ca, true);
    assert.match(cm.metadata.annotations['kubernetes.io/description'], /^Contains a CA bundle that can be used to verify the kube-apiserver/);
    assert.match(await c.kubectl('get', 'cm', '-A'), /kube-system\s+kube-root-ca.crt\s+1/);
    await c.kubectl('patch', 'configmap', 'kube-root-ca.crt', '-n', 'shop', '--type=merge', '-p', '{"data":{"ca.crt":"tampered"}}');
    await until('the CA put back', async () => JSON.parse(await c.kubectl('get', 'cm', 'kube-root-ca.crt', '-n', 'shop', '-o', 'json')).data['ca.crt'] === cm.data['ca.crt']);
  });

  it('default/kubernetes is the API server\'s Service, and comes back when deleted', async () => {
    assert.match(await c.kubectl('get', 'svc', 'kubernetes'), /kubernetes\s+ClusterIP\s+10\.96\.0\.1\s+<none>\s+443\/TCP/);
    const svc = JSON.parse(await c.kubectl('get', 'svc', 'kubernetes', '-o', 'json'));
    assert.deepEqual(svc.metadata.labels, { component: 'apiserver', provider: 'kubernetes' });
    assert.deepEqual(svc.spec.ports, [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }]);
    await c.kubectl('delete', 'svc', 'kubernetes');
    await until('default/kubernetes again', async () => (await c.kubectlResult('get', 'svc', 'kubernetes')).code === 0);
  });

  it('the Python client reads them', { skip: skipPy }, async () => {
    const out = await c.python(`
core = client.CoreV1Api()
print(json.dumps({
  'sa': sorted(s.metadata.namespace for s in core.list_service_account_for_all_namespaces().items if s.metadata.name == 'default'),
  'ca': core.read_namespaced_config_map('kube-root-ca.crt', 'kube-public').data['ca.crt'].startswith('-----BEGIN CERTIFICATE-----'),
  'svc': core.read_namespaced_service('kubernetes', 'default').spec.cluster_ip,
}))
`);
    assert.deepEqual(out, { sa: ['default', 'kube-node-lease', 'kube-public', 'kube-system', 'shop'], ca: true, svc: '10.96.0.1' });
  });
});

describe('scheduling.k8s.io PriorityClasses and pod priority', { skip, timeout: 120_000 }, () => {
  let c: Cluster;
  before(async () => {
    c = await startCluster();
  });
  after(() => c.stop());

  it('serves the two system classes (kubectl get pc, the Python client)', async () => {
    const pc = (await c.http('GET', '/apis/scheduling.k8s.io/v1')).body.resources[0];
    assert.deepEqual([pc.name, pc.kind, pc.namespaced, pc.shortNames], ['priorityclasses', 'PriorityClass', false, ['pc']]);
    const out = await c.kubectl('get', 'pc');
    assert.match(out, /^NAME\s+VALUE\s+GLOBAL-DEFAULT\s+AGE\s+PREEMPTIONPOLICY/);
    assert.match(out, /system-cluster-critical\s+2000000000\s+false\s+\S+\s+PreemptLowerPriority/);
    assert.match(out, /system-node-critical\s+2000001000\s+false/);
    if (!skipPython()) {
      const py = await c.python(`print(json.dumps(sorted([p.metadata.name, p.value, p.description] for p in client.SchedulingV1Api().list_priority_class().items)))`);
      assert.deepEqual(py, [
        ['system-cluster-critical', 2000000000, 'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.'],
        ['system-node-critical', 2000001000, 'Used for system critical pods that must not be moved from their current node.'],
      ]);
    }
  });

  it('refuses reserved names, too high values, a changed value and a second global default', async () => {
    const reserved = await c.kubectlFails('create', 'priorityclass', 'system-mine', '--value=10');
    assert.match(reserved, /metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class/);
    assert.match(await c.kubectlFails('create', 'priorityclass', 'huge', '--value=1000000001'), /value: Forbidden: maximum allowed value of a user defined priority is 1000000000/);
    await c.kubectl('create', 'priorityclass', 'high', '--value=1000', '--description=important');
    assert.match(await c.kubectlFails('patch', 'pc', 'high', '--type=merge', '-p', '{"value":5}'), /value: Forbidden: may not be changed in an update/);
    await c.kubectl('create', 'priorityclass', 'normal', '--value=100', '--global-default');
    const second = await c.kubectlFails('create', 'priorityclass', 'other', '--value=1', '--global-default');
    assert.match(second, /failed to create priorityclass: priorityclasses.scheduling.k8s.io "other" is forbidden: PriorityClass normal is already marked as default. Only one default can exist/);
  });

  it('resolves a pod\'s priority from its class, or the global default; an unknown class is 403', async () => {
    await c.kubectl('run', 'vip', '--image=nginx', '--overrides={"spec":{"priorityClassName":"high"}}');
    const vip = JSON.parse(await c.kubectl('get', 'pod', 'vip', '-o', 'json'));
    assert.deepEqual([vip.spec.priority, vip.spec.preemptionPolicy], [1000, 'PreemptLowerPriority']);
    await c.kubectl('run', 'plain', '--image=nginx');
    const plain = JSON.parse(await c.kubectl('get', 'pod', 'plain', '-o', 'json'));
    assert.deepEqual([plain.spec.priorityClassName, plain.spec.priority], ['normal', 100], 'the global default class');
    const missing = await c.kubectlFails('run', 'lost', '--image=nginx', '--overrides={"spec":{"priorityClassName":"nope"}}');
    assert.match(missing, /Error from server \(Forbidden\): pods "lost" is forbidden: no PriorityClass with name nope was found/);
    const forced = await c.http('POST', '/api/v1/namespaces/default/pods', {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'forced' }, spec: { priorityClassName: 'high', priority: 7, containers: [{ name: 'c', image: 'nginx' }] },
    });
    assert.equal(forced.code, 403);
    assert.equal(forced.body.message, 'pods "forced" is forbidden: the integer value of priority (7) must not be provided in pod spec; priority admission controller computed 1000 from the given PriorityClass name');
  });

  it('a Deployment naming an unknown class gets FailedCreate on its ReplicaSet, as on a real cluster', async () => {
    await c.kubectl('create', 'deployment', 'web', '--image=nginx');
    await c.kubectl('patch', 'deployment', 'web', '--type=merge', '-p', '{"spec":{"template":{"spec":{"priorityClassName":"nope"}}}}');
    const msg = await until('FailedCreate', async () => {
      const evs = JSON.parse(await c.kubectl('get', 'events', '-o', 'json', '--field-selector', 'reason=FailedCreate')).items;
      return evs[0]?.message as string | undefined;
    });
    assert.match(msg, /^Error creating: pods "web-[a-z0-9]+-" is forbidden: no PriorityClass with name nope was found$/);
  });
});
