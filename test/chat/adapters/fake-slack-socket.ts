// Slack's Socket Mode side, on a real local WebSocket server (ws), speaking
// the protocol as Slack documents it ("Socket Mode implementation"):
// apps.connections.open (on FakeSlack, app-level token only) hands out a
// single-use URL `ws://…/link/?ticket=…&app_id=…`; a connection with an
// unknown or used ticket is refused at the upgrade. Every connection gets a
// `hello` first; envelopes are `{envelope_id, type, payload,
// accepts_response_payload}` (events_api ones with retry_attempt and
// retry_reason); the app answers each with `{envelope_id, payload?}` within
// three seconds — a late, missing, unknown or malformed ack is a protocol
// problem the tests assert never happens. `disconnect` (reason
// refresh_requested, warning, link_disabled) asks the app to open a new
// connection. Slack pings; the ws server answers the app's pings itself.
//
// The fake shares its process (and event loop) with the app under test and
// the sandbox; time in which that loop was stalled — when neither side could
// run — is not charged to the app's three seconds (measured by a 50 ms tick).
import { randomUUID } from 'node:crypto';
import { WebSocketServer, type WebSocket } from 'ws';
import type { FakeSlack } from './fake-slack.ts';

export const ACK_DEADLINE_MS = 3000;

export interface Ack {
  envelope_id: string;
  payload?: Record<string, unknown>;
  /** How long after the envelope the ack came (time the process was stalled left out). */
  ms: number;
  /** When it came (Date.now()). */
  at: number;
}

const TICK_MS = 50;

export class FakeSlackSocket {
  readonly appToken: string;
  /** Every protocol problem seen: late or missing acks, acks for unknown envelopes, frames that are not JSON. */
  readonly problems: string[] = [];
  readonly acks: Ack[] = [];
  /** Live connections, oldest first. */
  readonly connections: WebSocket[] = [];
  /** Connections ever accepted. */
  accepted = 0;
  private readonly wss: WebSocketServer;
  private readonly tickets = new Set<string>();
  private readonly pending = new Map<string, { at: number; stalledAt: number; timer: NodeJS.Timeout; resolve: (a: Ack) => void; reject: (e: Error) => void; type: string }>();
  private pinger?: NodeJS.Timeout;
  private ticker?: NodeJS.Timeout;
  /** Milliseconds the event loop was stalled (ticks late), since the start. */
  private stalled = 0;
  private lastTick = Date.now();
  private port = 0;

  private constructor(appToken: string, wss: WebSocketServer) {
    this.appToken = appToken;
    this.wss = wss;
  }

