import { test } from 'node:test';
import assert from 'node:assert/strict';
import { humanAge, podDisplayStatus, podReadyCount, podRestarts } from '../../src/sandbox/podstatus.ts';
import { toTable } from '../../src/sandbox/server/tables.ts';
import type { K8sObject } from '../../src/sandbox/types.ts';

const NOW = Date.parse('2025-03-01T12:00:00Z');
const ago = (ms: number) => new Date(NOW - ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

test('humanAge follows duration.HumanDuration at every boundary', () => {
  const cases: [number, string][] = [
    [-2500, '<invalid>'], [-1500, '0s'], [-999, '0s'], [0, '0s'], [59 * S, '59s'], [119 * S + 999, '119s'],
    [2 * M, '2m'], [2 * M + 30 * S, '2m30s'], [9 * M + 59 * S, '9m59s'], [10 * M + 30 * S, '10m'],
    [3 * H - 1, '179m'], [3 * H, '3h'], [3 * H + 20 * M, '3h20m'], [8 * H + 20 * M, '8h'], [47 * H + 59 * M, '47h'],
    [2 * D, '2d'], [7 * D + 23 * H, '7d23h'], [8 * D + 5 * H, '8d'], [729 * D, '729d'], [730 * D, '2y'],
    [730 * D + 30 * D, '2y30d'], [365 * 8 * D, '8y'], [365 * 20 * D + 10 * D, '20y'],
  ];
  for (const [ms, want] of cases) assert.equal(humanAge(ms), want, `humanAge(${ms})`);
});

function pod(status: Record<string, unknown>, extra: { spec?: Record<string, unknown>; deletionTimestamp?: string } = {}): K8sObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-1', namespace: 'default', creationTimestamp: ago(5 * M), deletionTimestamp: extra.deletionTimestamp },
    spec: { containers: [{ name: 'web', image: 'nginx' }], nodeName: 'node-1', ...extra.spec },
    status,
  };
}

const running = { running: { startedAt: ago(4 * M) } };
const cs = (state: Record<string, unknown>, more: Record<string, unknown> = {}) => ({ name: 'web', ready: false, restartCount: 0, state, ...more });

