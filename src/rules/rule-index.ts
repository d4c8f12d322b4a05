// Which rules can match a signal, decided before any CEL runs. A busy
// cluster sends thousands of signals a minute and most rules are about one
// kind or one Event reason, so rules are bucketed by source and by the key
// each source has (object kind, Event reason, alert name, webhook name); the
// remaining cheap selectors (namespaces, labels, event types, operations,
// clusters) are then checked per candidate.
import type { KubeObject } from '../kube/index.ts';
import type { LoadedRule } from './loader.ts';
import type { Signal, SignalSource } from './types.ts';
import { ROLLOUT_KINDS } from './sources/rollout-state.ts';

interface Prepared {
  lr: LoadedRule;
  /** Load order: candidates keep it, so evaluation order never depends on bucketing. */
  pos: number;
  kinds?: Set<string>;
  reasons?: Set<string>;
  eventTypes?: Set<string>;
  operations?: Set<string>;
  clusters?: Set<string>;
  include?: RegExp[];
  exclude?: RegExp[];
  labels?: [string, string][];
}

/** Rules under one key, plus those that match any key. */
interface Bucket {
  byKey: Map<string, Prepared[]>;
  any: Prepared[];
}

const bucket = (): Bucket => ({ byKey: new Map(), any: [] });

export class RuleIndex {
  readonly #buckets: Record<SignalSource, Bucket> = {
    object: bucket(), event: bucket(), alert: bucket(), webhook: bucket(), schedule: bucket(), rollout: bucket(),
  };
  readonly #rules: Prepared[];

  constructor(rules: readonly LoadedRule[]) {
    this.#rules = rules.map((lr, pos) => prepare(lr, pos));
    for (const p of this.#rules) {
      const { source, match } = p.lr.rule.spec;
      const keys = source === 'object' || source === 'rollout' ? match.kinds
        : source === 'event' ? match.reasons
        : source === 'alert' ? match.alertNames
        : source === 'webhook' ? match.webhooks
        : undefined;
      const b = this.#buckets[source];
      if (!keys?.length) b.any.push(p);
      for (const k of new Set(keys ?? [])) {
        const list = b.byKey.get(k) ?? [];
        list.push(p);
        b.byKey.set(k, list);
      }
    }
  }

  /** The rules whose pre-selectors all pass for `signal`, in load order; their `when` decides the rest. */
  candidates(signal: Signal): LoadedRule[] {
    const b = this.#buckets[signal.source];
    const keyed = b.byKey.get(keyOf(signal) ?? '') ?? [];
    const all = keyed.length && b.any.length ? [...keyed, ...b.any].sort((x, y) => x.pos - y.pos) : keyed.length ? keyed : b.any;
    const out: LoadedRule[] = [];
    for (const p of all) if (passes(p, signal)) out.push(p.lr);
    return out;
  }

  /**
   * The kinds the watcher must run informers for. `events: true` when an
   * event-source rule reads core/v1 Events about that kind; an event rule
   * about any kind shows as `{kind: 'Event', events: true}`. Kinds that rules
   * only look up with objects() are listed with `events: false`.
   */
  kindsNeeded(): { kind: string; events: boolean }[] {
    const out = new Map<string, boolean>();
    const add = (kind: string, events: boolean) => out.set(kind, (out.get(kind) ?? false) || events);
    for (const { lr } of this.#rules) {
      const { source, match } = lr.rule.spec;
      if (source === 'event') {
        if (match.kinds?.length) for (const k of match.kinds) add(k, true);
        else add('Event', true);
      } else if (source === 'object' || source === 'schedule') {
        for (const k of match.kinds ?? []) add(k, false);
      } else if (source === 'rollout') {
        for (const k of ROLLOUT_KINDS) add(k, false);
      }
      for (const k of lr.compiled.kinds) add(k, false);
    }
    return [...out].sort(([a], [b]) => a.localeCompare(b)).map(([kind, events]) => ({ kind, events }));
  }
}

function prepare(lr: LoadedRule, pos: number): Prepared {
  const m = lr.rule.spec.match;
  const set = (xs: readonly string[] | undefined) => (xs?.length ? new Set(xs) : undefined);
  return {
    lr,
    pos,
    kinds: set(m.kinds),
    reasons: set(m.reasons),
    eventTypes: set(m.eventTypes),
    operations: set(m.operations),
    clusters: set(m.clusters),
    include: m.namespaces?.include?.length ? m.namespaces.include.map(glob) : undefined,
    exclude: m.namespaces?.exclude?.length ? m.namespaces.exclude.map(glob) : undefined,
    labels: m.labels && Object.keys(m.labels).length ? Object.entries(m.labels) : undefined,
  };
}

/** `team-*`, `*-prod`, `ns?`: `*` is any run of characters, `?` one. */
function glob(pattern: string): RegExp {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`);
}

function keyOf(s: Signal): string | undefined {
  switch (s.source) {
    case 'object':
    case 'rollout': return (s.object ?? s.oldObject)?.kind;
    case 'event': return eventOf(s)?.reason;
    case 'alert': return s.alert?.labels.alertname;
    case 'webhook': return s.webhook?.name;
    case 'schedule': return undefined;
  }
}

function eventOf(s: Signal): KubeObject | undefined {
  return s.event ?? s.object;
}

/** The object an Event is about (core/v1 involvedObject, events.k8s.io/v1 regarding). */
function involved(ev: KubeObject | undefined): { kind?: string; name?: string; namespace?: string } | undefined {
  return ev?.involvedObject ?? ev?.regarding;
}

/** The namespace a signal is about; a Namespace object counts as being in itself, so namespace filters apply to it. */
function namespaceOf(s: Signal): string | undefined {
  if (s.source === 'event') {
    const ev = eventOf(s);
    const inv = involved(ev);
    if (inv?.kind === 'Namespace') return inv.name;
    return inv?.namespace ?? ev?.metadata.namespace;
  }
  if (s.source === 'alert') return s.alert?.labels.namespace;
  const o = s.object ?? s.oldObject;
  if (o?.kind === 'Namespace') return o.metadata.name;
  return o?.metadata.namespace;
}

function passes(p: Prepared, s: Signal): boolean {
  if (p.clusters && !p.clusters.has(s.cluster)) return false;
  if (p.operations && !(s.operation && p.operations.has(s.operation))) return false;
  if (s.source === 'event') {
    const ev = eventOf(s);
    if (p.kinds && !p.kinds.has(involved(ev)?.kind ?? '')) return false;
    if (p.eventTypes && !p.eventTypes.has(ev?.type ?? '')) return false;
  }
  if (s.source === 'schedule') {
    if (s.schedule?.rule && s.schedule.rule !== p.lr.rule.metadata.name) return false;
    if (p.kinds && s.object && !p.kinds.has(s.object.kind ?? '')) return false;
  }
  if (p.include || p.exclude) {
    const ns = namespaceOf(s);
    // Cluster-scoped things are in no namespace: an include list never matches them, an exclude list never drops them.
    if (p.include && !(ns !== undefined && p.include.some((r) => r.test(ns)))) return false;
    if (p.exclude && ns !== undefined && p.exclude.some((r) => r.test(ns))) return false;
  }
  if (p.labels) {
    const labels = s.source === 'alert' ? s.alert?.labels : (s.object ?? s.oldObject)?.metadata.labels;
    if (!p.labels.every(([k, v]) => labels?.[k] === v)) return false;
  }
  return true;
}
