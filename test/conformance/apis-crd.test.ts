// apiextensions.k8s.io/v1 CustomResourceDefinitions, checked with kubectl
// 1.32, Debian's python3-kubernetes and raw HTTP against what kube-apiserver
// 1.32 documents and does: the CRD's conditions, discovery, printer
// columns, structural-schema validation (422 with causes), pruning and
// fieldValidation, defaulting, status and scale subresources, versions,
// naming conflicts and deletion.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { type Cluster, eventually, skipKubectl, skipPython, startCluster } from './cluster.ts';

const WIDGETS = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, kind: Widget, shortNames: [wd], categories: [all]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas, labelSelectorPath: .status.selector}
    additionalPrinterColumns:
    - {name: Color, type: string, jsonPath: .spec.color}
    - {name: Replicas, type: integer, jsonPath: .spec.replicas}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [color]
            properties:
              color: {type: string, enum: [red, blue]}
              replicas: {type: integer, minimum: 1, maximum: 10, default: 1}
              name: {type: string, maxLength: 8, pattern: '^[a-z]+$'}
              tags: {type: array, maxItems: 2, items: {type: string}}
              note: {type: string, nullable: true}
              size: {type: string, default: small}
              config: {type: object, x-kubernetes-preserve-unknown-fields: true}
          status:
            type: object
            properties:
              replicas: {type: integer}
              selector: {type: string}
