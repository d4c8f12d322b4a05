// Which receivers get an event, and when. The tree is walked as Alertmanager
// walks it: a route matches when all its matchers do; its children are tried
// in order, the first that matches wins unless it says `continue`; a route
// none of whose children match is itself the match. Children inherit the
// receiver and the group settings. Then kubemend's own rules:
//  - an incident is followed to its end: every receiver one of its events
//    was delivered to gets its later events too (kept in the memory, so a
//    restart or a changed severity cannot strand a PagerDuty incident or a
//    thread), even when its route is muted by then;
//  - state changes are never suppressed; a repeated identical
//    `incident.updated` or `notify` (same receiver, group, thread, title and
//    text) is, for repeat_interval;
//  - the first event of a group waits group_wait; updates of a group
//    (incident.updated, incident.noted, run.step, notify) are spaced by
//    group_interval; later events never overtake earlier ones (the outbox
//    delivers a key in order).
import { createHash } from 'node:crypto';
import type { Clock } from '../common/index.ts';
import type { NotificationsConfig, RouteConfig } from './config.ts';
import { receiverEvents } from './config.ts';
import { matchesAll, parseMatchers, type LabelMatcher } from './matchers.ts';
import { compileInterval, intervalContains, type CompiledInterval } from './time-intervals.ts';
import type { NotifyEvent, NotifyEventKind } from './types.ts';

/** Durable memory of the router (notify_state under Notifications); in memory when none is given. */
export interface RouterMemory {
  get(key: string): Promise<string | undefined>;
  put(key: string, value: string): Promise<void>;
}

export interface RouteNode {
  id: string;
  receiver: string;
  groupBy: string[];
  groupWait: number;
  groupInterval: number;
  repeatInterval: number;
  continue: boolean;
  matchers: LabelMatcher[];
  mute: CompiledInterval[];
  active: CompiledInterval[] | undefined;
  children: RouteNode[];
}

export interface RoutedDelivery {
  receiver: string;
  /** The outbox key: the incident, else the run, else the detection, else the group. */
  key: string;
  notBefore: number;
  route: string;
}

export interface RouteDecision {
  deliveries: RoutedDelivery[];
  suppressed: { receiver: string; reason: 'muted' | 'repeat' | 'not-subscribed' }[];
}

export const DEFAULTS = { groupWait: 0, groupInterval: 0, repeatInterval: 4 * 3_600_000 };
const REPEATABLE: ReadonlySet<NotifyEventKind> = new Set(['incident.updated', 'notify']);
const UPDATES: ReadonlySet<NotifyEventKind> = new Set(['incident.updated', 'incident.noted', 'run.step', 'notify']);
/** Events on which no new receiver joins an incident others already follow: it would only hear of its end. */
const CLOSING: ReadonlySet<NotifyEventKind> = new Set(['incident.mitigated', 'incident.resolved', 'incident.postmortem']);
const MAX_MEMORY = 10_000;

class MapMemory implements RouterMemory {
  private readonly m = new Map<string, string>();
  async get(k: string) {
    return this.m.get(k);
  }
  async put(k: string, v: string) {
    this.m.delete(k);
    this.m.set(k, v);
    if (this.m.size > MAX_MEMORY) this.m.delete(this.m.keys().next().value as string);
  }
}

export function threadKey(e: NotifyEvent): string | undefined {
  if (e.incident) return `incident/${e.incident.id}`;
  if (e.runId) return `run/${e.runId}`;
  if (e.detectionId) return `detection/${e.detectionId}`;
  return undefined;
}

export class Router {
  readonly root: RouteNode;
  private readonly byId = new Map<string, RouteNode>();
  private readonly subscribed = new Map<string, ReadonlySet<NotifyEventKind>>();
  private readonly clock: Clock;
  private readonly memory: RouterMemory;
  private readonly groups = new Map<string, { start: number; last: number; expires: number }>();

  constructor(config: NotificationsConfig, opts: { clock: Clock; memory?: RouterMemory }) {
    this.clock = opts.clock;
    this.memory = opts.memory ?? new MapMemory();
    for (const r of config.receivers) this.subscribed.set(r.name, receiverEvents(r));
    const intervals = new Map(config.time_intervals.map((t) => [t.name, t.time_intervals.map(compileInterval)]));
    const build = (r: RouteConfig, id: string, parent?: RouteNode): RouteNode => {
      const node: RouteNode = {
        id,
        receiver: r.receiver ?? parent!.receiver,
        groupBy: r.group_by ?? parent?.groupBy ?? [],
        groupWait: r.group_wait ?? parent?.groupWait ?? DEFAULTS.groupWait,
        groupInterval: r.group_interval ?? parent?.groupInterval ?? DEFAULTS.groupInterval,
        repeatInterval: r.repeat_interval ?? parent?.repeatInterval ?? DEFAULTS.repeatInterval,
        continue: r.continue,
        matchers: r.matchers.flatMap(parseMatchers),
        mute: r.mute_time_intervals.flatMap((n) => intervals.get(n) ?? []),
        active: r.active_time_intervals.length ? r.active_time_intervals.flatMap((n) => intervals.get(n) ?? []) : undefined,
        children: [],
      };
      this.byId.set(id, node);
      node.children = r.routes.map((c, i) => build(c, `${id}.${i}`, node));
      return node;
    };
    this.root = build(config.route, 'root');
  }

