// The types one sandbox serves: the built-in table (RESOURCES) plus the
// custom resources its CustomResourceDefinitions establish. Each store owns
// one registry, so a CRD created in one sandbox is never served by another
// in the same process. Routing, discovery, OpenAPI and the store's keys all
// ask this registry rather than the static table.
import { RESOURCES, apiVersionOf, groups as builtinGroups, type ResourceType } from './resources.ts';

export type ServedType = ResourceType;
export type { CustomInfo, PrinterColumn } from './resources.ts';

/**
 * Order of versions in discovery, as the API server sorts them
 * (version.CompareKubeAwareVersionStrings): GA before beta before alpha,
 * higher numbers first, anything else last in alphabetical order.
 */
export function compareKubeVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const m = v.match(/^v(\d+)(?:(alpha|beta)(\d+))?$/);
    if (!m) return undefined;
    return { major: Number(m[1]), stage: m[2] === 'alpha' ? 0 : m[2] === 'beta' ? 1 : 2, minor: Number(m[3] ?? 0) };
  };
  const x = parse(a);
  const y = parse(b);
  if (!x && !y) return a < b ? -1 : a > b ? 1 : 0;
  if (!x) return 1;
  if (!y) return -1;
  if (x.stage !== y.stage) return y.stage - x.stage;
  if (x.major !== y.major) return y.major - x.major;
  return y.minor - x.minor;
}

export class TypeRegistry {
  private readonly customByCrd = new Map<string, ServedType[]>();
  private served: ServedType[] = [...RESOURCES];
  /** Bumped on every change, so caches of derived documents (OpenAPI) know to rebuild. */
  generation = 0;

  all(): readonly ServedType[] {
    return this.served;
  }

  find(group: string, version: string, plural: string): ServedType | undefined {
    return this.served.find((t) => t.group === group && t.version === version && t.plural === plural);
  }

  byKind(apiVersion: string, kind: string): ServedType | undefined {
    // Reviews are never stored, so a manifest never names one.
    return this.served.find((t) => !t.virtual && apiVersionOf(t) === apiVersion && t.kind === kind);
  }

  /** The canonical type of a storage key: the built-in one, or a custom resource's storage version. */
  byStorage(storage: string): ServedType | undefined {
    let first: ServedType | undefined;
    for (const t of this.served) {
      if (t.storage !== storage || t.virtual) continue;
      if (!t.custom || t.custom.storage) return t;
      first ??= t;
    }
    return first;
  }

  customTypes(crd: string): readonly ServedType[] {
    return this.customByCrd.get(crd) ?? [];
  }

  /** Serves a CRD's versions (replacing what it served before); an empty list stops serving it. */
  setCustom(crd: string, types: ServedType[]): void {
    const before = JSON.stringify(this.customByCrd.get(crd) ?? []);
    if (types.length) this.customByCrd.set(crd, types);
    else this.customByCrd.delete(crd);
    if (JSON.stringify(types) === before) return;
    this.served = [...RESOURCES, ...[...this.customByCrd.values()].flat()];
    this.generation++;
  }

  /**
   * Groups in discovery order: the built-in ones in their fixed order, then
   * CRD groups by name (the aggregator's group priority puts them after the
   * built-ins and before metrics.k8s.io), each with its versions by priority.
   */
  groups(): { name: string; versions: string[] }[] {
    const builtin = new Map<string, Set<string>>();
    const custom = new Map<string, Set<string>>();
    for (const t of this.served) {
      if (!t.group) continue;
      const m = t.custom ? custom : builtin;
      if (!m.has(t.group)) m.set(t.group, new Set());
      m.get(t.group)!.add(t.version);
    }
    const out = builtinGroups().filter((g) => builtin.has(g.name));
    for (const name of [...custom.keys()].sort()) {
      if (builtin.has(name)) continue;
      out.push({ name, versions: [...custom.get(name)!].sort(compareKubeVersions) });
    }
    return out;
  }
}