  /** Starts the WebSocket server and attaches it to `slack` (its apps.connections.open). */
  static async start(slack: FakeSlack, appToken: string): Promise<FakeSlackSocket> {
    let self!: FakeSlackSocket;
    const wss = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      path: '/link/',
      verifyClient: (info, cb) => {
        const ticket = new URL(info.req.url ?? '', 'ws://x').searchParams.get('ticket') ?? '';
        if (!self.tickets.delete(ticket)) return cb(false, 401, 'invalid ticket');
        cb(true);
      },
    });
    self = new FakeSlackSocket(appToken, wss);
    await new Promise<void>((r) => wss.once('listening', () => r()));
    self.port = (wss.address() as { port: number }).port;
    wss.on('connection', (ws) => self.accept(ws));
    self.pinger = setInterval(() => { for (const c of self.connections) c.ping(); }, 2000);
    self.ticker = setInterval(() => {
      const now = Date.now();
      self.stalled += Math.max(0, now - self.lastTick - TICK_MS);
      self.lastTick = now;
    }, TICK_MS);
    slack.socket = self;
    return self;
  }

  /** A new single-use WebSocket URL, as apps.connections.open returns it. */
  ticket(): string {
    const t = randomUUID();
    this.tickets.add(t);
    return `ws://127.0.0.1:${this.port}/link/?ticket=${t}&app_id=A0APP`;
  }

  private accept(ws: WebSocket): void {
    this.accepted++;
    this.connections.push(ws);
    ws.on('close', () => this.connections.splice(this.connections.indexOf(ws), 1));
    ws.on('message', (data, binary) => this.onMessage(data.toString(), binary));
    ws.send(JSON.stringify({
      type: 'hello', num_connections: this.connections.length,
      debug_info: { host: 'applink-fake-1', build_number: 118, approximate_connection_time: 18060 },
      connection_info: { app_id: 'A0APP' },
    }));
  }

  private onMessage(text: string, binary: boolean): void {
    let m: { envelope_id?: unknown; payload?: unknown };
    try {
      if (binary) throw new Error('binary');
      m = JSON.parse(text);
    } catch {
      this.problems.push(`a frame that is not a JSON text message: ${text.slice(0, 80)}`);
      return;
    }
    const id = typeof m.envelope_id === 'string' ? m.envelope_id : '';
    const p = this.pending.get(id);
    if (!p) return void this.problems.push(`an ack for an unknown or already acknowledged envelope: ${text.slice(0, 120)}`);
    if (m.payload !== undefined && (typeof m.payload !== 'object' || m.payload === null || Array.isArray(m.payload))) this.problems.push(`ack ${id}: payload is not an object`);
    this.pending.delete(id);
    clearTimeout(p.timer);
    const ms = this.responsive(p);
    if (ms > ACK_DEADLINE_MS) this.problems.push(`ack ${id} came after ${ms} ms (Slack wants it within ${ACK_DEADLINE_MS} ms)`);
    const ack: Ack = { envelope_id: id, ...(m.payload !== undefined ? { payload: m.payload as Record<string, unknown> } : {}), ms, at: Date.now() };
    this.acks.push(ack);
    p.resolve(ack);
  }

  /** Sends an envelope on the newest connection; resolves with its ack (a missing one is recorded as a problem). */
  send(type: 'events_api' | 'slash_commands' | 'interactive', payload: Record<string, unknown>, o: { retryAttempt?: number; retryReason?: string } = {}): Promise<Ack> {
    const ws = this.connections.at(-1);
    if (!ws) throw new Error('fake Slack: no Socket Mode connection to send on');
    const envelope_id = randomUUID();
    const env: Record<string, unknown> = { envelope_id, type, payload, accepts_response_payload: type !== 'events_api' };
    if (type === 'events_api') Object.assign(env, { retry_attempt: o.retryAttempt ?? 0, retry_reason: o.retryReason ?? '' });
    return new Promise<Ack>((resolve, reject) => {
      const p = { at: Date.now(), stalledAt: this.stalled, timer: setTimeout(() => this.deadline(envelope_id), ACK_DEADLINE_MS), resolve, reject, type };
      this.pending.set(envelope_id, p);
      ws.send(JSON.stringify(env));
    });
  }

  /** Time since the envelope was sent in which the process could run. */
  private responsive(p: { at: number; stalledAt: number }): number {
    const now = Date.now();
    const stalledNow = this.stalled + Math.max(0, now - this.lastTick - TICK_MS);
    return now - p.at - (stalledNow - p.stalledAt);
  }

  private deadline(id: string): void {
    const p = this.pending.get(id);
    if (!p) return;
    const used = this.responsive(p);
    // A stalled loop delayed this timer as much as the app: give back what the stall took.
    if (used < ACK_DEADLINE_MS) {
      p.timer = setTimeout(() => this.deadline(id), ACK_DEADLINE_MS - used + TICK_MS);
      return;
    }
    this.pending.delete(id);
    this.problems.push(`no ack for ${p.type} envelope ${id} within ${ACK_DEADLINE_MS} ms`);
    p.reject(new Error(`no ack for envelope ${id}`));
  }

  /** Slack's `disconnect` message on the newest connection (Slack closes it soon after if the app does not). */
  disconnect(reason: 'refresh_requested' | 'warning' | 'link_disabled'): void {
    this.connections.at(-1)?.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'applink-fake-1' } }));
  }

  async close(): Promise<void> {
    clearInterval(this.pinger);
    clearInterval(this.ticker);
    for (const p of this.pending.values()) clearTimeout(p.timer);
    for (const c of this.connections) c.terminate();
    await new Promise<void>((r) => this.wss.close(() => r()));
  }
}
