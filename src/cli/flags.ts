// Parsers for command-line values: a bad value is a KM-CLI-001 error that
// names the flag and the accepted form.
import { InvalidArgumentError } from 'commander';

export function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`KM-CLI-001 "${v}" is not a port; use 0–65535 (0 picks a free port).`);
  return n;
}

export function parseSpeed(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > 10_000) throw new InvalidArgumentError(`KM-CLI-001 "${v}" is not a speed; use a number above 0 and up to 10000 (e.g. 1, 10, 60).`);
  return n;
}
