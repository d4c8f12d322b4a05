// Where kubemend keeps its data on this machine.
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The data directory: the explicit one, else $KUBEMEND_HOME, else ~/.kubemend. */
export function dataDir(explicit?: string): string {
  return explicit ?? process.env.KUBEMEND_HOME ?? join(homedir(), '.kubemend');
}
