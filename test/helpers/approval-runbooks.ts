// The shipped runbooks with an approval step before bad-deploy's rollback,
// for the tests that decide an approval (in a Slack thread, in the console).
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SHIPPED = fileURLToPath(new URL('../../runbooks', import.meta.url));

/** Copies the shipped runbooks into DIR/runbooks, bad-deploy asking sre-leads before it rolls back; returns that folder. */
export function runbooksWithApproval(dir: string): string {
  const runbooks = join(dir, 'runbooks');
  cpSync(SHIPPED, runbooks, { recursive: true });
  const badDeploy = join(runbooks, 'bad-deploy.yaml');
  writeFileSync(badDeploy, readFileSync(badDeploy, 'utf8').replace('    - id: rollback\n', [
    '    - id: approve',
    '      action: approval',
    '      with: { group: sre-leads, summary: "roll back {{ target.namespace }}/{{ target.name }}", timeout: 30m }',
    '      timeout: 1h',
    '    - id: rollback',
    '',
  ].join('\n')));
  return runbooks;
}
