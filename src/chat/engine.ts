// The chat bot's engine: parse → authorise (casbin) → justify → confirm →
// approve (production, four-eyes) → run through the RunbookExecutor as the
// chat user → report. Adapters (Slack, Mattermost, web console, terminal)
// only translate messages; every decision is made here, once, the same way.
import { type ConsoleLinks, type Clock, Errors, KubemendError, chatCommandsTotal, formatDuration, withCode } from '../common/index.ts';
import type { ApprovalBook, PendingApproval, RunbookExecutor } from '../runbooks/index.ts';
import { RunbookApprovals, type RunbookApprovalListener } from './runbook-approvals.ts';
import type { Store } from '../store/index.ts';
import { KubeApiError, pathOf, type KubeHttp } from '../kube/index.ts';
import { productionByLabels } from '../rules/index.ts';
import type { Authorizer } from '../authz/index.ts';
import { parseCommand, helpText, type ActionCommand, type Command } from './grammar.ts';
import { RequestBook, OPEN, newRecord, type Conversation } from './conversation.ts';
import { describeUser, platformId, sameIdentity } from './identity.ts';
import { checkJustification, type TicketChecker } from './justification.ts';
import type { AlertChecker } from './alerts.ts';
import type { TicketTrace } from './ticket-trace.ts';
import { operationFor, preview, readContext } from './operations.ts';
import { type Redactor, redactor } from './redact.ts';
import { isProduction, type ChatSettings } from './settings.ts';
import { workloadStatus } from './status.ts';
import { Executions } from './execution.ts';
import { Approvals } from './approval.ts';
import { reply, type Out, type ReplyOptions } from './reply.ts';
import type { IncidentDesk } from './desk.ts';
import { IncidentCommands } from './incident-commands.ts';
import { RunCommands } from './run-commands.ts';
import type { ChatEngine, ChatMessage, ChatReply, ChatUser } from './types.ts';

export interface ChatEngineOptions {
  store: Store;
  /** Cluster time: expiry and approval time limits follow it. */
  clock: Clock;
  executor: RunbookExecutor;
  authorizer: Authorizer;
  settings: ChatSettings;
  /** API access per cluster name; an unknown cluster answers undefined. */
  kube: (cluster: string) => KubeHttp | undefined;
  /** The cluster names to list when one is unknown. */
  clusters?: string[];
  tickets?: TicketChecker;
  alerts?: AlertChecker;
  redactor?: Redactor;
  /** Pending `approval` steps of runbook runs, decided here with approve/deny. */
  runbookApprovals?: ApprovalBook;
  /** Told of runbook approval requests and decisions (the notification routes post them with buttons). */
  onRunbookApproval?: RunbookApprovalListener;
  log?: (line: string) => void;
  /** Other replicas share the store (leader election): see start(). */
  replicas?: boolean;
  /** The incident tracker, for `incidents` and `incident …` (absent: incident tracking is off). */
  incidents?: IncidentDesk;
  /** Writes the trace of requests justified by a ticket back to it (a Jira comment). */
  ticketTrace?: TicketTrace;
  /** Links into the web console (server.publicUrl): incident replies carry theirs. */
  links?: ConsoleLinks;
}

export class KubemendChatEngine implements ChatEngine {
  private runbookApprovals?: RunbookApprovals;
  readonly book: RequestBook;
  readonly redactor: Redactor;
  private readonly o: ChatEngineOptions;
  private readonly listeners = new Set<(r: ChatReply) => void>();
  private readonly executions: Executions;
  private readonly approvals: Approvals;
  private readonly incidentCommands: IncidentCommands;
  private readonly runCommands: RunCommands;

