// Pod spec validation as kube-apiserver 1.32 does it, driven by clients
// nobody here wrote: raw HTTP (the 422 Status: message, reason, details and
// causes in order), kubectl 1.32 (`The Pod "x" is invalid:` and one line per
// cause) and Debian's python3-kubernetes (ApiException 422 with the same
// body). Each expected cause is read off the Go validator named beside it
// (k8s.io/kubernetes pkg/apis/core/validation/validation.go, 1.32, with the
// 1.32 feature defaults; apimachinery v0.32.0 for the string checks).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { needs, startConformance, type Conformance } from './harness.ts';

type Cause = [field: string, reason: string, message: string];
interface Case { name: string; obj: any; causes: Cause[] }

const PATHS: Record<string, string> = {
  Pod: '/api/v1/namespaces/default/pods',
  Deployment: '/apis/apps/v1/namespaces/default/deployments',
  DaemonSet: '/apis/apps/v1/namespaces/default/daemonsets',
  Job: '/apis/batch/v1/namespaces/default/jobs',
  CronJob: '/apis/batch/v1/namespaces/default/cronjobs',
};
const GROUP: Record<string, string> = { Pod: '', Deployment: 'apps', DaemonSet: 'apps', Job: 'batch', CronJob: 'batch' };

const pod = (name: string, container: object, spec: object = {}) =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'app', image: 'nginx:1.27', ...container }], ...spec } });
const deployment = (name: string, container: object): any => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
  spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'nginx:1.27', ...container }] } } },
});

const C = 'spec.containers[0]';
const RANGE = 'must be between 1 and 65535, inclusive';
const RELAXED = "a valid environment variable name must consist only of printable ASCII characters other than '='";

