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
