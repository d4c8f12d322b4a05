// JSON as the API server's decoder reads it: objects keep every key in
// document order, repeated keys included, so strict decoding can report
// `duplicate field` (JSON.parse silently keeps the last one).

export type Node = null | boolean | number | string | Node[] | Entries;

/** An object's members in document order; a repeated key appears once per occurrence. */
export class Entries {
  readonly members: [string, Node][];
  constructor(members: [string, Node][]) {
    this.members = members;
  }
}

/** Parses text that JSON.parse already accepted (so errors here are not expected). */
export function parseEntries(text: string): Node {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const fail = (): never => {
    throw new SyntaxError(`internal: unexpected JSON at ${i}`);
  };
  const str = (): string => {
    const start = i;
    i++; // opening quote
    while (text[i] !== '"') {
      if (text[i] === '\\') i++;
      i++;
      if (i >= text.length) fail();
    }
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (): Node => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const members: [string, Node][] = [];
      ws();
      if (text[i] === '}') {
        i++;
        return new Entries(members);
      }
      for (;;) {
        ws();
        const k = str();
        ws();
        if (text[i++] !== ':') fail();
        members.push([k, value()]);
        ws();
        const d = text[i++];
        if (d === '}') return new Entries(members);
        if (d !== ',') fail();
      }
    }
    if (c === '[') {
      i++;
      const items: Node[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return items;
      }
      for (;;) {
        items.push(value());
        ws();
        const d = text[i++];
        if (d === ']') return items;
        if (d !== ',') fail();
      }
    }
    if (c === '"') return str();
    const m = /^(?:true|false|null|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i, i + 400));
    if (!m) return fail();
    i += m[0].length;
    return JSON.parse(m[0]) as Node;
  };
  const out = value();
  ws();
  return out;
}

/** A plain value in entry form; `sorted` orders keys as Go's encoding/json writes maps. */
export function toEntries(v: unknown, sorted = false): Node {
  if (Array.isArray(v)) return v.map((x) => toEntries(x, sorted));
  if (v && typeof v === 'object') {
    const keys = Object.keys(v);
    if (sorted) keys.sort();
    return new Entries(keys.map((k) => [k, toEntries((v as Record<string, unknown>)[k], sorted)]));
  }
  return v === undefined ? null : (v as Node);
}

/** Back to a plain value: for a repeated key the last occurrence wins, as in the decoder. */
export function fromEntries(n: Node): unknown {
  if (Array.isArray(n)) return n.map(fromEntries);
  if (n instanceof Entries) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of n.members) out[k] = fromEntries(v);
    return out;
  }
  return n;
}