`;

const GIZMOS = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'gizmos.example.com' },
  spec: {
    group: 'example.com',
    scope: 'Cluster',
    names: { plural: 'gizmos', kind: 'Gizmo' },
    versions: ['v1beta1', 'v1'].map((name) => ({
      name, served: true, storage: name === 'v1',
      schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } } } },
    })),
  },
};

const widget = (name: string, spec: Record<string, unknown>) => ({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name }, spec });
const WIDGETS_PATH = '/apis/example.com/v1/namespaces/default/widgets';
const AGGREGATED = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json';

describe('CustomResourceDefinitions (kubectl, Python, HTTP)', { skip: skipKubectl, timeout: 180_000 }, () => {
  let c: Cluster;

  before(async () => {
    c = await startCluster();
    await c.kubectl('apply', '-f', c.file('widgets.yaml', WIDGETS));
    await c.kubectl('wait', '--for', 'condition=established', '--timeout=20s', 'crd/widgets.example.com');
  });
  after(async () => c?.stop());

  it('a created CRD has its names accepted and is Established, with the defaulted names and storedVersions', async () => {
    const { body } = await c.http('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com');
    assert.equal(body.spec.names.singular, 'widget');
    assert.equal(body.spec.names.listKind, 'WidgetList');
    assert.deepEqual(body.spec.conversion, { strategy: 'None' });
    assert.deepEqual(body.status.acceptedNames, { plural: 'widgets', singular: 'widget', shortNames: ['wd'], kind: 'Widget', listKind: 'WidgetList', categories: ['all'] });
    assert.deepEqual(body.status.storedVersions, ['v1']);
    const conds = body.status.conditions.map((x: any) => [x.type, x.status, x.reason, x.message]);
    assert.deepEqual(conds, [
      ['NamesAccepted', 'True', 'NoConflicts', 'no conflicts found'],
      ['Established', 'True', 'InitialNamesAccepted', 'the initial names have been accepted'],
    ]);
    assert.match(await c.kubectl('get', 'crd'), /widgets\.example\.com\s+\d{4}-\d\d-\d\dT/);
  });

  it('discovery (plain and aggregated) shows the resource within a second of Established, with its names, verbs and subresources', async () => {
    const started = Date.now();
    const crd = { ...GIZMOS, metadata: { name: 'quick.example.org' }, spec: { ...GIZMOS.spec, group: 'example.org', names: { plural: 'quick', kind: 'Quick' } } };
    assert.equal((await c.http('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd)).code, 201);
    await eventually(async () => (await c.http('GET', '/apis/example.org/v1')).code === 200, 'example.org/v1 in discovery');
    assert.ok(Date.now() - started < 1000, `served after ${Date.now() - started}ms`);

    const groups = (await c.http('GET', '/apis')).body.groups;
    const group = groups.find((g: any) => g.name === 'example.com');
    assert.deepEqual(group.preferredVersion, { groupVersion: 'example.com/v1', version: 'v1' });
    const list = (await c.http('GET', '/apis/example.com/v1')).body;
    assert.deepEqual(list.resources.find((r: any) => r.name === 'widgets'), {
      name: 'widgets', singularName: 'widget', namespaced: true, kind: 'Widget',
      verbs: ['delete', 'deletecollection', 'get', 'list', 'patch', 'create', 'update', 'watch'], shortNames: ['wd'], categories: ['all'],
    });
    assert.deepEqual(list.resources.find((r: any) => r.name === 'widgets/scale'), { name: 'widgets/scale', singularName: '', namespaced: true, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] });

    const agg = await c.http('GET', '/apis', undefined, { accept: AGGREGATED });
    const params = Object.fromEntries((agg.headers.get('content-type') ?? '').split(';').slice(1).map((p) => p.trim().split('=').map((x) => x.replace(/^"|"$/g, ''))));
    assert.deepEqual([params.g, params.v, params.as], ['apidiscovery.k8s.io', 'v2', 'APIGroupDiscoveryList']);
    const item = agg.body.items.find((i: any) => i.metadata.name === 'example.com');
    const res = item.versions[0].resources.find((r: any) => r.resource === 'widgets');
    assert.equal(res.scope, 'Namespaced');
    assert.deepEqual(res.responseKind, { group: 'example.com', version: 'v1', kind: 'Widget' });
    assert.deepEqual(res.shortNames, ['wd']);
    assert.deepEqual(res.categories, ['all']);
    assert.deepEqual(res.subresources.map((s: any) => [s.subresource, s.responseKind.kind]), [['status', 'Widget'], ['scale', 'Scale']]);
    // CRD groups come after the built-in ones.
    const names = agg.body.items.map((i: any) => i.metadata.name);
    assert.ok(names.indexOf('example.com') > names.indexOf('apps'));

    assert.match(await c.kubectl('api-resources', '--api-group=example.com'), /widgets\s+wd\s+example\.com\/v1\s+true\s+Widget/);
  });

  it('kubectl gets custom resources by short name and category, with the printer columns', async () => {
    await c.kubectl('apply', '-f', c.file('w1.yaml', 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {color: red, replicas: 2}\n'));
    const out = await c.kubectl('get', 'wd');
    assert.match(out, /^NAME\s+COLOR\s+REPLICAS\s+AGE\n/);
    assert.match(out, /\nw1\s+red\s+2\s+\d+s\n/);
    assert.match(await c.kubectl('get', 'all'), /widget\.example\.com\/w1\s+red\s+2/);
    assert.equal(await c.kubectl('get', 'widget', 'w1', '-o', 'jsonpath={.spec.size}'), 'small');
  });

  it('unknown fields: kubectl (Strict) is refused with 400, the default (Warn) prunes with a Warning, Ignore prunes silently', async () => {
    const err = await c.kubectlFails('create', '-f', c.file('unk.yaml', 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: unk}\nspec: {color: blue, bogus: 1}\n'));
    assert.match(err, /Widget in version "v1" cannot be handled as a Widget: strict decoding error: unknown field "spec.bogus"/);

    const warn = await c.http('POST', WIDGETS_PATH, widget('unk', { color: 'blue', bogus: 1, config: { anything: { goes: true } } }));
    assert.equal(warn.code, 201);
    assert.equal(warn.headers.get('warning'), '299 - "unknown field \\"spec.bogus\\""');
    assert.deepEqual(warn.body.spec, { color: 'blue', config: { anything: { goes: true } }, replicas: 1, size: 'small' });

    const quiet = await c.http('POST', `${WIDGETS_PATH}?fieldValidation=Ignore`, widget('quiet', { color: 'blue', bogus: 1 }));
    assert.equal(quiet.code, 201);
    assert.equal(quiet.headers.get('warning'), null);
    assert.equal(quiet.body.spec.bogus, undefined);
  });

  it('objects that break the schema are refused with 422 Invalid and a cause per error', async () => {
    const r = await c.http('POST', WIDGETS_PATH, widget('bad', { color: 'pink', replicas: 0, name: 'TOOLONGNAME', tags: ['a', 1, 'c'] }));
    assert.equal(r.code, 422);
    assert.equal(r.body.reason, 'Invalid');
    assert.deepEqual({ name: r.body.details.name, group: r.body.details.group, kind: r.body.details.kind }, { name: 'bad', group: 'example.com', kind: 'Widget' });
    const causes = r.body.details.causes.map((x: any) => `${x.reason} ${x.field}: ${x.message}`).sort();
    assert.deepEqual(causes, [
      'FieldValueInvalid spec.name: Invalid value: "TOOLONGNAME": spec.name in body should match \'^[a-z]+$\'',
      'FieldValueInvalid spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1',
      'FieldValueNotSupported spec.color: Unsupported value: "pink": supported values: "red", "blue"',
      'FieldValueTooLong spec.name: Too long: may not be longer than 8',
      'FieldValueTooMany spec.tags: Too many: 3: must have at most 2 items',
      'FieldValueTypeInvalid spec.tags[1]: Invalid value: "integer": spec.tags[1] in body must be of type string: "integer"',
    ]);
    assert.match(r.body.message, /^Widget\.example\.com "bad" is invalid: \[.*\]$/);

    const missing = await c.http('POST', WIDGETS_PATH, widget('nocolor', { replicas: 11 }));
    assert.equal(missing.body.message, 'Widget.example.com "nocolor" is invalid: [spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10, spec.color: Required value]');

    const err = await c.kubectlFails('create', '--validate=false', '-f', c.file('bad.yaml', 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: bad}\nspec: {color: green}\n'));
    assert.match(err, /The Widget "bad" is invalid: spec\.color: Unsupported value: "green": supported values: "red", "blue"/);
  });

  it('null: kept where the schema is nullable, dropped (or defaulted) where it is not', async () => {
    const r = await c.http('POST', WIDGETS_PATH, widget('nulls', { color: 'red', note: null, replicas: null, name: null }));
    assert.equal(r.code, 201, JSON.stringify(r.body));
    assert.deepEqual(r.body.spec, { color: 'red', note: null, replicas: 1, size: 'small' });
  });

  it('status subresource: writes to the object ignore status, /status writes only status; generation follows the spec', async () => {
    await c.kubectl('patch', 'wd', 'w1', '--type', 'merge', '-p', '{"spec":{"replicas":3},"status":{"replicas":9}}');
    let w = (await c.http('GET', `${WIDGETS_PATH}/w1`)).body;
    assert.equal(w.spec.replicas, 3);
    assert.equal(w.status, undefined);
    assert.equal(w.metadata.generation, 2);
    await c.kubectl('patch', 'wd', 'w1', '--subresource', 'status', '--type', 'merge', '-p', '{"spec":{"replicas":5},"status":{"replicas":3,"selector":"app=w1"}}');
    w = (await c.http('GET', `${WIDGETS_PATH}/w1`)).body;
    assert.deepEqual(w.status, { replicas: 3, selector: 'app=w1' });
    assert.equal(w.spec.replicas, 3);
    assert.equal(w.metadata.generation, 2);
  });

  it('scale subresource: kubectl scale sets the spec path; /scale reads the CRD\'s paths', async () => {
    await c.kubectl('scale', 'wd/w1', '--replicas=4');
    const s = (await c.http('GET', `${WIDGETS_PATH}/w1/scale`)).body;
    assert.equal(s.kind, 'Scale');
    assert.equal(s.apiVersion, 'autoscaling/v1');
    assert.deepEqual(s.spec, { replicas: 4 });
    assert.deepEqual(s.status, { replicas: 3, selector: 'app=w1' });
    assert.equal((await c.http('GET', `${WIDGETS_PATH}/w1`)).body.spec.replicas, 4);
  });

  it('custom resources take JSON and merge patches and server-side apply, not strategic merge patches', async () => {
    const err = await c.kubectlFails('patch', 'wd', 'w1', '-p', '{"spec":{"color":"blue"}}');
    assert.match(err, /application\/strategic-merge-patch\+json is not supported by example\.com\/v1, Kind=Widget: the body of the request was in an unknown format - accepted media types include: application\/json-patch\+json, application\/merge-patch\+json, application\/apply-patch\+yaml/);
    await c.kubectl('patch', 'wd', 'w1', '--type', 'json', '-p', '[{"op":"replace","path":"/spec/color","value":"blue"}]');
    // kubectl-patch owns spec.color now: a server-side apply that sets it conflicts until forced.
    const apply = ['apply', '--server-side', '--field-manager', 'me', '-f', c.file('w1-apply.yaml', 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w1}\nspec: {color: red, tags: [x]}\n')];
    assert.match(await c.kubectlFails(...apply), /Apply failed with 1 conflict: conflict with "kubectl-patch" using example\.com\/v1: \.spec\.color/);
    await c.kubectl(...apply, '--force-conflicts');
    const w = (await c.http('GET', `${WIDGETS_PATH}/w1`)).body;
    assert.equal(w.spec.color, 'red');
    assert.deepEqual(w.spec.tags, ['x']);
  });

  it('the Python client creates, lists and watches custom resources (CustomObjectsApi)', { skip: skipPython() }, async () => {
    const out = await c.python(`
