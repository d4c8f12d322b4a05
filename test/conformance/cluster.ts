// A second call style over the conformance harness, for checks that read like
// a shell session: `await c.kubectl('get', 'sa')` resolves with stdout and
// rejects with stderr, `c.python(script)` parses what the script prints as
// JSON, `c.http(...)` sends no credentials unless asked (so the RBAC checks can
// be anonymous). The sandbox runs on real time at speed 1 unless `opts` say
// otherwise. Missing tools fail loudly as in harness.ts (needs()).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Sandbox, type SandboxOptions } from '../../src/sandbox/cluster.ts';
import { KUBECTL, PYTHON, needs } from './harness.ts';

const run = promisify(execFile);

/** The `skip` option of a check that needs kubectl; of one that also needs python3-kubernetes (probed when first asked). */
export const skipKubectl = needs('kubectl');
export const skipPython = (): false | string => skipKubectl || needs('python3-kubernetes');

export interface HttpAnswer {
  code: number;
  headers: Headers;
  /** The body parsed as JSON; undefined when it is not JSON. */
  body: any;
  text: string;
}

export interface Cluster {
  sandbox: Sandbox;
  url: string;
  dir: string;
  /** Runs kubectl; rejects with its stderr. */
  kubectl(...args: string[]): Promise<string>;
  /** stdout, stderr and exit code, for commands whose failure is the answer (`auth can-i`). */
  kubectlResult(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }>;
  /** The stderr of a kubectl command that must fail. */
  kubectlFails(...args: string[]): Promise<string>;
  /** Writes a file into the cluster's directory and returns its path. */
  file(name: string, text: string): string;
  /** Runs Python with `client`, `watch` and `ApiException` configured from the sandbox's kubeconfig; parses what it prints as JSON. */
  python(script: string): Promise<any>;
  /** A raw HTTP request without credentials unless `headers` carry them; the body is sent as JSON unless it is a string. */
  http(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<HttpAnswer>;
  stop(): Promise<void>;
}

export async function startCluster(opts: SandboxOptions = {}): Promise<Cluster> {
  const sandbox = new Sandbox({ speed: 1, ...opts });
  const { url } = await sandbox.listen();
  const dir = mkdtempSync(join(tmpdir(), 'kubemend-conformance-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, sandbox.kubeconfig(), { mode: 0o600 });
  // A cache per cluster: discovery cached for another sandbox on a reused port would mislead kubectl.
  const base = ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache')];
  const kubectlResult = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run(KUBECTL, [...base, ...args], { timeout: 60_000, maxBuffer: 64 << 20 });
      return { stdout, stderr, code: 0 };
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; code?: number; message: string };
      return { stdout: e.stdout ?? '', stderr: e.stderr || e.message, code: typeof e.code === 'number' ? e.code : -1 };
    }
  };
  return {
    sandbox,
    url,
    dir,
    kubectlResult,
    async kubectl(...args) {
      const r = await kubectlResult(...args);
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${r.stderr}`);
      return r.stdout;
    },
    async kubectlFails(...args) {
      const r = await kubectlResult(...args);
      if (r.code === 0) throw new Error(`kubectl ${args.join(' ')} succeeded: ${r.stdout}`);
      return r.stderr;
    },
    file(name, text) {
      const p = join(dir, name);
      writeFileSync(p, text);
      return p;
    },
    async python(script) {
      const prelude = [
        'import json, sys, threading, time',
        'from kubernetes import client, config, watch',
        'from kubernetes.client.rest import ApiException',
        `config.load_kube_config(${JSON.stringify(kubeconfig)})`,
        '',
      ].join('\n');
      const { stdout } = await run(PYTHON, ['-c', prelude + script], { timeout: 60_000, maxBuffer: 64 << 20 });
      return JSON.parse(stdout);
    },
    async http(method, path, body, headers = {}) {
      const init: RequestInit = { method, headers: { accept: 'application/json', ...headers } };
      if (body !== undefined) {
        init.body = typeof body === 'string' ? body : JSON.stringify(body);
        (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
      }
      const res = await fetch(url + path, init);
      const text = await res.text();
      let parsed: any;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      return { code: res.status, headers: res.headers, body: parsed, text };
    },
    async stop() {
      await sandbox.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A bearer token header. */
export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Polls `check` until it returns a value other than undefined/false (real time; the sandbox runs at speed 1). */
export async function eventually<T>(check: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