test('podDisplayStatus: phases, waiting and terminated reasons', () => {
  assert.equal(podDisplayStatus(pod({ phase: 'Pending' })), 'Pending');
  assert.equal(podDisplayStatus(pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] })), 'SchedulingGated');
  assert.equal(podDisplayStatus(pod({ phase: 'Pending', containerStatuses: [cs({ waiting: { reason: 'ContainerCreating' } })] })), 'ContainerCreating');
  assert.equal(podDisplayStatus(pod({ phase: 'Pending', containerStatuses: [cs({ waiting: { reason: 'ErrImagePull' } })] })), 'ErrImagePull');
  assert.equal(podDisplayStatus(pod({ phase: 'Pending', containerStatuses: [cs({ waiting: { reason: 'ImagePullBackOff' } })] })), 'ImagePullBackOff');
  assert.equal(podDisplayStatus(pod({ phase: 'Running', containerStatuses: [cs({ waiting: { reason: 'CrashLoopBackOff' } })] })), 'CrashLoopBackOff');
  assert.equal(podDisplayStatus(pod({ phase: 'Running', containerStatuses: [cs(running, { ready: true })] })), 'Running');
  assert.equal(podDisplayStatus(pod({ phase: 'Running', containerStatuses: [cs(running)] })), 'Running', 'unready but running is still Running');
  assert.equal(podDisplayStatus(pod({ phase: 'Failed', containerStatuses: [cs({ terminated: { reason: 'OOMKilled', exitCode: 137 } })] })), 'OOMKilled');
  assert.equal(podDisplayStatus(pod({ phase: 'Failed', containerStatuses: [cs({ terminated: { reason: 'Error', exitCode: 1 } })] })), 'Error');
  assert.equal(podDisplayStatus(pod({ phase: 'Succeeded', containerStatuses: [cs({ terminated: { reason: 'Completed', exitCode: 0 } })] })), 'Completed');
  assert.equal(podDisplayStatus(pod({ phase: 'Failed', containerStatuses: [cs({ terminated: { exitCode: 137, signal: 9 } })] })), 'Signal:9');
  assert.equal(podDisplayStatus(pod({ phase: 'Failed', containerStatuses: [cs({ terminated: { exitCode: 1 } })] })), 'ExitCode:1');
  assert.equal(podDisplayStatus(pod({ phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' })), 'Evicted');
});

test('podDisplayStatus: the first container wins, Completed+running is Running or NotReady', () => {
  const two = { containers: [{ name: 'a', image: 'a' }, { name: 'b', image: 'b' }] };
  const statuses = [
    { name: 'a', ready: false, restartCount: 0, state: { terminated: { reason: 'Completed', exitCode: 0 } } },
    { name: 'b', ready: true, restartCount: 0, state: running },
  ];
  assert.equal(podDisplayStatus(pod({ phase: 'Running', containerStatuses: statuses, conditions: [{ type: 'Ready', status: 'False' }] }, { spec: two })), 'NotReady');
  assert.equal(podDisplayStatus(pod({ phase: 'Running', containerStatuses: statuses, conditions: [{ type: 'Ready', status: 'True' }] }, { spec: two })), 'Running');
  const crash = [{ name: 'a', state: { waiting: { reason: 'CrashLoopBackOff' } } }, { name: 'b', state: { waiting: { reason: 'ImagePullBackOff' } } }];
  assert.equal(podDisplayStatus(pod({ phase: 'Running', containerStatuses: crash }, { spec: two })), 'CrashLoopBackOff');
  assert.deepEqual(podReadyCount(pod({ phase: 'Running', containerStatuses: statuses }, { spec: two })), { ready: 1, total: 2 });
});

test('podDisplayStatus: init containers', () => {
  const spec = { initContainers: [{ name: 'migrate', image: 'm' }, { name: 'warm', image: 'w' }] };
  const init = (states: Record<string, unknown>[]) =>
    pod({ phase: 'Pending', initContainerStatuses: states.map((state, i) => ({ name: spec.initContainers[i].name, restartCount: 0, state })), containerStatuses: [cs({ waiting: { reason: 'PodInitializing' } })] }, { spec });
  assert.equal(podDisplayStatus(init([running, { waiting: { reason: 'PodInitializing' } }])), 'Init:0/2');
  assert.equal(podDisplayStatus(init([{ terminated: { exitCode: 0, reason: 'Completed' } }, running])), 'Init:1/2');
  assert.equal(podDisplayStatus(init([{ waiting: { reason: 'CrashLoopBackOff' } }])), 'Init:CrashLoopBackOff');
  assert.equal(podDisplayStatus(init([{ terminated: { exitCode: 1, reason: 'Error' } }])), 'Init:Error');
  assert.equal(podDisplayStatus(init([{ terminated: { exitCode: 2 } }])), 'Init:ExitCode:2');
  assert.equal(podDisplayStatus(init([{ terminated: { exitCode: 137, signal: 9 } }])), 'Init:Signal:9');
  const sidecar = pod(
    {
      phase: 'Running',
      conditions: [{ type: 'Initialized', status: 'True' }],
      initContainerStatuses: [{ name: 'mesh', ready: true, started: true, restartCount: 1, state: running, lastState: { terminated: { exitCode: 1, finishedAt: ago(90 * S) } } }],
      containerStatuses: [cs(running, { ready: true })],
    },
    { spec: { initContainers: [{ name: 'mesh', image: 'envoy', restartPolicy: 'Always' }] } },
  );
  assert.equal(podDisplayStatus(sidecar), 'Running');
  assert.deepEqual(podReadyCount(sidecar), { ready: 2, total: 2 });
  assert.equal(podRestarts(sidecar, NOW), '1 (90s ago)');
});

test('podDisplayStatus: Terminating and Unknown', () => {
  const del = ago(10 * S);
  assert.equal(podDisplayStatus(pod({ phase: 'Running', containerStatuses: [cs(running, { ready: true })] }, { deletionTimestamp: del })), 'Terminating');
  assert.equal(podDisplayStatus(pod({ phase: 'Running', reason: 'NodeLost' }, { deletionTimestamp: del })), 'Unknown');
  assert.equal(
    podDisplayStatus(pod({ phase: 'Succeeded', containerStatuses: [cs({ terminated: { reason: 'Completed', exitCode: 0 } })] }, { deletionTimestamp: del })),
    'Completed',
  );
});

test('podRestarts: count with the age of the latest restart', () => {
  const crashing = pod({
    phase: 'Running',
    containerStatuses: [cs({ waiting: { reason: 'CrashLoopBackOff' } }, { restartCount: 3, lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(45 * S) } } })],
  });
  assert.equal(podRestarts(crashing, NOW), '3 (45s ago)');
  assert.equal(podRestarts(pod({ phase: 'Running', containerStatuses: [cs(running, { restartCount: 2 })] }), NOW), '2');
  assert.equal(podRestarts(pod({ phase: 'Pending' }), NOW), '0');
});

