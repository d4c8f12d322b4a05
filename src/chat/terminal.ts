// A chat adapter for a terminal: a readline REPL on the same engine the chat
// platforms use, so the bot can be tried (and scripted) without Slack.
// Buttons are shown with the text that pressing them sends; `/room` switches
// where you talk. On the sandbox (a trial) `/user` switches who is talking, to
// try four-eyes approvals alone; on clusters you are who the kubeconfig says,
// one person per terminal, so a terminal never approves its own request.
import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { ChatAdapter, ChatEngine, ChatReply, ChatUser } from './types.ts';

export interface TerminalOptions {
  input: Readable;
  output: Writable;
  user: ChatUser;
  room: string;
  /** Show a prompt (interactive terminals); off for pipes. */
  prompt?: boolean;
  /** The sandbox trial: `/user` may switch identities (nothing real is at stake). */
  trial?: boolean;
}

/** A trial identity, as `/user NAME GROUPS` switches to (sandbox only). */
export function trialUser(name: string, groups: string[] = []): ChatUser {
  return { platform: 'terminal', id: name, displayName: name, name, groups, mapping: 'mapped' };
}

const LOCAL_HELP = [
  'terminal commands:',
  '  /user NAME [GROUP,GROUP…]   talk as another user, e.g. an approver (sandbox only)',
  '  /room NAME                  talk in another room',
  '  /whoami                     who and where you are',
  '  /quit                       leave (Ctrl-D too)',
  'everything else goes to kubemend; type help for its commands',
].join('\n');

export class TerminalAdapter implements ChatAdapter {
  readonly name = 'terminal';
  user: ChatUser;
  room: string;
  private readonly o: TerminalOptions;
  private rl?: Interface;
  private unsubscribe?: () => void;
  private queue: Promise<void> = Promise.resolve();
  private readonly done = Promise.withResolvers<void>();

  constructor(o: TerminalOptions) {
    this.o = o;
    this.user = o.user;
    this.room = o.room;
  }

  /** Resolves when the input ends or the user quits (after the last line was handled). */
  get closed(): Promise<void> {
    return this.done.promise;
  }

  async start(engine: ChatEngine): Promise<void> {
    this.unsubscribe = engine.onAsyncReply((r) => {
      this.print(r);
      if (this.o.prompt) this.rl?.prompt(true);
    });
    const rl = createInterface({ input: this.o.input, output: this.o.prompt ? this.o.output : undefined, terminal: Boolean(this.o.prompt) });
    this.rl = rl;
    this.setPrompt();
    rl.on('line', (line) => {
      this.queue = this.queue.then(() => this.line(engine, line)).catch((err) => this.write(`error: ${(err as Error).message}`));
    });
    rl.on('close', () => void this.queue.then(() => this.done.resolve()));
    if (this.o.prompt) rl.prompt();
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.rl?.close();
    await this.closed;
  }

  private async line(engine: ChatEngine, raw: string): Promise<void> {
    const text = raw.trim();
    if (text.startsWith('/')) this.local(text);
    else if (text) {
      const replies = await engine.handle({ adapter: 'terminal', room: this.room, user: this.user, text, time: Date.now() });
      for (const r of replies) this.print(r);
    }
    if (this.o.prompt) this.rl?.prompt();
  }

  private local(text: string): void {
    const [cmd, ...args] = text.split(/\s+/);
    if (cmd === '/quit' || cmd === '/exit') {
      this.rl?.close();
      return;
    }
    if (cmd === '/user' && args[0]) {
      if (!this.o.trial) {
        this.write(`/user works only on the sandbox: here you are ${this.user.name}, as your kubeconfig says, and another person approves from their own terminal or chat.`);
        return;
      }
      this.user = trialUser(args[0], args[1] ? args[1].split(',').filter(Boolean) : []);
    } else if (cmd === '/room' && args[0]) {
      this.room = args[0].replace(/^#/, '');
    } else if (cmd !== '/whoami') {
      this.write(LOCAL_HELP);
      return;
    }
    this.setPrompt();
    this.write(`you are ${this.user.name}${this.user.groups?.length ? ` (groups: ${this.user.groups.join(', ')})` : ''} in #${this.room}`);
  }

  private setPrompt(): void {
    this.rl?.setPrompt(`${this.user.name}@#${this.room}> `);
  }

  /** One reply as terminal lines: where it goes, the text, then its buttons. */
  print(r: ChatReply): void {
    const to = r.room === this.room ? '' : `[#${r.room}] `;
    const only = r.ephemeralTo ? ' (only you)' : '';
    const mention = r.mention?.length ? `${r.mention.map((m) => `@${m}`).join(' ')} ` : '';
    const lines = [`kubemend${only}: ${to}${mention}${r.text.split('\n')[0]}`, ...r.text.split('\n').slice(1).map((l) => `  ${l}`)];
    if (r.buttons?.length) lines.push(`  ${r.buttons.map((b) => `[${b.label}: ${b.value}]`).join(' ')}`);
    this.write(lines.join('\n'));
  }

  private write(text: string): void {
    this.o.output.write(`${text}\n`);
  }
}
