// What several commands share: where the shipped rules, runbooks and policy
// are, and waiting for Ctrl-C or a termination signal.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { KubemendError, Errors } from '../common/index.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SHIPPED_RULES = join(ROOT, 'rules');
export const SHIPPED_RUNBOOKS = join(ROOT, 'runbooks');
export const DEFAULT_POLICY = join(ROOT, 'config/chat-policy.csv');

/** Resolves on the first SIGINT or SIGTERM (or when resolved by hand); the handlers are removed then. */
export function untilSignal(): PromiseWithResolvers<void> {
  const p = Promise.withResolvers<void>();
  const on = () => p.resolve();
  process.once('SIGINT', on);
  process.once('SIGTERM', on);
  void p.promise.then(() => {
    process.off('SIGINT', on);
    process.off('SIGTERM', on);
  });
  return p;
}

/** "127.0.0.1:8080", "[::1]:0", ":9090" → host and port. */
export function splitListen(v: string, flag = '--listen'): [string, number] {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(v);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new KubemendError(Errors.BAD_FLAG, `${flag} "${v}" is not HOST:PORT (e.g. 127.0.0.1:8080, or port 0 for a free one)`);
  return [m[1] ?? (m[2] || '127.0.0.1'), port];
}
