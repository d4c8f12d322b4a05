// A full sandbox (all controllers, real time) for conformance checks, with a
// kubeconfig file for clients written by others: kubectl 1.32, Debian's
// Python client, and raw HTTP (fetch) as the API conventions describe it.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sandbox, type SandboxOptions } from '../../src/sandbox/cluster.ts';

export interface ConformanceCluster {
  sandbox: Sandbox;
  url: string;
  kubeconfig: string;
  /** kubectl with the sandbox's kubeconfig: stdout and stderr, and the exit code (never rejects). */
  kubectl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** A request to the API server: status, Content-Type and the body (JSON when it parses). */
  http(method: string, path: string, body?: unknown, contentType?: string): Promise<{ status: number; contentType: string | null; text: string; json: any }>;
  stop(): Promise<void>;
}

export async function startCluster(
  opts: SandboxOptions = {},
  listen: { bookmarkEveryMs?: number; minRequestTimeoutSeconds?: number } = {},
): Promise<ConformanceCluster> {
  const sandbox = new Sandbox({ speed: 1, ...opts });
  await sandbox.listen(listen);
  const dir = mkdtempSync(join(tmpdir(), 'km-conformance-'));
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, sandbox.kubeconfig());
  const url = sandbox.url;
  return {
    sandbox,
    url,
    kubeconfig,
    kubectl: (...args) =>
      new Promise((resolve) => {
        execFile('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
        });
      }),
    async http(method, path, body, contentType = 'application/json') {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: body === undefined ? {} : { 'Content-Type': contentType },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let json: any;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, contentType: res.headers.get('content-type'), text, json };
    },
    async stop() {
      await sandbox.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Reads a streamed response (watch, log follow) until it ends or `ms` pass; returns the text and whether it ended by itself. */
export async function readStream(url: string, ms: number): Promise<{ status: number; contentType: string | null; text: string; ended: boolean; elapsedMs: number }> {
  const ctl = new AbortController();
  const t0 = Date.now();
  const res = await fetch(url, { signal: ctl.signal });
  let text = '';
  let ended = false;
  const timer = setTimeout(() => ctl.abort(), ms);
  try {
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        ended = true;
        break;
      }
      text += dec.decode(value, { stream: true });
    }
  } catch (err) {
    if ((err as Error).name !== 'AbortError') throw err;
  } finally {
    clearTimeout(timer);
  }
  return { status: res.status, contentType: res.headers.get('content-type'), text, ended, elapsedMs: Date.now() - t0 };
}

/** Newline-delimited watch events with the time each arrived is not kept: just the parsed lines. */
export const events = (text: string): { type: string; object: any }[] => text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
