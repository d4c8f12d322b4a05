// Image references as containerd reports them: normalized names, repo
// digests and sizes, derived from the reference so they are stable.
import { createHash } from 'node:crypto';

/** `nginx:1.27` → `docker.io/library/nginx:1.27`, as containerd reports it. */
export function normalizeImage(ref: string): string {
  let name = ref;
  let suffix = ':latest';
  const at = ref.indexOf('@');
  if (at >= 0) {
    name = ref.slice(0, at);
    suffix = ref.slice(at);
  } else {
    const slash = ref.lastIndexOf('/');
    const colon = ref.lastIndexOf(':');
    if (colon > slash) {
      name = ref.slice(0, colon);
      suffix = ref.slice(colon);
    }
  }
  const first = name.split('/')[0];
  const hasDomain = name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasDomain) name = name.includes('/') ? `docker.io/${name}` : `docker.io/library/${name}`;
  return name + suffix;
}

function digestOf(normalized: string): string {
  return createHash('sha256').update(normalized).digest('hex');
}

/** `docker.io/library/nginx@sha256:…`: the repo digest a runtime reports as imageID. */
export function imageIDOf(normalized: string): string {
  const at = normalized.indexOf('@');
  if (at >= 0) return normalized;
  const repo = normalized.slice(0, normalized.lastIndexOf(':'));
  return `${repo}@sha256:${digestOf(normalized)}`;
}

/** A stable, plausible compressed size for an image (5–200 MB). */
export function imageSizeOf(normalized: string): number {
  return 5_000_000 + (parseInt(digestOf(normalized).slice(0, 8), 16) % 195_000_000);
}
