// The one error registry (src/common/errors.ts), its page (docs/errors.md)
// and the code that throws stay in step: every code is documented with its
// fix, and src/ never throws a code, short name or hand-typed KM-… string the
// registry does not know.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Errors, KubemendError, actionErrorInfo } from '../../src/common/errors.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const REGISTRY = 'src/common/errors.ts';
const names = new Set<string>(Object.keys(Errors));
const codes = new Set<string>(Object.values(Errors).map((e) => e.code));

function sources(dir = join(ROOT, 'src')): { file: string; text: string }[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    if (d.isDirectory()) return sources(p);
    return d.name.endsWith('.ts') ? [{ file: relative(ROOT, p), text: readFileSync(p, 'utf8') }] : [];
  });
}

/** `file:line: text` for every match of `re` (global) in the sources. */
function hits(re: RegExp, files = sources()): { where: string; m: RegExpExecArray }[] {
  const out: { where: string; m: RegExpExecArray }[] = [];
  for (const { file, text } of files) {
    for (const m of text.matchAll(re)) out.push({ where: `${file}:${text.slice(0, m.index).split('\n').length}`, m });
  }
  return out;
}

function docRows(): Map<string, { meaning: string; fix: string }> {
  const doc = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');
  const rows = new Map<string, { meaning: string; fix: string }>();
  for (const line of doc.split('\n')) {
    const m = /^\| (KM-[A-Z]+-\d{3}) \| ([^|]+) \| (.+) \|$/.exec(line);
    if (m) {
      assert.ok(!rows.has(m[1]), `docs/errors.md has two rows for ${m[1]}`);
      rows.set(m[1], { meaning: m[2].trim(), fix: m[3].trim() });
    }
  }
  return rows;
}

test('docs/errors.md lists every error code with its fix, and nothing else', () => {
  const rows = docRows();
  const all = Object.values(Errors).map((e) => e.code);
  assert.equal(codes.size, all.length, 'codes are unique');
  for (const c of all) assert.match(c, /^KM-[A-Z]+-\d{3}$/);
  assert.deepEqual([...rows.keys()].sort(), [...all].sort());
  for (const e of Object.values(Errors)) assert.equal(rows.get(e.code)?.fix, e.fix, `fix for ${e.code}`);
});

test("a runbook step failure's row starts with its short name, the one step transitions store", () => {
  const rows = docRows();
  for (const [name, e] of Object.entries(Errors)) {
    if (!name.startsWith('ACTION_')) continue;
    assert.ok(rows.get(e.code)?.meaning.startsWith(`\`${name.slice('ACTION_'.length)}\`: `), `${e.code} row should start with \`${name.slice('ACTION_'.length)}\`:`);
  }
});

