// Kubernetes resource quantities ("512Mi", "1.5Gi", "250m", "2") as numbers,
// so limits and usage can be compared and summed.

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** The quantity's value in base units (bytes, cores). Throws on malformed input. */
export function parseQuantity(q: string | number): number {
  if (typeof q === 'number') return q;
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E))?$/.exec(q.trim());
  if (!m) throw new RangeError(`invalid quantity "${q}": expected forms like 512Mi, 1Gi, 250m or 2`);
  const n = Number(m[1]);
  if (m[2]) return n * 10 ** Number(m[2].slice(1));
  const suffix = m[3] ?? '';
  return n * (BINARY[suffix] ?? DECIMAL[suffix]);
}

/** Like parseQuantity but undefined for missing or malformed input. */
export function tryQuantity(q: unknown): number | undefined {
  if (typeof q !== 'string' && typeof q !== 'number') return undefined;
  try {
    return parseQuantity(q);
  } catch {
    return undefined;
  }
}

/** Bytes rendered in the largest binary unit that keeps an integer-ish value (e.g. 512Mi). */
export function formatBytes(bytes: number): string {
  for (const u of ['Ei', 'Pi', 'Ti', 'Gi', 'Mi', 'Ki'] as const) {
    const v = bytes / BINARY[u];
    if (v >= 1 && Number.isInteger(Math.round(v * 100) / 100)) return `${Math.round(v * 100) / 100}${u}`;
  }
  for (const u of ['Gi', 'Mi', 'Ki'] as const) if (bytes >= BINARY[u]) return `${Math.round((bytes / BINARY[u]) * 10) / 10}${u}`;
  return String(Math.round(bytes));
}

/** CPU cores rendered in millicores ("250m") or whole cores ("2"). */
export function formatCpu(cores: number): string {
  const milli = Math.round(cores * 1000);
  return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
}
