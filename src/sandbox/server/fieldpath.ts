// Field sets as structured-merge-diff (sigs.k8s.io/structured-merge-diff
// fieldpath) has them: paths of path elements, kept as their FieldsV1 keys —
// `f:replicas` (a field), `k:{"name":"web"}` (an associative list item by its
// keys), `v:"a"` (a set item), `i:0` (an index) — and written as the FieldsV1
// trees managedFields carry, with `.` marking a path that is itself in the set
// as well as having children. Order and printing follow fieldpath's, since
// they show in conflict messages.

const SEP = '\u0000';

export type Path = string[];

export const field = (name: string) => `f:${name}`;
export const valueElement = (v: unknown) => `v:${JSON.stringify(v)}`;

/** `k:{"containerPort":80,"protocol":"TCP"}`: keys sorted by name. */
export function keyElement(keys: Record<string, unknown>): string {
  const sorted = Object.keys(keys).sort(compareStrings);
  return `k:{${sorted.map((k) => `${JSON.stringify(k)}:${JSON.stringify(keys[k])}`).join(',')}}`;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const RANK: Record<string, number> = { f: 0, k: 1, v: 2, i: 3 };

function typeRank(v: unknown): number {
  if (typeof v === 'number') return 0;
  if (typeof v === 'string') return 1;
  if (typeof v === 'boolean') return 2;
  if (Array.isArray(v)) return 3;
  if (v && typeof v === 'object') return 4;
  return 5;
}

/** value.Compare: numbers, then strings, booleans, lists, maps, null. */
function compareValues(a: unknown, b: unknown): number {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 0) return (a as number) - (b as number);
  if (ra === 1) return compareStrings(a as string, b as string);
  if (ra === 2) return Number(a) - Number(b);
  return compareStrings(JSON.stringify(a), JSON.stringify(b));
}

/** PathElement.Compare: fields, then keys, values, indexes; each in its own order. */
export function comparePathElements(a: string, b: string): number {
  const ta = a.slice(0, 1);
  const tb = b.slice(0, 1);
  if (ta !== tb) return (RANK[ta] ?? 9) - (RANK[tb] ?? 9);
  const x = a.slice(2);
  const y = b.slice(2);
  if (ta === 'f') return compareStrings(x, y);
  if (ta === 'i') return Number(x) - Number(y);
  if (ta === 'v') return compareValues(JSON.parse(x), JSON.parse(y));
  const ka = Object.entries(JSON.parse(x) as Record<string, unknown>);
  const kb = Object.entries(JSON.parse(y) as Record<string, unknown>);
  for (let i = 0; ; i++) {
    if (i >= ka.length || i >= kb.length) return ka.length - kb.length;
    const c = compareStrings(ka[i][0], kb[i][0]) || compareValues(ka[i][1], kb[i][1]);
    if (c) return c;
  }
}

/** Go's %q of a string, enough for key values. */
const goQuote = (s: string) => JSON.stringify(s);
const valueString = (v: unknown) => (typeof v === 'string' ? goQuote(v) : JSON.stringify(v));

/** Path.String(): `.spec.template.spec.containers[name="web"].image`, `[containerPort=80,protocol="TCP"]`, `[="a"]`. */
export function pathString(path: Path): string {
  return path
    .map((pe) => {
      const body = pe.slice(2);
      switch (pe[0]) {
        case 'f':
          return `.${body}`;
        case 'k':
          return `[${Object.entries(JSON.parse(body) as Record<string, unknown>).map(([k, v]) => `${k}=${valueString(v)}`).join(',')}]`;
        case 'v':
          return `[=${valueString(JSON.parse(body))}]`;
        default:
          return `[${body}]`;
      }
    })
    .join('');
}

interface Tree {
  member: boolean;
  children: Map<string, Tree>;
}

const newTree = (): Tree => ({ member: false, children: new Map() });

export class FieldSet {
  private readonly paths: Set<string>;

  constructor(paths: Iterable<string> = []) {
    this.paths = new Set(paths);
  }

  static of(paths: Path[]): FieldSet {
    return new FieldSet(paths.map((p) => p.join(SEP)));
  }

  add(path: Path): void {
    if (path.length) this.paths.add(path.join(SEP));
  }

  has(path: Path): boolean {
    return this.paths.has(path.join(SEP));
  }

  get size(): number {
    return this.paths.size;
  }

  isEmpty(): boolean {
    return this.paths.size === 0;
  }

  union(o: FieldSet): FieldSet {
    return new FieldSet([...this.paths, ...o.paths]);
  }

  difference(o: FieldSet): FieldSet {
    return new FieldSet([...this.paths].filter((p) => !o.paths.has(p)));
  }

  intersection(o: FieldSet): FieldSet {
    return new FieldSet([...this.paths].filter((p) => o.paths.has(p)));
  }

  filter(keep: (path: Path) => boolean): FieldSet {
    return new FieldSet([...this.paths].filter((p) => keep(p.split(SEP))));
  }

  /** Whether some path in the set is `prefix` or lies under it. */
  hasPrefix(prefix: Path): boolean {
    const k = prefix.join(SEP);
    for (const p of this.paths) if (p === k || p.startsWith(k + SEP)) return true;
    return false;
  }

  equals(o: FieldSet): boolean {
    return this.size === o.size && [...this.paths].every((p) => o.paths.has(p));
  }

  private tree(): Tree {
    const root = newTree();
    for (const p of this.paths) {
      let node = root;
      for (const pe of p.split(SEP)) {
        let next = node.children.get(pe);
        if (!next) node.children.set(pe, (next = newTree()));
        node = next;
      }
      node.member = true;
    }
    return root;
  }

  /** Set.Iterate's order: at each level the members, then the children's paths, each sorted. */
  toPaths(): Path[] {
    const out: Path[] = [];
    const walk = (node: Tree, prefix: Path) => {
      const keys = [...node.children.keys()].sort(comparePathElements);
      for (const k of keys) if (node.children.get(k)!.member) out.push([...prefix, k]);
      for (const k of keys) {
        const c = node.children.get(k)!;
        if (c.children.size) walk(c, [...prefix, k]);
      }
    };
    walk(this.tree(), []);
    return out;
  }

  toFieldsV1(): Record<string, unknown> {
    const emit = (node: Tree, self: boolean): Record<string, unknown> => {
      const out: Record<string, unknown> = {};
      if (self && node.member && node.children.size) out['.'] = {};
      for (const k of [...node.children.keys()].sort(comparePathElements)) out[k] = emit(node.children.get(k)!, true);
      return out;
    };
    return emit(this.tree(), false);
  }

  /** Reads a FieldsV1 tree; anything that is not one yields what could be read. */
  static fromFieldsV1(v: unknown): FieldSet {
    const set = new FieldSet();
    const walk = (node: unknown, prefix: Path) => {
      if (!node || typeof node !== 'object' || Array.isArray(node)) return;
      const entries = Object.entries(node as Record<string, unknown>);
      if (!entries.length) {
        set.add(prefix);
        return;
      }
      for (const [k, child] of entries) {
        if (k === '.') set.add(prefix);
        else if (/^[fkvi]:/.test(k)) walk(child, [...prefix, k]);
      }
    };
    walk(v, []);
    return set;
  }
}
