// Debian's official Kubernetes Python client (python3-kubernetes), driven as a
// client nobody here wrote: a script runs under /usr/bin/python3 (the pyenv
// python on PATH cannot see Debian's packages) and prints one JSON document.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PYTHON = '/usr/bin/python3';

export const hasPythonClient: boolean = (() => {
  try {
    execFileSync(PYTHON, ['-c', 'import kubernetes.client, kubernetes.watch, kubernetes.config'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

export const pythonSkip = hasPythonClient ? false : 'Debian\'s python3-kubernetes is not installed (apt-get install python3-kubernetes)';

/** Lines every script starts with: the client configured from KUBECONFIG, and `api_error(e)` for ApiExceptions. */
const PRELUDE = `
import json, os, sys, time, threading
from kubernetes import client, config, watch
from kubernetes.client.exceptions import ApiException
config.load_kube_config(config_file=os.environ['KUBECONFIG'])
v1 = client.CoreV1Api()
out = {}
def api_error(e):
    try:
        body = json.loads(e.body) if e.body else None
    except ValueError:
        body = e.body
    return {'status': e.status, 'reason': e.reason, 'body': body}
`;

/**
 * Runs `body` (Python, indented at the top level) with `v1`, `client`, `watch`
 * and an `out` dict in scope; resolves with `out` as it stands at the end.
 */
export async function runPython(kubeconfig: string, body: string, timeoutMs = 90_000): Promise<Record<string, any>> {
  const dir = mkdtempSync(join(tmpdir(), 'km-py-'));
  const file = join(dir, 'script.py');
  writeFileSync(file, `${PRELUDE}\n${body}\nprint(json.dumps(out, default=str))\n`);
  try {
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(PYTHON, [file], { env: { ...process.env, KUBECONFIG: kubeconfig }, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, so, se) => {
        if (err) reject(new Error(`python failed: ${err.message}\n${se}`));
        else resolve(so);
      });
    });
    return JSON.parse(stdout.trim().split('\n').pop()!);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
