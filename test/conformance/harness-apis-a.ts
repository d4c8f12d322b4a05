// What the conformance checks of the autoscaling, batch, auth and core-default
// APIs share: a sandbox (on a manual clock when a check needs cluster time to
// pass) and three clients nobody here wrote — kubectl 1.32, Debian's
// python3-kubernetes and raw HTTP.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Sandbox, type SandboxOptions } from '../../src/sandbox/cluster.ts';
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

export interface HttpAnswer {
  code: number;
  headers: Headers;
  body: any;
  text: string;
}

export interface Cluster {
  sandbox: Sandbox;
  url: string;
  /** Runs kubectl; rejects with its stderr. */
  kubectl(...args: string[]): Promise<string>;
  /** stdout, stderr and exit code, for commands whose failure is the answer (`auth can-i`). */
  kubectlResult(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }>;
  /** The stderr of a kubectl command that must fail. */
  kubectlFails(...args: string[]): Promise<string>;
  /** Writes a file into the cluster's directory and returns its path. */
  file(name: string, text: string): string;
  /** Runs Python with `client` configured from the sandbox's kubeconfig; parses what it prints as JSON. */
  python(script: string): Promise<any>;
  /** A raw HTTP request; the body is sent as JSON unless it is a string. */
  http(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<HttpAnswer>;
  stop(): Promise<void>;
}

export async function startCluster(opts: SandboxOptions = {}): Promise<Cluster> {
  const sandbox = new Sandbox({ speed: 1, ...opts });
  const { url } = await sandbox.listen();
  const dir = mkdtempSync(join(tmpdir(), 'kubemend-conformance-a-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, sandbox.kubeconfig());
  const base = ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache')];
  const kubectlResult = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run('kubectl', [...base, ...args], { timeout: 60_000 });
      return { stdout, stderr, code: 0 };
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; code?: number };
      return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: typeof e.code === 'number' ? e.code : -1 };
    }
  };
  return {
    sandbox,
    url,
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
      const prelude = `import json, sys\nfrom kubernetes import client, config\nfrom kubernetes.client.rest import ApiException\nconfig.load_kube_config(${JSON.stringify(kubeconfig)})\n`;
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
