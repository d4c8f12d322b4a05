// Live updates for the console's views. Every state change kubemend makes
// (a detection, a run's step, an incident, an approval, a silence) is an
// audit record, so the audit log is the one feed the views need: the hub
// tails it by sequence number and tells each open page, over Server-Sent
// Events, what changed — the record's action and ids, never its data; the
// page re-reads what it shows through the authorised API. Tailing the shared
// store (not in-process events) means a follower replica's console sees what
// the leader does. A reconnecting page sends Last-Event-ID (a seq) and gets
// what it missed, up to REPLAY records.
import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuditRecord } from '../../audit/index.ts';
import type { ChatUser } from '../../chat/index.ts';
import { openEventStream } from '../../chat/index.ts';
import type { ConsoleContext, ConsoleServices } from './context.ts';

const REPLAY = 500;
const BATCH = 500;

/** What a page is told about one audit record. */
export interface LiveEvent {
  seq: number;
  id: string;
  action: string;
  time: number;
  cluster?: string;
  namespace?: string;
  kind?: string;
  name?: string;
  runId?: string;
  detectionId?: string;
  incidentId?: string;
}

interface Client {
  user: ChatUser;
  res: ServerResponse;
  /** Whether this user may see records about a cluster/namespace (memoised per connection). */
  sees: (e: LiveEvent) => Promise<boolean>;
  /** Sends in seq order: each policy check is asynchronous, so each waits for the one before. */
  queue: Promise<void>;
}

export function liveEvent(r: AuditRecord): LiveEvent {
  return {
    seq: r.seq, id: r.id, action: r.action, time: r.time,
    cluster: r.target?.cluster, namespace: r.target?.namespace, kind: r.target?.kind, name: r.target?.name,
    runId: r.runId, detectionId: r.detectionId, incidentId: r.incidentId,
  };
}

export class LiveHub {
  private readonly o: ConsoleServices;
  private readonly clients = new Set<Client>();
  private readonly recent: LiveEvent[] = [];
  private lastSeq = -1;
  private timer?: NodeJS.Timeout;
  private polling?: Promise<void>;

  constructor(o: ConsoleServices) {
    this.o = o;
  }

  /** Starts tailing from the log's current end (the pages read the past through the API). */
  start(): void {
    // Wall-clock polling: pages are watched by people at real speed, whatever clock the sandbox runs on.
    this.timer = setInterval(() => void this.poll(), this.o.livePollMs ?? 1000);
    this.timer.unref();
    void this.poll();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.polling;
    for (const c of this.clients) c.res.end();
    this.clients.clear();
  }

  /** One pass over new records; concurrent calls share it. */
  poll(): Promise<void> {
    this.polling ??= this.tail().finally(() => { this.polling = undefined; });
    return this.polling;
  }

  private async tail(): Promise<void> {
    if (this.lastSeq < 0) {
      const [last] = await this.o.store.audit.list({ order: 'desc', limit: 1 });
      this.lastSeq = last?.seq ?? 0;
      return;
    }
    for (;;) {
      const batch = await this.o.store.audit.list({ afterSeq: this.lastSeq, limit: BATCH });
      for (const r of batch) {
        const e = liveEvent(r);
        this.lastSeq = r.seq;
        this.recent.push(e);
        if (this.recent.length > REPLAY) this.recent.shift();
        for (const c of this.clients) this.send(c, e);
      }
      if (batch.length < BATCH) return;
    }
  }

  private send(c: Client, e: LiveEvent): void {
    // A reconnecting page resumes after its Last-Event-ID: an event sent before an earlier one would skip that one.
    c.queue = c.queue.then(async () => {
      if (await c.sees(e)) c.res.write(`id: ${e.seq}\nevent: audit\ndata: ${JSON.stringify(e)}\n\n`);
    }).catch(() => {});
  }

  /** GET /console/api/v1/stream */
  serve(req: FastifyRequest, reply: FastifyReply, ctx: ConsoleContext): void {
    const user = ctx.user(req, reply);
    if (!user) return;
    const may = ctx.visibility(user, 'incidents');
    // Records about a workload reach those who may read incidents there; records about nothing in particular reach everyone signed in.
    const client: Client = {
      user,
      res: openEventStream(req, reply, () => this.clients.delete(client)),
      queue: Promise.resolve(),
      sees: (e) => (e.cluster === undefined && e.namespace === undefined ? Promise.resolve(true) : may({ cluster: e.cluster, namespace: e.namespace ?? '' })),
    };
    const last = Number(req.headers['last-event-id']);
    if (Number.isInteger(last)) for (const e of this.recent) if (e.seq > last) this.send(client, e);
    this.clients.add(client);
  }
}
