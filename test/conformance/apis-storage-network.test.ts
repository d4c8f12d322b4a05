// Storage (PersistentVolumeClaims, PersistentVolumes, storage.k8s.io/v1
// StorageClasses with a dynamic provisioner) and networking.k8s.io/v1
// (Ingress, IngressClass, NetworkPolicy: stored and validated, no data
// plane), driven with kubectl 1.32, Debian's python3-kubernetes and raw HTTP
// and checked against what kube-apiserver and the controllers of 1.32 do.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type Cluster, eventually, skipKubectl, skipPython, startCluster } from './cluster.ts';

const CLAIM_AND_POD = `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: Pod
metadata: {name: db}
spec:
  volumes: [{name: d, persistentVolumeClaim: {claimName: data}}]
  containers: [{name: db, image: "nginx:1.27", volumeMounts: [{name: d, mountPath: /data}]}]
`;

const NETWORK = `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: nginx
  annotations: {ingressclass.kubernetes.io/is-default-class: "true"}
spec: {controller: k8s.io/ingress-nginx}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  tls: [{hosts: [web.example.com], secretName: web-tls}]
  rules:
  - host: web.example.com
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-only}
spec:
  podSelector: {matchLabels: {app: web}}
  egress: [{ports: [{port: 53, protocol: UDP}]}]
  ingress: [{from: [{podSelector: {matchLabels: {role: client}}}], ports: [{port: 80}]}]
`;