const names = (t: Record<string, unknown>) => (t.columnDefinitions as { name: string }[]).map((c) => c.name);
const wideNames = (t: Record<string, unknown>) => (t.columnDefinitions as { name: string; priority: number }[]).filter((c) => c.priority === 1).map((c) => c.name);
const cells = (t: Record<string, unknown>, i = 0) => (t.rows as { cells: unknown[] }[])[i].cells;

test('pod table: columns, cells, wide cells and row conditions', () => {
  const p = pod({ phase: 'Running', podIPs: [{ ip: '10.244.1.5' }], podIP: '10.244.1.5', containerStatuses: [cs(running, { ready: true })] });
  const t = toTable('pods', [p, pod({ phase: 'Succeeded' })], NOW, 'None');
  assert.equal(t.kind, 'Table');
  assert.equal(t.apiVersion, 'meta.k8s.io/v1');
  assert.deepEqual(names(t), ['Name', 'Ready', 'Status', 'Restarts', 'Age', 'IP', 'Node', 'Nominated Node', 'Readiness Gates']);
  assert.deepEqual(wideNames(t), ['IP', 'Node', 'Nominated Node', 'Readiness Gates']);
  assert.deepEqual((t.columnDefinitions as Record<string, unknown>[])[0], { ...(t.columnDefinitions as Record<string, unknown>[])[0], name: 'Name', type: 'string', format: 'name', priority: 0 });
  assert.deepEqual(cells(t), ['web-1', '1/1', 'Running', '0', '5m', '10.244.1.5', 'node-1', '<none>', '<none>']);
  const rows = t.rows as Record<string, unknown>[];
  assert.ok(!('object' in rows[0]));
  assert.deepEqual((rows[1].conditions as { reason: string }[])[0].reason, 'Succeeded');
});

test('includeObject: None, Metadata and Object', () => {
  const p = pod({ phase: 'Running' });
  const meta = (toTable('pods', [p], NOW, 'Metadata').rows as Record<string, unknown>[])[0].object;
  assert.deepEqual(meta, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: p.metadata });
  assert.deepEqual((toTable('pods', [p], NOW, 'Object').rows as Record<string, unknown>[])[0].object, p);
});

