// A Slack or Mattermost channel as a notification receiver: one thread per
// incident (or per run, or detection, when there is no incident). The first
// event of a thread posts its parent message; every state change of the
// incident rewrites the parent in place (status, owner, the buttons that
// still make sense), and every event — steps, approvals with their buttons,
// notes, escalations — is a reply under it, so a channel shows one line per
// incident and the thread tells its story.
//
// The parent's reference is kept in the outbox's per-receiver state (the
// store), so threads survive restarts and any replica continues them. A
// crash between posting a parent and storing its reference posts a second
// parent when the delivery is retried: at least once, never lost.
import type { ReceiverState } from './notifications.ts';
import type { Delivery, DeliveryResult, NotifyButton, NotifyEvent, Receiver, IncidentState } from './types.ts';

/** What a chat platform offers (implemented in src/chat by SlackPoster and MattermostPoster). */
export interface ThreadPoster {
  post(m: { channel: string; text: string; thread?: string; buttons?: NotifyButton[] }): Promise<string>;
  update(m: { channel: string; ref: string; text: string; buttons?: NotifyButton[] }): Promise<void>;
}

export interface ChatThreadReceiverOptions {
  name: string;
  type: 'slack' | 'mattermost';
  /** A room name from the adapter's rooms, or the platform's channel id. */
  channel: string;
  /** Resolved at delivery: the adapter may be built after the notifications. */
  poster: ThreadPoster | (() => ThreadPoster | undefined);
  state: ReceiverState;
}

const STATUS_WORD: Record<IncidentState['status'], string> = {
  open: 'OPEN', acknowledged: 'ACKNOWLEDGED', mitigated: 'MITIGATED', resolved: 'RESOLVED', postmortem: 'RESOLVED · post-mortem drafted',
};

export class ChatThreadReceiver implements Receiver {
  readonly name: string;
  readonly type: 'slack' | 'mattermost';
  private readonly o: ChatThreadReceiverOptions;

  constructor(o: ChatThreadReceiverOptions) {
    this.o = o;
    this.name = o.name;
    this.type = o.type;
  }

  async deliver(d: Delivery): Promise<DeliveryResult> {
    const poster = typeof this.o.poster === 'function' ? this.o.poster() : this.o.poster;
    if (!poster) return { ok: false, retryable: true, error: `the ${this.type} adapter is not running (its credentials are not configured?)` };
    const e = d.event;
    const channel = this.o.channel;
    const key = `thread/${channel}/${d.key}`;
    try {
      let parent = await this.o.state.get(key);
      if (!parent) {
        parent = await poster.post({ channel, text: parentText(e), buttons: parentButtons(e) });
        await this.o.state.put(key, parent);
        // The opening event is the parent itself; anything else also gets its reply.
        if (e.kind === 'incident.opened') return { ok: true, ref: parent };
      } else if (e.incident && e.kind.startsWith('incident.')) {
        await poster.update({ channel, ref: parent, text: parentText(e), buttons: parentButtons(e) });
      }
      const ref = await poster.post({ channel, thread: parent, text: replyText(e), buttons: e.buttons });
      return { ok: true, ref };
    } catch (err) {
      const p = err as { retryable?: boolean; retryAfterMs?: number; message?: string };
      return { ok: false, retryable: p.retryable ?? true, error: p.message ?? String(err), ...(p.retryAfterMs ? { retryAfterMs: p.retryAfterMs } : {}) };
    }
  }
}

/** The parent: the incident as it is now (or what started a thread without one). */
export function parentText(e: NotifyEvent): string {
  const i = e.incident;
  if (!i) return `[${e.severity}] ${e.title}`;
  const where = [i.cluster, e.labels.namespace].filter(Boolean).join('/');
  return [
    `[${i.severity}] Incident ${i.id} — ${STATUS_WORD[i.status]}: ${i.title}`,
    `${where ? `${where} · ` : ''}owner: ${i.owner ?? 'nobody yet'} · opened ${new Date(i.openedAt).toISOString()}`,
  ].join('\n');
}

/** Buttons that still make sense for the incident's state; they send the chat commands a person could type. */
export function parentButtons(e: NotifyEvent): NotifyButton[] | undefined {
  const i = e.incident;
  if (!i) return undefined;
  const id = i.id;
  const b: NotifyButton[] = [];
  if (i.status === 'open') b.push({ label: 'Acknowledge', value: `incident ack ${id}`, style: 'primary' });
  if (i.status !== 'resolved' && i.status !== 'postmortem') {
    if (!i.owner) b.push({ label: 'Take it', value: `incident assign ${id} me` });
    b.push({ label: 'Resolve', value: `incident resolve ${id}` });
  }
  return b.length ? b : undefined;
}

/** A reply under the parent: what happened, with its text. */
export function replyText(e: NotifyEvent): string {
  const head = e.title;
  const body = e.text && e.text !== e.title ? `\n${e.text}` : '';
  const links = (e.links ?? []).map((l) => `\n${l.text}: ${l.href}`).join('');
  return `${head}${body}${links}`;
}
