// The crashloop scenario with its bad deploy made on cue instead of one virtual
// minute in. A browser test must be showing its page before the incident (or
// the approval) arrives, else "it appeared live" proves nothing; with the
// deploy on a timer that meant a slow scenario speed and a race against
// serve's and Chromium's start-up. On cue, the test deploys once its page is
// ready and the rest runs as fast as the scenario's virtual time allows.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'yaml';

const SHIPPED = fileURLToPath(new URL('../../scenarios/crashloop.yaml', import.meta.url));
const KUBECTL = '/usr/bin/kubectl';
const run = promisify(execFile);

interface PatchStep { at: string; patch?: { kind: string; namespace: string; name: string; patch: unknown } }

/** The shipped scenario's bad-deploy step (the one patch in it), so the copy and the cue stay in step with the file. */
function shippedStep(): Required<PatchStep> {
  const steps = (parse(readFileSync(SHIPPED, 'utf8')) as { spec: { steps: PatchStep[] } }).spec.steps;
  const patches = steps.filter((s) => s.patch);
  if (patches.length !== 1 || patches[0].patch!.kind !== 'Deployment') throw new Error(`internal: ${SHIPPED} no longer has one Deployment patch step (the bad deploy): update test/helpers/bad-deploy.ts`);
  return patches[0] as Required<PatchStep>;
}

/** Writes the crashloop scenario without its bad-deploy step into dir, and returns the file's path (for --scenario). */
export function crashloopOnCue(dir: string): string {
  const text = readFileSync(SHIPPED, 'utf8');
  const start = text.indexOf(`    - at: ${shippedStep().at}\n`);
  const end = text.indexOf('  milestones:\n');
  if (start < 0 || end < start) throw new Error(`internal: ${SHIPPED} changed shape: update test/helpers/bad-deploy.ts`);
  const file = join(dir, 'crashloop-on-cue.yaml');
  writeFileSync(file, text.slice(0, start) + text.slice(end));
  return file;
}

/**
 * The scenario's bad deploy, now, through kubectl: the step's own strategic
 * merge patch, once checkout 1.4.2 has the three available replicas it has
 * when the step runs in the shipped scenario (the "healthy" milestone).
 */
export async function deployBadRelease(kubeconfig: string): Promise<void> {
  const { patch } = shippedStep();
  const target = [`deployment/${patch.name}`, '-n', patch.namespace, '--kubeconfig', kubeconfig];
  await run(KUBECTL, ['wait', '--for=jsonpath={.status.availableReplicas}=3', '--timeout=120s', ...target]);
  await run(KUBECTL, ['patch', ...target, '--type=strategic', '-p', JSON.stringify(patch.patch)]);
}
