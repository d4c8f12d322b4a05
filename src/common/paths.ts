// Where kubemend keeps its files on this machine: the SQLite store, the audit
// signing key and the CLI's silences all live in one data directory, so one
// flag or variable moves them together.
import { join } from 'node:path';
import { homedir } from 'node:os';

/** The data directory: `explicit` (--data-dir), else $KUBEMEND_HOME, else ~/.kubemend. */
export function dataDir(explicit?: string): string {
  return explicit ?? process.env.KUBEMEND_HOME ?? join(homedir(), '.kubemend');
}
