// Compiles a command (commands.ts) into a Program: plain commands and
// `sh -c` scripts parsed by shell.ts, evaluated as far as they can be before
// they run — their outcome depends on nothing a container could read — into
// timed log lines, sleeps, an exit, and a loop that repeats for ever.
import type { Op, Program } from './commands.ts';
import { parseShell, type Node, type Word } from './shell.ts';

/** Thrown for anything outside the model: the container keeps its image's behaviour. */
export class Unmodelled extends Error {}

/** A loop with no sleep in it is paced at one pass a second rather than spinning. */
export const BUSY_LOOP_PACE_MS = 1000;

export const basename = (p: string | undefined) => (p ?? '').slice((p ?? '').lastIndexOf('/') + 1);

/** `3`, `1.5`, `2m`, `1h`, `infinity` → milliseconds (GNU and busybox sleep). */
function sleepMs(arg: string): number | undefined {
  if (/^inf(inity)?$/i.test(arg)) return Infinity;
  const m = /^(\d+(?:\.\d*)?|\.\d+)([smhd]?)$/.exec(arg);
  if (!m) return undefined;
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit * 1000;
}

export class Compiler {
  private readonly ops: Op[] = [];
  private loop?: number;
  private status = 0;
  /** Set once the program can go no further: an exit, an endless sleep or loop. */
  private ended = false;
  private partial = '';
  private errexit = false;
  /** Inside an `&&`/`||` left side or a loop condition, where a failure does not trip `set -e`. */
  private tested = 0;
  private trace = false;
  private readonly vars: Record<string, string>;
  private positional: string[] = ['sh'];
  private readonly hostname: string;

  constructor(env: Record<string, string>, hostname: string) {
    this.vars = { ...env };
    this.hostname = hostname;
  }

  finish(): Program {
    this.flush();
    return { ops: this.ops, loop: this.loop, status: this.status };
  }

  /** `sh [-eux] -c SCRIPT [NAME [ARGS…]]`; a shell without -c reads end-of-file and exits 0. */
  shell(rest: string[]): void {
    let i = 0;
    let script: string | undefined;
    for (; i < rest.length && /^-[a-zA-Z]+$/.test(rest[i]); i++) {
      for (const f of rest[i].slice(1)) {
        if (f === 'e') this.errexit = true;
        else if (f === 'x') this.trace = true;
        else if (f === 'c') script = '';
        else if (f !== 'u' && f !== 'l' && f !== 'i') throw new Unmodelled();
      }
    }
    if (script === undefined) {
      if (i < rest.length) throw new Unmodelled(); // a script file
      return;
    }
    if (i >= rest.length) throw new Unmodelled(); // `sh -c` needs its string
    script = rest[i];
    this.positional = rest.length > i + 1 ? rest.slice(i + 1) : ['sh'];
    let tree: Node[];
    try {
      tree = parseShell(script);
    } catch {
      throw new Unmodelled();
    }
    this.list(tree);
  }

  private list(nodes: Node[]): void {
    for (const n of nodes) {
      if (this.ended) return;
      this.node(n);
    }
  }

  private node(n: Node): void {
    switch (n.type) {
      case 'and':
      case 'or':
        this.tested++;
        this.node(n.left);
        this.tested--;
        if (!this.ended && (this.status === 0) === (n.type === 'and')) this.node(n.right);
        return;
      case 'group':
        this.list(n.body);
        return;
      case 'for': {
        const values = n.words.flatMap((w) => this.fields(w));
        for (const v of values) {
          if (this.ended) return;
          this.vars[n.name] = v;
          this.list(n.body);
        }
        return;
      }
      case 'while':
        this.whileLoop(n.cond, n.body, n.until);
        return;
      case 'simple':
        this.command(n.words, n.assigns, n.stdout);
        return;
    }
  }

  /** The condition's outcome is fixed (no input changes it), so one pass decides: never, or for ever. */
  private whileLoop(cond: Node[], body: Node[], until: boolean): void {
    this.flush();
    const start = this.ops.length;
    this.tested++;
    this.list(cond);
    this.tested--;
    if (this.ended) return;
    if ((this.status === 0) === until) {
      this.status = 0;
      return;
    }
    this.list(body);
    if (this.ended) return; // the body exits on its first pass
    this.flush();
    if (!this.ops.slice(start).some((o) => 'sleep' in o)) this.ops.push({ sleep: BUSY_LOOP_PACE_MS });
    this.loop = start;
    this.ended = true;
  }

  private command(words: Word[], assigns: [string, Word][], stdout: 'log' | 'discard'): void {
    const argv = words.flatMap((w) => this.fields(w));
    for (const [k, v] of assigns) this.vars[k] = this.expand(v);
    if (!argv.length) {
      this.status = 0;
      return;
    }
    if (this.trace) this.line(`+ ${argv.join(' ')}`);
    this.simple(argv, stdout === 'discard');
    if (this.errexit && !this.tested && this.status !== 0 && !this.ended) this.exit(this.status);
  }