const CASES: Case[] = [
  // validateHandler: one handler; validateProbe / validateLivenessProbe / validateReadinessProbe.
  { name: 'probe-handlers', obj: pod('probe-handlers', { livenessProbe: { exec: { command: ['true'] }, httpGet: { port: 80 } }, readinessProbe: { periodSeconds: 5 } }), causes: [
    [`${C}.livenessProbe.httpGet`, 'FieldValueForbidden', 'Forbidden: may not specify more than 1 handler type'],
    [`${C}.readinessProbe`, 'FieldValueRequired', 'Required value: must specify a handler type'],
  ] },
  { name: 'probe-numbers', obj: pod('probe-numbers', {
    livenessProbe: { tcpSocket: { port: 8080 }, successThreshold: 3, timeoutSeconds: -1 },
    readinessProbe: { httpGet: { port: 8080 }, terminationGracePeriodSeconds: 10 },
    startupProbe: { exec: { command: ['true'] }, failureThreshold: -3 },
  }), causes: [
    [`${C}.livenessProbe.timeoutSeconds`, 'FieldValueInvalid', 'Invalid value: -1: must be greater than or equal to 0'],
    [`${C}.livenessProbe.successThreshold`, 'FieldValueInvalid', 'Invalid value: 3: must be 1'],
    [`${C}.readinessProbe.terminationGracePeriodSeconds`, 'FieldValueInvalid', 'Invalid value: 10: must not be set for readinessProbes'],
    [`${C}.startupProbe.failureThreshold`, 'FieldValueInvalid', 'Invalid value: -3: must be greater than or equal to 0'],
  ] },
  // ValidatePortNumOrName, validateHTTPGetAction, validateGRPCAction.
  { name: 'probe-ports', obj: pod('probe-ports', {
    livenessProbe: { httpGet: { port: 70000, scheme: 'https' } },
    readinessProbe: { tcpSocket: { port: 'HTTP_PORT' } },
    startupProbe: { grpc: { port: 0 } },
  }), causes: [
    [`${C}.livenessProbe.httpGet.port`, 'FieldValueInvalid', `Invalid value: 70000: ${RANGE}`],
    [`${C}.livenessProbe.httpGet.scheme`, 'FieldValueNotSupported', 'Unsupported value: "https": supported values: "HTTP", "HTTPS"'],
    [`${C}.readinessProbe.tcpSocket.port`, 'FieldValueInvalid', 'Invalid value: "HTTP_PORT": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)'],
    [`${C}.readinessProbe.tcpSocket.port`, 'FieldValueInvalid', 'Invalid value: "HTTP_PORT": must contain at least one letter (a-z)'],
    [`${C}.startupProbe.grpc.port`, 'FieldValueInvalid', `Invalid value: 0: ${RANGE}`],
  ] },
  // validateContainerPorts (IsValidPortName, IsValidPortNum, supportedPortProtocols).
  { name: 'ports', obj: pod('ports', { ports: [
    { containerPort: 80, name: 'HTTP' }, { name: 'metrics-endpoint-port', containerPort: 9090 }, { name: 'web', containerPort: 8080, protocol: 'tcp' },
    { name: 'web', containerPort: 80000, hostPort: 70000 },
  ] }), causes: [
    [`${C}.ports[0].name`, 'FieldValueInvalid', 'Invalid value: "HTTP": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)'],
    [`${C}.ports[0].name`, 'FieldValueInvalid', 'Invalid value: "HTTP": must contain at least one letter (a-z)'],
    [`${C}.ports[1].name`, 'FieldValueInvalid', 'Invalid value: "metrics-endpoint-port": must be no more than 15 characters'],
    [`${C}.ports[2].protocol`, 'FieldValueNotSupported', 'Unsupported value: "tcp": supported values: "SCTP", "TCP", "UDP"'],
    [`${C}.ports[3].name`, 'FieldValueDuplicate', 'Duplicate value: "web"'],
    [`${C}.ports[3].containerPort`, 'FieldValueInvalid', `Invalid value: 80000: ${RANGE}`],
    [`${C}.ports[3].hostPort`, 'FieldValueInvalid', `Invalid value: 70000: ${RANGE}`],
  ] },
  // ValidateEnv (IsRelaxedEnvVarName), validateEnvVarValueFrom, validateObjectFieldSelector, ValidateEnvFrom.
  { name: 'env', obj: pod('env', {
    env: [
      { name: 'MY=VAR', value: 'x' }, { name: 'WITH SPACE', value: 'fine in 1.32' }, { name: 'FROM_NOTHING', valueFrom: {} },
      { name: 'BOTH', value: 'x', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
      { name: 'NOKEY', valueFrom: { configMapKeyRef: { name: 'cfg' } } },
      { name: 'LABELS', valueFrom: { fieldRef: { fieldPath: 'metadata.labels' } } },
      { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
    ],
    envFrom: [{ prefix: 'A=', configMapRef: { name: 'cfg' } }, {}],
  }), causes: [
    [`${C}.env[0].name`, 'FieldValueInvalid', `Invalid value: "MY=VAR": ${RELAXED}`],
    [`${C}.env[2].valueFrom`, 'FieldValueInvalid', 'Invalid value: "": must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'],
    [`${C}.env[3].valueFrom`, 'FieldValueInvalid', 'Invalid value: "": may not be specified when `value` is not empty'],
    [`${C}.env[4].valueFrom.configMapKeyRef.key`, 'FieldValueRequired', 'Required value'],
    [`${C}.env[5].valueFrom.fieldRef.fieldPath`, 'FieldValueNotSupported', 'Unsupported value: "metadata.labels": supported values: "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"'],
    [`${C}.envFrom[0].prefix`, 'FieldValueInvalid', `Invalid value: "A=": ${RELAXED}`],
    [`${C}.envFrom`, 'FieldValueInvalid', 'Invalid value: "": must specify one of: `configMapRef` or `secretRef`'],
  ] },
  // ValidateVolumes, validateVolumeSource, validateKeyToPath, ValidateVolumeMounts.
  { name: 'volumes', obj: pod('volumes', {
    volumeMounts: [{ name: 'nope', mountPath: '/a' }, { name: 'logs', mountPath: '/a', subPath: '/abs' }],
  }, { volumes: [
    { name: 'Data_Vol', emptyDir: {} },
    { name: 'config', secret: { secretName: 's' }, configMap: { name: 'c' } },
    { name: 'creds', secret: { secretName: 'creds', items: [{ key: 'k', path: '/etc/creds' }] } },
    { name: 'cache', emptyDir: { sizeLimit: '-1Gi' } },
    { name: 'logs' }, { name: 'logs' },
  ] }), causes: [
    ['spec.volumes[0].name', 'FieldValueInvalid', `Invalid value: "Data_Vol": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`],
    ['spec.volumes[1].configMap', 'FieldValueForbidden', 'Forbidden: may not specify more than 1 volume type'],
    ['spec.volumes[2].secret.items[0].path', 'FieldValueInvalid', 'Invalid value: "/etc/creds": must be a relative path'],
    ['spec.volumes[3].emptyDir.sizeLimit', 'FieldValueForbidden', 'Forbidden: SizeLimit field must be a valid resource quantity'],
    ['spec.volumes[5].name', 'FieldValueDuplicate', 'Duplicate value: "logs"'],
    [`${C}.volumeMounts[0].name`, 'FieldValueNotFound', 'Not found: "nope"'],
    [`${C}.volumeMounts[1].mountPath`, 'FieldValueInvalid', 'Invalid value: "/a": must be unique'],
    [`${C}.volumeMounts.subPath`, 'FieldValueInvalid', 'Invalid value: "/abs": must be a relative path'],
  ] },
  // ValidateSecurityContext, validatePodSpecSecurityContext, validateSeccompProfileField.
  { name: 'security', obj: pod('security', { securityContext: { runAsGroup: -5, seccompProfile: { type: 'runtime/default' }, procMount: 'Unmasked' } }, {
    securityContext: { runAsUser: -1, fsGroup: -2, seccompProfile: { type: 'Localhost' } },
  }), causes: [
    [`${C}.securityContext.runAsGroup`, 'FieldValueInvalid', 'Invalid value: -5: must be between 0 and 2147483647, inclusive'],
    [`${C}.securityContext.procMount`, 'FieldValueInvalid', 'Invalid value: "Unmasked": `hostUsers` must be false to use `Unmasked`'],
    [`${C}.securityContext.seccompProfile.type`, 'FieldValueNotSupported', 'Unsupported value: "runtime/default": supported values: "Localhost", "RuntimeDefault", "Unconfined"'],
    ['spec.securityContext.fsGroup', 'FieldValueInvalid', 'Invalid value: -2: must be between 0 and 2147483647, inclusive'],
    ['spec.securityContext.runAsUser', 'FieldValueInvalid', 'Invalid value: -1: must be between 0 and 2147483647, inclusive'],
    ['spec.securityContext.seccompProfile.localhostProfile', 'FieldValueRequired', 'Required value: must be set when seccomp type is Localhost'],
  ] },
  // validateAffinity: ValidateNodeSelectorRequirement, weights, validatePodAffinityTerm.
  { name: 'affinity', obj: pod('affinity', {}, { affinity: {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'in', values: ['a'] }, { key: 'disk', operator: 'In' }, { key: 'cores', operator: 'Gt', values: ['2', '4'] }] }] },
      preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 0, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] } }],
    },
    podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 101, podAffinityTerm: { labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' } }] },
  } }), causes: [
    ['spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator', 'FieldValueInvalid', 'Invalid value: "in": not a valid selector operator'],
    ['spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[1].values', 'FieldValueRequired', "Required value: must be specified when `operator` is 'In' or 'NotIn'"],
    ['spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[2].values', 'FieldValueRequired', "Required value: must be specified single value when `operator` is 'Lt' or 'Gt'"],
    ['spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight', 'FieldValueInvalid', 'Invalid value: 0: must be in the range 1-100'],
    ['spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight', 'FieldValueInvalid', 'Invalid value: 101: must be in the range 1-100'],
  ] },
  // ValidateTolerations.
  { name: 'tolerations', obj: pod('tolerations', {}, { tolerations: [{ operator: 'Equal', value: 'x' }, { key: 'k', operator: 'Equal', value: 'v', tolerationSeconds: 30, effect: 'NoSchedule' }, { key: 'k2', effect: 'NoScheduled' }] }), causes: [
    ['spec.tolerations[0].operator', 'FieldValueInvalid', 'Invalid value: "Equal": operator must be Exists when `key` is empty, which means "match all values and all keys"'],
    ['spec.tolerations[1].effect', 'FieldValueInvalid', "Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set"],
    ['spec.tolerations[2].effect', 'FieldValueNotSupported', 'Unsupported value: "NoScheduled": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"'],
  ] },
  // validateResourceRequirements: quantities quoted in canonical form; ValidateNonnegativeQuantity.
  { name: 'resources', obj: pod('resources', { resources: { requests: { cpu: '2000m', memory: '-64Mi' }, limits: { cpu: '1' } } }), causes: [
    [`${C}.resources.requests`, 'FieldValueInvalid', 'Invalid value: "2": must be less than or equal to cpu limit of 1'],
    [`${C}.resources.requests[memory]`, 'FieldValueInvalid', 'Invalid value: "-64Mi": must be greater than or equal to 0'],
  ] },
  // validateContainers / validateInitContainers.
  { name: 'init', obj: pod('init', { restartPolicy: 'Always' }, { initContainers: [{ name: 'app', image: 'busybox', livenessProbe: { exec: { command: ['true'] } } }, { name: 'proxy', image: 'envoy', restartPolicy: 'OnFailure' }] }), causes: [
    [`${C}.restartPolicy`, 'FieldValueForbidden', 'Forbidden: may not be set for non-init containers'],
    ['spec.initContainers[0].name', 'FieldValueDuplicate', 'Duplicate value: "app"'],
    ['spec.initContainers[0].livenessProbe', 'FieldValueForbidden', 'Forbidden: may not be set for init containers without restartPolicy=Always'],
    ['spec.initContainers[1].restartPolicy', 'FieldValueNotSupported', 'Unsupported value: "OnFailure": supported values: "Always"'],
  ] },
  // ValidatePodTemplateSpecForReplicaSet → ValidatePodTemplateSpec (labels on spec.template.labels).
  { name: 'web', obj: (() => {
    const d = deployment('web', { livenessProbe: {}, env: [{ name: 'A=B', value: 'x' }] });
    d.spec.template.metadata.labels = { app: 'web', tier: 'front end' };
    return d;
  })(), causes: [
    ['spec.template.labels', 'FieldValueInvalid', `Invalid value: "front end": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`],
    ['spec.template.spec.containers[0].env[0].name', 'FieldValueInvalid', `Invalid value: "A=B": ${RELAXED}`],
    ['spec.template.spec.containers[0].livenessProbe', 'FieldValueRequired', 'Required value: must specify a handler type'],
  ] },
  // ValidateDaemonSetSpec → ValidatePodTemplateSpec.
  { name: 'agent', obj: { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent' }, spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: {
    containers: [{ name: 'agent', image: 'busybox', volumeMounts: [{ name: 'host', mountPath: '/host' }] }],
  } } } }, causes: [
    ['spec.template.spec.containers[0].volumeMounts[0].name', 'FieldValueNotFound', 'Not found: "host"'],
  ] },
  // batch validateJobSpec and ValidateCronJobSpec → the template under their paths.
  { name: 'migrate', obj: { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'migrate' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'migrate', image: 'busybox', resources: { requests: { memory: '1Gi' }, limits: { memory: '512Mi' } } }] } } } }, causes: [
    ['spec.template.spec.containers[0].resources.requests', 'FieldValueInvalid', 'Invalid value: "1Gi": must be less than or equal to memory limit of 512Mi'],
  ] },
  { name: 'nightly', obj: { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'nightly' }, spec: { schedule: '0 3 * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'c', image: 'busybox', ports: [{ containerPort: 0 }] }] } } } } } }, causes: [
    ['spec.jobTemplate.spec.template.spec.containers[0].ports[0].containerPort', 'FieldValueRequired', 'Required value'],
  ] },
];

