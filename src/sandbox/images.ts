// The sandbox's container registry: which images exist and how a container
// running each one behaves. Scenarios add images; anything not in the catalog
// fails to pull (ErrImagePull), as an unknown image does on a real cluster.
// For the public images whose published tags the sandbox knows (registry.ts),
// a catalogue entry for the whole repository covers only those tags, so
// `nginx:1.999` fails to pull as it does from Docker Hub.
import { isPublished, shortRepo } from './registry.ts';

export interface ImageBehaviour {
  /** Seconds to pull (default 2). */
  pullSeconds?: number;
  /** Seconds from start until the container is ready (default 2). */
  readySeconds?: number;
  /** Never becomes ready (a failing readiness probe). */
  neverReady?: boolean;
  /** The process exits this many seconds after starting. */
  exitAfterSeconds?: number;
  /** Exit code when it exits (default 1; 0 means it completed, as a Job's pod does). */
  exitCode?: number;
  /** Memory the process uses at start, in MiB (default 32). */
  memoryMi?: number;
  /** Memory growth in MiB per minute: a leak. */
  leakMiPerMinute?: number;
  /** CPU in millicores, for the HPA's utilisation (default 50). */
  cpuMilli?: number;
  /** Log lines written at start; `{pod}` and `{container}` are replaced. */
  logs?: string[];
  /** Log lines written just before an exit. */
  exitLogs?: string[];
}

export type ImageCatalog = Map<string, ImageBehaviour>;

/** Images every sandbox has, so `kubectl create deployment web --image=nginx` works. */
export const BUILTIN_IMAGES: Record<string, ImageBehaviour> = {
  'nginx': { logs: ['/docker-entrypoint.sh: Configuration complete; ready for start up'] },
  // Images whose default command is a shell or a REPL: with no terminal
  // attached it reads end-of-file and exits 0.
  'busybox': { exitAfterSeconds: 1, exitCode: 0 },
  'alpine': { exitAfterSeconds: 1, exitCode: 0 },
  'python': { exitAfterSeconds: 1, exitCode: 0 },
  'node': { exitAfterSeconds: 1, exitCode: 0 },
  'registry.k8s.io/pause': {},
  'redis': { logs: ['* Ready to accept connections tcp'] },
  'postgres': { memoryMi: 128, logs: ['database system is ready to accept connections'] },
  'httpd': { logs: ['AH00489: Apache/2.4 (Unix) configured -- resuming normal operations'] },
  'mysql': { memoryMi: 360, logs: ['/usr/sbin/mysqld: ready for connections.'] },
  'prom/prometheus': { memoryMi: 256, logs: ['Server is ready to receive web requests.'] },
  'grafana/grafana': { memoryMi: 128 },
  'quay.io/prometheus/node-exporter': { memoryMi: 16 },
};

const DOMAIN = String.raw`(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?`;
const PATH = String.raw`[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`;
/** distribution/reference's grammar (a domain needs a dot, a port or to be localhost), plus the catalogue's `:*`. */
const REFERENCE = new RegExp(String.raw`^(?:${DOMAIN}/)?${PATH}(?:/${PATH})*(?::(?:[\w][\w.-]{0,127}|\*))?(?:@sha256:[0-9a-f]{64})?$`);

export function isImageReference(ref: string): boolean {
  return imageNameError(ref.endsWith(':*') ? ref.slice(0, -2) : ref) === undefined;
}

/** Why a container's image cannot be parsed, in distribution/reference's words (the kubelet's InvalidImageName); undefined when it can. */
export function imageNameError(ref: string): string | undefined {
  if (!ref || ref.endsWith(':*')) return 'invalid reference format';
  const slash = ref.indexOf('/');
  const first = slash < 0 ? '' : ref.slice(0, slash);
  const hasDomain = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  const rest = hasDomain ? ref.slice(slash + 1) : ref;
  const name = rest.split('@')[0].replace(/:[^/]*$/, '');
  const remote = hasDomain || name.includes('/') ? name : `library/${name}`;
  if (REFERENCE.test(ref.toLowerCase()) && remote !== remote.toLowerCase()) {
    return `invalid reference format: repository name (${remote}) must be lowercase`;
  }
  if (!REFERENCE.test(ref) || ref.length > 255 + 130) return 'invalid reference format';
  return undefined;
}

/** Splits `repo/name:tag` into repository and tag (digest references keep their digest). */
export function parseImage(ref: string): { repo: string; tag: string } {
  const at = ref.indexOf('@');
  if (at >= 0) return { repo: ref.slice(0, at), tag: ref.slice(at + 1) };
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { repo: ref, tag: 'latest' };
}

export function createCatalog(extra: Record<string, ImageBehaviour> = {}): ImageCatalog {
  return new Map(Object.entries({ ...BUILTIN_IMAGES, ...extra }));
}

/** Whether the catalogue has any tag of the image's repository: then the repository exists and a missing tag is "not found". */
export function knowsRepository(catalog: ImageCatalog, ref: string): boolean {
  const names = new Set([parseImage(ref).repo, shortRepo(parseImage(ref).repo)]);
  for (const key of catalog.keys()) {
    const at = key.indexOf('@');
    const repo = at >= 0 ? key.slice(0, at) : parseImage(key).repo;
    if (names.has(repo) || names.has(shortRepo(repo)) || names.has(key)) return true;
  }
  return false;
}

/**
 * Finds how an image behaves: an exact `repo:tag` entry, then `repo:*` or a
 * bare `repo` (any tag — any published tag for a repository whose tags the
 * sandbox knows), then `*` (everything). Undefined means the image does not
 * exist.
 */
export function lookupImage(catalog: ImageCatalog, ref: string): ImageBehaviour | undefined {
  const { repo, tag } = parseImage(ref);
  const names = [...new Set([repo, shortRepo(repo)])];
  for (const r of names) {
    const exact = catalog.get(`${r}:${tag}`);
    if (exact) return exact;
  }
  if (isPublished(repo, tag) !== false) {
    for (const r of names) {
      const hit = catalog.get(`${r}:*`) ?? catalog.get(r);
      if (hit) return hit;
    }
  }
  return catalog.get('*');
}