test('src/ throws only registered short names and registry entries', () => {
  const files = sources();
  const problems: string[] = [];
  // new ActionError('NAME', …) and comparisons of a step failure's short name.
  for (const { where, m } of hits(/new ActionError\(\s*['"`]([^'"`]+)['"`]/g, files)) {
    if (!names.has(`ACTION_${m[1]}`)) problems.push(`${where}: ActionError '${m[1]}' is not registered (add ACTION_${m[1]} to ${REGISTRY} and docs/errors.md)`);
  }
  for (const { where, m } of hits(/\.reason\s*[!=]==\s*['"`]([A-Z][A-Z_]+)['"`]/g, files)) {
    if (!names.has(`ACTION_${m[1]}`)) problems.push(`${where}: compares a step failure with '${m[1]}', which is not registered`);
  }
  // Errors.NAME everywhere (KubemendError(Errors.X, …), withCode(Errors.X, …), replies).
  for (const { where, m } of hits(/\bErrors\.([A-Za-z_]+)/g, files)) {
    if (!names.has(m[1])) problems.push(`${where}: Errors.${m[1]} is not in the registry`);
  }
  // Every new ActionError takes a literal short name, or one computed in toActionError (typed ActionReason).
  for (const { where, m } of hits(/new ActionError\(\s*([^'"`\s][^,]*),/g, files)) {
    if (!where.startsWith('src/runbooks/actions/util.ts')) problems.push(`${where}: new ActionError(${m[1]}, …) should name its short name literally`);
  }
  assert.deepEqual(problems, []);
});

test('codes are never hand-typed: a KM-… string in src/ is a render of a registry entry', () => {
  const problems: string[] = [];
  for (const { file, text } of sources()) {
    if (file === REGISTRY) continue;
    text.split('\n').forEach((line, i) => {
      const code = /KM-[A-Z]+-\d{3}/.exec(line)?.[0];
      if (!code) return;
      const comment = /^\s*(\/\/|\*|\/\*)/.test(line);
      if (!comment) problems.push(`${file}:${i + 1}: hand-typed ${code}; use withCode(Errors.X, …) or new KubemendError(Errors.X, …)`);
      else if (!codes.has(code)) problems.push(`${file}:${i + 1}: a comment names ${code}, which is not registered`);
    });
  }
  for (const doc of readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`).concat('README.md')) {
    for (const m of readFileSync(join(ROOT, doc), 'utf8').matchAll(/KM-[A-Z]+-\d{3}/g)) {
      if (!codes.has(m[0])) problems.push(`${doc}: mentions ${m[0]}, which is not registered`);
    }
  }
  assert.deepEqual(problems, []);
});

// Plain Errors that may stay: they never reach a user as such, or their file
// belongs to someone else for now. Anything else plain is a bug: register it.
// `file` is a path prefix; `message`, when given, the start of the message.
const PLAIN_ERRORS_ALLOWED: { file: string; message?: string; why: string }[] = [
  { file: 'src/sandbox/', why: "the sandbox's own Kubernetes-side failures (protobuf decoding, controller lookups) become API Status answers, not kubemend errors" },
  { file: 'src/rules/stages/silence.ts', message: 'not a string', why: 'control flow: caught on the next line and reported as KM-SILENCE-001' },
  { file: 'src/rules/cel-helpers.ts', message: 'quantity() needs', why: 'thrown inside a CEL evaluation, which reports it as the expression failing' },
  { file: 'src/chat/adapters/shared/base.ts', message: 'the body is not valid JSON', why: "fastify's body parser error: answered as HTTP 400 to the chat platform" },
];

test('a plain new Error in src/ is an internal invariant ("internal: …") or an allowed exception', () => {
  const problems: string[] = [];
  for (const { where, m } of hits(/new Error\(\s*(['"`]?)([^\n]{0,60})/g)) {
    const file = where.replace(/:\d+$/, '');
    if (m[1] && m[2].startsWith('internal: ')) continue;
    if (PLAIN_ERRORS_ALLOWED.some((a) => file.startsWith(a.file) && (a.message === undefined || (m[1] !== '' && m[2].startsWith(a.message))))) continue;
    problems.push(`${where}: new Error(${m[1]}${m[2]}…) can reach a user: register it and throw new KubemendError(Errors.X, …), or prefix "internal: " if it is an invariant`);
  }
  assert.deepEqual(problems, []);
});

test('a KubemendError takes code, fix and retryable from its entry; a short name finds its ACTION_ entry', () => {
  const e = new KubemendError(Errors.KUBE_THROTTLED, 'slow down');
  assert.deepEqual([e.code, e.fix, e.retryable], [Errors.KUBE_THROTTLED.code, Errors.KUBE_THROTTLED.fix, true]);
  assert.equal(new KubemendError(Errors.BAD_FLAG, 'x').retryable, false);
  assert.match(e.render(), /^KM-KUBE-009 slow down\n {2}fix: /);
  assert.equal(actionErrorInfo('AT_CAP'), Errors.ACTION_AT_CAP);
  assert.equal(actionErrorInfo('NOT_A_REASON'), Errors.ACTION_INTERNAL);
});
