// The detection recorder: every detection change that matters (not the
// repeats, which only bump a counter) is stored and audited. Writes start in
// the order the engine made the changes — so `detection.opened` precedes the
// `runbook.run.started` it caused in the chain — are retried on failure, and
// a write that still fails is logged and counted, never dropped silently.
// Every phase of a smoke window after a rollout is audited too (smoke.started,
// smoke.passed, smoke.failed …), so a post-mortem can tell whether a smoke
// test ran after a change. `flush()` waits for every write handed in so far.
import pRetry from 'p-retry';
import { detectionRecordFailuresTotal, type Clock } from '../common/index.ts';
import type { Store } from '../store/index.ts';
import type { DetectionChange, Detection, Signal } from '../rules/index.ts';
import type { Sink } from './sink.ts';

export interface RecorderOptions {
  store: Store;
  clock: Clock;
  log?: (line: string) => void;
  /** Attempts per write before giving up (default 4). */
  attempts?: number;
  /** First back-off in real ms (default 100; doubles). */
  minTimeoutMs?: number;
}

export class DetectionRecorder implements Sink {
  readonly name = 'recorder';
  private readonly o: RecorderOptions;
  private readonly pending = new Set<Promise<void>>();
  /** Writes that failed after every attempt, for status pages and tests. */
  failures = 0;

  constructor(o: RecorderOptions) {
    this.o = o;
  }

  /** Smoke windows, before the engine judges them: `smoke.failed` precedes the detection it opens in the chain. */
  observe(signal: Signal): void {
    const r = signal.rollout;
    if (signal.source !== 'rollout' || !r) return;
    const w = r.change.workload;
    this.track(this.write(`audit smoke.${r.phase} ${r.id}`, () => this.o.store.audit.append({
      time: r.time,
      actor: { type: 'system', name: 'smoke-check' },
      action: `smoke.${r.phase}`,
      target: { cluster: r.cluster, kind: w.kind, namespace: w.namespace, name: w.name },
      outcome: r.phase === 'passed' ? 'success' : r.phase === 'failed' ? 'failure' : 'info',
      data: { ...r },
    })));
  }

  onDetection(d: Detection, change: DetectionChange): void {
    if (change === 'repeated') return;
    // A snapshot now: the engine keeps mutating its detection object.
    const snapshot = structuredClone(d);
    const audit = this.write(`audit detection.${change} ${d.id}`, () => this.o.store.audit.append({
      time: this.o.clock.now(),
      actor: { type: 'rule', name: d.rule },
      action: `detection.${change}`,
      target: { cluster: d.cluster, kind: d.subject.kind, namespace: d.subject.namespace, name: d.subject.name },
      outcome: 'info',
      detectionId: d.id,
      data: { severity: d.severity, summary: d.summary, count: d.count, fingerprint: d.fingerprint, ...(d.silencedBy ? { silencedBy: d.silencedBy } : {}) },
    }));
    const put = this.write(`store detection ${d.id}`, () => this.o.store.putDetection(snapshot));
    this.track(audit);
    this.track(put);
  }

  async flush(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  private track(p: Promise<void>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private async write(what: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await pRetry(fn, {
        retries: (this.o.attempts ?? 4) - 1,
        minTimeout: this.o.minTimeoutMs ?? 100,
        // Only what may pass: a full disk or a dropped connection, not a bad record.
        shouldRetry: ({ error }) => (error as { retryable?: boolean }).retryable !== false,
      });
    } catch (err) {
      this.failures++;
      detectionRecordFailuresTotal.inc();
      this.o.log?.(`error: could not ${what}: ${(err as Error).message}`);
    }
  }
}
