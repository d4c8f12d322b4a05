// A parser for the part of the POSIX shell language pod commands use:
// `;`, `&&`, `||`, newlines, quotes, `$VAR`/`${VAR}`, `while`/`until`/`for`
// loops, `{ …; }` and `( … )` groups, and output redirections. Anything else
// (pipes, background jobs, command substitution, `if`, `case`, here-documents)
// throws: commands.ts then leaves the container to its image's behaviour.

export interface Part {
  text?: string;
  /** A parameter expansion: its name ('HOME', '1', '?', '@' …). */
  var?: string;
  quoted?: boolean;
}

export interface Word {
  parts: Part[];
}

export type Node =
  | { type: 'simple'; words: Word[]; assigns: [string, Word][]; stdout: 'log' | 'discard' }
  | { type: 'and' | 'or'; left: Node; right: Node }
  | { type: 'group'; body: Node[] }
  | { type: 'for'; name: string; words: Word[]; body: Node[] }
  | { type: 'while'; cond: Node[]; body: Node[]; until: boolean };

type Token =
  | { t: 'word'; w: Word; plain?: string }
  | { t: 'op'; v: ';' | '\n' | '&&' | '||' | '(' | ')' }
  | { t: 'redir'; fd: number; op: '>' | '>>' | '<' | '>&' | '&>'; target?: Word };

class Unsupported extends Error {}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Targets that still end up in the container's log. */
const LOGGED = new Set(['/dev/stdout', '/dev/stderr', '/proc/1/fd/1', '/proc/1/fd/2', '/proc/self/fd/1', '/proc/self/fd/2']);

