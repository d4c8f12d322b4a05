// OpenAPI as kube-apiserver 1.32 serves it, checked with kubectl 1.32 and raw
// HTTP: /openapi/v2 is the official 1.32 document (vendored) with the paths
// this server serves, in JSON and in gnostic's protobuf (what kubectl asks
// for), with ETags; /openapi/v3 indexes one document per group version with
// a hash that makes it immutable; custom resources appear with their CRD's
// schema as apiextensions-apiserver publishes it. kubectl explain (v3 and
// --output=plaintext-openapiv2), server-side validation and client-side apply
// run on them.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { parse as parseYaml } from 'yaml';
import { needs, startConformance, type Conformance } from './harness.ts';

const VENDOR = new URL('../../vendor/kubernetes-openapi-1.32/', import.meta.url);
const official = JSON.parse(gunzipSync(readFileSync(new URL('swagger.json.gz', VENDOR))).toString('utf8'));
const PROTO = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
const words = (s: string) => s.replace(/\s+/g, ' ').trim();
const describeOf = (def: string, field?: string) => (field ? official.definitions[def].properties[field] : official.definitions[def]).description as string;

const WIDGETS = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        description: A Widget is a thing the example shop sells.
        properties:
          spec:
            type: object
            description: What the widget should be.
            required: [color]
            properties:
              color: {type: string, enum: [red, blue], description: The colour it is painted.}
              replicas: {type: integer, minimum: 1, default: 1, description: How many to keep.}
              note: {type: string, nullable: true}
              port: {x-kubernetes-int-or-string: true, description: A port by number or name.}
              config: {type: object, x-kubernetes-preserve-unknown-fields: true}
              template: {type: object, x-kubernetes-embedded-resource: true, x-kubernetes-preserve-unknown-fields: true}
