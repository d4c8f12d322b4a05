// Retry-After (RFC 9110 §10.2.3): delta-seconds, or an HTTP date — a
// wall-clock time the server wrote, so it is compared with the wall clock,
// not with kubemend's (possibly virtual) one.

/** The wait a Retry-After value asks for, in ms; undefined when absent or unreadable. */
export function retryAfterMs(value: string | null | undefined): number | undefined {
  const v = value?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
