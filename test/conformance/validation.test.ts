// Validation as kube-apiserver 1.32 does it, checked with clients nobody here
// wrote: kubectl 1.32 (server-side field validation, the exact error lines it
// prints), Debian's Python client (ApiException status and body) and raw
// HTTP (fieldValidation modes, Warning headers, patch and apply answers).
// Expected texts are the real server's, from kube-apiserver's integration
// tests (test/integration/apiserver/field_validation_test.go) and validators.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox } from '../../src/sandbox/cluster.ts';

const KUBECTL = '/usr/bin/kubectl';
const PYTHON = '/usr/bin/python3';
const hasKubectl = spawnSync(KUBECTL, ['version', '--client'], { stdio: 'ignore' }).status === 0;
const hasPython = spawnSync(PYTHON, ['-c', 'import kubernetes'], { stdio: 'ignore' }).status === 0;

interface Run { code: number; out: string; err: string }

const deployment = (name: string, spec = '', container = '') => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
${spec}  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
      - name: app
        image: nginx:1.27
${container}`;

// The body kube-apiserver's field validation tests post (apps/v1 Deployment with
// unknown and repeated fields at every level).
const INVALID_BODY = `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"dup","name":"dup","unknownMeta":"x","labels":{"app":"nginx"}},
"spec":{"unknown1":"val1","unknownDupe":"valDupe","unknownDupe":"valDupe2","paused":true,"paused":false,
"selector":{"matchLabels":{"app":"nginx"}},"template":{"metadata":{"labels":{"app":"nginx"}},
"spec":{"containers":[{"name":"nginx","image":"nginx:latest","unknownNested":"val1","imagePullPolicy":"Always","imagePullPolicy":"Never"}]}}}}`;
const STRICT_ERRORS = [
  'duplicate field "metadata.name"',
  'unknown field "metadata.unknownMeta"',
  'unknown field "spec.unknown1"',
  'unknown field "spec.unknownDupe"',
  'duplicate field "spec.paused"',
  'unknown field "spec.template.spec.containers[0].unknownNested"',
  'duplicate field "spec.template.spec.containers[0].imagePullPolicy"',
];

describe('validation and fieldValidation (conformance)', { timeout: 120_000 }, () => {
  let sandbox: Sandbox;
  let dir: string;
  let kubeconfig: string;

  function kubectl(args: string[], stdin = ''): Promise<Run> {
    return new Promise((resolve) => {
      const child = execFile(KUBECTL, ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args], { timeout: 30_000 }, (err, out, errOut) => {
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out, err: errOut });
      });
      child.stdin!.end(stdin);
    });
  }

  function python(code: string): Promise<Run> {
    return new Promise((resolve) => {
      execFile(PYTHON, ['-c', code], { timeout: 30_000, env: { ...process.env, KUBECONFIG: kubeconfig } }, (err, out, errOut) => {
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out, err: errOut });
      });
    });
  }

  async function http(method: string, path: string, body?: string, contentType = 'application/json') {
    const res = await fetch(`${sandbox.url}${path}`, { method, body, headers: body === undefined ? {} : { 'content-type': contentType } });
    const text = await res.text();
    return { status: res.status, warnings: res.headers.get('warning'), body: text ? JSON.parse(text) : undefined };
  }

  before(async () => {
    sandbox = new Sandbox({ speed: 1 });
    await sandbox.listen();
    dir = mkdtempSync(join(tmpdir(), 'kubemend-validation-'));
    kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, sandbox.kubeconfig(), { mode: 0o600 });
  });

  after(async () => {
    await sandbox.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('with kubectl', { skip: hasKubectl ? false : `kubectl is not at ${KUBECTL}` }, () => {
    it('apply refuses an unknown field (kubectl sends fieldValidation=Strict)', async () => {
      const r = await kubectl(['apply', '-f', '-'], deployment('typo', '  replicass: 3\n'));
      assert.equal(r.code, 1);
      assert.equal(r.err.trim(), 'Error from server (BadRequest): error when creating "STDIN": Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.replicass"');
      assert.equal(sandbox.store.get('apps/deployments', 'default', 'typo'), undefined);
    });

    it('create --validate=warn creates the object, prints the warning and drops the field', async () => {
      const r = await kubectl(['create', '--validate=warn', '-f', '-'], deployment('warned', '  replicass: 3\n'));
      assert.equal(r.code, 0, r.err);
      assert.match(r.err, /^Warning: unknown field "spec\.replicass"$/m);
      const stored = sandbox.store.get('apps/deployments', 'default', 'warned')!;
      assert.equal('replicass' in stored.spec, false);
    });

    it('create --validate=false drops the field without a word', async () => {
      const r = await kubectl(['create', '--validate=false', '-f', '-'], deployment('ignored', '  replicass: 3\n'));
      assert.equal(r.code, 0, r.err);
      assert.doesNotMatch(r.err, /Warning/);
      assert.equal('replicass' in sandbox.store.get('apps/deployments', 'default', 'ignored')!.spec, false);
    });

    it('a wrong type is a 400 with json\'s message, whatever --validate says', async () => {
      for (const validate of ['strict', 'false']) {
        const r = await kubectl(['create', `--validate=${validate}`, '-f', '-'], deployment('three', '  replicas: three\n'));
        assert.equal(r.err.trim(), 'Error from server (BadRequest): error when creating "STDIN": Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32');
      }
      // kubectl decodes labels itself, so a number there fails before any request (the server's answer is checked over raw HTTP).
      const label = await kubectl(['apply', '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ver\n  labels: {version: 1.5}\n');
      assert.equal(label.err.trim(), 'error: unable to decode "STDIN": json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string');
    });

    it('invalid names, labels, containers and restart policies are 422s worded as the validators', async () => {
      const cases: [string, string][] = [
        [deployment('Bad_Name'), `The Deployment "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`],
        ['apiVersion: v1\nkind: Service\nmetadata: {name: no-ports}\nspec: {selector: {app: x}}\n', 'The Service "no-ports" is invalid: spec.ports: Required value'],
        ['apiVersion: v1\nkind: Service\nmetadata: {name: web.svc}\nspec: {ports: [{port: 80}]}\n', `The Service "web.svc" is invalid: metadata.name: Invalid value: "web.svc": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`],
        ['apiVersion: batch/v1\nkind: Job\nmetadata: {name: job}\nspec:\n  template:\n    spec:\n      containers: [{name: c, image: busybox}]\n', 'The Job "job" is invalid: spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"'],
        [deployment('never', '', '      restartPolicy: Never\n'), 'The Deployment "never" is invalid: spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"'],
        ['apiVersion: v1\nkind: Pod\nmetadata: {name: twins}\nspec:\n  containers: [{name: app, image: nginx}, {name: app, image: redis}]\n', 'The Pod "twins" is invalid: spec.containers[1].name: Duplicate value: "app"'],
        ['apiVersion: v1\nkind: Pod\nmetadata: {name: greedy}\nspec:\n  containers:\n  - name: app\n    image: nginx\n    resources: {requests: {cpu: "2"}, limits: {cpu: "1"}}\n', 'The Pod "greedy" is invalid: spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1'],
        ['apiVersion: v1\nkind: Pod\nmetadata: {name: noimage}\nspec:\n  containers: [{name: app}]\n', 'The Pod "noimage" is invalid: spec.containers[0].image: Required value'],
        ['apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lbl\n  labels: {tier: "front end"}\n', `The ConfigMap "lbl" is invalid: metadata.labels: Invalid value: "front end": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')`],
      ];
      for (const [manifest, line] of cases) {
        const r = await kubectl(['apply', '-f', '-'], manifest);
        assert.equal(r.code, 1, manifest);
        assert.equal(r.err.trim(), line);
      }
    });

    it('several causes are listed one per line (kubectl formats details.causes)', async () => {
      const r = await kubectl(['apply', '-f', '-'], 'apiVersion: v1\nkind: Pod\nmetadata: {name: two-faults}\nspec:\n  restartPolicy: Sometimes\n  containers: [{name: app}]\n');
      assert.equal(r.err.trim(), 'The Pod "two-faults" is invalid: \n* spec.containers[0].image: Required value\n* spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"');
    });

    it('immutable fields: Deployment selector, Service clusterIP, immutable ConfigMap, Job template', async () => {
      assert.equal((await kubectl(['apply', '-f', '-'], deployment('sel'))).code, 0);
      const moved = deployment('sel').replace('matchLabels: {app: sel}', 'matchLabels: {app: sel, tier: web}').replace('labels: {app: sel}', 'labels: {app: sel, tier: web}');
      const sel = await kubectl(['apply', '-f', '-'], moved);
      assert.equal(sel.err.trim(), 'The Deployment "sel" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"sel", "tier":"web"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable');

      const svc = (ip: string) => `apiVersion: v1\nkind: Service\nmetadata: {name: fixed}\nspec:\n  clusterIP: ${ip}\n  ports: [{port: 80}]\n`;
      assert.equal((await kubectl(['apply', '-f', '-'], svc('10.96.7.7'))).code, 0);
      assert.equal((await kubectl(['apply', '-f', '-'], 'apiVersion: v1\nkind: Service\nmetadata: {name: fixed}\nspec:\n  ports: [{port: 81}]\n')).code, 0, 'an apply that leaves clusterIP out keeps it');
      const ip = await kubectl(['apply', '-f', '-'], svc('10.96.8.8'));
      assert.equal(ip.err.trim(), 'The Service "fixed" is invalid: spec.clusterIPs[0]: Invalid value: []string{"10.96.8.8"}: may not change once set');

      const cm = (v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: frozen}\nimmutable: true\ndata: {k: "${v}"}\n`;
      assert.equal((await kubectl(['apply', '-f', '-'], cm('1'))).code, 0);
      const frozen = await kubectl(['apply', '-f', '-'], cm('2'));
      assert.equal(frozen.err.trim(), 'The ConfigMap "frozen" is invalid: data: Forbidden: field is immutable when `immutable` is set');

      const job = (image: string) => `apiVersion: batch/v1\nkind: Job\nmetadata: {name: once}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: c, image: ${image}}]\n`;
      assert.equal((await kubectl(['apply', '-f', '-'], job('busybox:1.36'))).code, 0);
      const tpl = await kubectl(['apply', '-f', '-'], job('busybox:1.37'));
      assert.match(tpl.err, /^The Job "once" is invalid: spec\.template: Invalid value: core\.PodTemplateSpec\{.*\}: field is immutable$/m);
    });

    it('server-side apply of an unknown field fails as structured-merge-diff does (500, no reason)', async () => {
      const r = await kubectl(['apply', '--server-side', '-f', '-'], deployment('ssa', '  replicass: 3\n'));
      assert.equal(r.err.trim(), 'Error from server: failed to create typed patch object (default/ssa; apps/v1, Kind=Deployment): .spec.replicass: field not declared in schema');
    });
  });

  describe('with raw HTTP', () => {
    const POST = '/apis/apps/v1/namespaces/default/deployments';

    it('Strict fails with every strict error in document order, and stores nothing', async () => {
      const r = await http('POST', `${POST}?fieldValidation=Strict`, INVALID_BODY);
      assert.equal(r.status, 400);
      assert.equal(r.body.reason, 'BadRequest');
      assert.equal(r.body.message, `Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: ${STRICT_ERRORS.join(', ')}`);
      assert.equal(sandbox.store.get('apps/deployments', 'default', 'dup'), undefined);
    });

    it('Warn (also the default) answers with one Warning header per error and stores none of the unknown fields', async () => {
      for (const [q, name] of [['?fieldValidation=Warn', 'dup'], ['', 'dup2']]) {
        const r = await http('POST', `${POST}${q}`, INVALID_BODY.replaceAll('"dup"', `"${name}"`));
        assert.equal(r.status, 201);
        assert.equal(r.warnings, STRICT_ERRORS.map((e) => `299 - "${e.replaceAll('"', '\\"')}"`).join(', '));
        const stored = sandbox.store.get('apps/deployments', 'default', name)!;
        assert.equal(stored.spec.paused, false, 'the last of repeated fields wins');
        assert.equal(stored.spec.template.spec.containers[0].imagePullPolicy, 'Never');
        assert.deepEqual([stored.metadata.unknownMeta, stored.spec.unknown1, stored.spec.template.spec.containers[0].unknownNested], [undefined, undefined, undefined]);
      }
    });

    it('Ignore drops unknown fields silently; an unsupported value is a 400', async () => {
      const r = await http('POST', `${POST}?fieldValidation=Ignore`, INVALID_BODY.replaceAll('"dup"', '"dup3"'));
      assert.equal(r.status, 201);
      assert.equal(r.warnings, null);
      assert.equal(sandbox.store.get('apps/deployments', 'default', 'dup3')!.spec.unknown1, undefined);
      const bad = await http('POST', `${POST}?fieldValidation=strict`, INVALID_BODY);
      assert.equal(bad.status, 400);
      assert.equal(bad.body.message, 'fieldValidation: Unsupported value: "strict": supported values: "Ignore", "Strict", "Warn"');
    });

    it('a number where a label value belongs is json\'s 400', async () => {
      const r = await http('POST', '/api/v1/namespaces/default/configmaps', '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"ver","labels":{"version":1.5}}}');
      assert.equal(r.status, 400);
      assert.equal(r.body.message, 'ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string');
    });

    it('PUT decodes like POST', async () => {
      const current = (await http('GET', `${POST}/dup`)).body;
      current.spec.replicass = 2;
      const r = await http('PUT', `${POST}/dup?fieldValidation=Strict`, JSON.stringify(current));
      assert.equal(r.status, 400);
      assert.equal(r.body.message, 'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.replicass"');
    });

    it('merge and JSON patches: duplicates in the patch, then unknown fields of the patched object; 422 naming the patch under Strict', async () => {
      const merge = '{"spec":{"unknown1":"val1","paused":true,"paused":false,"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:latest","unknownNested":"v"}]}}}}';
      const r = await http('PATCH', `${POST}/dup?fieldValidation=Strict`, merge, 'application/merge-patch+json');
      assert.equal(r.status, 422);
      assert.equal(r.body.reason, 'Invalid');
      assert.match(r.body.message, /^ "" is invalid: patch: Invalid value: "\{.*\}": strict decoding error: duplicate field "spec\.paused", unknown field "spec\.template\.spec\.containers\[0\]\.unknownNested", unknown field "spec\.unknown1"$/);
      assert.equal(r.body.details.causes[0].field, 'patch');

      const warned = await http('PATCH', `${POST}/dup`, merge, 'application/merge-patch+json');
      assert.equal(warned.status, 200);
      assert.equal(warned.warnings, '299 - "duplicate field \\"spec.paused\\"", 299 - "unknown field \\"spec.template.spec.containers[0].unknownNested\\"", 299 - "unknown field \\"spec.unknown1\\""');
      assert.equal(warned.body.spec.unknown1, undefined);

      const ops = '[{"op":"add","path":"/spec/unknown1","value":"val1","foo":"bar"},{"op":"add","path":"/spec/unknown2","path":"/spec/unknown3","value":"val1"}]';
      const j = await http('PATCH', `${POST}/dup?fieldValidation=Strict`, ops, 'application/json-patch+json');
      assert.equal(j.status, 422);
      assert.match(j.body.message, /strict decoding error: json patch unknown field "\[0\]\.foo", json patch duplicate field "\[1\]\.path", unknown field "spec\.unknown1", unknown field "spec\.unknown3"$/);
    });

    it('a wrong type in a patch is a 422 naming the patch', async () => {
      const r = await http('PATCH', `${POST}/dup`, '{"spec":{"replicas":"three"}}', 'application/strategic-merge-patch+json');
      assert.equal(r.status, 422);
      assert.equal(r.body.message, ' "" is invalid: patch: Invalid value: "map[spec:map[replicas:three]]": json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32');
    });

    it('server-side apply: repeated keys are YAML strict errors, unknown fields a reasonless 500', async () => {
      const body = 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: applied\nspec:\n  paused: true\n  paused: false\n  selector: {matchLabels: {app: a}}\n  template:\n    metadata: {labels: {app: a}}\n    spec: {containers: [{name: c, image: nginx}]}\n';
      const strict = await http('PATCH', `${POST}/applied?fieldManager=me&fieldValidation=Strict`, body, 'application/apply-patch+yaml');
      assert.equal(strict.status, 400);
      assert.equal(strict.body.message, 'error strict decoding YAML: error converting YAML to JSON: yaml: unmarshal errors:\n  line 7: key "paused" already set in map');
      const warned = await http('PATCH', `${POST}/applied?fieldManager=me`, body, 'application/apply-patch+yaml');
      assert.equal(warned.status, 201);
      assert.equal(warned.warnings, '299 - "line 7: key \\"paused\\" already set in map"');
      const unknown = await http('PATCH', `${POST}/applied?fieldManager=me`, body.replace('  paused: false\n', '  replicass: 2\n'), 'application/apply-patch+yaml');
      assert.equal(unknown.status, 500);
      assert.deepEqual(unknown.body, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'failed to create typed patch object (default/applied; apps/v1, Kind=Deployment): .spec.replicass: field not declared in schema', code: 500 });
    });

    it('422 bodies carry details.causes with reasons; core kinds have no group', async () => {
      const r = await http('POST', '/api/v1/namespaces/default/pods', JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'Bad.Pod' }, spec: { containers: [{ name: 'a', image: 'x' }, { name: 'a' }] } }));
      assert.equal(r.status, 422);
      assert.deepEqual(r.body.details, {
        name: 'Bad.Pod',
        kind: 'Pod',
        causes: [
          { reason: 'FieldValueInvalid', message: `Invalid value: "Bad.Pod": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`, field: 'metadata.name' },
          // validateContainers: validateContainerCommon (name, image …) comes before the duplicate-name check.
          { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.containers[1].image' },
          { reason: 'FieldValueDuplicate', message: 'Duplicate value: "a"', field: 'spec.containers[1].name' },
        ],
      });
      assert.match(r.body.message, /^Pod "Bad\.Pod" is invalid: \[metadata\.name: Invalid value: "Bad\.Pod": .*, spec\.containers\[1\]\.image: Required value, spec\.containers\[1\]\.name: Duplicate value: "a"\]$/);
    });
  });

  describe('with the Python client', { skip: hasPython ? false : `Debian's python3-kubernetes is not importable by ${PYTHON}` }, () => {
    it('ApiException carries the status and the Status body: 422 with causes, 400 for a wrong type', async () => {
      const r = await python(`
import json
from kubernetes import client, config
config.load_kube_config()
apps = client.AppsV1Api()
def body(name, replicas):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "p"}},
                     "template": {"metadata": {"labels": {"app": "p"}},
                                  "spec": {"containers": [{"name": "c", "image": "nginx"}], "restartPolicy": "Never"}}}}
for name, replicas in (("py", 1), ("py-type", "three")):
    try:
        apps.create_namespaced_deployment("default", body(name, replicas))
        print("created")
    except client.exceptions.ApiException as e:
        b = json.loads(e.body)
        print(e.status, b["reason"], b["message"], json.dumps(b.get("details", {}).get("causes")))
`);
      assert.equal(r.code, 0, r.err);
      const [invalid, badType] = r.out.trim().split('\n');
      assert.equal(invalid, '422 Invalid Deployment.apps "py" is invalid: spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always" [{"reason": "FieldValueNotSupported", "message": "Unsupported value: \\"Never\\": supported values: \\"Always\\"", "field": "spec.template.spec.restartPolicy"}]');
      assert.equal(badType, '400 BadRequest Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32 null');
    });
  });
});
