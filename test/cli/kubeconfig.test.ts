// A kubeconfig that is missing, unreadable or wrong, or a --context it does
// not have, ends a command with a KM-KUBE error naming the file and the fix,
// never a stack trace (issue 10).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/kubemend.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'km-kubeconfig-'));

function km(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number | null; stderr: string }> {
  const base: Record<string, string | undefined> = { ...process.env, KUBECONFIG: undefined, ...env };
  for (const k of Object.keys(base)) if (base[k] === undefined) delete base[k];
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...args], { cwd: ROOT, env: base as NodeJS.ProcessEnv, timeout: 60_000 }, (_err, _stdout, stderr) => {
      resolve({ code: child.exitCode, stderr });
    });
  });
}

function assertCleanError(r: { code: number | null; stderr: string }, message: RegExp) {
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, message);
  assert.match(r.stderr, /\n {2}fix: /);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
}

const kubeconfig = (contexts: string[], current = contexts[0]) => `apiVersion: v1
kind: Config
clusters:
- name: c1
  cluster: {server: 'http://127.0.0.1:1'}
users:
- name: u1
  user: {token: t}
contexts:
${contexts.map((c) => `- name: ${c}\n  context: {cluster: c1, user: u1}`).join('\n')}
${current ? `current-context: ${current}` : ''}
`;

test('watch --kubeconfig with a file that does not exist: KM-KUBE-012 naming it and how to make one', { timeout: 60_000 }, async () => {
  const r = await km(['watch', '--kubeconfig', '/nonexistent/kubeconfig', '--rules', 'rules']);
  assertCleanError(r, /^error: KM-KUBE-012 kubeconfig \/nonexistent\/kubeconfig does not exist\n/);
  assert.match(r.stderr, /kubemend sandbox --kubeconfig-out PATH/);
  assert.match(r.stderr, /kubectl config view --raw > PATH/);
  assert.doesNotMatch(r.stderr, /ENOENT/);
});

test('a missing file in $KUBECONFIG, and no kubeconfig anywhere, are KM-KUBE-012 too', { timeout: 60_000 }, async () => {
  const home = join(dir, 'home');
  mkdirSync(home);
  const [viaEnv, watch] = await Promise.all([
    km(['watch', '--rules', 'rules'], { KUBECONFIG: join(dir, 'gone') }),
    km(['watch', '--rules', 'rules'], { HOME: home }),
  ]);
  assertCleanError(viaEnv, new RegExp(`KM-KUBE-012 kubeconfig ${join(dir, 'gone')} \\(from \\$KUBECONFIG\\) does not exist`));
  assertCleanError(watch, new RegExp(`KM-KUBE-012 no kubeconfig: --kubeconfig is not given, \\$KUBECONFIG is unset and ${home}/\\.kube/config does not exist`));
});

test('an unreadable or invalid kubeconfig is KM-KUBE-013 naming the file and what is wrong', { timeout: 60_000 }, async () => {
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const cases: [string, RegExp][] = [
    [file('bad-yaml', 'clusters: [\n'), /KM-KUBE-013 kubeconfig \S+bad-yaml is not a valid kubeconfig: /],
    [file('not-kube', 'hello: world\n'), /KM-KUBE-013 kubeconfig \S+not-kube defines no clusters and no contexts/],
    [file('no-server', 'clusters:\n- name: c1\n  cluster: {}\n'), /KM-KUBE-013 kubeconfig \S+no-server is not a valid kubeconfig: clusters\[0\]\.cluster\.server is missing/],
    [file('dangling', kubeconfig(['a']).replace('{cluster: c1,', '{cluster: c9,')), /KM-KUBE-013 kubeconfig \S+dangling: context "a" names cluster "c9", which the file does not define/],
    [dir, new RegExp(`KM-KUBE-013 cannot read kubeconfig ${dir}: it is a directory`)],
  ];
  const results = await Promise.all(cases.map(([f]) => km(['watch', '--kubeconfig', f, '--rules', 'rules'])));
  results.forEach((r, i) => assertCleanError(r, cases[i][1]));
});

test('an unknown --context, or none and no current-context, is KM-KUBE-014 listing the contexts there are', { timeout: 60_000 }, async () => {
  const file = join(dir, 'two');
  writeFileSync(file, kubeconfig(['prod-eu', 'staging']));
  const noCurrent = join(dir, 'no-current');
  writeFileSync(noCurrent, kubeconfig(['a', 'b'], ''));
  const [watch, run, none] = await Promise.all([
    km(['watch', '--kubeconfig', file, '--context', 'staging', '--context', 'prod', '--rules', 'rules']),
    km(['run', '--kubeconfig', file, '--context', 'dev', '--rules', 'rules', '--runbooks', 'runbooks', '--data-dir', join(dir, 'data')]),
    km(['watch', '--kubeconfig', noCurrent, '--rules', 'rules']),
  ]);
  assertCleanError(watch, new RegExp(`KM-KUBE-014 context "prod" is not in kubeconfig ${file} \\(known: prod-eu, staging\\)`));
  assertCleanError(run, /KM-KUBE-014 context "dev" is not in kubeconfig \S+ \(known: prod-eu, staging\)/);
  assertCleanError(none, /KM-KUBE-014 kubeconfig \S+no-current has no current-context; pass --context NAME \(known: a, b\)/);
});