  constructor(o: ChatEngineOptions) {
    this.o = o;
    this.redactor = o.redactor ?? redactor;
    this.book = new RequestBook(o.store, o.clock, (s) => this.redactor.redact(s));
    this.executions = new Executions({ executor: o.executor, book: this.book, clock: o.clock, store: o.store, emit: (r) => this.emit(r), preemptTimeoutMs: o.settings.preemptTimeout, log: o.log });
    // After the end is recorded, never in its way: the trace is written in the background.
    if (o.ticketTrace) this.book.onEnd = (e) => o.ticketTrace!.ended(e);
    this.approvals = new Approvals({ arm: (c, ms) => this.arm(c, ms), authorizer: o.authorizer, settings: o.settings, clock: o.clock, book: this.book, executions: this.executions });
    const desk = { store: o.store, clock: o.clock, authorizer: o.authorizer, book: this.book, reply: (m: ChatMessage, t: string, ro?: ReplyOptions) => this.reply(m, t, ro) };
    this.incidentCommands = new IncidentCommands(desk, o.incidents, o.links);
    this.runCommands = new RunCommands(desk, o.executor, (r) => this.emit(r), o.links);
  }

  /** Runbook approval steps waiting in this process, with the ids `approve`/`deny` take. */
  pendingRunbookApprovals(): (PendingApproval & { short: string })[] {
    return this.runbookApprovals?.pending() ?? [];
  }

  get settings(): ChatSettings {
    return this.o.settings;
  }

  /** Expires requests an earlier process left waiting; call once before serving. */
  async start(): Promise<void> {
    if (this.o.runbookApprovals) {
      this.runbookApprovals = new RunbookApprovals({
        approvals: this.o.runbookApprovals,
        store: this.o.store,
        clock: this.o.clock,
        authorizer: this.o.authorizer,
        room: this.o.settings.approval.room,
        emit: (r) => this.emit(r),
        listener: this.o.onRunbookApproval,
        reply: (msg, text, o) => this.reply(msg, text, o),
      });
    }
    // Beside other replicas, a request still waiting may be another replica's, live in its memory: only one idle
    // longer than any wait could last (its replica's own timer would have expired it) is surely an orphan.
    const s = this.o.settings;
    const orphans = await this.book.expireOrphans(this.o.clock.now(), this.o.replicas ? Math.max(s.conversationTimeout, s.approval.timeout) : 0);
    if (orphans.length) this.o.log?.(`expired ${orphans.length} chat request(s) left waiting by an earlier process`);
  }

  /** Cancels the expiry timers (runs already started continue in the executor). */
  stop(): void {
    for (const c of this.book.open()) c.timer?.cancel();
  }

  /** Resolves once the background work of ended requests (ticket comments) is done. */
  async idle(): Promise<void> {
    await this.o.ticketTrace?.idle();
  }

