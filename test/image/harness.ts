// What the container image tests share: building the image once per test
// file with the repository's own script, and running commands in it with
// `buildah run` (chroot isolation: no daemon, no OCI runtime, and the host's
// network, so a sandbox on the host's loopback is reachable from inside).
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const PKG = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string; description: string; license: string };

const ENV = { ...process.env, BUILDAH_ISOLATION: 'chroot' };

function onPath(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Why the image tests cannot run here, or false. CI installs both (.ci/run). */
export const skipImage: string | false = (() => {
  const missing = ['buildah', 'mmdebstrap'].filter((t) => !onPath(t));
  if (missing.length) return `${missing.join(' and ')} not installed (apt-get install -y buildah mmdebstrap)`;
  if (process.getuid?.() === 0) return false;
  // Rootless: mmdebstrap (unshare mode) and buildah both need subordinate ids.
  const user = process.env.USER ?? '';
  const mapped = (() => {
    try {
      return readFileSync('/etc/subuid', 'utf8').split('\n').some((l) => l.startsWith(`${user}:`));
    } catch {
      return false;
    }
  })();
  return mapped ? false : `not root and /etc/subuid has no range for ${user || 'this user'} (rootless buildah and mmdebstrap need one)`;
})();

/** The in-cluster test also makes a TLS certificate. */
export const skipInCluster: string | false = skipImage || (onPath('openssl') ? false : 'openssl is not installed (apt-get install -y openssl)');

export async function buildah(...args: string[]): Promise<string> {
  try {
    return (await run('buildah', args, { env: ENV, maxBuffer: 64 << 20 })).stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`buildah ${args.join(' ')} failed: ${e.stderr || e.message}`);
  }
}

export interface BuiltImage {
  tag: string;
  id: string;
  seconds: number;
  /** The script's own summary line ("built … (id, 192 MB) in 15s"). */
  summary: string;
  remove(): Promise<void>;
}

/** scripts/build-image.sh with a tag of its own; the base root filesystem comes from its cache after the first build. */
export async function buildImage(name: string): Promise<BuiltImage> {
  const tag = `localhost/kubemend-test-${name}:${process.pid}`;
  // Staging copies ~70 MB of files that are deleted right after: on tmpfs when there is room.
  const shm = (() => {
    try {
      const s = statfsSync('/dev/shm');
      return s.bavail * s.bsize > 1 << 30 ? '/dev/shm' : undefined;
    } catch {
      return undefined;
    }
  })();
  const started = performance.now();
  let out: { stdout: string; stderr: string };
  try {
    out = await run('bash', [join(REPO, 'scripts/build-image.sh'), '--tag', tag], { env: { ...ENV, ...(shm ? { TMPDIR: shm } : {}) }, maxBuffer: 16 << 20 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`scripts/build-image.sh failed: ${e.stderr || e.message}`);
  }
  return {
    tag,
    id: out.stdout.trim().split('\n').at(-1)!,
    seconds: (performance.now() - started) / 1000,
    summary: out.stderr.trim().split('\n').at(-1)!,
    // Not --force: the other test file's identical build shares the image ID (and maybe a running container); this only drops our name.
    remove: async () => void (await buildah('rmi', tag).catch(() => '')),
  };
}

/** The image's OCI configuration (User, Env, Entrypoint, Cmd, WorkingDir, Labels). */
export async function imageConfig(image: string): Promise<{ User: string; Env: string[]; Entrypoint: string[]; Cmd: string[]; WorkingDir: string; Labels: Record<string, string> }> {
  return JSON.parse(await buildah('inspect', '--type', 'image', image)).OCIv1.config;
}

export interface RunOptions {
  env?: Record<string, string>;
  /** host:container[:options], as `buildah run --volume` takes them. */
  volumes?: string[];
}

function runArgs(ctr: string, cmd: string[], o: RunOptions): string[] {
  const args = ['run'];
  for (const [k, v] of Object.entries(o.env ?? {})) args.push('--env', `${k}=${v}`);
  for (const v of o.volumes ?? []) args.push('--volume', v);
  // buildah run runs as the image's user in its working directory, but never its entrypoint: commands name it.
  return [...args, ctr, '--', ...cmd];
}

/** Runs `cmd` in a fresh container of `image`, then removes the container. */
export async function runIn(image: string, cmd: string[], o: RunOptions = {}): Promise<{ code: number; stdout: string; stderr: string; seconds: number }> {
  const ctr = (await buildah('from', '--pull-never', image)).trim();
  const started = performance.now();
  try {
    const { stdout, stderr } = await run('buildah', runArgs(ctr, cmd, o), { env: ENV, maxBuffer: 16 << 20, timeout: 120_000 });
    return { code: 0, stdout, stderr, seconds: (performance.now() - started) / 1000 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '', seconds: (performance.now() - started) / 1000 };
  } finally {
    await buildah('rm', ctr);
  }
}

export interface Running {
  child: ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
  /** SIGTERM (buildah passes it on), wait for the exit, remove the container. */
  stop(): Promise<void>;
}

/** Starts a long-running command (`kubemend serve`) in a fresh container of `image`. */
export async function startIn(image: string, cmd: string[], o: RunOptions = {}): Promise<Running> {
  const ctr = (await buildah('from', '--pull-never', image)).trim();
  const child = spawn('buildah', runArgs(ctr, cmd, o), { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.on('data', (d) => (text += d));
  child.stderr!.on('data', (d) => (text += d));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return {
    child,
    output: () => text,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
      await buildah('rm', ctr);
    },
  };
}
