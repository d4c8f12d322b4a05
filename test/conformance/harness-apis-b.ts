// What the API conformance checks (CRDs, endpoints, storage and networking)
// share: a sandbox on real time, and three clients nobody here wrote —
// kubectl 1.32, Debian's python3-kubernetes and raw HTTP.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Sandbox } from '../../src/sandbox/cluster.ts';
import { hasKubectl } from '../helpers/kubectl.ts';

const run = promisify(execFile);

export { hasKubectl };

/** Debian's python3-kubernetes, seen by /usr/bin/python3 (the pyenv python3 on PATH cannot see it). */
export const hasPythonClient: boolean = (() => {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import kubernetes'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

export interface Cluster {
  sandbox: Sandbox;
  url: string;
  dir: string;
  /** Runs kubectl; rejects with its stderr. */
  kubectl(...args: string[]): Promise<string>;
  /** The stderr of a kubectl command that must fail. */
  kubectlFails(...args: string[]): Promise<string>;
  /** Writes a manifest into the cluster's directory and returns its path. */
  file(name: string, text: string): string;
  /** Runs a Python script with `api` (kubernetes.client) configured for the sandbox; returns what it prints as JSON. */
  python(script: string): Promise<any>;
  /** A raw HTTP request; the body is sent as JSON unless it is a string. */
  http(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ code: number; headers: Headers; body: any }>;
  stop(): Promise<void>;
}

export async function startCluster(): Promise<Cluster> {
  const sandbox = new Sandbox({ speed: 1 });
  const { url } = await sandbox.listen();
  const dir = mkdtempSync(join(tmpdir(), 'kubemend-conformance-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, sandbox.kubeconfig());
  const base = ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache')];
  return {
    sandbox, url, dir,
    async kubectl(...args) {
      try {
        return (await run('kubectl', [...base, ...args], { timeout: 60_000 })).stdout;
      } catch (err) {
        const e = err as { stderr?: string; message: string };
        throw new Error(`kubectl ${args.join(' ')} failed: ${e.stderr || e.message}`);
      }
    },
    async kubectlFails(...args) {
      try {
        await run('kubectl', [...base, ...args], { timeout: 60_000 });
      } catch (err) {
        return (err as { stderr: string }).stderr;
      }
      throw new Error(`kubectl ${args.join(' ')} succeeded`);
    },
    file(name, text) {
      const p = join(dir, name);
      writeFileSync(p, text);
      return p;
    },
    async python(script) {
      const prelude = `import json, sys, threading, time\nfrom kubernetes import client, config, watch\nconfig.load_kube_config(${JSON.stringify(kubeconfig)})\n`;
      const { stdout } = await run('/usr/bin/python3', ['-c', prelude + script], { timeout: 60_000 });
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
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { code: res.status, headers: res.headers, body: parsed };
    },
    async stop() {
      await sandbox.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

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