  /** The routes an event with these labels goes to, as Alertmanager picks them, and whether each is muted at `time`. */
  match(labels: Record<string, string>, time: number): { node: RouteNode; muted: boolean }[] {
    const walk = (n: RouteNode): RouteNode[] => {
      if (!matchesAll(n.matchers, labels)) return [];
      const all: RouteNode[] = [];
      for (const c of n.children) {
        const m = walk(c);
        all.push(...m);
        if (m.length && !c.continue) break;
      }
      return all.length ? all : [n];
    };
    return walk(this.root).map((node) => ({
      node,
      muted: node.mute.some((iv) => intervalContains(iv, time)) || (node.active !== undefined && !node.active.some((iv) => intervalContains(iv, time))),
    }));
  }

  async route(event: NotifyEvent): Promise<RouteDecision> {
    const now = this.clock.now();
    const labels: Record<string, string> = { severity: event.severity, ...event.labels, kind: event.kind };
    const decision: RouteDecision = { deliveries: [], suppressed: [] };
    const targets = new Map<string, RouteNode>();
    const stickyKey = event.incident ? `incident/${event.incident.id}` : undefined;
    const sticky: { receiver: string; route: string }[] = stickyKey ? JSON.parse((await this.memory.get(stickyKey)) ?? '[]') : [];
    for (const s of sticky) if (this.subscribed.has(s.receiver)) targets.set(s.receiver, this.byId.get(s.route) ?? this.root);
    for (const { node, muted } of this.match(labels, now)) {
      if (targets.has(node.receiver)) continue;
      if (muted) decision.suppressed.push({ receiver: node.receiver, reason: 'muted' });
      else if (!(CLOSING.has(event.kind) && sticky.length)) targets.set(node.receiver, node);
    }
    const thread = threadKey(event);
    let joined = false;
    for (const [receiver, node] of targets) {
      if (!this.subscribed.get(receiver)?.has(event.kind)) {
        decision.suppressed.push({ receiver, reason: 'not-subscribed' });
        continue;
      }
      const group = `${node.id}{${groupLabels(node.groupBy, labels)}}`;
      if (REPEATABLE.has(event.kind) && (await this.repeated(receiver, group, thread, event, node.repeatInterval, now))) {
        decision.suppressed.push({ receiver, reason: 'repeat' });
        continue;
      }
      decision.deliveries.push({ receiver, key: thread ?? `group/${group}`, notBefore: this.timing(receiver, group, node, event.kind, now), route: node.id });
      if (stickyKey && !sticky.some((s) => s.receiver === receiver)) {
        sticky.push({ receiver, route: node.id });
        joined = true;
      }
    }
    if (stickyKey && joined) await this.memory.put(stickyKey, JSON.stringify(sticky));
    return decision;
  }

  /** True when the same update went to this receiver less than repeat_interval ago; records it otherwise. */
  private async repeated(receiver: string, group: string, thread: string | undefined, e: NotifyEvent, repeatMs: number, now: number): Promise<boolean> {
    const fp = createHash('sha256').update(JSON.stringify([receiver, group, thread ?? '', e.kind, e.title, e.text])).digest('hex').slice(0, 32);
    const key = `repeat/${fp}`;
    const last = await this.memory.get(key);
    if (last !== undefined && now - Number(last) < repeatMs) return true;
    await this.memory.put(key, String(now));
    return false;
  }

  /** When the delivery may go out: group_wait for a new group, group_interval between a group's updates. */
  private timing(receiver: string, group: string, node: RouteNode, kind: NotifyEventKind, now: number): number {
    const k = `${receiver}|${group}`;
    const g = this.groups.get(k);
    let at: number;
    if (!g || g.expires <= now) {
      at = now + node.groupWait;
      this.groups.delete(k);
      this.groups.set(k, { start: now, last: at, expires: 0 });
      if (this.groups.size > MAX_MEMORY) this.groups.delete(this.groups.keys().next().value as string);
    } else {
      at = Math.max(now, g.start + node.groupWait);
      if (UPDATES.has(kind) && node.groupInterval > 0) at = Math.max(at, g.last + node.groupInterval);
    }
    const cur = this.groups.get(k)!;
    cur.last = Math.max(cur.last, at);
    cur.expires = cur.last + Math.max(node.repeatInterval, node.groupInterval);
    return at;
  }
}

function groupLabels(by: string[], labels: Record<string, string>): string {
  const names = by.includes('...') ? Object.keys(labels).filter((n) => n !== 'kind') : by;
  return [...names].sort().map((n) => `${n}=${JSON.stringify(labels[n] ?? '')}`).join(',');
}