api = client.CustomObjectsApi()
made = api.create_namespaced_custom_object('example.com', 'v1', 'default', 'widgets', {'apiVersion': 'example.com/v1', 'kind': 'Widget', 'metadata': {'name': 'py1'}, 'spec': {'color': 'blue'}})
listed = api.list_namespaced_custom_object('example.com', 'v1', 'default', 'widgets', label_selector='')
try:
    api.create_namespaced_custom_object('example.com', 'v1', 'default', 'widgets', {'apiVersion': 'example.com/v1', 'kind': 'Widget', 'metadata': {'name': 'py2'}, 'spec': {'color': 'pink'}})
    refused = None
except client.ApiException as e:
    refused = [e.status, json.loads(e.body)['reason']]
seen = []
def follow():
    for ev in watch.Watch().stream(api.list_namespaced_custom_object, 'example.com', 'v1', 'default', 'widgets', resource_version=listed['metadata']['resourceVersion'], timeout_seconds=4):
        seen.append([ev['type'], ev['object']['metadata']['name']])
t = threading.Thread(target=follow)
t.start()
time.sleep(0.7)
api.patch_namespaced_custom_object('example.com', 'v1', 'default', 'widgets', 'py1', {'spec': {'color': 'red'}})
api.delete_namespaced_custom_object('example.com', 'v1', 'default', 'widgets', 'py1')
t.join()
print(json.dumps({'made': made['spec'], 'kind': listed['kind'], 'names': [i['metadata']['name'] for i in listed['items']], 'refused': refused, 'seen': seen}))
`);
    assert.deepEqual(out.made, { color: 'blue', replicas: 1, size: 'small' });
    assert.equal(out.kind, 'WidgetList');
    assert.ok(out.names.includes('py1') && out.names.includes('w1'));
    assert.deepEqual(out.refused, [422, 'Invalid']);
    assert.deepEqual(out.seen, [['MODIFIED', 'py1'], ['DELETED', 'py1']]);
  });

  it('a cluster-scoped CRD with two versions serves both, stores the storage version and prefers the highest', async () => {
    assert.equal((await c.http('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', GIZMOS)).code, 201);
    await eventually(async () => (await c.http('GET', '/apis/example.com/v1beta1/gizmos')).code === 200, 'gizmos served');
    const made = await c.http('POST', '/apis/example.com/v1beta1/gizmos', { apiVersion: 'example.com/v1beta1', kind: 'Gizmo', metadata: { name: 'g1' }, spec: { size: 3 } });
    assert.equal(made.code, 201);
    assert.equal(made.body.apiVersion, 'example.com/v1beta1');
    assert.equal((await c.http('GET', '/apis/example.com/v1/gizmos/g1')).body.apiVersion, 'example.com/v1');
    assert.equal(c.sandbox.store.get('example.com/gizmos', undefined, 'g1')?.apiVersion, 'example.com/v1');
    assert.equal((await c.http('GET', '/apis/example.com/v1/namespaces/default/gizmos')).code, 404);
    const group = (await c.http('GET', '/apis/example.com')).body;
    assert.deepEqual(group.versions.map((v: any) => v.version), ['v1', 'v1beta1']);
    assert.equal(group.preferredVersion.version, 'v1');
    assert.match(await c.kubectl('get', 'gizmos'), /^NAME\s+AGE\ng1\s+\d+s\n/);
  });

  it('an invalid CRD is refused with the apiextensions messages', async () => {
    const bad = {
      apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'things.example' },
      spec: {
        group: 'example', scope: 'Namespaced', names: { plural: 'things', kind: 'Thing' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { properties: { a: { type: 'string' } } } } } } }],
      },
    };
    const r = await c.http('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', bad);
    assert.equal(r.code, 422);
    const causes = r.body.details.causes.map((x: any) => `${x.field}: ${x.message}`);
    assert.deepEqual(causes, [
      'spec.group: Invalid value: "example": should be a domain with at least one dot',
      'spec.validation.openAPIV3Schema.properties[spec].type: Required value: must not be empty for specified object fields',
    ]);
    assert.match(r.body.message, /^CustomResourceDefinition\.apiextensions\.k8s\.io "things\.example" is invalid: \[/);

    const noSchema = structuredClone(bad);
    noSchema.metadata.name = 'things.example.com';
    noSchema.spec.group = 'example.com';
    delete (noSchema.spec.versions[0] as any).schema;
    const err = await c.kubectlFails('create', '-f', c.file('noschema.json', JSON.stringify(noSchema)));
    assert.match(err, /The CustomResourceDefinition "things\.example\.com" is invalid: spec\.versions\[0\]\.schema\.openAPIV3Schema: Required value: schemas are required/);
  });

  it('names taken in the group are not accepted: the CRD is not established and not served', async () => {
    const clash = { ...GIZMOS, metadata: { name: 'gadgets.example.com' }, spec: { ...GIZMOS.spec, names: { plural: 'gadgets', kind: 'Gadget', shortNames: ['wd'] } } };
    assert.equal((await c.http('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', clash)).code, 201);
    const crd = await eventually(async () => {
      const b = (await c.http('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.example.com')).body;
      return b.status?.conditions?.length ? b : undefined;
    }, 'gadgets conditions');
    const conds = crd.status.conditions.map((x: any) => [x.type, x.status, x.reason, x.message]);
    assert.deepEqual(conds, [
      ['NamesAccepted', 'False', 'ShortNamesConflict', '"wd" is already in use'],
      ['Established', 'False', 'NotAccepted', 'not all names are accepted'],
    ]);
    assert.equal((await c.http('GET', '/apis/example.com/v1/gadgets')).code, 404);
  });

  it('deleting a CRD deletes its custom resources first, then stops serving them', async () => {
    const watched = await c.http('GET', `${WIDGETS_PATH}?watch=true&timeoutSeconds=1`);
    assert.equal(watched.code, 200);
    await c.kubectl('delete', 'crd', 'widgets.example.com', '--timeout=30s');
    assert.equal((await c.http('GET', WIDGETS_PATH)).code, 404);
    assert.equal((await c.http('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com')).code, 404);
    assert.equal(c.sandbox.store.list('example.com/widgets').items.length, 0);
    const groups = (await c.http('GET', '/apis/example.com/v1')).body.resources.map((r: any) => r.name);
    assert.ok(!groups.includes('widgets'));
    const events = parseYaml(await c.kubectl('get', 'crd', '-o', 'yaml')).items.map((i: any) => i.metadata.name);
    assert.ok(!events.includes('widgets.example.com'));
  });
});
