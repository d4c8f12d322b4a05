// `incidents [--all]` and `incident show|ack|assign|resolve|note ID`: the
// incident tracker from chat. Reading needs the policy's `incidents` action,
// changing it `incident`, both on the incident's cluster and namespace; no
// justification is asked (acknowledging or noting changes nothing in the
// cluster), and every change is audited by the tracker with the person as
// the actor. `incident show` carries Ack and Resolve buttons while they apply.
import { KubemendError, type ConsoleLinks } from '../common/index.ts';
import type { IncidentRecord } from '../store/index.ts';
import type { IncidentCommand, ListCommand } from './desk-grammar.ts';
import { age, check, clip, incidentScope, refuse, visible, type DeskContext, type IncidentDesk } from './desk.ts';
import type { Out } from './reply.ts';
import type { ChatButton, ChatMessage } from './types.ts';

const SHOWN = 20;
const CLOSED = ['resolved', 'postmortem'];

export class IncidentCommands {
  private readonly ctx: DeskContext;
  private readonly desk?: IncidentDesk;
  private readonly links?: ConsoleLinks;

  constructor(ctx: DeskContext, desk: IncidentDesk | undefined, links?: ConsoleLinks) {
    this.ctx = ctx;
    this.desk = desk;
    this.links = links;
  }

  /** "\nconsole: URL" when the service knows its public URL. */
  private link(id: string): string {
    const url = this.links?.('incidents', id);
    return url ? `\nconsole: ${url}` : '';
  }

  async list(msg: ChatMessage, cmd: ListCommand): Promise<Out> {
    if (!this.desk) return this.off(msg);
    const all = await this.desk.list({ all: cmd.all, limit: 200 });
    const v = await visible(this.ctx, msg, 'incidents', all, incidentScope);
    if (v.refused) return refuse(this.ctx, msg, 'incidents', v.refused, { data: { command: 'incidents', hidden: v.hidden } });
    const n = v.shown.length;
    const what = `${n === 1 ? 'incident' : 'incidents'}${cmd.all ? '' : ' under way'}`;
    if (!n) return [this.ctx.reply(msg, `No incidents${cmd.all ? '' : ' under way'}.${cmd.all ? '' : ' (incidents --all lists resolved ones too)'}`)];
    const lines = v.shown.slice(0, SHOWN).map((i) => `${i.id}  ${age(this.ctx, i.openedAt)}  ${i.status}  ${i.severity}  ${clip(i.title, 80)}${i.owner ? `  owner ${i.owner}` : ''}`);
    const more = v.shown.length > SHOWN ? `\n…and ${v.shown.length - SHOWN} more` : '';
    const hidden = v.hidden ? `\n(${v.hidden} more the policy does not let you see)` : '';
    return [this.ctx.reply(msg, `${n} ${what} (id, age, status, severity, title, owner):\n${lines.join('\n')}${more}${hidden}\nincident show ID for one (a unique start of the id is enough)`)];
  }

  async handle(msg: ChatMessage, cmd: IncidentCommand): Promise<Out> {
    if (!this.desk) return this.off(msg);
    const desk = this.desk;
    let inc: IncidentRecord;
    try {
      inc = await desk.get(cmd.id);
    } catch (err) {
      return this.failed(msg, err);
    }
    const action = cmd.verb === 'show' ? 'incidents' : 'incident';
    const scope = incidentScope(inc);
    const allowed = await check(this.ctx, msg, action, scope);
    if (!allowed.allowed) return refuse(this.ctx, msg, action, allowed, { target: scope.target, data: { incident: inc.id, verb: cmd.verb } });
    if (cmd.verb === 'show') return this.show(msg, inc);
    const me = msg.user.name;
    try {
      switch (cmd.verb) {
        case 'ack': {
          const r = await desk.ack(inc.id, me);
          return [this.ctx.reply(msg, `${r.id} acknowledged by ${me}${r.status === 'mitigated' ? ' (it is mitigated; it resolves after a quiet period, or: incident resolve ' + r.id + ')' : ''}.${this.link(r.id)}`, { buttons: r.status === 'acknowledged' ? [resolveButton(r)] : [] })];
        }
        case 'assign': {
          const owner = cmd.user === 'me' ? me : cmd.user!;
          const r = await desk.assign(inc.id, owner, me);
          return [this.ctx.reply(msg, `${r.id} assigned to ${owner} by ${me}.${this.link(r.id)}`)];
        }
        case 'resolve': {
          const r = await desk.resolve(inc.id, me, cmd.reason);
          return [this.ctx.reply(msg, `${r.id} resolved by ${me}${r.resolveReason ? ` — ${r.resolveReason}` : ''}. A new detection opens a new incident.${this.link(r.id)}`)];
        }
        case 'note': {
          const r = await desk.note(inc.id, me, cmd.text!);
          return [this.ctx.reply(msg, `${r.id}: note ${r.notes?.length ?? 0} added by ${me}.${this.link(r.id)}`)];
        }
      }
    } catch (err) {
      return this.failed(msg, err);
    }
  }

