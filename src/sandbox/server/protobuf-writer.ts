// Protobuf wire format, just what writing a message needs: varints, UTF-8
// strings, doubles and nested messages (proto3 rules: zero scalars omitted
// unless in a oneof). Messages are built bottom-up as lists of pieces with
// their encoded length known as they grow, so a whole document is written
// once into one buffer of the right size, with no copying per nesting level.

type Item = number | bigint | string | Buffer | Msg;

/**
 * A message as a list of what to write (varints, UTF-8 strings, bytes,
 * sub-messages) with its encoded length known as it grows, so the whole
 * document is written once into one buffer of the right size.
 */
export class Msg {
  readonly items: Item[] = [];
  length = 0;

  private varint(n: number | bigint): void {
    this.items.push(n);
    this.length += varintSize(n);
  }

  private tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  string(field: number, v: unknown): void {
    if (typeof v !== 'string' || v === '') return;
    this.text(field, v);
  }

  strings(field: number, v: unknown): void {
    if (Array.isArray(v)) for (const s of v) if (typeof s === 'string') this.text(field, s);
  }

  private text(field: number, s: string): void {
    const n = Buffer.byteLength(s, 'utf8');
    this.tag(field, 2);
    this.varint(n);
    this.items.push(s);
    this.length += n;
  }

  /** proto3 omits false, except in a oneof (`force`). */
  bool(field: number, v: unknown, force = false): void {
    if (typeof v !== 'boolean' || (!v && !force)) return;
    this.tag(field, 0);
    this.varint(v ? 1 : 0);
  }

  int(field: number, v: unknown): void {
    if (typeof v !== 'number' || v === 0) return;
    this.tag(field, 0);
    // A negative int64 is its 64-bit two's complement.
    this.varint(v < 0 ? BigInt.asUintN(64, BigInt(Math.trunc(v))) : Math.trunc(v));
  }

  double(field: number, v: unknown): void {
    if (typeof v !== 'number' || v === 0) return;
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v);
    this.tag(field, 1);
    this.items.push(b);
    this.length += 8;
  }

  message(field: number, m: Msg): void {
    this.tag(field, 2);
    this.varint(m.length);
    this.items.push(m);
    this.length += m.length;
  }

  bytes(): Buffer {
    const buf = Buffer.allocUnsafe(this.length);
    const end = this.write(buf, 0);
    if (end !== buf.length) throw new Error('internal: protobuf length mismatch');
    return buf;
  }

  private write(buf: Buffer, at: number): number {
    for (const it of this.items) {
      if (typeof it === 'number' || typeof it === 'bigint') at = writeVarint(buf, at, it);
      else if (typeof it === 'string') at += buf.write(it, at, 'utf8');
      else if (it instanceof Msg) at = it.write(buf, at);
      else at += it.copy(buf, at);
    }
    return at;
  }
}

function varintSize(n: number | bigint): number {
  if (typeof n === 'bigint') return Math.max(1, Math.ceil(n.toString(2).length / 7));
  let size = 1;
  while (n > 127) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function writeVarint(buf: Buffer, at: number, n: number | bigint): number {
  if (typeof n === 'bigint') {
    while (n > 127n) {
      buf[at++] = Number(n & 0x7fn) | 0x80;
      n >>= 7n;
    }
    buf[at++] = Number(n);
    return at;
  }
  while (n > 127) {
    buf[at++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[at++] = n;
  return at;
}
