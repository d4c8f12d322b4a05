// Parsers for command-line values: a bad value is a KM-CLI-001 (BAD_FLAG)
// error that names the value and the accepted form.
import { InvalidArgumentError } from 'commander';
import { Errors, withCode } from '../common/index.ts';

/** Commander's error for a value a flag cannot take, rendered from the registry's BAD_FLAG entry. */
export function badValue(message: string): InvalidArgumentError {
  return new InvalidArgumentError(withCode(Errors.BAD_FLAG, message));
}

export function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw badValue(`"${v}" is not a port; use 0–65535 (0 picks a free port).`);
  return n;
}

export function parseSpeed(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > 10_000) throw badValue(`"${v}" is not a speed; use a number above 0 and up to 10000 (e.g. 1, 10, 60).`);
  return n;
}

/** `--rbac enforce|off`. */
export function parseRbacMode(v: string): 'enforce' | 'off' {
  if (v !== 'enforce' && v !== 'off') throw badValue(`"${v}" is not an RBAC mode; use enforce (authorize every request, as kube-apiserver does) or off (serve every request).`);
  return v;
}

export interface StaticUserFlag {
  name: string;
  token: string;
  groups?: string[];
}

/** `--user NAME:TOKEN[:GROUP,GROUP…]`: a static token user, as a line of kube-apiserver's token file names one. */
export function parseStaticUser(v: string, previous: StaticUserFlag[] = []): StaticUserFlag[] {
  const m = /^([^:\s]+):([^:\s]+)(?::([^:\s]*))?$/.exec(v);
  if (!m) throw badValue(`"${v}" is not a user; use NAME:TOKEN or NAME:TOKEN:GROUP,GROUP (e.g. carol:carol-token:shop,devs); no spaces or extra colons.`);
  const groups = (m[3] ?? '').split(',').filter(Boolean);
  if (previous.some((u) => u.token === m[2])) throw badValue(`the token of "${m[1]}" is already another --user's; each user needs a token of their own.`);
  return [...previous, { name: m[1], token: m[2], ...(groups.length ? { groups } : {}) }];
}
