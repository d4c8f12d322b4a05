// The official OpenAPI v2 document of Kubernetes 1.32 (vendored, unmodified,
// under vendor/kubernetes-openapi-1.32) and what every OpenAPI document the
// sandbox serves needs from it: which of its paths this sandbox serves, and
// under which v3 group-version document each path belongs. Every schema the
// sandbox publishes comes from this file or from a CRD, never from our hand.
//
// The file is 3.3 MB of JSON: it is read and parsed on the first OpenAPI
// request, once per process, and kept (read-only: builders copy what they
// change), so a sandbox nobody asks for OpenAPI pays nothing.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { TypeRegistry } from '../api-types.ts';

export const SPEC_FILE = new URL('../../../vendor/kubernetes-openapi-1.32/swagger.json.gz', import.meta.url);

/** A JSON object of the document: a schema, a path item, an operation, a parameter. */
export type Json = Record<string, any>;

export interface Swagger {
  swagger: string;
  info: Json;
  paths: Record<string, Json>;
  definitions: Record<string, Json>;
  parameters?: Record<string, Json>;
  securityDefinitions?: Record<string, Json>;
  security?: Json[];
}

let loaded: Swagger | undefined;

/** The vendored document, parsed on first use. */
export function officialSpec(): Swagger {
  if (loaded) return loaded;
  let text: string;
  try {
    text = gunzipSync(readFileSync(SPEC_FILE)).toString('utf8');
  } catch (err) {
    // The file ships with the package; without it the installation is broken.
    throw new Error(`internal: cannot read the vendored OpenAPI document ${SPEC_FILE.pathname}: ${(err as Error).message}`);
  }
  loaded = JSON.parse(text) as Swagger;
  return loaded;
}

export const V2_PREFIX = '#/definitions/';
export const V3_PREFIX = '#/components/schemas/';
export const PARAMETER_PREFIX = '#/parameters/';

/** A path parameter reference resolved against the document's shared parameters. */
export function resolveParameter(spec: Swagger, p: Json): Json {
  const ref = p.$ref;
  if (typeof ref !== 'string' || !ref.startsWith(PARAMETER_PREFIX)) return p;
  const found = spec.parameters?.[ref.slice(PARAMETER_PREFIX.length)];
  if (!found) throw new Error(`internal: OpenAPI parameter ${ref} is not defined`);
  return found;
}

/** Where a path of the API lives, as the API server's route installer lays it out. */
export interface PathPlace {
  /**
   * The key of its OpenAPI v3 document: the root path of the web service that
   * serves it without the leading slash (`api/v1`, `apis/apps/v1`, `apis/apps`, `api`, `apis`, `version`).
   */
  doc: string;
  group?: string;
  version?: string;
  resource?: { plural: string; namespaced: boolean; named: boolean; subresource?: string; extra: boolean };
}

/** Classifies a path of the v2 document; undefined for paths outside the API (logs, OIDC discovery). */
export function placeOf(path: string): PathPlace | undefined {
  const seg = path.split('/').filter(Boolean);
  if (seg.length === 1 && (seg[0] === 'api' || seg[0] === 'apis' || seg[0] === 'version')) return { doc: seg[0] };
  let group: string;
  let rest: string[];
  if (seg[0] === 'api' && seg.length >= 2) {
    group = '';
    rest = seg.slice(1);
  } else if (seg[0] === 'apis' && seg.length >= 2) {
    group = seg[1];
    rest = seg.slice(2);
    if (!rest.length) return { doc: `apis/${group}`, group };
  } else {
    return undefined;
  }
  const version = rest[0];
  const doc = group ? `apis/${group}/${version}` : `api/${version}`;
  rest = rest.slice(1);
  if (!rest.length) return { doc, group, version };
  if (rest[0] === 'watch') rest = rest.slice(1);
  let namespaced = false;
  if (rest[0] === 'namespaces' && rest[1] === '{namespace}' && rest.length > 2) {
    namespaced = true;
    rest = rest.slice(2);
  }
  const [plural, name, subresource, ...more] = rest;
  return { doc, group, version, resource: { plural, namespaced, named: name !== undefined, subresource, extra: more.length > 0 } };
}

/** Whether this sandbox serves a path of the official document: its group version, type, scope and subresource. */
export function servesPath(types: Pick<TypeRegistry, 'all'>, place: PathPlace): boolean {
  // /api/, /apis/ and /version/ are served by every API server.
  if (place.group === undefined) return true;
  const served = types.all().filter((t) => !t.custom && t.group === place.group && (place.version === undefined || t.version === place.version));
  if (!place.resource) return served.length > 0;
  const r = place.resource;
  const t = served.find((x) => x.plural === r.plural);
  if (!t || r.extra || (r.namespaced && !t.namespaced)) return false;
  if (!r.named) return true;
  if (t.virtual) return false;
  return r.subresource === undefined || (t.subresources ?? []).includes(r.subresource);
}
