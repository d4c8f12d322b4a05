// Remediation as a sink: detections whose rule names a runbook start runs
// through the Remediator (cool-down, one run per detection at a time), and
// the executor's refusals (lock held, budget, pause) are audited by the
// executor itself as `runbook.run.refused`. Also owns resuming the runs
// that were in flight when the last process stopped.
import type { DetectionChange, Detection, Notification } from '../rules/index.ts';
import type { Remediator, RunbookExecutor } from '../runbooks/index.ts';
import type { RunRecord } from '../store/index.ts';
import type { Sink } from './sink.ts';

export class RemediationSink implements Sink {
  readonly name = 'remediation';
  readonly executor: RunbookExecutor;
  /** Undefined when detections do not start runs (the executor serves chat alone). */
  private readonly remediator?: Remediator;
  private readonly log?: (line: string) => void;
  private readonly written: () => Promise<void>;
  private readonly notify?: (n: Notification) => void;

  /** `written` resolves once the records of runs not started (skips, offers) handed in so far are written. */
  constructor(executor: RunbookExecutor, remediator: Remediator | undefined, log?: (line: string) => void, written: () => Promise<void> = async () => {}, notify?: (n: Notification) => void) {
    this.executor = executor;
    this.notify = notify;
    this.remediator = remediator;
    this.log = log;
    this.written = written;
  }

  async start(): Promise<void> {
    const { resumed, abandoned } = await this.executor.resumeInFlight();
    if (resumed) this.log?.(`resuming ${resumed} run(s) that were in flight`);
    if (abandoned) this.log?.(`abandoned ${abandoned} run(s) that cannot resume here (reasons in the audit log: kubemend audit list --action runbook.run.abandoned)`);
  }

  onDetection(d: Detection, change: DetectionChange): void {
    this.remediator?.onDetection(d, change);
  }

  /** A new leader's catch-up on a detection opened before it led (Remediator.adopt). */
  adopt(d: Detection, last: RunRecord | undefined): void {
    this.remediator?.adopt(d, last);
  }

  /** The engine's notifications for rules whose action is `notify`; only when detections remediate (a chat-only executor sends none). */
  onNotify(n: Notification): void {
    if (this.remediator) this.notify?.(n);
  }

  async flush(): Promise<void> {
    await this.executor.idle();
    await this.written();
  }

  async stop(): Promise<void> {
    // Runs in flight stay `running` in the store: the next start resumes them.
    await this.executor.suspendAll();
  }
}
