// Where `notify` steps and escalations go. Chat adapters (Slack, Mattermost)
// implement Notifier later; every notification is also audited.
import type { Clock } from '../common/index.ts';
import type { AuditLog } from '../audit/index.ts';
import type { Notification, Notifier } from './types.ts';

/** Keeps notifications in memory (tests, `kubemend run` summaries). */
export class CollectingNotifier implements Notifier {
  readonly sent: (Notification & { time: number })[] = [];
  private readonly clock: Clock;

  constructor(clock: Clock) {
    this.clock = clock;
  }

  async send(n: Notification): Promise<void> {
    this.sent.push({ ...n, time: this.clock.now() });
  }
}

/** Writes each notification to a line sink (the terminal). */
export class LineNotifier implements Notifier {
  private readonly out: (line: string) => void;

  constructor(out: (line: string) => void) {
    this.out = out;
  }

  async send(n: Notification): Promise<void> {
    this.out(`notify #${n.channel} [${n.severity ?? 'info'}] ${n.title}${n.text ? ` — ${n.text.split('\n')[0]}` : ''}`);
  }
}

/** Fans out to several notifiers and records each notification in the audit log. */
export class AuditedNotifier implements Notifier {
  private readonly targets: Notifier[];
  private readonly audit: AuditLog;
  private readonly clock: Clock;

  constructor(audit: AuditLog, clock: Clock, ...targets: Notifier[]) {
    this.audit = audit;
    this.clock = clock;
    this.targets = targets;
  }

  async send(n: Notification): Promise<void> {
    await Promise.all(this.targets.map((t) => t.send(n)));
    await this.audit.append({
      time: this.clock.now(),
      actor: { type: 'system', name: 'notifier' },
      action: 'notify.sent',
      outcome: 'info',
      runId: n.runId,
      detectionId: n.detectionId,
      data: { channel: n.channel, title: n.title, severity: n.severity },
    });
  }
}