  onAsyncReply(listener: (r: ChatReply) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async handle(msg: ChatMessage): Promise<ChatReply[]> {
    let out: Out;
    const seen = { command: 'invalid', outcome: 'handled' };
    try {
      out = await this.dispatch(msg, seen);
      chatCommandsTotal.inc(seen);
    } catch (err) {
      chatCommandsTotal.inc({ command: seen.command, outcome: 'error' });
      this.o.log?.(`chat: handling "${this.redactor.redact(msg.text)}" failed: ${(err as Error).stack ?? err}`);
      out = [this.reply(msg, `Something went wrong handling that; nothing was changed by this message. (${(err as Error).message})`, { ephemeral: true })];
    }
    return out.map((r) => this.clean(r));
  }

  private async dispatch(msg: ChatMessage, seen: { command: string; outcome: string }): Promise<Out> {
    // Fail closed: only a mapped user or a configured guest is served at all.
    if (msg.user.mapping !== 'mapped' && msg.user.mapping !== 'guest') {
      seen.outcome = 'refused';
      const why = `${describeUser(msg.user)} is not mapped to a kubemend identity`;
      await this.book.refusal(msg, 'chat.identity.refused', { code: Errors.CHAT_UNMAPPED_USER.code, reason: why });
      return [this.reply(msg, `${withCode(Errors.CHAT_UNMAPPED_USER, `${why}, so kubemend does not act on your messages.`)}\n${howToMap(msg.user)}`, { ephemeral: true })];
    }
    const parsed = parseCommand(msg.text, { botNames: this.o.settings.botNames });
    if (!parsed.ok) {
      seen.outcome = 'invalid';
      await this.book.refusal(msg, 'chat.command.invalid', { code: Errors.CHAT_BAD_COMMAND.code, reason: parsed.error });
      return [this.reply(msg, `${withCode(Errors.CHAT_BAD_COMMAND, parsed.error)}\nusage: ${parsed.usage}`, { ephemeral: true })];
    }
    const cmd: Command = parsed.command;
    seen.command = cmd.type === 'action' ? cmd.action : cmd.type;
    switch (cmd.type) {
      case 'help':
        return [this.reply(msg, helpText(cmd.topic, { statusNeedsJustification: this.o.settings.justification.forStatus }), { ephemeral: true })];
      case 'action':
        return this.request(msg, cmd);
      case 'incidents':
        return this.incidentCommands.list(msg, cmd);
      case 'incident':
        return this.incidentCommands.handle(msg, cmd);
      case 'runs':
        return this.runCommands.list(msg, cmd);
      case 'run':
        return this.runCommands.handle(msg, cmd);
      case 'justify':
        return this.withOpen(msg, cmd.id, 'justify', (c) => this.justify(msg, c, { reason: cmd.reason, link: cmd.link }));
      case 'confirm':
        return this.withOpen(msg, cmd.id, 'confirm', (c) => this.confirm(msg, c));
      case 'cancel':
        return this.withOpen(msg, cmd.id, 'cancel', (c) => this.cancel(msg, c));
      case 'approve':
      case 'deny':
        if (this.runbookApprovals?.has(cmd.id) && !this.book.get(cmd.id)) return this.runbookApprovals.decide(msg, cmd.id, cmd.type, cmd.comment);
        return this.withOpen(msg, cmd.id, cmd.type, (c) => this.approvals.decide(msg, c, cmd.type === 'approve' ? 'approve' : 'deny', cmd.comment));
    }
  }

  /** A new command: record it, authorise it, then ask for what is missing. */
  private async request(msg: ChatMessage, cmd: ActionCommand): Promise<Out> {
    const cluster = cmd.cluster ?? this.o.settings.defaultCluster;
    const target = { cluster, kind: cmd.kind, namespace: cmd.namespace, name: cmd.name };
    if (!this.o.kube(cluster)) {
      const known = this.o.clusters?.length ? ` (known: ${this.o.clusters.join(', ')})` : '';
      await this.book.refusal(msg, `chat.${cmd.action}.refused`, { code: Errors.CHAT_UNKNOWN_CLUSTER.code, reason: `unknown cluster "${cluster}"`, target });
      return [this.reply(msg, `${Errors.CHAT_UNKNOWN_CLUSTER.code} unknown cluster "${cluster}"${known}; nothing was requested.`, { ephemeral: true })];
    }
    if (cmd.action === 'scale' && cmd.replicas! > this.o.settings.maxReplicas) {
      const why = `--replicas ${cmd.replicas} is above the limit of ${this.o.settings.maxReplicas} set for chat`;
      await this.book.refusal(msg, `chat.${cmd.action}.refused`, { code: Errors.CHAT_LIMIT.code, reason: why, target, data: { limit: 'maxReplicas' } });
      return [this.reply(msg, `${Errors.CHAT_LIMIT.code} ${why}; nothing was requested.`, { ephemeral: true })];
    }
    const now = this.o.clock.now();
    const id = await this.book.newId();
    const c: Conversation = {
      record: newRecord({ id, user: msg.user, room: msg.room, adapter: msg.adapter, command: this.redactor.redact(msg.text.trim()), cmd, cluster, now }),
      cmd,
      requester: msg.user,
      thread: msg.thread,
      production: isProduction(this.o.settings, cluster, cmd.namespace) || (await this.labelledProduction(cluster, cmd.namespace)),
      expiresAt: now + this.o.settings.conversationTimeout,
    };
    return this.book.locked(id, async () => {
      await this.book.transition(c, undefined, 'requested', { data: { groups: msg.user.groups ?? [] } });
      const decision = await this.o.authorizer.check({ user: msg.user.name, groups: msg.user.groups, cluster, namespace: cmd.namespace, room: msg.room, action: cmd.action });
      if (!decision.allowed) {
        await this.book.transition(c, 'denied', 'denied', { reason: decision.reason, data: { dimension: decision.dimension, rule: decision.rule?.source } });
        return [this.reply(msg, `${Errors.CHAT_NOT_ALLOWED.code} ${id}: not allowed — ${decision.reason}.`)];
      }
      await this.book.transition(c, undefined, 'authorized', { data: { rule: decision.rule.source, as: decision.subject } });
      if (cmd.action === 'status' && !this.o.settings.justification.forStatus) return this.status(msg, c);
      this.book.track(c);
      return this.justify(msg, c, { reason: cmd.reason, link: cmd.link });
    });
  }

  /**
   * A namespace its labels mark production (kubemend.dev/environment, environment,
   * env: production or prod) is production for four-eyes too, as for the rules.
   * Read as kubemend itself; when it cannot be read (other than 404), the
   * request is treated as production: an approver too many, never one too few.
   */
  private async labelledProduction(cluster: string, namespace: string): Promise<boolean> {
    const kube = this.o.kube(cluster);
    if (!kube || !namespace) return false;
    try {
      return productionByLabels(await kube.request('GET', pathOf('Namespace', undefined, namespace)));
    } catch (err) {
      return !(err instanceof KubeApiError && err.status === 404);
    }
  }

  private async justify(msg: ChatMessage, c: Conversation, given: { reason?: string; link?: string }): Promise<Out> {
    if (!sameIdentity(msg.user, c.requester)) return this.notRequester(msg, c, 'justify');
    if (c.record.status !== 'awaiting-justification') return [this.reply(msg, `${c.record.id} is ${c.record.status}; it needs no justification now.`, { ephemeral: true })];
    const res = await checkJustification(given, { settings: this.o.settings, store: this.o.store, tickets: this.o.tickets, alerts: this.o.alerts, clock: this.o.clock });
    const how = `Reply: justify ${c.record.id} --reason "what and why" --link <alert URL | det:ID | TICKET-123>`;
    if (!res.ok) {
      this.arm(c, this.o.settings.conversationTimeout);
      if (res.missing) {
        await this.o.store.putChatRequest(c.record);
        return [this.reply(msg, `${c.record.id}: why ${describe(c.cmd, c.record.cluster!)}? A justification is required: a reason and a link to the alert, detection or approved ticket behind it.\n${how}\n(expires in ${formatDuration(this.o.settings.conversationTimeout)})`, { buttons: [cancelButton(c)] })];
      }
      await this.book.transition(c, 'awaiting-justification', 'unjustified', { reason: res.problem, data: { given: { reason: given.reason, link: given.link } } });
      return [this.reply(msg, `${Errors.CHAT_JUSTIFICATION.code} ${c.record.id}: justification refused — ${res.problem}.\n${how}`, { buttons: [cancelButton(c)] })];
    }
    c.justification = res.justification;
    await this.book.transition(c, undefined, 'justified');
    if (c.cmd.action === 'status') return this.status(msg, c);
    return this.askConfirmation(msg, c);
  }

  private async askConfirmation(msg: ChatMessage, c: Conversation): Promise<Out> {
    const cluster = c.record.cluster!;
    c.op = operationFor(c.cmd, cluster, { groups: this.o.settings.approval.groups, timeoutMs: this.o.settings.approval.timeout });
    try {
      c.preview = await preview(c.op, this.readCtx(c), c.cmd);
    } catch (err) {
      // A refusal with a code (SOURCE_UNHEALTHY …) says which, so the fix can be looked up.
      const code = err instanceof KubemendError ? `${err.code} ` : '';
      await this.book.transition(c, 'failed', 'failed', { reason: `preview: ${(err as Error).message}`, ...(code ? { data: { code: code.trim() } } : {}) });
      this.book.finish(c);
      return [this.reply(msg, `${c.record.id}: cannot ${c.cmd.action} ${target(c)}: ${code}${(err as Error).message}. Nothing was changed.`)];
    }
    if (!c.preview.changes) {
      await this.book.transition(c, 'cancelled', 'cancelled', { reason: c.preview.text });
      this.book.finish(c);
      return [this.reply(msg, `${c.record.id}: ${c.preview.text}.`)];
    }
    c.record.status = 'awaiting-confirmation';
    this.arm(c, this.o.settings.conversationTimeout);
    await this.o.store.putChatRequest(c.record);
    const approval = c.production ? `\nThis is production: after you confirm, an approver (${this.o.settings.approval.groups.join(', ')}) other than you must approve it.` : '';
    const checked = c.preview.checks?.length ? `\nChecked: ${c.preview.checks.join('; ')}.` : '';
    return [this.reply(msg, `${c.record.id} will ${c.preview.text}.${checked}\nJustification: ${c.justification!.reason} — ${c.justification!.detail}.${approval}\nConfirm within ${formatDuration(this.o.settings.conversationTimeout)}: confirm ${c.record.id}`, {
      buttons: [{ label: 'Confirm', value: `confirm ${c.record.id}`, style: 'primary' }, cancelButton(c)],
    })];
  }

  private async confirm(msg: ChatMessage, c: Conversation): Promise<Out> {
    if (!sameIdentity(msg.user, c.requester)) return this.notRequester(msg, c, 'confirm');
    if (c.record.status !== 'awaiting-confirmation') return [this.reply(msg, `${c.record.id} is ${c.record.status}; there is nothing to confirm.`, { ephemeral: true })];
    await this.book.transition(c, undefined, 'confirmed', { data: { preview: c.preview?.text } });
    if (c.production) return this.approvals.ask(msg, c);
    c.record.status = 'approved';
    return this.executions.start(c, (text) => this.reply(msg, text));
  }

  private async cancel(msg: ChatMessage, c: Conversation): Promise<Out> {
    if (!sameIdentity(msg.user, c.requester)) return this.notRequester(msg, c, 'cancel');
    // Waiting requests have run nothing; a running one stops at its next step and says what ran.
    if (c.record.status === 'approved' && c.record.runId) return this.executions.stop(c, msg.user, (text) => this.reply(msg, text));
    if (!OPEN.includes(c.record.status)) return [this.reply(msg, `${c.record.id} is ${c.record.status}; there is nothing to cancel.`, { ephemeral: true })];
    await this.book.transition(c, 'cancelled', 'cancelled', { reason: `cancelled by ${msg.user.name}` });
    this.book.finish(c);
    return [this.reply(msg, `${c.record.id} cancelled before anything ran; nothing was changed.`)];
  }

  /** Someone other than the requester tried to justify, confirm or cancel: refused and audited. */
  private async notRequester(msg: ChatMessage, c: Conversation, verb: 'justify' | 'confirm' | 'cancel'): Promise<Out> {
    const why = `only ${describeUser(c.requester)}, who asked, can ${verb} ${c.record.id}`;
    await this.book.transition(c, undefined, 'refused', { by: msg.user, reason: why, data: { attempted: verb, code: Errors.CHAT_NOT_REQUESTER.code, from: msg.room } });
    return [this.reply(msg, `${Errors.CHAT_NOT_REQUESTER.code} ${why[0].toUpperCase()}${why.slice(1)}.`, { ephemeral: true })];
  }

  private async status(msg: ChatMessage, c: Conversation): Promise<Out> {
    try {
      const text = await workloadStatus(this.readCtx(c), { kind: c.cmd.kind, namespace: c.cmd.namespace, name: c.cmd.name });
      await this.book.transition(c, 'executed', 'executed');
      this.book.finish(c);
      return [this.reply(msg, text)];
    } catch (err) {
      await this.book.transition(c, 'failed', 'failed', { reason: (err as Error).message });
      this.book.finish(c);
      return [this.reply(msg, `${c.record.id}: cannot read ${target(c)}: ${(err as Error).message}`)];
    }
  }

  /** Finds a waiting request (or says what became of it), checks it has not expired, and runs fn under its lock. */
  private async withOpen(msg: ChatMessage, id: string, verb: string, fn: (c: Conversation) => Promise<Out>): Promise<Out> {
    return this.book.locked(id, async () => {
      const c = this.book.get(id);
      if (!c) {
        const r = await this.o.store.getChatRequest(id);
        if (!r) return [this.reply(msg, `There is no request ${id}.`, { ephemeral: true })];
        return [this.reply(msg, `${id} is ${r.status}${r.status === 'expired' ? ` (${Errors.CHAT_EXPIRED.code}): ask again` : ''}; it cannot be ${PAST[verb] ?? verb} now.`, { ephemeral: true })];
      }
      if (OPEN.includes(c.record.status) && this.o.clock.now() >= c.expiresAt) {
        await this.expire(c);
        return [];
      }
      return fn(c);
    });
  }

  /** (Re)starts the wait of a conversation: when it runs out, the request expires. */
  arm(c: Conversation, ms: number): void {
    c.timer?.cancel();
    c.expiresAt = this.o.clock.now() + ms;
    c.timer = this.o.clock.setTimeout(() => {
      void this.book.locked(c.record.id, async () => {
        if (this.book.get(c.record.id) === c && OPEN.includes(c.record.status)) await this.expire(c);
      }).catch((err) => this.o.log?.(`chat: expiring ${c.record.id} failed: ${(err as Error).message}`));
    }, ms);
  }

  private async expire(c: Conversation): Promise<void> {
    const waitedFor = c.record.status === 'awaiting-approval' ? 'an approval' : c.record.status === 'awaiting-confirmation' ? 'a confirmation' : 'a justification';
    await this.book.transition(c, 'expired', 'expired', { system: true, reason: `no ${waitedFor.replace(/^an? /, '')} in time` });
    this.book.finish(c);
    this.emit({ room: c.record.room, thread: c.thread, text: `${Errors.CHAT_EXPIRED.code} ${c.record.id} expired: it waited for ${waitedFor} and got none in time. Nothing was changed; ask again if it is still needed.` });
  }

  readCtx(c: Conversation) {
    const cluster = c.record.cluster!;
    return readContext({ cluster, kube: this.o.kube(cluster)!, kubeFor: this.o.kube, as: identity(c.requester), clock: this.o.clock, target: c.record.target });
  }

  reply(msg: { room: string; thread?: string; user?: ChatUser }, text: string, o: ReplyOptions = {}): ChatReply {
    return reply(msg, text, o);
  }

  emit(r: ChatReply): void {
    const clean = this.clean(r);
    for (const l of this.listeners) l(clean);
  }

  private clean(r: ChatReply): ChatReply {
    if (r.thread === undefined) delete r.thread;
    return { ...r, text: this.redactor.redact(r.text), ...(r.buttons ? { buttons: r.buttons.map((b) => ({ ...b, label: this.redactor.redact(b.label) })) } : {}) };
  }
}

export function identity(u: ChatUser) {
  return u.groups?.length ? { user: u.name, groups: u.groups } : { user: u.name };
}

export function target(c: Conversation): string {
  return `${c.cmd.kind.toLowerCase()} ${c.cmd.namespace}/${c.cmd.name} on cluster ${c.record.cluster}`;
}

function describe(cmd: ActionCommand, cluster: string): string {
  const what = `${cmd.kind.toLowerCase()} ${cmd.namespace}/${cmd.name} on cluster ${cluster}`;
  if (cmd.action === 'scale') return `scale ${what} to ${cmd.replicas}`;
  if (cmd.action === 'promote') return `promote ${what} from ${[cmd.fromNamespace, cmd.fromCluster && `cluster ${cmd.fromCluster}`].filter(Boolean).join(' in ')}`;
  if (cmd.action === 'rollback') return `roll back ${what}${cmd.toRevision ? ` to revision ${cmd.toRevision}` : ''}`;
  return `${cmd.action} ${what}`;
}

/** How an unmapped user gets mapped: who to ask and what they write. */
function howToMap(u: ChatUser): string {
  const where = u.platform === 'slack' || u.platform === 'mattermost' ? `server.${u.platform}.users in kubemend's config` : `the ${u.platform} users in kubemend's config`;
  return `Ask a kubemend administrator to map ${platformId(u)} to your name and groups: under ${where}, add\n  ${u.id}: { name: <your name in the RBAC policy>, groups: [<your groups>] }`;
}

const PAST: Record<string, string> = { justify: 'justified', confirm: 'confirmed', cancel: 'cancelled', approve: 'approved', deny: 'denied' };

function cancelButton(c: Conversation) {
  return { label: 'Cancel', value: `cancel ${c.record.id}`, style: 'danger' as const };
}
