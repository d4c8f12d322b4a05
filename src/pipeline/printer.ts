// Sinks that print: progress lines for people (`run`, `demo`, `chat`) and
// JSON lines or a table for `watch`. They only format; what happens is the
// other sinks' business.
import type { DetectionChange, Detection } from '../rules/index.ts';
import type { RunbookExecutor } from '../runbooks/index.ts';
import { subjectText, type Sink } from './sink.ts';

/** One line per detection change that matters ("detection opened: crashloop-backoff deployment/shop/checkout"). */
export class LinePrinter implements Sink {
  readonly name = 'printer';
  private readonly out: (line: string) => void;
  private readonly format: (d: Detection, change: DetectionChange) => string | undefined;

  constructor(out: (line: string) => void, format: (d: Detection, change: DetectionChange) => string | undefined = progressLine) {
    this.out = out;
    this.format = format;
  }

  onDetection(d: Detection, change: DetectionChange): void {
    const line = this.format(d, change);
    if (line !== undefined) this.out(line);
  }
}

export function progressLine(d: Detection, change: DetectionChange): string | undefined {
  if (change === 'repeated') return undefined;
  return `detection ${change}: ${d.rule}${d.cluster !== 'sandbox' ? ` ${d.cluster}` : ''} ${subjectText(d)}`;
}

/** `watch`'s table row, or every change as one JSON object. Repeats print every 50th in the table. */
export function watchLine(json: boolean, now: () => number): (d: Detection, change: DetectionChange) => string | undefined {
  return (d, change) => {
    if (json) return JSON.stringify({ change, ...d });
    if (change === 'repeated' && d.count % 50 !== 0) return undefined;
    return `${new Date(now()).toISOString()} ${d.cluster.padEnd(14)} ${change.padEnd(8)} ${d.rule.padEnd(28)} ${subjectText(d).padEnd(40)} x${d.count} ${d.severity} ${d.summary}`;
  };
}

/** Prints every step transition and run end. */
export function printRuns(executor: RunbookExecutor, out: (line: string) => void): void {
  executor.on({
    onTransition: (run, t) => out(`run ${run.id.slice(0, 8)} ${run.runbook} step ${t.stepId}: ${t.status}${t.error ? ` (${t.error})` : ''}`),
    onRunEnd: (run) => out(`run ${run.id.slice(0, 8)} ${run.runbook} ${run.status}`),
  });
}