export function parseShell(src: string): Node[] {
  const p = new Parser(tokenize(src));
  const nodes = p.list(new Set());
  if (!p.done()) throw new Unsupported('unexpected token');
  return nodes;
}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let parts: Part[] | undefined;
  let raw = '';
  const text = (s: string, quoted = false) => {
    parts ??= [];
    const last = parts[parts.length - 1];
    if (last && last.var === undefined && !!last.quoted === quoted) last.text += s;
    else parts.push({ text: s, quoted });
  };
  const endWord = () => {
    if (!parts) return;
    const plain = parts.every((x) => x.var === undefined && !x.quoted) ? raw : undefined;
    out.push({ t: 'word', w: { parts }, plain });
    parts = undefined;
    raw = '';
  };
  /** `$NAME`, `${NAME}`, `$1`, `$?` … at src[i] === '$'. */
  const dollar = (quoted: boolean) => {
    const rest = src.slice(i + 1);
    let m: RegExpExecArray | null;
    if (rest.startsWith('(')) throw new Unsupported('command substitution');
    if ((m = /^\{([A-Za-z_][A-Za-z0-9_]*|[0-9?$#@*])\}/.exec(rest)) || (m = /^([A-Za-z_][A-Za-z0-9_]*|[0-9?$#@*])/.exec(rest))) {
      parts ??= [];
      parts.push({ var: m[1], quoted });
      i += 1 + m[0].length;
      return;
    }
    if (rest.startsWith('{')) throw new Unsupported('parameter expansion');
    text('$', quoted);
    i++;
  };
  while (i < src.length) {
    const c = src[i];
    if (c === ' ' || c === '\t') {
      endWord();
      i++;
    } else if (c === '\n' || c === ';' || c === '(' || c === ')') {
      endWord();
      if (c === ';' && src[i + 1] === ';') throw new Unsupported('case');
      out.push({ t: 'op', v: c });
      i++;
    } else if (c === '&' || c === '|') {
      endWord();
      if (src[i + 1] === c) {
        out.push({ t: 'op', v: c === '&' ? '&&' : '||' });
        i += 2;
      } else if (c === '&' && src[i + 1] === '>') {
        i += src[i + 2] === '>' ? 3 : 2;
        out.push({ t: 'redir', fd: 1, op: '&>' });
      } else {
        throw new Unsupported(c === '&' ? 'background job' : 'pipe');
      }
    } else if (c === '>' || c === '<') {
      // A word of digits right before is the descriptor: `2>`.
      let fd = c === '>' ? 1 : 0;
      if (parts && raw && /^\d$/.test(raw) && parts.length === 1 && !parts[0].quoted) {
        fd = Number(raw);
        parts = undefined;
        raw = '';
      }
      endWord();
      if (src.startsWith('<<', i)) throw new Unsupported('here-document');
      let op: '>' | '>>' | '<' | '>&' = c;
      i++;
      if (c === '>' && src[i] === '>') {
        op = '>>';
        i++;
      } else if (c === '>' && src[i] === '&') {
        op = '>&';
        i++;
      }
      out.push({ t: 'redir', fd, op });
    } else if (c === '#' && !parts) {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (c === "'") {
      const end = src.indexOf("'", i + 1);
      if (end < 0) throw new Unsupported('unterminated quote');
      text(src.slice(i + 1, end), true);
      raw += src.slice(i, end + 1);
      i = end + 1;
    } else if (c === '"') {
      raw += '"';
      i++;
      text('', true);
      while (i < src.length && src[i] !== '"') {
        if (src[i] === '\\' && '\\"$`\n'.includes(src[i + 1] ?? '')) {
          if (src[i + 1] !== '\n') text(src[i + 1], true);
          i += 2;
        } else if (src[i] === '$') dollar(true);
        else if (src[i] === '`') throw new Unsupported('command substitution');
        else text(src[i++], true);
      }
      if (i >= src.length) throw new Unsupported('unterminated quote');
      i++;
    } else if (c === '\\') {
      if (src[i + 1] !== '\n') text(src[i + 1] ?? '', true);
      raw += src.slice(i, i + 2);
      i += 2;
    } else if (c === '$') {
      raw += '$';
      dollar(false);
    } else if (c === '`') {
      throw new Unsupported('command substitution');
    } else {
      if ('*?['.includes(c)) throw new Unsupported('glob');
      text(c);
      raw += c;
      i++;
    }
  }
  endWord();
  // Attach each redirection's target word.
  const merged: Token[] = [];
  for (let k = 0; k < out.length; k++) {
    const tok = out[k];
    if (tok.t === 'redir') {
      const next = out[k + 1];
      if (!next || next.t !== 'word') throw new Unsupported('redirection without a target');
      merged.push({ ...tok, target: next.w });
      k++;
    } else merged.push(tok);
  }
  return merged;
}

const wordText = (w: Word) => (w.parts.every((p) => p.var === undefined) ? w.parts.map((p) => p.text).join('') : undefined);

class Parser {
  private pos = 0;
  private readonly toks: Token[];

  constructor(toks: Token[]) {
    this.toks = toks;
  }

  done(): boolean {
    return this.pos >= this.toks.length;
  }

  private peek(): Token | undefined {
    return this.toks[this.pos];
  }

  private isWord(v: string): boolean {
    const t = this.peek();
    return t?.t === 'word' && t.plain === v;
  }

  private isOp(...v: string[]): boolean {
    const t = this.peek();
    return t?.t === 'op' && v.includes(t.v);
  }

  private expectWord(v: string): void {
    if (!this.isWord(v)) throw new Unsupported(`expected ${v}`);
    this.pos++;
  }

  private skipSeparators(): void {
    while (this.isOp(';', '\n')) this.pos++;
  }

  /** Commands up to one of `until` (reserved words, or ')'), which is left for the caller. */
  list(until: Set<string>): Node[] {
    const nodes: Node[] = [];
    for (;;) {
      this.skipSeparators();
      const t = this.peek();
      if (!t || (t.t === 'word' && t.plain !== undefined && until.has(t.plain)) || (t.t === 'op' && t.v === ')' && until.has(')'))) return nodes;
      nodes.push(this.andOr());
      if (!this.done() && !this.isOp(';', '\n') && !(until.has(')') && this.isOp(')'))) throw new Unsupported('unexpected token');
    }
  }

  private andOr(): Node {
    let left = this.command();
    while (this.isOp('&&', '||')) {
      const op = (this.peek() as { v: string }).v;
      this.pos++;
      while (this.isOp('\n')) this.pos++;
      left = { type: op === '&&' ? 'and' : 'or', left, right: this.command() };
    }
    return left;
  }

  private command(): Node {
    if (this.isWord('while') || this.isWord('until')) {
      const until = this.isWord('until');
      this.pos++;
      const cond = this.list(new Set(['do']));
      this.expectWord('do');
      const body = this.list(new Set(['done']));
      this.expectWord('done');
      return { type: 'while', cond, body, until };
    }
    if (this.isWord('for')) {
      this.pos++;
      const nameTok = this.peek();
      if (nameTok?.t !== 'word' || !nameTok.plain || !NAME.test(nameTok.plain)) throw new Unsupported('for needs a name');
      this.pos++;
      let words: Word[] = [{ parts: [{ var: '@', quoted: true }] }];
      if (this.isWord('in')) {
        this.pos++;
        words = [];
        while (this.peek()?.t === 'word') words.push((this.toks[this.pos++] as { w: Word }).w);
      }
      this.skipSeparators();
      this.expectWord('do');
      const body = this.list(new Set(['done']));
      this.expectWord('done');
      return { type: 'for', name: nameTok.plain, words, body };
    }
    if (this.isWord('{')) {
      this.pos++;
      const body = this.list(new Set(['}']));
      this.expectWord('}');
      return { type: 'group', body };
    }
    if (this.isOp('(')) {
      this.pos++;
      const body = this.list(new Set([')']));
      if (!this.isOp(')')) throw new Unsupported('expected )');
      this.pos++;
      return { type: 'group', body };
    }
    for (const kw of ['if', 'then', 'else', 'elif', 'fi', 'case', 'esac', 'function', 'do', 'done', '}', '!', 'select']) {
      if (this.isWord(kw)) throw new Unsupported(kw);
    }
    return this.simple();
  }

  private simple(): Node {
    const words: Word[] = [];
    const assigns: [string, Word][] = [];
    let stdout: 'log' | 'discard' = 'log';
    for (;;) {
      const t = this.peek();
      if (!t || t.t === 'op') break;
      this.pos++;
      if (t.t === 'redir') {
        const target = wordText(t.target!) ?? '';
        if (t.op === '<' || t.fd === 2 || (t.op === '>&' && t.fd !== 1)) continue;
        if (t.op === '>&') stdout = target === '1' || target === '2' ? stdout : 'discard';
        else stdout = LOGGED.has(target) ? stdout : 'discard';
        continue;
      }
      const first = t.w.parts[0];
      const eq = first && first.var === undefined && !first.quoted ? first.text!.indexOf('=') : -1;
      if (!words.length && eq > 0 && NAME.test(first.text!.slice(0, eq))) {
        const value: Word = { parts: [{ text: first.text!.slice(eq + 1) }, ...t.w.parts.slice(1)] };
        assigns.push([first.text!.slice(0, eq), value]);
        continue;
      }
      words.push(t.w);
    }
    if (!words.length && !assigns.length) throw new Unsupported('empty command');
    return { type: 'simple', words, assigns, stdout };
  }
}
