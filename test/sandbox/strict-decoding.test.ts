// The typed decoder and validators behind fieldValidation and 422s, case by
// case: what Go's json and the API server's validators do at the edges.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseEntries, fromEntries } from '../../src/sandbox/server/json-entries.ts';
import { loadSchemas, modelFor } from '../../src/sandbox/server/schema.ts';
import { TypeMismatch, decodeTyped, jsonPatchFieldErrors, untypedDuplicates } from '../../src/sandbox/server/strict.ts';
import { goPrint, yamlDuplicates } from '../../src/sandbox/server/fieldvalidation.ts';
import { dns1123Label, labelValue, qualifiedName } from '../../src/sandbox/validation.ts';
import { RESOURCES } from '../../src/sandbox/resources.ts';
import { ManualClock } from '../../src/common/clock.ts';
import { ObjectStore } from '../../src/sandbox/store.ts';
import type { ApiError } from '../../src/sandbox/status.ts';

const decode = (json: string, model = 'io.k8s.api.apps.v1.Deployment') => decodeTyped(parseEntries(json), model);
const mismatch = (json: string, model = 'io.k8s.api.apps.v1.Deployment') => {
  try {
    decode(json, model);
  } catch (err) {
    if (err instanceof TypeMismatch) return err.message;
    throw err;
  }
  assert.fail(`${json} decoded`);
};