test('node table: status, roles, wide addresses and versions', () => {
  const node = (name: string, ready: string | undefined, extra: Partial<K8sObject> = {}): K8sObject => ({
    kind: 'Node',
    metadata: { name, creationTimestamp: ago(3 * D), labels: extra.metadata?.labels ?? {} },
    spec: extra.spec ?? {},
    status: {
      conditions: ready ? [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: ready }] : [],
      addresses: [{ type: 'InternalIP', address: '10.0.0.1' }, { type: 'Hostname', address: name }],
      nodeInfo: { kubeletVersion: 'v1.32.0', osImage: 'Ubuntu 24.04 LTS', kernelVersion: '6.8.0', containerRuntimeVersion: 'containerd://1.7.24' },
    },
  });
  const t = toTable('nodes', [
    node('cp', 'True', { metadata: { labels: { 'node-role.kubernetes.io/control-plane': '' } } }),
    node('w1', 'False'),
    node('w2', 'True', { spec: { unschedulable: true } }),
    node('w3', undefined),
    node('w4', 'Unknown', { metadata: { labels: { 'kubernetes.io/role': 'worker', 'node-role.kubernetes.io/infra': '' } } }),
  ], NOW, 'None');
  assert.deepEqual(names(t), ['Name', 'Status', 'Roles', 'Age', 'Version', 'Internal-IP', 'External-IP', 'OS-Image', 'Kernel-Version', 'Container-Runtime']);
  assert.deepEqual(cells(t, 0), ['cp', 'Ready', 'control-plane', '3d', 'v1.32.0', '10.0.0.1', '<none>', 'Ubuntu 24.04 LTS', '6.8.0', 'containerd://1.7.24']);
  assert.deepEqual([1, 2, 3, 4].map((i) => cells(t, i).slice(1, 3)), [
    ['NotReady', '<none>'], ['Ready,SchedulingDisabled', '<none>'], ['Unknown', '<none>'], ['NotReady', 'infra,worker'],
  ]);
});

const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.25' }, { name: 'proxy', image: 'envoy:1' }] } };
const selector = { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'edge'] }] };

test('workload tables: deployments, replicasets, statefulsets, daemonsets, jobs', () => {
  const base = (kind: string, spec: Record<string, unknown>, status: Record<string, unknown>): K8sObject => ({
    kind, metadata: { name: 'web', creationTimestamp: ago(2 * H) }, spec: { selector, template, ...spec }, status,
  });
  const d = toTable('apps/deployments', [base('Deployment', { replicas: 3 }, { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 })], NOW, 'None');
  assert.deepEqual(names(d), ['Name', 'Ready', 'Up-to-date', 'Available', 'Age', 'Containers', 'Images', 'Selector']);
  assert.deepEqual(cells(d), ['web', '2/3', 3, 2, '120m', 'web,proxy', 'nginx:1.25,envoy:1', 'app=web,tier in (edge,front)']);
  const rs = toTable('apps/replicasets', [base('ReplicaSet', { replicas: 3 }, { replicas: 3, readyReplicas: 1 })], NOW, 'None');
  assert.deepEqual(names(rs), ['Name', 'Desired', 'Current', 'Ready', 'Age', 'Containers', 'Images', 'Selector']);
  assert.deepEqual(cells(rs).slice(0, 5), ['web', 3, 3, 1, '120m']);
  const sts = toTable('apps/statefulsets', [base('StatefulSet', { replicas: 2 }, { readyReplicas: 2 })], NOW, 'None');
  assert.deepEqual(names(sts), ['Name', 'Ready', 'Age', 'Containers', 'Images']);
  assert.deepEqual(cells(sts).slice(0, 3), ['web', '2/2', '120m']);
  const ds = toTable('apps/daemonsets', [base('DaemonSet', {}, { desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 2, updatedNumberScheduled: 3, numberAvailable: 2 })], NOW, 'None');
  assert.deepEqual(names(ds), ['Name', 'Desired', 'Current', 'Ready', 'Up-to-date', 'Available', 'Node Selector', 'Age', 'Containers', 'Images', 'Selector']);
  assert.deepEqual(cells(ds).slice(0, 8), ['web', 3, 3, 2, 3, 2, '<none>', '120m']);
  const done = base('Job', { completions: 1 }, { succeeded: 1, startTime: ago(2 * H), completionTime: ago(2 * H - 42 * S), conditions: [{ type: 'Complete', status: 'True' }] });
  const active = base('Job', { parallelism: 3 }, { startTime: ago(90 * S) });
  const jobs = toTable('batch/jobs', [done, active], NOW, 'None');
  assert.deepEqual(names(jobs), ['Name', 'Status', 'Completions', 'Duration', 'Age', 'Containers', 'Images', 'Selector']);
  assert.deepEqual(cells(jobs, 0).slice(1, 4), ['Complete', '1/1', '42s']);
  assert.deepEqual(cells(jobs, 1).slice(1, 4), ['Running', '0/1 of 3', '90s']);
});

