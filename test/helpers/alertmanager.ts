// Debian's Alertmanager for the tests that need a real one: where the binary
// is, and a free loopback port for it. Tests skip, saying how to install it,
// when there is none.
import { accessSync, constants } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { delimiter, join } from 'node:path';

export function findAlertmanager(): string | undefined {
  const candidates = process.env.ALERTMANAGER_BIN
    ? [process.env.ALERTMANAGER_BIN]
    : (process.env.PATH ?? '').split(delimiter).flatMap((d) => [join(d, 'prometheus-alertmanager'), join(d, 'alertmanager')]);
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch { /* try the next */ }
  }
  return undefined;
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

export const NO_ALERTMANAGER = 'prometheus-alertmanager not found: install it with `.ci/alertmanager.sh install` '
  + '(runs `apt-get install -y prometheus-alertmanager`), or set ALERTMANAGER_BIN to an alertmanager binary';

export interface RunningAlertmanager {
  /** http://127.0.0.1:PORT, also its --web.external-url (the base of its links). */
  url: string;
  /** Posts alerts through its API v2, as Prometheus does. */
  post(alerts: { labels: Record<string, string>; startsAt?: string; endsAt?: string }[]): Promise<void>;
  stop(): Promise<void>;
}

/** A real Alertmanager on a free loopback port with an empty route, ready to take alerts. */
export async function startAlertmanager(bin: string): Promise<RunningAlertmanager> {
  const { spawn } = await import('node:child_process');
  const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'km-am-'));
  const config = join(dir, 'alertmanager.yml');
  writeFileSync(config, 'route: { receiver: default }\nreceivers: [{ name: default }]\n');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let log = '';
  const am = spawn(bin, [`--config.file=${config}`, `--storage.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, `--web.external-url=${url}`, '--cluster.listen-address='], { stdio: ['ignore', 'pipe', 'pipe'] });
  am.stdout!.on('data', (d) => { log += d; });
  am.stderr!.on('data', (d) => { log += d; });
  const stop = async () => {
    if (am.exitCode === null) {
      const exited = new Promise((r) => am.once('exit', r));
      am.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline || am.exitCode !== null) {
      await stop();
      throw new Error(`Alertmanager did not become ready at ${url}:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    async post(alerts) {
      const res = await fetch(`${url}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts) });
      if (!res.ok) throw new Error(`posting alerts: HTTP ${res.status} ${await res.text()}`);
    },
    stop,
  };
}
