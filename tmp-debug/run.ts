import { writeFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startFakes, serviceConfig, serviceEnv } from '../test/helpers/notify-fakes.ts';
import { startServe, scrape } from '../test/helpers/serve-process.ts';
const afters: (() => unknown)[] = [];
const f = await startFakes({ after: (x) => afters.push(x) });
const dir = mkdtempSync(join(tmpdir(), 'km-dbg-'));
writeFileSync(join(dir, 'k.yaml'), serviceConfig(f));
const s = await startServe(['--sandbox', '--scenario', 'crashloop', '--speed', '10', '--config', join(dir, 'k.yaml'), '--listen', '127.0.0.1:0', '--data-dir', join(dir, 'data')], serviceEnv(f));
for (let i = 0; i < 12; i++) {
  await new Promise((r) => setTimeout(r, 10_000));
  const m = await scrape(s.base);
  console.log(i, [...m].filter(([k]) => k.startsWith('kubemend_notify')).map(([k, v]) => `${k}=${v}`).join(' '));
  console.log('  slack', f.slack.calls.length, 'pd', f.pd.requests.length, 'mail', f.mail.mails.length);
}
console.log(s.output().split('\n').filter((l) => !l.startsWith('[')).slice(-25).join('\n'));
await s.stop();
for (const a of afters) await a();