describe('typed decoding', () => {
  before(loadSchemas);

  it('every served type has a model, and kinds two groups share get their own', () => {
    for (const t of RESOURCES) assert.ok(modelFor(t), `${t.group}/${t.version} ${t.kind}`);
    assert.equal(modelFor({ group: '', version: 'v1', kind: 'Event' }), 'io.k8s.api.core.v1.Event');
    assert.equal(modelFor({ group: 'events.k8s.io', version: 'v1', kind: 'Event' }), 'io.k8s.api.events.v1.Event');
    assert.equal(modelFor({ group: 'autoscaling', version: 'v2', kind: 'HorizontalPodAutoscaler' }), 'io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler');
  });

  it('knows the fields of 1.32, not of later releases (hostnameOverride came in 1.34)', () => {
    const d = decode('{"spec":{"hostnameOverride":"x","hostname":"h","containers":[{"name":"a","restartPolicyRules":[]}]}}', 'io.k8s.api.core.v1.Pod');
    assert.deepEqual(d.strict, ['unknown field "spec.hostnameOverride"', 'unknown field "spec.containers[0].restartPolicyRules"']);
  });

  it('names fields case-sensitively and with list indices; drops them and nulls', () => {
    const d = decode('{"spec":{"Replicas":2,"replicas":null,"template":{"spec":{"containers":[{"name":"a"},{"name":"b","imagePullPolicyTwo":"x"}]}}}}');
    assert.deepEqual(d.strict, ['unknown field "spec.Replicas"', 'unknown field "spec.template.spec.containers[1].imagePullPolicyTwo"']);
    assert.deepEqual(d.value, { spec: { template: { spec: { containers: [{ name: 'a' }, { name: 'b' }] } } } });
  });

  it('quantities accept numbers (stored as strings) and refuse what ParseQuantity refuses', () => {
    const d = decode('{"spec":{"containers":[{"name":"a","resources":{"requests":{"cpu":0.5,"memory":"64Mi"}}}]}}', 'io.k8s.api.core.v1.Pod');
    assert.deepEqual((d.value as any).spec.containers[0].resources.requests, { cpu: '0.5', memory: '64Mi' });
    assert.equal(mismatch('{"spec":{"containers":[{"name":"a","resources":{"limits":{"memory":"lots"}}}]}}', 'io.k8s.api.core.v1.Pod'), "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
    assert.equal(mismatch('{"spec":{"containers":[{"name":"a","resources":{"limits":{"memory":"1Mk"}}}]}}', 'io.k8s.api.core.v1.Pod'), "unable to parse quantity's suffix");
  });

  it('words type errors as Go\'s json: the innermost struct, the field path without indices, the Go type', () => {
    assert.equal(mismatch('{"spec":{"replicas":1.5}}'), 'json: cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas of type int32');
    assert.equal(mismatch('{"spec":{"replicas":3000000000}}'), 'json: cannot unmarshal number 3000000000 into Go struct field DeploymentSpec.spec.replicas of type int32');
    assert.equal(mismatch('{"spec":{"paused":"yes"}}'), 'json: cannot unmarshal string into Go struct field DeploymentSpec.spec.paused of type bool');
    assert.equal(mismatch('{"spec":{"template":{"spec":{"containers":{"name":"a"}}}}}'), 'json: cannot unmarshal object into Go struct field PodSpec.spec.template.spec.containers of type []v1.Container');
    assert.equal(mismatch('{"spec":{"template":{"spec":{"containers":[{"name":"a","args":[1]}]}}}}'), 'json: cannot unmarshal number into Go struct field Container.spec.template.spec.containers.args of type string');
    assert.equal(mismatch('{"spec":"x"}'), 'json: cannot unmarshal string into Go struct field Deployment.spec of type v1.DeploymentSpec');
    assert.equal(mismatch('{"spec":{"strategy":{"rollingUpdate":{"maxSurge":{}}}}}'), 'json: cannot unmarshal object into Go value of type int32');
    assert.equal(mismatch('{"spec":{"minReplicas":1,"maxReplicas":"3"}}', 'io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler'), 'json: cannot unmarshal string into Go struct field HorizontalPodAutoscalerSpec.spec.maxReplicas of type int32');
  });

  it('leaves untyped parts (managedFields fieldsV1) unchecked', () => {
    const d = decode('{"metadata":{"managedFields":[{"manager":"m","fieldsV1":{"f:spec":{"f:anything":{}}}}]}}');
    assert.deepEqual(d.strict, []);
    assert.deepEqual((d.value as any).metadata.managedFields[0].fieldsV1, { 'f:spec': { 'f:anything': {} } });
  });

  it('keeps repeated keys in document order, escapes included', () => {
    const n = parseEntries('{"a\\"b":1,"x":[true,null,-2.5e1],"a\\"b":{"k":"\\u00e9"}}');
    assert.deepEqual(fromEntries(n), { 'a"b': { k: 'é' }, x: [true, null, -25] });
    assert.deepEqual(untypedDuplicates(n), ['duplicate field "a\\"b"']);
  });

  it('checks JSON patch operations for unknown and repeated members', () => {
    assert.deepEqual(jsonPatchFieldErrors(parseEntries('[{"op":"add","path":"/a","value":1,"foo":2},{"op":"remove","path":"/a","path":"/b"}]')), ['json patch unknown field "[0].foo"', 'json patch duplicate field "[1].path"']);
  });

  it('finds repeated YAML keys with their lines, and prints patches as Go\'s %+v', () => {
    assert.deepEqual(yamlDuplicates('a: 1\nb:\n  c: 1\n  c: 2\na: 3\n'), ['line 4: key "c" already set in map', 'line 5: key "a" already set in map']);
    assert.equal(goPrint({ spec: { replicas: 'three', list: [1, null], ok: true } }), 'map[spec:map[list:[1 <nil>] ok:true replicas:three]]');
  });
});

describe('name and label validators', () => {
  it('words the apimachinery messages', () => {
    assert.deepEqual(dns1123Label('web.prod'), ['must not contain dots']);
    assert.equal(dns1123Label('x'.repeat(64))[0], 'must be no more than 63 characters');
    assert.deepEqual(qualifiedName('example.com/'), ["name part must be non-empty", "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"]);
    assert.deepEqual(qualifiedName('Example.com/app'), ["prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"]);
    assert.deepEqual(labelValue(''), []);
    assert.deepEqual(labelValue('v1.2_rc-3'), []);
    assert.equal(labelValue('-x').length, 1);
  });
});

describe('update validators', () => {
  const store = () => {
    const clock = new ManualClock();
    const s = new ObjectStore({ clock });
    s.create('namespaces', { metadata: { name: 'default' } });
    return s;
  };
  const sts = (extra: Record<string, unknown> = {}) => ({
    metadata: { name: 'db', namespace: 'default' },
    spec: { serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'postgres:16' }] } }, ...extra },
  });
  const invalidMessage = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return (err as ApiError).message;
    }
    assert.fail('the update was accepted');
  };

  it('compare specs by value, not by key order: a reordered StatefulSet spec is the same spec', () => {
    const s = store();
    const created = s.create('apps/statefulsets', sts());
    const { template, serviceName, ...rest } = created.spec;
    const reordered = { ...created, spec: { template: { ...template, spec: { ...template.spec, containers: [{ ...template.spec.containers[0], image: 'postgres:17' }] } }, ...rest, serviceName } };
    assert.equal(s.update('apps/statefulsets', reordered).spec.template.spec.containers[0].image, 'postgres:17');
    const moved = { ...s.get('apps/statefulsets', 'default', 'db')!, spec: { ...reordered.spec, serviceName: 'other' } };
    assert.equal(invalidMessage(() => s.update('apps/statefulsets', moved)), `StatefulSet.apps "db" is invalid: spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden`);
  });

  it('a Service update that leaves clusterIP out keeps the allocated one', () => {
    const s = store();
    const svc = s.create('services', { metadata: { name: 'web', namespace: 'default' }, spec: { ports: [{ port: 80 }] } });
    const updated = s.update('services', { metadata: { name: 'web', namespace: 'default' }, spec: { ports: [{ port: 81 }] } });
    assert.equal(updated.spec.clusterIP, svc.spec.clusterIP);
    assert.deepEqual(updated.spec.clusterIPs, [svc.spec.clusterIP]);
  });
});