describe('storage and networking APIs (kubectl, Python, HTTP)', { skip: skipKubectl, timeout: 180_000 }, () => {
  let c: Cluster;
  before(async () => {
    c = await startCluster();
  });
  after(async () => c?.stop());

  it('discovery serves the kinds with their short names and scopes', async () => {
    const out = await c.kubectl('api-resources');
    for (const re of [
      /persistentvolumeclaims\s+pvc\s+v1\s+true\s+PersistentVolumeClaim/,
      /persistentvolumes\s+pv\s+v1\s+false\s+PersistentVolume/,
      /storageclasses\s+sc\s+storage\.k8s\.io\/v1\s+false\s+StorageClass/,
      /ingresses\s+ing\s+networking\.k8s\.io\/v1\s+true\s+Ingress/,
      /ingressclasses\s+networking\.k8s\.io\/v1\s+false\s+IngressClass/,
      /networkpolicies\s+netpol\s+networking\.k8s\.io\/v1\s+true\s+NetworkPolicy/,
    ]) assert.match(out, re);
    const pvc = (await c.http('GET', '/api/v1')).body.resources.filter((r: any) => r.name.startsWith('persistentvolumeclaims'));
    assert.deepEqual(pvc.map((r: any) => [r.name, r.verbs.length]), [['persistentvolumeclaims', 8], ['persistentvolumeclaims/status', 3]]);
  });

  it('the cluster has a default StorageClass "standard" (rancher.io/local-path, WaitForFirstConsumer)', async () => {
    const out = await c.kubectl('get', 'sc');
    assert.match(out, /^NAME\s+PROVISIONER\s+RECLAIMPOLICY\s+VOLUMEBINDINGMODE\s+ALLOWVOLUMEEXPANSION\s+AGE\nstandard \(default\)\s+rancher\.io\/local-path\s+Delete\s+WaitForFirstConsumer\s+false\s+\d+\w\n$/);
  });

  it('a claim waits for its first consumer, is provisioned on the pod\'s node and bound; kubectl shows both sides', async () => {
    await c.kubectl('apply', '-f', c.file('claim.yaml', CLAIM_AND_POD.split('---')[0]));
    assert.match(await c.kubectl('get', 'pvc', 'data'), /\ndata\s+Pending\s+standard\s+<unset>\s+\d+s\n/);
    assert.match(await c.kubectl('describe', 'pvc', 'data'), /WaitForFirstConsumer\s+.*persistentvolume-controller\s+waiting for first consumer to be created before binding/);
    await c.kubectl('apply', '-f', c.file('pod.yaml', CLAIM_AND_POD.split('---')[1]));
    await c.kubectl('wait', '--for=jsonpath={.status.phase}=Bound', '--timeout=20s', 'pvc/data');
    const pvc = (await c.http('GET', '/api/v1/namespaces/default/persistentvolumeclaims/data')).body;
    assert.equal(pvc.spec.volumeName, `pvc-${pvc.metadata.uid}`);
    const node = pvc.metadata.annotations['volume.kubernetes.io/selected-node'];
    assert.equal(pvc.metadata.annotations['volume.kubernetes.io/storage-provisioner'], 'rancher.io/local-path');
    await c.kubectl('wait', '--for=condition=Ready', '--timeout=20s', 'pod/db');
    assert.equal(await c.kubectl('get', 'pod', 'db', '-o', 'jsonpath={.spec.nodeName}'), node);
    assert.match(await c.kubectl('get', 'pvc', 'data'), new RegExp(`\\ndata\\s+Bound\\s+${pvc.spec.volumeName}\\s+1Gi\\s+RWO\\s+standard\\s+<unset>\\s+\\d+s\\n`));
    assert.match(await c.kubectl('get', 'pv'), new RegExp(`\\n${pvc.spec.volumeName}\\s+1Gi\\s+RWO\\s+Delete\\s+Bound\\s+default/data\\s+standard\\s+<unset>\\s+\\d+s\\n`));
    const events = await c.kubectl('get', 'events', '--field-selector', 'involvedObject.name=data', '-o', 'jsonpath={range .items[*]}{.reason}{"\\n"}{end}');
    for (const r of ['WaitForFirstConsumer', 'ExternalProvisioning', 'Provisioning', 'ProvisioningSucceeded']) assert.match(events, new RegExp(`^${r}$`, 'm'));
  });

  it('pods using a missing claim, or an unbound claim of an Immediate class, stay Pending with the scheduler\'s message', async () => {
    await c.http('POST', '/apis/storage.k8s.io/v1/storageclasses', { metadata: { name: 'manual' }, provisioner: 'kubernetes.io/no-provisioner' });
    await c.http('POST', '/api/v1/namespaces/default/persistentvolumeclaims', { metadata: { name: 'static' }, spec: { storageClassName: 'manual', accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } });
    const pod = (name: string, claim: string) => ({ metadata: { name }, spec: { volumes: [{ name: 'd', persistentVolumeClaim: { claimName: claim } }], containers: [{ name: 'c', image: 'nginx:1.27' }] } });
    await c.http('POST', '/api/v1/namespaces/default/pods', pod('lost', 'nope'));
    await c.http('POST', '/api/v1/namespaces/default/pods', pod('stuck', 'static'));
    const message = (name: string) => eventually(async () => (await c.http('GET', `/api/v1/namespaces/default/pods/${name}`)).body.status?.conditions?.find((x: any) => x.type === 'PodScheduled')?.message, `${name} unschedulable`);
    assert.equal(await message('lost'), '0/3 nodes are available: persistentvolumeclaim "nope" not found. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.');
    assert.equal(await message('stuck'), '0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.');
    assert.match(await c.kubectl('describe', 'pod', 'lost'), /Warning\s+FailedScheduling\s+.*default-scheduler\s+0\/3 nodes are available: persistentvolumeclaim "nope" not found/);
    assert.match(await c.kubectl('get', 'pod', 'stuck'), /\nstuck\s+0\/1\s+Pending\s+0\s+/);

    // An administrator's volume for it: the claim binds, the pod schedules.
    await c.http('POST', '/api/v1/persistentvolumes', { metadata: { name: 'pv-manual' }, spec: { storageClassName: 'manual', capacity: { storage: '5Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/mnt/a' } } });
    await c.kubectl('wait', '--for=jsonpath={.spec.volumeName}=pv-manual', '--timeout=20s', 'pvc/static');
    await eventually(async () => (await c.http('GET', '/api/v1/namespaces/default/pods/stuck')).body.spec.nodeName, 'stuck scheduled');
  });

  it('claims and storage classes are validated as the API server does', async () => {
    const bad = await c.http('POST', '/api/v1/namespaces/default/persistentvolumeclaims', { metadata: { name: 'bad' }, spec: { accessModes: ['ReadWriteSometimes'] } });
    assert.equal(bad.code, 422);
    assert.equal(bad.body.message, 'PersistentVolumeClaim "bad" is invalid: [spec.accessModes: Unsupported value: "ReadWriteSometimes": supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod", spec.resources[storage]: Required value]');
    assert.equal(bad.body.details.group, undefined);
    const err = await c.kubectlFails('patch', 'sc', 'standard', '-p', '{"volumeBindingMode":"Immediate"}');
    assert.match(err, /The StorageClass "standard" is invalid: volumeBindingMode: Forbidden: updates to volumeBindingMode are forbidden\./);
  });

  it('deleting a claim in use waits for the pod (pvc-protection); then its provisioned volume goes too', async () => {
    const pvName = await c.kubectl('get', 'pvc', 'data', '-o', 'jsonpath={.spec.volumeName}');
    await c.kubectl('delete', 'pvc', 'data', '--wait=false');
    assert.match(await c.kubectl('get', 'pvc', 'data'), /\ndata\s+Terminating\s+/);
    await c.kubectl('delete', 'pod', 'db', '--grace-period=0', '--force');
    await eventually(async () => (await c.http('GET', '/api/v1/namespaces/default/persistentvolumeclaims/data')).code === 404, 'claim gone');
    await eventually(async () => (await c.http('GET', `/api/v1/persistentvolumes/${pvName}`)).code === 404, 'volume reclaimed');
  });

  it('Ingress, IngressClass and NetworkPolicy are stored with their defaults and printed by kubectl', async () => {
    await c.kubectl('apply', '-f', c.file('net.yaml', NETWORK));
    const ing = (await c.http('GET', '/apis/networking.k8s.io/v1/namespaces/default/ingresses/web')).body;
    assert.equal(ing.spec.ingressClassName, 'nginx', 'the DefaultIngressClass admission plugin');
    assert.deepEqual(ing.status, { loadBalancer: {} });
    const np = (await c.http('GET', '/apis/networking.k8s.io/v1/namespaces/default/networkpolicies/web-only')).body;
    assert.deepEqual(np.spec.policyTypes, ['Ingress', 'Egress']);
    assert.equal(np.spec.ingress[0].ports[0].protocol, 'TCP');
    const out = await c.kubectl('get', 'ingressclass,ing,netpol');
    assert.match(out, /ingressclass\.networking\.k8s\.io\/nginx\s+k8s\.io\/ingress-nginx\s+<none>\s+\d+s/);
    assert.match(out, /ingress\.networking\.k8s\.io\/web\s+nginx\s+web\.example\.com\s+80, 443\s+\d+s/);
    assert.match(out, /networkpolicy\.networking\.k8s\.io\/web-only\s+app=web\s+\d+s/);
  });

  it('an Ingress without pathType or port, or with a relative path, is refused with the real causes', async () => {
    const r = await c.http('POST', '/apis/networking.k8s.io/v1/namespaces/default/ingresses', {
      metadata: { name: 'bad' },
      spec: { rules: [{ http: { paths: [{ path: 'api', pathType: 'Prefix', backend: { service: { name: 'web' } } }, { path: '/', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
    });
    assert.equal(r.code, 422);
    assert.deepEqual(r.body.details.causes.map((x: any) => `${x.field}: ${x.message}`), [
      'spec.rules[0].http.paths[0].path: Invalid value: "api": must be an absolute path',
      'spec.rules[0].http.paths[0].backend.service.port: Required value: port name or number is required',
      'spec.rules[0].http.paths[1].pathType: Required value: pathType must be specified',
    ]);
    assert.match(r.body.message, /^Ingress\.networking\.k8s\.io "bad" is invalid: \[/);
    const empty = await c.http('POST', '/apis/networking.k8s.io/v1/namespaces/default/ingresses', { metadata: { name: 'empty' }, spec: {} });
    assert.equal(empty.body.message, 'Ingress.networking.k8s.io "empty" is invalid: spec: Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules` must be specified');
  });

  it('the Python client reads claims, volumes, classes, ingresses and policies with its typed models', { skip: skipPython() }, async () => {
    const out = await c.python(`
core = client.CoreV1Api()
print(json.dumps({
  'pvcs': sorted([p.metadata.name, p.status.phase] for p in core.list_persistent_volume_claim_for_all_namespaces().items),
  'pvs': sorted([v.metadata.name, v.status.phase] for v in core.list_persistent_volume().items),
  'classes': [[s.metadata.name, s.provisioner, s.volume_binding_mode] for s in client.StorageV1Api().list_storage_class().items],
  'ingresses': [[i.metadata.name, i.spec.ingress_class_name, i.spec.rules[0].host] for i in client.NetworkingV1Api().list_namespaced_ingress('default').items],
  'classes_ing': [i.spec.controller for i in client.NetworkingV1Api().list_ingress_class().items],
  'policies': [[p.metadata.name, p.spec.policy_types] for p in client.NetworkingV1Api().list_namespaced_network_policy('default').items],
}))
`);
    assert.deepEqual(out.pvcs, [['static', 'Bound']]);
    assert.deepEqual(out.pvs, [['pv-manual', 'Bound']]);
    assert.deepEqual(out.classes, [['manual', 'kubernetes.io/no-provisioner', 'Immediate'], ['standard', 'rancher.io/local-path', 'WaitForFirstConsumer']]);
    assert.deepEqual(out.ingresses, [['web', 'nginx', 'web.example.com']]);
    assert.deepEqual(out.classes_ing, ['k8s.io/ingress-nginx']);
    assert.deepEqual(out.policies, [['web-only', ['Ingress', 'Egress']]]);
  });
});
