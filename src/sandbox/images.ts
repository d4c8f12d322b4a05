// The sandbox's container registry: which images exist and how a container
// running each one behaves. Scenarios add images; anything not in the catalog
// fails to pull (ErrImagePull), as an unknown image does on a real cluster.

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
  'busybox': { exitAfterSeconds: 1, exitCode: 0 },
  'registry.k8s.io/pause': {},
  'redis': { logs: ['* Ready to accept connections tcp'] },
  'postgres': { memoryMi: 128, logs: ['database system is ready to accept connections'] },
  'prom/prometheus': { memoryMi: 256, logs: ['Server is ready to receive web requests.'] },
  'grafana/grafana': { memoryMi: 128 },
  'quay.io/prometheus/node-exporter': { memoryMi: 16 },
};

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

/**
 * Finds how an image behaves: an exact `repo:tag` entry, then `repo:*` or a
 * bare `repo` (any tag), then `*` (everything). Undefined means the image does
 * not exist.
 */
export function lookupImage(catalog: ImageCatalog, ref: string): ImageBehaviour | undefined {
  const { repo, tag } = parseImage(ref);
  const stripped = repo.replace(/^docker\.io\/(library\/)?/, '');
  for (const r of [repo, stripped]) {
    const hit = catalog.get(`${r}:${tag}`) ?? catalog.get(`${r}:*`) ?? catalog.get(r);
    if (hit) return hit;
  }
  return catalog.get('*');
}
