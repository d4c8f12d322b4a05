// A small ChatEngine for adapter tests: a few scripted commands (echo, a
// restart that needs confirmation, an async result, an ephemeral reply, a
// reply to another room) so the adapters are tested without the real engine.
import type { ChatEngine, ChatMessage, ChatReply } from '../../../src/chat/types.ts';

export const HELP = 'commands: help, echo TEXT, whisper TEXT, restart TARGET, confirm ID, cancel ID, ask ROOM, boom';

export class ScriptedEngine implements ChatEngine {
  readonly received: ChatMessage[] = [];
  private readonly listeners = new Set<(r: ChatReply) => void>();
  private readonly pending = new Map<string, { target: string; by: string; name: string }>();
  private n = 0;
  /** How long after `confirm` the async result arrives. */
  asyncDelayMs = 30;

  async handle(msg: ChatMessage): Promise<ChatReply[]> {
    this.received.push(msg);
    const [cmd = '', ...rest] = msg.text.trim().split(/\s+/);
    const arg = rest.join(' ');
    const here = { room: msg.room, thread: msg.thread };
    switch (cmd) {
      case 'help':
        return [{ ...here, text: HELP }];
      case 'echo':
        return [{ ...here, text: arg }];
      case 'whisper':
        return [{ ...here, text: arg, ephemeralTo: msg.user.id }];
      case 'restart': {
        const id = `r${++this.n}`;
        this.pending.set(id, { target: arg, by: msg.user.id, name: msg.user.name });
        return [{
          ...here,
          text: `Restart ${arg}? Requested by ${msg.user.name}.`,
          buttons: [{ label: 'Confirm', value: `confirm ${id}`, style: 'primary' }, { label: 'Cancel', value: `cancel ${id}`, style: 'danger' }],
        }];
      }
      case 'confirm': {
        const p = this.pending.get(arg);
        if (!p) return [{ ...here, text: `nothing to confirm for ${arg}` }];
        // As the real engine answers a press by someone else: privately, and nothing changes.
        if (p.by !== msg.user.id) return [{ ...here, text: `Only ${p.name}, who asked, can confirm ${arg}.`, ephemeralTo: msg.user.id }];
        const target = p.target;
        this.pending.delete(arg);
        setTimeout(() => this.emit({ ...here, text: `restarted ${target} for ${msg.user.name}` }), this.asyncDelayMs);
        return [{ ...here, text: `Restarting ${target}…` }];
      }
      case 'cancel':
        this.pending.delete(arg);
        return [{ ...here, text: `cancelled ${arg}` }];
      case 'ask':
        return [{ ...here, text: `asked ${arg}` }, { room: arg, text: `approve a request from ${msg.user.name}?`, mention: ['sre'] }];
      case 'boom':
        throw new Error('scripted engine failure');
      default:
        return [{ ...here, text: `unknown command "${cmd}"` }];
    }
  }

  emit(reply: ChatReply): void {
    for (const l of this.listeners) l(reply);
  }

  onAsyncReply(listener: (r: ChatReply) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }
}

/** Polls `check` until it returns a truthy value (or fails after `ms`). */
export async function until<T>(check: () => T | undefined | false, ms = 5000, what = 'condition'): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