  private async show(msg: ChatMessage, i: IncidentRecord): Promise<Out> {
    const data = i.data as { detections?: { id: string; rule: string; subject: { kind: string; namespace?: string; name: string }; status: string }[]; resolvedBecause?: string };
    const dets = data.detections ?? [];
    const status = [
      i.status,
      i.acknowledgedBy ? `acknowledged by ${i.acknowledgedBy} ${age(this.ctx, i.acknowledgedAt ?? i.openedAt)} ago` : undefined,
      i.status === 'mitigated' && i.mitigatedAt ? `mitigated ${age(this.ctx, i.mitigatedAt)} ago` : undefined,
      CLOSED.includes(i.status) ? `resolved by ${i.resolvedBy ?? 'quiet'}${i.resolveReason ? ` (${i.resolveReason})` : data.resolvedBecause ? ` (${data.resolvedBecause})` : ''}` : undefined,
    ].filter(Boolean).join(', ');
    const runs = (await this.ctx.store.listRuns({ since: i.openedAt - 60_000, limit: 500 })).filter((r) => r.incidentId === i.id || (r.detectionId && i.detectionIds.includes(r.detectionId)));
    const audit = await this.ctx.store.audit.list({ incidentId: i.id, limit: 500 });
    const timeline = audit.filter((a) => a.action !== 'incident.updated').slice(-8).map((a) => `  ${new Date(a.time).toISOString().slice(11, 19)} ${a.action.replace(/^incident\./, '')}${a.actor.type === 'user' ? ` by ${a.actor.name}` : ''}`);
    const lines = [
      `${i.id}: ${i.title}`,
      `status: ${status}`,
      `severity ${i.severity} · cluster ${i.cluster} · opened ${age(this.ctx, i.openedAt)} ago · owner ${i.owner ?? 'nobody'}`,
      `detections (${dets.length}): ${dets.slice(0, 5).map((d) => `${d.rule} on ${d.subject.kind.toLowerCase()}/${d.subject.namespace ? `${d.subject.namespace}/` : ''}${d.subject.name}`).join('; ')}${dets.length > 5 ? `; +${dets.length - 5} more` : ''}`,
      `runs: ${runs.length ? runs.slice(0, 5).map((r) => `${r.id.slice(0, 8)} ${r.runbook} ${r.status}`).join('; ') : 'none'}`,
      ...(i.notes?.length ? ['notes:', ...i.notes.slice(-5).map((n) => `  ${n.by}, ${age(this.ctx, n.time)} ago: ${clip(n.text, 200)}`)] : []),
      ...(timeline.length ? ['timeline:', ...timeline] : []),
    ];
    const buttons: ChatButton[] = [];
    if (!CLOSED.includes(i.status) && !i.acknowledgedBy) buttons.push({ label: 'Ack', value: `incident ack ${i.id}`, style: 'primary' });
    if (!CLOSED.includes(i.status)) buttons.push(resolveButton(i));
    return [this.ctx.reply(msg, lines.join('\n') + this.link(i.id), { buttons })];
  }

  private failed(msg: ChatMessage, err: unknown): Out {
    if (!(err instanceof KubemendError)) throw err;
    return [this.ctx.reply(msg, `${err.code} ${err.message}.`, { ephemeral: true })];
  }

  private off(msg: ChatMessage): Out {
    return [this.ctx.reply(msg, 'Incident tracking is not on in this kubemend (incidents.enabled in the service config), so there are no incidents to show.', { ephemeral: true })];
  }
}

function resolveButton(i: IncidentRecord): ChatButton {
  return { label: 'Resolve', value: `incident resolve ${i.id}`, style: 'danger' };
}
