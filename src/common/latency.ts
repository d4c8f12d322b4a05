// Marks on the path from a write to its remediation, for the latency
// histograms in metrics.ts: when an informer received the watch event (carried
// on the signal as `seenAt`), when the detection change reached the sinks
// (kept here, beside the detection object, without touching what is stored),
// when the run was launched and when it sent its first request (the executor).
// Real monotonic time, not the injected clock: these measure kubemend's own
// work, which a virtual clock standing still would hide.
import type { Histogram } from 'prom-client';

/** A mark: real milliseconds from an arbitrary origin (performance.now()). */
export const latencyNow = (): number => performance.now();

const emitted = new WeakMap<object, number>();

/** The detection (the engine's object, as the sinks get it) reached the sinks now. */
export function markEmitted(detection: object, at = latencyNow()): void {
  emitted.set(detection, at);
}

/** When the detection last reached the sinks, if it was marked. */
export function emittedAt(detection: object | undefined): number | undefined {
  return detection ? emitted.get(detection) : undefined;
}

/** Gets every latency observed, by histogram name, in seconds. */
export type LatencyListener = (metric: string, seconds: number) => void;

const listeners = new Set<LatencyListener>();

/** Hears each observation as it is made (what a histogram's buckets round off: the benchmark's percentiles); returns the unsubscribe. */
export function onLatency(listener: LatencyListener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Observes the seconds from `since` to `at` (nothing without a start mark). */
export function observeSince(h: Histogram, since: number | undefined, at = latencyNow()): void {
  if (since === undefined) return;
  const seconds = Math.max(0, at - since) / 1000;
  h.observe(seconds);
  if (listeners.size) for (const l of listeners) l((h as unknown as { name: string }).name, seconds);
}
