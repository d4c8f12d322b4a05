// The OpenAPI v2 document this sandbox serves at /openapi/v2: the official
// 1.32 document with its paths limited to what this sandbox's registry
// serves, plus each served custom resource version's definitions and paths
// (merged in as kube-apiserver's aggregator merges apiextensions' spec). All
// built-in definitions stay, as on a real server whatever it serves.
import type { ServedType, TypeRegistry } from '../api-types.ts';
import { crdDefinitions, crdPaths } from './openapi-crd.ts';
import { sortKeys } from './openapi-crd-schema.ts';
import { PARAMETER_PREFIX, officialSpec, placeOf, servesPath, type Json, type Swagger } from './openapi-spec.ts';

/** The document for these types; `version` is the server's gitVersion (info.version, as kube-apiserver fills it). */
export function buildV2(types: Pick<TypeRegistry, 'all'>, version: string): Swagger {
  const spec = officialSpec();
  const paths: Record<string, Json> = {};
  for (const [path, item] of Object.entries(spec.paths)) {
    const place = placeOf(path);
    if (place && servesPath(types, place)) paths[path] = item;
  }
  const definitions: Record<string, Json> = { ...spec.definitions };
  for (const t of customTypes(types)) {
    Object.assign(paths, crdPaths(spec, t));
    Object.assign(definitions, crdDefinitions(spec, t, true));
  }
  return {
    definitions: sortObject(definitions),
    info: { title: spec.info.title, version },
    parameters: usedParameters(spec, paths),
    paths: sortObject(paths),
    ...(spec.security ? { security: spec.security } : {}),
    ...(spec.securityDefinitions ? { securityDefinitions: spec.securityDefinitions } : {}),
    swagger: spec.swagger,
  };
}

/** Custom resource versions in a stable order (the registry's follows CRD creation). */
export function customTypes(types: Pick<TypeRegistry, 'all'>): ServedType[] {
  return types.all().filter((t) => t.custom).sort((a, b) => `${a.group}/${a.version}/${a.plural}`.localeCompare(`${b.group}/${b.version}/${b.plural}`));
}

/** The shared parameters the kept paths still refer to (the builder only shares what is used). */
function usedParameters(spec: Swagger, paths: Record<string, Json>): Record<string, Json> {
  const used = new Set<string>();
  const visit = (ps: Json[] | undefined) => {
    for (const p of ps ?? []) if (typeof p.$ref === 'string' && p.$ref.startsWith(PARAMETER_PREFIX)) used.add(p.$ref.slice(PARAMETER_PREFIX.length));
  };
  for (const item of Object.values(paths)) {
    visit(item.parameters);
    for (const op of Object.values(item)) if (!Array.isArray(op)) visit((op as Json).parameters);
  }
  return Object.fromEntries(Object.entries(spec.parameters ?? {}).filter(([k]) => used.has(k)));
}

const sortObject = <T>(o: Record<string, T>): Record<string, T> => Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));

/** The registry's identity for OpenAPI: two registries serving the same types get the same documents. */
export function openapiSignature(types: TypeRegistry): string {
  return JSON.stringify(types.all().map((t) => [t.group, t.version, t.kind, t.plural, t.namespaced, t.virtual ?? false, t.subresources ?? [],
    t.custom ? sortKeys({ schema: t.custom.schema ?? null, listKind: t.custom.listKind ?? null, selectable: t.custom.selectableFields ?? [] }) : null]));
}