`;

/** Raw bytes of a GET (the harness's http() decodes text, which protobuf is not). */
async function getBytes(c: Conformance, path: string, headers: Record<string, string> = {}) {
  const token = /token: (\S+)/.exec(c.sandbox.kubeconfig())?.[1] ?? '';
  const res = await fetch(new URL(path, c.url), { headers: { authorization: `Bearer ${token}`, ...headers }, redirect: 'manual' });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

/** A protobuf message's fields (number → values): varints as numbers, length-delimited as bytes. */
function fields(buf: Buffer): Map<number, (number | Buffer)[]> {
  const out = new Map<number, (number | Buffer)[]>();
  let i = 0;
  const varint = () => {
    let n = 0;
    let mul = 1;
    for (;;) {
      const b = buf[i++];
      n += (b & 0x7f) * mul;
      if (b < 0x80) return n;
      mul *= 128;
    }
  };
  while (i < buf.length) {
    const tag = varint();
    const wire = tag % 8;
    let v: number | Buffer;
    if (wire === 0) v = varint();
    else if (wire === 2) {
      const len = varint();
      v = buf.subarray(i, i + len);
      i += len;
    } else if (wire === 1) {
      v = buf.subarray(i, i + 8);
      i += 8;
    } else throw new Error(`unexpected wire type ${wire}`);
    const f = Math.floor(tag / 8);
    out.set(f, [...(out.get(f) ?? []), v]);
  }
  return out;
}
const str = (b: number | Buffer | undefined) => (Buffer.isBuffer(b) ? b.toString('utf8') : undefined);
/** Named* entries (name = 1, value = 2) of a repeated field, by name. */
const named = (msg: Map<number, (number | Buffer)[]>, field: number) =>
  new Map((msg.get(field) ?? []).map((e) => fields(e as Buffer)).map((e) => [str(e.get(1)?.[0])!, e.get(2)?.[0] as Buffer]));

describe('OpenAPI v2 (raw HTTP)', { timeout: 180_000 }, () => {
  let c: Conformance;
  let doc: any;
  before(async () => {
    c = await startConformance();
    doc = (await c.http('GET', '/openapi/v2')).json();
  });
  after(async () => c?.close());

  it('the vendored document is the one its README names (sha256 of the uncompressed file)', () => {
    const readme = readFileSync(new URL('README.md', VENDOR), 'utf8');
    const named = /sha256 of the uncompressed file: `([0-9a-f]{64})`/.exec(readme)?.[1];
    const actual = createHash('sha256').update(gunzipSync(readFileSync(new URL('swagger.json.gz', VENDOR)))).digest('hex');
    assert.equal(actual, named);
    assert.equal(official.info.title, 'Kubernetes');
  });

  it('every built-in definition is served byte for byte as vendored (io.k8s.api.apps.v1.Deployment among them)', () => {
    assert.equal(JSON.stringify(doc.definitions['io.k8s.api.apps.v1.Deployment']), JSON.stringify(official.definitions['io.k8s.api.apps.v1.Deployment']));
    for (const [name, def] of Object.entries(official.definitions)) assert.equal(JSON.stringify(doc.definitions[name]), JSON.stringify(def), name);
  });

  it('paths are the official ones this server serves: kinds, scopes, watch paths and subresources it has, no others', async () => {
    for (const p of ['/api/', '/api/v1/', '/apis/', '/apis/apps/', '/version/', '/api/v1/namespaces/{namespace}/pods/{name}/log',
      '/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale', '/apis/apps/v1/watch/deployments', '/api/v1/namespaces/{name}/finalize',
      '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews']) {
      assert.deepEqual(doc.paths[p], official.paths[p], p);
    }
    for (const p of ['/api/v1/namespaces/{namespace}/pods/{name}/exec', '/api/v1/componentstatuses', '/api/v1/namespaces/{namespace}/replicationcontrollers',
      '/apis/certificates.k8s.io/v1/certificatesigningrequests', '/logs/', '/api/v1/namespaces/{namespace}/services/{name}/proxy/{path}']) {
      assert.equal(doc.paths[p], undefined, p);
    }
    assert.equal(doc.info.version, (await c.http('GET', '/version')).json().gitVersion);
    // Shared parameters: every reference resolves, and none is left unused.
    const refs = new Set(JSON.stringify(doc.paths).match(/#\/parameters\/[^"]+/g)!.map((r) => r.slice('#/parameters/'.length)));
    assert.deepEqual(Object.keys(doc.parameters).sort(), [...refs].sort());
  });

  it('content negotiation: JSON by default, gnostic protobuf for kubectl\'s Accept, 406 otherwise; one ETag, and 304 for it', async () => {
    const json = await getBytes(c, '/openapi/v2');
    assert.equal(json.headers.get('content-type'), 'application/json');
    assert.equal(json.headers.get('vary'), 'Accept');
    const etag = json.headers.get('etag')!;
    assert.equal(etag, `"${createHash('sha512').update(json.bytes).digest('hex').toUpperCase()}"`);
    const pb = await getBytes(c, '/openapi/v2', { accept: PROTO });
    assert.equal(pb.status, 200);
    assert.equal(pb.headers.get('content-type'), 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
    assert.equal(pb.headers.get('etag'), etag);
    const bad = await getBytes(c, '/openapi/v2', { accept: 'text/html' });
    assert.deepEqual([bad.status, bad.bytes.length, bad.headers.get('content-type')], [406, 0, null]);
    const again = await getBytes(c, '/openapi/v2', { 'if-none-match': etag });
    assert.deepEqual([again.status, again.bytes.length], [304, 0]);
    assert.equal((await getBytes(c, '/openapi/v2', { accept: 'application/json;q=0.5, ' + PROTO })).headers.get('content-type'), 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
  });

  it('the protobuf is OpenAPIv2.proto\'s Document: swagger, paths with operations and parameters, definitions with extensions', async () => {
    const d = fields((await getBytes(c, '/openapi/v2', { accept: PROTO })).bytes);
    assert.equal(str(d.get(1)?.[0]), '2.0');
    const patch = fields(fields(named(fields(d.get(8)![0] as Buffer), 2).get('/apis/apps/v1/namespaces/{namespace}/deployments/{name}')!).get(8)![0] as Buffer);
    assert.equal(str(patch.get(5)?.[0]), 'patchAppsV1NamespacedDeployment');
    assert.ok(patch.get(7)!.map(str).includes('application/strategic-merge-patch+json'));
    const queryNames = patch.get(8)!.map((p) => fields(p as Buffer).get(1)?.[0]).filter(Boolean)
      .map((p) => fields(fields(p as Buffer).get(2)![0] as Buffer).get(3)?.[0]).filter(Boolean).map((q) => str(fields(q as Buffer).get(4)?.[0]));
    assert.ok(queryNames.includes('fieldValidation'), queryNames.join());
    const deployment = fields(named(fields(d.get(9)![0] as Buffer), 1).get('io.k8s.api.apps.v1.Deployment')!);
    assert.equal(str(deployment.get(4)?.[0]), describeOf('io.k8s.api.apps.v1.Deployment'));
    const ext = named(deployment, 31).get('x-kubernetes-group-version-kind')!;
    assert.deepEqual(parseYaml(str(fields(ext).get(2)?.[0])!), [{ group: 'apps', kind: 'Deployment', version: 'v1' }]);
  });
});

describe('OpenAPI v3 (raw HTTP)', { timeout: 180_000 }, () => {
  let c: Conformance;
  let index: Record<string, { serverRelativeURL: string }>;
  before(async () => {
    c = await startConformance();
    index = (await c.http('GET', '/openapi/v3')).json().paths;
  });
  after(async () => c?.close());

  it('the index lists each served group version (and /api, /apis, groups, /version) at a URL with its hash', async () => {
    for (const key of ['api', 'api/v1', 'apis', 'apis/apps', 'apis/apps/v1', 'apis/autoscaling/v2', 'apis/apiextensions.k8s.io/v1', 'version']) {
      assert.match(index[key]?.serverRelativeURL ?? '', new RegExp(`^/openapi/v3/${key}\\?hash=[0-9A-F]{128}$`), key);
    }
    assert.equal(index['apis/certificates.k8s.io/v1'], undefined);
  });

  it('a group version document: its paths, every schema they reach, BearerToken; refs with siblings wrapped in allOf', async () => {
    const d = (await c.http('GET', index['apis/apps/v1'].serverRelativeURL)).json();
    assert.equal(d.openapi, '3.0.0');
    assert.deepEqual(d.components.securitySchemes, { BearerToken: { description: 'Bearer Token authentication', in: 'header', name: 'authorization', type: 'apiKey' } });
    assert.ok(Object.keys(d.paths).every((p) => p.startsWith('/apis/apps/v1/')));
    const refs = JSON.stringify(d).match(/#\/components\/schemas\/[^"]+/g)!.map((r) => r.slice('#/components/schemas/'.length));
    for (const r of refs) assert.ok(d.components.schemas[r], `dangling ${r}`);
    assert.equal(JSON.stringify(d).includes('#/definitions/'), false);
    const spec = d.components.schemas['io.k8s.api.apps.v1.DeploymentSpec'];
    assert.deepEqual(spec.properties.replicas, official.definitions['io.k8s.api.apps.v1.DeploymentSpec'].properties.replicas);
    assert.deepEqual(spec.properties.selector, {
      allOf: [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector' }],
      description: describeOf('io.k8s.api.apps.v1.DeploymentSpec', 'selector'),
    });
    const patch = d.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'].patch;
    assert.ok(patch.requestBody.content['application/strategic-merge-patch+json'].schema.$ref.endsWith('meta.v1.Patch'));
    assert.deepEqual(patch.parameters.find((p: any) => p.name === 'fieldValidation').schema, { type: 'string', uniqueItems: true });
    assert.deepEqual(patch['x-kubernetes-group-version-kind'], { group: 'apps', kind: 'Deployment', version: 'v1' });
    assert.ok(d.paths['/apis/apps/v1/namespaces/{namespace}/deployments'].post.responses['201'].content['application/json']);
  });

  it('hash: the right one makes the answer immutable, a stale one redirects to the current one; ETag and 304; 404 and 406', async () => {
    const url = index['api/v1'].serverRelativeURL;
    const hash = url.split('hash=')[1];
    const right = await getBytes(c, url);
    assert.equal(right.headers.get('cache-control'), 'public, immutable');
    assert.match(right.headers.get('expires') ?? '', /^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d UTC$/);
    assert.equal(right.headers.get('etag'), `"${hash}"`);
    assert.equal(right.headers.get('content-type'), 'application/json');
    const plain = await getBytes(c, '/openapi/v3/api/v1');
    assert.equal(plain.headers.get('cache-control'), null);
    assert.deepEqual(plain.bytes, right.bytes);
    const stale = await getBytes(c, '/openapi/v3/api/v1?hash=0123');
    assert.deepEqual([stale.status, stale.headers.get('location')], [301, url]);
    assert.equal((await getBytes(c, url, { 'if-none-match': `"${hash}"` })).status, 304);
    const missing = await getBytes(c, '/openapi/v3/apis/nope.example.com/v1');
    assert.deepEqual([missing.status, missing.bytes.length], [404, 0]);
    assert.equal((await getBytes(c, url, { accept: 'application/com.github.proto-openapi.spec.v3@v1.0+protobuf' })).status, 406);
  });
});

describe('OpenAPI with kubectl (explain, validation, apply) and custom resources', { skip: needs('kubectl'), timeout: 180_000 }, () => {
  let c: Conformance;
  const run = async (args: string[], stdin?: string) => {
    const r = await c.kubectl(args, { stdin });
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  before(async () => {
    c = await startConformance();
    await run(['apply', '-f', '-'], WIDGETS);
    await run(['wait', '--for', 'condition=established', '--timeout=20s', 'crd/widgets.example.com']);
  });
  after(async () => c?.close());

  it('kubectl explain shows the official descriptions of fields and nested fields', async () => {
    const replicas = await run(['explain', 'deployment.spec.replicas']);
    assert.match(replicas, /GROUP:\s+apps\nKIND:\s+Deployment\nVERSION:\s+v1/);
    assert.match(replicas, /FIELD: replicas <integer>/);
    assert.ok(words(replicas).includes(describeOf('io.k8s.api.apps.v1.DeploymentSpec', 'replicas')), replicas);
    const limits = await run(['explain', 'pods.spec.containers.resources.limits']);
    assert.ok(words(limits).includes(describeOf('io.k8s.api.core.v1.ResourceRequirements', 'limits')), limits);
    // Quantity and IntOrString are named in v3 (oneOf types, as their Go code declares), plain strings in v2.
    assert.match(limits, /FIELD: limits <map\[string\]Quantity>/);
    assert.match(await run(['explain', 'pods.spec.containers.livenessProbe.httpGet.port']), /FIELD: port <IntOrString>/);
  });

  it('kubectl explain --recursive walks the whole schema', async () => {
    const out = await run(['explain', 'pods', '--recursive']);
    assert.match(out, /\n {4}containers\t<\[\]Container> -required-\n/);
    assert.match(out, /\n {6}image\t<string>\n/);
    assert.match(out, /\n {6}nodeAffinity\t<NodeAffinity>\n/);
  });

  it('kubectl explain --output=plaintext-openapiv2 reads the protobuf v2 document', async () => {
    const out = await run(['explain', '--output=plaintext-openapiv2', 'pod.spec']);
    assert.match(out, /KIND:\s+Pod\nVERSION:\s+v1\n\nRESOURCE: spec <Object>/);
    assert.ok(words(out).includes(describeOf('io.k8s.api.core.v1.PodSpec')), out);
    const image = await run(['explain', '--output=plaintext-openapiv2', 'deployment.spec.template.spec.containers.image']);
    assert.ok(words(image).includes(describeOf('io.k8s.api.core.v1.Container', 'image')), image);
  });

  it('a custom resource\'s fields are explained from its CRD\'s schema, in v3 and in v2', async () => {
    const kind = await run(['explain', 'widgets']);
    assert.match(kind, /GROUP:\s+example\.com\nKIND:\s+Widget\nVERSION:\s+v1/);
    assert.ok(words(kind).includes('A Widget is a thing the example shop sells.'), kind);
    assert.match(kind, /metadata\t<ObjectMeta>/);
    const color = await run(['explain', 'widgets.spec.color']);
    assert.match(color, /FIELD: color <string>\nENUM:\n {4}red\n {4}blue/);
    assert.ok(words(color).includes('The colour it is painted.'));
    const v2 = await run(['explain', '--output=plaintext-openapiv2', 'widgets.spec']);
    assert.match(v2, /color\t<string> -required-\n\s+The colour it is painted\./);
  });

  it('a changed CRD is explained anew (the documents follow the served types)', async () => {
    const crd = (await c.http('GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com')).json();
    crd.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.shape = { type: 'string', description: 'Round or square.' };
    assert.equal((await c.http('PUT', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com', { body: crd })).status, 200);
    let out = '';
    for (let i = 0; i < 50 && !out.includes('Round or square.'); i++) {
      out = (await c.kubectl(['explain', 'widgets.spec.shape'])).stdout;
      if (!out.includes('Round or square.')) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(out.includes('Round or square.'), out);
  });

  it('CRD schemas: v2 as apiextensions-apiserver converts them (no nullable types, no defaults, no junctors), v3 as written and unfolded', async () => {
    const v2 = (await c.http('GET', '/openapi/v2')).json();
    const w2 = v2.definitions['com.example.v1.Widget'];
    assert.deepEqual(w2['x-kubernetes-group-version-kind'], [{ group: 'example.com', kind: 'Widget', version: 'v1' }]);
    assert.deepEqual(w2.properties.metadata, { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', description: "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata" });
    assert.deepEqual(w2.properties.kind, official.definitions['io.k8s.api.apps.v1.Deployment'].properties.kind);
    const s2 = w2.properties.spec.properties;
    assert.deepEqual(s2.note, {});
    assert.deepEqual(s2.replicas, { description: 'How many to keep.', minimum: 1, type: 'integer' });
    assert.deepEqual(s2.port, { description: 'A port by number or name.', 'x-kubernetes-int-or-string': true });
    assert.deepEqual(s2.config, { 'x-kubernetes-preserve-unknown-fields': true });
    assert.deepEqual(v2.definitions['com.example.v1.WidgetList'].properties.items.items, { $ref: '#/definitions/com.example.v1.Widget' });
    const patch = v2.paths['/apis/example.com/v1/namespaces/{namespace}/widgets/{name}'].patch;
    assert.equal(patch.operationId, 'patchExampleComV1NamespacedWidget');
    assert.deepEqual(patch.consumes, ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml']);
    assert.ok(patch.parameters.some((p: any) => p.name === 'fieldValidation'));

    const index = (await c.http('GET', '/openapi/v3')).json().paths;
    const v3 = (await c.http('GET', index['apis/example.com/v1'].serverRelativeURL)).json();
    assert.deepEqual(v3.info, { title: 'Kubernetes CRD Swagger', version: 'v0.1.0' });
    const s3 = v3.components.schemas['com.example.v1.Widget'].properties.spec.properties;
    assert.deepEqual(s3.note, { nullable: true, type: 'string' });
    assert.deepEqual(s3.replicas, { default: 1, description: 'How many to keep.', minimum: 1, type: 'integer' });
    assert.deepEqual(s3.port.anyOf, [{ type: 'integer' }, { type: 'string' }]);
    assert.deepEqual(Object.keys(s3.template.properties).sort(), ['apiVersion', 'kind', 'metadata']);
    assert.deepEqual(s3.template.required, ['kind', 'apiVersion']);
    assert.ok(v3.components.schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']);
    assert.ok(v3.paths['/apis/example.com/v1/namespaces/{namespace}/widgets/{name}/status'].patch);
  });

  it('kubectl apply --validate=strict: the server validates (fieldValidation=Strict) and names the unknown field', async () => {
    const manifest = (extra: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 1${extra}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx:1.27}]}
`;
    const bad = await c.kubectl(['apply', '--validate=strict', '-v=6', '-f', '-'], { stdin: manifest('\n  replicass: 3') });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /strict decoding error: unknown field "spec\.replicass"/);
    assert.match(bad.stderr, /POST .*\/deployments\?fieldManager=kubectl-client-side-apply&fieldValidation=Strict/);
    const widget = await c.kubectl(['create', '-f', '-'], { stdin: 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: default}\nspec: {color: red, bogus: 1}\n' });
    assert.match(widget.stderr, /unknown field "spec\.bogus"/);
  });

  it('client-side apply computes its strategic merge patch from the served schema', async () => {
    const manifest = (image: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: default}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: api, image: ${image}}, {name: side, image: busybox:1.36}]}
`;
    await run(['apply', '-f', '-'], manifest('nginx:1.27'));
    const second = await c.kubectl(['apply', '-v=8', '-f', '-'], { stdin: manifest('nginx:1.27.1') });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /GET .*\/openapi\/v3\/apis\/apps\/v1\?hash=/);
    assert.match(second.stderr, /\$setElementOrder\/containers/);
    const d = (await c.http('GET', '/apis/apps/v1/namespaces/default/deployments/api')).json();
    assert.deepEqual(d.spec.template.spec.containers.map((x: any) => x.image), ['nginx:1.27.1', 'busybox:1.36']);
  });
});