test('event table: last seen, object reference, wide source/count', () => {
  const ev: K8sObject = {
    kind: 'Event',
    metadata: { name: 'web-1.17f', namespace: 'default', creationTimestamp: ago(10 * M) },
    involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'default', fieldPath: 'spec.containers{web}' },
    reason: 'BackOff', type: 'Warning', message: 'Back-off restarting failed container web in pod web-1_default(uid)\n',
    source: { component: 'kubelet', host: 'node-1' }, count: 7, firstTimestamp: ago(10 * M), lastTimestamp: ago(30 * S),
  };
  const t = toTable('events', [ev], NOW, 'None');
  assert.deepEqual(names(t), ['Last Seen', 'Type', 'Reason', 'Object', 'Subobject', 'Source', 'Message', 'First Seen', 'Count', 'Name']);
  assert.deepEqual(wideNames(t), ['Subobject', 'Source', 'First Seen', 'Count', 'Name']);
  assert.deepEqual(cells(t), [
    '30s', 'Warning', 'BackOff', 'pod/web-1', 'spec.containers{web}', 'kubelet, node-1',
    'Back-off restarting failed container web in pod web-1_default(uid)', '10m', 7, 'web-1.17f',
  ]);
});

test('events.k8s.io/v1 events print like their core form', () => {
  const ev: K8sObject = {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name: 'web.1', namespace: 'default' },
    eventTime: ago(5 * M).replace('Z', '.000000Z'),
    regarding: { kind: 'Deployment', name: 'web', namespace: 'default' },
    reason: 'ScalingReplicaSet', type: 'Normal', note: 'Scaled up replica set web-abc to 3',
    reportingController: 'deployment-controller', reportingInstance: '',
    series: { count: 2, lastObservedTime: ago(1 * M).replace('Z', '.000000Z') },
  };
  assert.deepEqual(cells(toTable('events', [ev], NOW, 'None')), [
    '60s', 'Normal', 'ScalingReplicaSet', 'deployment/web', '', 'deployment-controller', 'Scaled up replica set web-abc to 3', '5m', 2, 'web.1',
  ]);
});

test('service, namespace, configmap, secret, serviceaccount tables', () => {
  const svc = (spec: Record<string, unknown>, status: Record<string, unknown> = {}): K8sObject => ({ kind: 'Service', metadata: { name: 'web', creationTimestamp: ago(90 * S) }, spec, status });
  const t = toTable('services', [
    svc({ type: 'ClusterIP', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ port: 80, protocol: 'TCP' }], selector: { app: 'web' } }),
    svc({ type: 'NodePort', clusterIPs: ['10.96.0.11'], ports: [{ port: 443, nodePort: 30443, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }] }),
    svc({ type: 'LoadBalancer', clusterIPs: ['10.96.0.12'], ports: [{ port: 80, protocol: 'TCP' }] }),
    svc({ type: 'LoadBalancer', clusterIPs: ['10.96.0.13'] }, { loadBalancer: { ingress: [{ ip: '203.0.113.9' }] } }),
  ], NOW, 'None');
  assert.deepEqual(names(t), ['Name', 'Type', 'Cluster-IP', 'External-IP', 'Port(s)', 'Age', 'Selector']);
  assert.deepEqual(cells(t, 0), ['web', 'ClusterIP', '10.96.0.10', '<none>', '80/TCP', '90s', 'app=web']);
  assert.deepEqual(cells(t, 1).slice(3, 5), ['<none>', '443:30443/TCP,53/UDP']);
  assert.deepEqual(cells(t, 2).slice(3, 5), ['<pending>', '80/TCP']);
  assert.deepEqual(cells(t, 3).slice(3, 5), ['203.0.113.9', '<none>']);

  const meta = { name: 'x', creationTimestamp: ago(4 * D) };
  assert.deepEqual(cells(toTable('namespaces', [{ kind: 'Namespace', metadata: meta, status: { phase: 'Active' } }], NOW, 'None')), ['x', 'Active', '4d']);
  const cm = toTable('configmaps', [{ kind: 'ConfigMap', metadata: meta, data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } }], NOW, 'None');
  assert.deepEqual([names(cm), cells(cm)], [['Name', 'Data', 'Age'], ['x', 3, '4d']]);
  const sec = toTable('secrets', [{ kind: 'Secret', metadata: meta, type: 'Opaque', data: { password: 'cA==' } }], NOW, 'None');
  assert.deepEqual([names(sec), cells(sec)], [['Name', 'Type', 'Data', 'Age'], ['x', 'Opaque', 1, '4d']]);
  const sa = toTable('serviceaccounts', [{ kind: 'ServiceAccount', metadata: meta }], NOW, 'None');
  assert.deepEqual([names(sa), cells(sa)], [['Name', 'Secrets', 'Age'], ['x', 0, '4d']]);
});

