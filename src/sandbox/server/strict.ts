// Typed decoding as kube-apiserver 1.32 does it (sigs.k8s.io/json into the
// Go types): a JSON value of the wrong type fails the request with json's
// "cannot unmarshal" message; unknown and duplicate fields are collected in
// document order as strict decoding errors; unknown fields are dropped, so
// they are never stored whatever fieldValidation says.
import { Entries, fromEntries, type Node } from './json-entries.ts';
import { goStructName, goTypeName, structFields, type FieldType } from './schema.ts';

export interface Decoded {
  /** The value as the Go type holds it: unknown fields and nulls dropped. */
  value: unknown;
  /** `unknown field "spec.x"` / `duplicate field "spec.y"`, in decoding order. */
  strict: string[];
}

/** A JSON value the Go type cannot hold; `message` is json's wording. */
export class TypeMismatch {
  readonly message: string;
  readonly path: string;
  readonly want: FieldType;
  readonly got: Node;
  constructor(message: string, path: string, want: FieldType, got: Node) {
    this.message = message;
    this.path = path;
    this.want = want;
    this.got = got;
  }
}

interface Ctx { struct: string; stack: string[]; path: string; strict: string[]; reported: Set<string> }

/** Go's %q of a field path. */
const quote = (path: string) => JSON.stringify(path);

const jsonKind = (n: Node): string =>
  n instanceof Entries ? 'object' : Array.isArray(n) ? 'array' : typeof n === 'boolean' ? 'bool' : typeof n === 'number' ? 'number' : 'string';

const QUANTITY_RE = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;
const QUANTITY_SUFFIX = /^(|Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][-+]?[0-9]+)$/;

function mismatch(ctx: Ctx, want: FieldType, got: Node, value = jsonKind(got)): never {
  const where = ctx.stack.length ? `Go struct field ${ctx.struct}.${ctx.stack.join('.')}` : 'Go value';
  throw new TypeMismatch(`json: cannot unmarshal ${value} into ${where} of type ${goTypeName(want)}`, ctx.path, want, got);
}

/** Quantity's own parser, which json calls; its errors carry no field. */
function quantity(ctx: Ctx, want: FieldType, n: Node): string {
  const s = typeof n === 'number' ? String(n) : typeof n === 'string' ? n.trim() : JSON.stringify(fromEntries(n));
  const m = QUANTITY_RE.exec(s);
  if (!m) throw new TypeMismatch("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'", ctx.path, want, n);
  if (!QUANTITY_SUFFIX.test(m[2])) throw new TypeMismatch("unable to parse quantity's suffix", ctx.path, want, n);
  return s;
}

function walk(n: Node, t: FieldType, ctx: Ctx): unknown {
  if (n === null) return undefined;
  switch (t.kind) {
    case 'any':
    case 'time':
      return fromEntries(n);
    case 'string':
      return typeof n === 'string' ? n : mismatch(ctx, t, n);
    case 'bool':
      return typeof n === 'boolean' ? n : mismatch(ctx, t, n);
    case 'float':
      return typeof n === 'number' ? n : mismatch(ctx, t, n);
    case 'int': {
      if (typeof n !== 'number') return mismatch(ctx, t, n);
      const limit = t.bits === 32 ? 2 ** 31 : 2 ** 63;
      if (!Number.isInteger(n) || n >= limit || n < -limit) return mismatch(ctx, t, n, `number ${n}`);
      return n;
    }
    case 'intOrString':
      if (typeof n === 'string') return n;
      if (typeof n === 'number' && Number.isInteger(n)) return n;
      throw new TypeMismatch(`json: cannot unmarshal ${typeof n === 'number' ? `number ${n}` : jsonKind(n)} into Go value of type int32`, ctx.path, t, n);
    case 'quantity':
      return quantity(ctx, t, n);
    case 'array': {
      if (!Array.isArray(n)) return mismatch(ctx, t, n);
      return n.map((item, i) => walk(item, t.of, { ...ctx, path: `${ctx.path}[${i}]` }) ?? null);
    }
    case 'map': {
      if (!(n instanceof Entries)) return mismatch(ctx, t, n);
      const out: Record<string, unknown> = {};
      const seen = new Set<string>();
      for (const [k, v] of n.members) {
        const path = ctx.path ? `${ctx.path}.${k}` : k;
        if (seen.has(k)) report(ctx, `duplicate field ${quote(path)}`);
        seen.add(k);
        const x = walk(v, t.of, { ...ctx, path });
        out[k] = x === undefined ? (t.of.kind === 'string' ? '' : null) : x;
      }
      return out;
    }
    case 'struct':
      return struct(n, t, ctx);
  }
}

function report(ctx: Ctx, message: string): void {
  if (ctx.reported.has(message)) return;
  ctx.reported.add(message);
  ctx.strict.push(message);
}

function struct(n: Node, t: Extract<FieldType, { kind: 'struct' }>, ctx: Ctx): unknown {
  const fields = structFields(t.name);
  if (!fields) return fromEntries(n);
  if (!(n instanceof Entries)) return mismatch(ctx, t, n);
  const out: Record<string, unknown> = {};
  const seen = new Set<string>();
  const goName = goStructName(t.name).name;
  for (const [k, v] of n.members) {
    const path = ctx.path ? `${ctx.path}.${k}` : k;
    const f = fields.get(k);
    if (!f) {
      // A field both unknown and repeated is reported once, as unknown.
      report(ctx, `unknown field ${quote(path)}`);
      continue;
    }
    if (seen.has(k)) report(ctx, `duplicate field ${quote(path)}`);
    seen.add(k);
    const x = walk(v, f.type, { ...ctx, struct: goName, stack: [...ctx.stack, k], path });
    if (x === undefined) delete out[k];
    else out[k] = x;
  }
  return out;
}

/** Decodes a parsed body into the model's Go type; throws TypeMismatch for a wrong JSON type. */
export function decodeTyped(n: Node, model: string): Decoded {
  const strict: string[] = [];
  const value = walk(n, { kind: 'struct', name: model }, { struct: goStructName(model).name, stack: [], path: '', strict, reported: new Set() });
  return { value, strict };
}

/** Duplicate keys anywhere in an untyped document (a merge or strategic patch decoded into a map). */
export function untypedDuplicates(n: Node, prefix = ''): string[] {
  const out: string[] = [];
  const visit = (x: Node, path: string) => {
    if (Array.isArray(x)) x.forEach((item, i) => visit(item, `${path}[${i}]`));
    else if (x instanceof Entries) {
      const seen = new Set<string>();
      for (const [k, v] of x.members) {
        const p = path ? `${path}.${k}` : k;
        if (seen.has(k)) out.push(`${prefix}duplicate field ${quote(p)}`);
        seen.add(k);
        visit(v, p);
      }
    }
  };
  visit(n, '');
  return out;
}

const JSON_PATCH_FIELDS = new Set(['op', 'path', 'from', 'value']);

/** Unknown and duplicate members of RFC 6902 operations, as `json patch …` strict errors. */
export function jsonPatchFieldErrors(n: Node): string[] {
  const out: string[] = [];
  if (!Array.isArray(n)) return out;
  n.forEach((op, i) => {
    if (!(op instanceof Entries)) return;
    const seen = new Set<string>();
    for (const [k] of op.members) {
      if (!JSON_PATCH_FIELDS.has(k)) out.push(`json patch unknown field ${quote(`[${i}].${k}`)}`);
      else if (seen.has(k)) out.push(`json patch duplicate field ${quote(`[${i}].${k}`)}`);
      seen.add(k);
    }
  });
  return out;
}