/** errors.NewInvalid's message: causes as `field: message`, repeats dropped, bracketed when several. */
function invalidMessage(c: Case): string {
  const kind = c.obj.kind;
  const all = [...new Set(c.causes.map(([f, , m]) => `${f}: ${m}`))];
  return `${GROUP[kind] ? `${kind}.${GROUP[kind]}` : kind} "${c.name}" is invalid: ${all.length === 1 ? all[0] : `[${all.join(', ')}]`}`;
}

/** What kubectl prints for a 422: one cause inline, several one per line. */
function kubectlMessage(c: Case): string {
  const lines = c.causes.map(([f, , m]) => `${f}: ${m}`);
  return `The ${c.obj.kind} "${c.name}" is invalid: ${lines.length === 1 ? lines[0] : `\n${lines.map((l) => `* ${l}`).join('\n')}`}`;
}

describe('pod spec validation (conformance)', { timeout: 240_000 }, () => {
  let c: Conformance;
  before(async () => {
    c = await startConformance();
  });
  after(() => c.close());

  it('raw HTTP: a 422 Invalid whose message and details.causes are the validators\', in their order', async () => {
    for (const k of CASES) {
      const r = await c.http('POST', PATHS[k.obj.kind], { body: k.obj });
      assert.equal(r.status, 422, `${k.name}: ${r.text}`);
      const body = r.json();
      assert.equal(body.reason, 'Invalid');
      assert.equal(body.message, invalidMessage(k), k.name);
      assert.deepEqual(body.details.causes.map((x: any) => [x.field, x.reason, x.message]), k.causes, k.name);
      assert.deepEqual([body.details.name, body.details.kind, body.details.group], [k.name, k.obj.kind, GROUP[k.obj.kind] || undefined]);
    }
  });

  it('kubectl apply prints each cause', { skip: needs('kubectl') }, async () => {
    for (const k of CASES) {
      const r = await c.kubectl(['apply', '-f', '-'], { stdin: JSON.stringify(k.obj) });
      assert.equal(r.code, 1, k.name);
      assert.equal(r.stderr.trim(), kubectlMessage(k), k.name);
    }
  });

  it('the Python client raises ApiException 422 with the same causes', { skip: needs('python3-kubernetes') }, async () => {
    const program = `
import json, sys
from kubernetes import client, config
from kubernetes.client.rest import ApiException
config.load_kube_config()
create = {
    'Pod': lambda b: client.CoreV1Api().create_namespaced_pod('default', b),
    'Deployment': lambda b: client.AppsV1Api().create_namespaced_deployment('default', b),
    'DaemonSet': lambda b: client.AppsV1Api().create_namespaced_daemon_set('default', b),
    'Job': lambda b: client.BatchV1Api().create_namespaced_job('default', b),
    'CronJob': lambda b: client.BatchV1Api().create_namespaced_cron_job('default', b),
}
out = []
for obj in json.load(open(sys.argv[1])):
    try:
        create[obj['kind']](obj)
        out.append({'status': 201})
    except ApiException as e:
        body = json.loads(e.body)
        out.append({'status': e.status, 'message': body['message'], 'causes': [[x['field'], x['reason'], x['message']] for x in body['details']['causes']]})
print(json.dumps(out))
`;
    // The program goes on stdin, so the cases go in a file named by an argument.
    const dir = mkdtempSync(join(tmpdir(), 'km-podspec-'));
    writeFileSync(join(dir, 'cases.json'), JSON.stringify(CASES.map((k) => k.obj)));
    const r = await c.python(program, { args: [join(dir, 'cases.json')] });
    rmSync(dir, { recursive: true, force: true });
    assert.equal(r.code, 0, r.stderr);
    const got = JSON.parse(r.stdout);
    CASES.forEach((k, i) => {
      assert.equal(got[i].status, 422, k.name);
      assert.equal(got[i].message, invalidMessage(k), k.name);
      assert.deepEqual(got[i].causes, k.causes, k.name);
    });
  });

  it('quantities: a malformed one is the decoder\'s 400, a valid one is stored in canonical form', async () => {
    const bad = pod('gb', { resources: { limits: { memory: '1Gb' } } });
    const r = await c.http('POST', PATHS.Pod, { body: bad });
    assert.equal(r.status, 400);
    assert.equal(r.json().message, `Pod in version "v1" cannot be handled as a Pod: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`);
    const ok = await c.http('POST', PATHS.Pod, { body: pod('canonical', { resources: { requests: { cpu: '0.5', memory: '1024Mi' }, limits: { cpu: 1.5, memory: '1.5Gi' } } }) });
    assert.equal(ok.status, 201, ok.text);
    assert.deepEqual(ok.json().spec.containers[0].resources, { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '1500m', memory: '1536Mi' } });
  });

  it('what a real cluster accepts is accepted, and stored with the v1 defaults', { skip: needs('kubectl') }, async () => {
    const good = pod('good', {
      ports: [{ name: 'http', containerPort: 8080 }],
      env: [{ name: 'my.setting', value: '1' }, { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
      livenessProbe: { httpGet: { port: 'http' } },
      readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 5 },
      volumeMounts: [{ name: 'scratch', mountPath: '/tmp' }, { name: 'cfg', mountPath: '/etc/app', readOnly: true }],
      securityContext: { runAsNonRoot: true, runAsUser: 1000, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } },
    }, {
      volumes: [{ name: 'scratch' }, { name: 'cfg', configMap: { name: 'app' } }],
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'web', effect: 'NoSchedule' }],
      affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { labelSelector: { matchLabels: { app: 'good' } }, topologyKey: 'kubernetes.io/hostname' } }] } },
    });
    const r = await c.kubectl(['apply', '-f', '-'], { stdin: JSON.stringify(good) });
    assert.equal(r.code, 0, r.stderr);
    const stored = JSON.parse((await c.kubectl(['get', 'pod', 'good', '-o', 'json'])).stdout);
    const ctr = stored.spec.containers[0];
    assert.deepEqual(ctr.ports, [{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    assert.deepEqual(ctr.livenessProbe, { httpGet: { port: 'http', path: '/', scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
    assert.deepEqual(ctr.env[1].valueFrom.fieldRef, { apiVersion: 'v1', fieldPath: 'metadata.name' });
    assert.deepEqual(stored.spec.volumes, [{ name: 'scratch', emptyDir: {} }, { name: 'cfg', configMap: { name: 'app', defaultMode: 420 } }]);
  });
});