test('hpa, lease, pdb, controllerrevision, resourcequota and default tables', () => {
  const meta = { name: 'x', creationTimestamp: '2025-02-20T08:30:00Z' };
  const hpa = toTable('autoscaling/horizontalpodautoscalers', [{
    kind: 'HorizontalPodAutoscaler', metadata: meta,
    spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, minReplicas: 2, maxReplicas: 10, metrics: [
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } },
      { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '500Mi' } } },
      { type: 'Pods', pods: { metric: { name: 'rps' }, target: { type: 'AverageValue', averageValue: '100' } } },
    ] },
    status: { currentReplicas: 4, currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 85, averageValue: '850m' } } }] },
  }], NOW, 'None');
  assert.deepEqual(names(hpa), ['Name', 'Reference', 'Targets', 'MinPods', 'MaxPods', 'Replicas', 'Age']);
  assert.deepEqual(cells(hpa), ['x', 'Deployment/web', 'cpu: 85%/70%, memory: <unknown>/500Mi + 1 more...', '2', 10, 4, '9d']);

  const lease = toTable('coordination.k8s.io/leases', [{ kind: 'Lease', metadata: meta, spec: { holderIdentity: 'node-1' } }], NOW, 'None');
  assert.deepEqual([names(lease), cells(lease)], [['Name', 'Holder', 'Age'], ['x', 'node-1', '9d']]);
  const pdb = toTable('policy/poddisruptionbudgets', [{ kind: 'PodDisruptionBudget', metadata: meta, spec: { minAvailable: '50%' }, status: { disruptionsAllowed: 1 } }], NOW, 'None');
  assert.deepEqual([names(pdb), cells(pdb)], [['Name', 'Min Available', 'Max Unavailable', 'Allowed Disruptions', 'Age'], ['x', '50%', 'N/A', 1, '9d']]);
  const cr = toTable('apps/controllerrevisions', [{
    kind: 'ControllerRevision', revision: 2,
    metadata: { ...meta, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: 'u', controller: true }] },
  }], NOW, 'None');
  assert.deepEqual([names(cr), cells(cr)], [['Name', 'Controller', 'Revision', 'Age'], ['x', 'statefulset.apps/db', 2, '9d']]);
  const quota = toTable('resourcequotas', [{
    kind: 'ResourceQuota', metadata: meta,
    status: { hard: { pods: '10', 'requests.cpu': '4', 'limits.memory': '8Gi' }, used: { pods: '3', 'requests.cpu': '1500m' } },
  }], NOW, 'None');
  assert.deepEqual([names(quota), cells(quota)], [['Name', 'Request', 'Limit', 'Age'], ['x', 'pods: 3/10, requests.cpu: 1500m/4', 'limits.memory: 0/8Gi', '9d']]);
  const lr = toTable('limitranges', [{ kind: 'LimitRange', metadata: meta }], NOW, 'None');
  assert.deepEqual([names(lr), cells(lr)], [['Name', 'Created At'], ['x', '2025-02-20T08:30:00Z']]);
  assert.equal((lr.columnDefinitions as { type: string }[])[1].type, 'date');
});