  /** One command with its arguments: a builtin of the model, or Unmodelled. */
  simple(argv: string[], discard = false): void {
    const [cmd, ...a] = argv;
    const out = (s: string) => {
      if (!discard) this.write(s);
    };
    switch (basename(cmd)) {
      case 'true':
      case ':':
        this.status = 0;
        return;
      case 'false':
        this.status = 1;
        return;
      case 'echo': {
        let newline = true;
        let escapes = false;
        while (a.length && /^-[neE]+$/.test(a[0])) {
          const f = a.shift()!;
          if (f.includes('n')) newline = false;
          if (f.includes('e')) escapes = true;
        }
        const text = a.join(' ');
        out((escapes ? unescape(text) : text) + (newline ? '\n' : ''));
        this.status = 0;
        return;
      }
      case 'printf':
        if (!a.length) throw new Unmodelled();
        out(printf(a[0], a.slice(1)));
        this.status = 0;
        return;
      case 'sleep': {
        const ms = a.map(sleepMs);
        if (!a.length || ms.some((m) => m === undefined)) {
          this.line(a.length ? `sleep: invalid time interval '${a[ms.findIndex((m) => m === undefined)]}'` : 'sleep: missing operand');
          this.status = 1;
          return;
        }
        this.sleep(ms.reduce((s: number, m) => s + m!, 0));
        this.status = 0;
        return;
      }
      case 'tail':
        if (a.includes('/dev/null') && a.some((x) => /^-[a-zA-Z]*[fF]/.test(x))) {
          this.sleep(Infinity);
          return;
        }
        throw new Unmodelled();
      case 'date':
        if (a.length) throw new Unmodelled();
        this.flush();
        if (!discard) this.ops.push({ date: true });
        this.status = 0;
        return;
      case 'hostname':
        if (a.length) throw new Unmodelled();
        out(`${this.hostname}\n`);
        this.status = 0;
        return;
      case 'exit': {
        if (a.length && !/^\d+$/.test(a[0])) throw new Unmodelled();
        this.exit(a.length ? Number(a[0]) & 255 : this.status);
        return;
      }
      case 'trap':
        // Signal handlers change only how a stop ends, which the kubelet model decides.
        this.status = 0;
        return;
      case 'exec':
        if (!a.length) return;
        this.simple(a, discard);
        if (!this.ended) this.exit(this.status);
        return;
      default:
        throw new Unmodelled();
    }
  }

  private sleep(ms: number): void {
    this.flush();
    if (ms > 0) this.ops.push({ sleep: ms });
    if (ms === Infinity) this.ended = true;
  }

  private exit(code: number): void {
    this.flush();
    this.ops.push({ exit: code });
    this.status = code;
    this.ended = true;
  }

  /** Output goes to the log a line at a time; a last partial line is written when the command sleeps or ends. */
  private write(s: string): void {
    const parts = (this.partial + s).split('\n');
    this.partial = parts.pop()!;
    for (const p of parts) this.ops.push({ out: p });
  }

  private line(s: string): void {
    this.flush();
    this.ops.push({ out: s });
  }

  private flush(): void {
    if (this.partial) this.ops.push({ out: this.partial });
    this.partial = '';
  }

  private lookup(name: string): string {
    if (name === '?') return String(this.status);
    if (name === '$') return '1';
    if (name === '#') return String(this.positional.length - 1);
    if (name === '@' || name === '*') return this.positional.slice(1).join(' ');
    if (/^\d$/.test(name)) return this.positional[Number(name)] ?? '';
    return this.vars[name] ?? '';
  }

  private expand(w: Word): string {
    return w.parts.map((p) => (p.var !== undefined ? this.lookup(p.var) : p.text!)).join('');
  }

  /** Field splitting: unquoted expansions split on blanks; quoted ones stay one word. */
  private fields(w: Word): string[] {
    if (!w.parts.some((p) => p.var !== undefined && !p.quoted)) return [this.expand(w)];
    const out: string[] = [];
    let cur = '';
    let has = false;
    for (const p of w.parts) {
      const text = p.var !== undefined ? this.lookup(p.var) : p.text!;
      if (p.var === undefined || p.quoted) {
        cur += text;
        has = true;
        continue;
      }
      const pieces = text.split(/[ \t\n]+/);
      pieces.forEach((piece, i) => {
        if (i > 0 && (has || cur)) {
          out.push(cur);
          cur = '';
          has = false;
        }
        cur += piece;
        if (piece) has = true;
      });
    }
    if (has || cur) out.push(cur);
    return out;
  }
}

function unescape(s: string): string {
  return s.replace(/\\([ntr\\])/g, (_, c: string) => ({ n: '\n', t: '\t', r: '\r', '\\': '\\' })[c]!);
}

/** printf with %s, %d, %% and backslash escapes; the format is reused while arguments remain. */
function printf(format: string, args: string[]): string {
  let out = '';
  let i = 0;
  do {
    out += unescape(format).replace(/%([sd%])/g, (_, c: string) => {
      if (c === '%') return '%';
      const v = args[i++] ?? '';
      return c === 'd' ? String(Number.parseInt(v, 10) || 0) : v;
    });
  } while (i < args.length && /%[sd]/.test(format));
  return out;
}
