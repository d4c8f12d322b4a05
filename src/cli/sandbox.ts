// `kubemend sandbox`: an embedded cluster kubectl can drive, optionally
// replaying a scenario. Runs until SIGINT/SIGTERM, then exits 0.
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import type { Command } from 'commander';
import { formatDuration, KubemendError, Errors } from '../common/index.ts';
import { Sandbox, isImageReference, resolveScenario, ScenarioRunner, sandboxOptionsFor, type LoadedScenario } from '../sandbox/index.ts';
import { badValue, parsePort, parseRbacMode, parseSpeed, parseStaticUser, type StaticUserFlag } from './flags.ts';

/**
 * An image reference as a registry names it (`shop/web:1`,
 * `registry.example.com/team/api:2.0`, `shop/web:*`). Here, not in flags.ts:
 * the check is the sandbox's, and flags.ts is loaded by commands that must
 * start without loading the sandbox.
 */
export function parseImageRef(v: string, previous: string[] = []): string[] {
  if (!isImageReference(v)) {
    throw badValue(`"${v}" is not an image reference; use [registry/]repository[:tag], lower-case (e.g. shop/web:1, registry.example.com/team/api:2.0, shop/web:* for every tag).`);
  }
  return [...previous, v];
}

export interface SandboxFlags {
  port: number;
  host: string;
  kubeconfigOut?: string;
  scenario?: string;
  speed?: number;
  exitWhenDone?: boolean;
  stateFile?: string;
  image?: string[];
  rbac?: 'enforce' | 'off';
  user?: StaticUserFlag[];
}

export function registerSandbox(program: Command): void {
  program
    .command('sandbox')
    .description('Start an embedded Kubernetes API server (kubectl works against it), optionally replaying a scenario')
    .option('--port <n>', 'port to listen on (0 picks a free one)', parsePort, 0)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--kubeconfig-out <path>', 'where to write the kubeconfig (default: <tmpdir>/kubemend-sandbox.kubeconfig)')
    .option('--scenario <name|file>', 'replay a scenario: a name from scenarios/ or a path to a scenario YAML file')
    .option('--speed <x>', 'virtual time runs x times faster than real time (default: the scenario\'s, else 1)', parseSpeed)
    .option('--exit-when-done', 'exit when the scenario has finished (exit 1 if a milestone was missed)')
    .option('--image <ref>', 'an image the sandbox registry serves besides the public ones it knows (a private image, a tag not yet published): runs until stopped; repeat for more; `repo:*` for every tag', parseImageRef)
    .option('--rbac <mode>', 'enforce (the default, unless the scenario says off): every request is authorized by RBAC, as kube-apiserver does; off: every request is served', parseRbacMode)
    .option('--user <name:token[:groups]>', 'a static token user (repeatable): whoever sends the bearer token is NAME, in the comma-separated GROUPS', parseStaticUser)
    .option('--state-file <path>', 'keep the cluster (and the scenario\'s progress) in this file: restored from it when it exists, saved while running, so a restart continues where the last run stopped')
    .action(async (flags: SandboxFlags) => {
      await runSandbox(flags);
    });
}

export async function runSandbox(flags: SandboxFlags, out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<void> {
  const loaded: LoadedScenario | undefined = flags.scenario ? resolveScenario(flags.scenario) : undefined;
  const speed = flags.speed ?? loaded?.scenario.spec.speed ?? 1;
  const stateFile = flags.stateFile && resolve(flags.stateFile);
  // A cluster you start to try things on enforces RBAC as a real one does; a scenario may say it does not care.
  const rbac = flags.rbac ?? loaded?.scenario.spec.rbac ?? 'enforce';
  const users = [...(loaded?.scenario.spec.users ?? []), ...(flags.user ?? [])];
  const base = loaded ? sandboxOptionsFor(loaded.scenario, { speed, stateFile }) : { speed, stateFile, scenario: null };
  const sandbox = new Sandbox({ ...base, rbac, users });
  // After a restore too: the flag adds to whatever the saved registry holds.
  for (const ref of flags.image ?? []) if (!sandbox.images.has(ref)) sandbox.images.set(ref, {});
  let url: string;
  try {
    ({ url } = await sandbox.listen({ port: flags.port, host: flags.host }));
  } catch (err) {
    await sandbox.stop();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new KubemendError(Errors.PORT_IN_USE, `port ${flags.port} on ${flags.host} is already in use`);
    }
    throw err;
  }
  const kubeconfig = resolve(flags.kubeconfigOut ?? `${tmpdir()}/kubemend-sandbox.kubeconfig`);
  try {
    mkdirSync(dirname(kubeconfig), { recursive: true });
    writeFileSync(kubeconfig, sandbox.kubeconfig(), { mode: 0o600 });
  } catch (err) {
    await sandbox.stop();
    throw new KubemendError(Errors.KUBECONFIG_WRITE, `cannot write kubeconfig to ${kubeconfig}: ${(err as Error).message}`);
  }
  out(`kubemend sandbox listening on ${url}`);
  out(`kubeconfig: ${kubeconfig}`);
  out(`speed: ${speed}x virtual time`);
  out(rbac === 'enforce'
    ? 'rbac: enforced — kubectl sends no credentials over plain HTTP, so it is system:unsecured (system:masters): use --as to act as someone; a client sending a bearer token (a service account\'s, a --user\'s) is held to its RBAC; --rbac off serves every request'
    : 'rbac: off — every request is served; access reviews (kubectl auth can-i) still answer from RBAC');
  for (const u of users) out(`user: ${u.name}${u.groups?.length ? ` (groups ${u.groups.join(', ')})` : ''} authenticates with its token`);
  if (stateFile) {
    const r = sandbox.restored;
    out(r ? `state: restored ${r.objectCount} objects from ${stateFile} (saved at ${new Date(r.savedAt).toISOString()} virtual)` : `state: saving to ${stateFile}`);
  }
  out('');
  out('Try, in another shell:');
  out(`  export KUBECONFIG=${kubeconfig}`);
  out('  kubectl get nodes');
  out('  kubectl get pods -A -w');
  out('  kubectl get events -A --field-selector type!=Normal');
  out('');

  let runner: ScenarioRunner | undefined;
  const stamp = () => `[+${formatDuration(runner?.elapsedMs ?? 0).padStart(6)}]`;
  if (loaded) {
    const s = loaded.scenario;
    out(`scenario ${s.metadata.name}: ${s.metadata.description ?? ''}`);
    runner = new ScenarioRunner(sandbox, s, {
      onStep: (step) => step.name && out(`${stamp()} step: ${step.name}`),
      onMilestone: (m) => out(`${stamp()} ${m.missed ? 'late' : 'reached'}: ${m.name}${m.description ? ` — ${m.description}` : ''}`),
      onError: (step, err) => out(`${stamp()} step failed (${step.name ?? 'unnamed'}): ${(err as Error).message}`),
    }).start();
    const resumed = runner.resumed;
    if (resumed) {
      const reached = resumed.milestones.filter((m) => m.reachedAtMs !== undefined).map((m) => m.name);
      out(`${stamp()} resumed: ${resumed.appliedSteps.length} of ${s.spec.steps.length} steps already applied; reached before: ${reached.join(', ') || 'none'}`);
    }
    void runner.finished.then((report) => {
      const missed = report.milestones.filter((m) => m.missed).map((m) => m.name);
      out(`${stamp()} scenario finished: ${missed.length ? `missed ${missed.join(', ')}` : 'every milestone reached'}; the cluster keeps running (Ctrl-C to stop)`);
      if (flags.exitWhenDone) {
        if (missed.length) process.exitCode = 1;
        stopSignal.resolve();
      }
    });
  }

  const stopSignal = Promise.withResolvers<void>();
  const onSignal = () => stopSignal.resolve();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  await stopSignal.promise;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  runner?.stop();
  await sandbox.stop();
  out('sandbox stopped');
}
