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
  /** The include list when every entry is a plain name (no `*` or `?`): looked up by hash. */
  includeNames?: Set<string>;
  exclude?: RegExp[];
  labels?: [string, string][];
}

/**
 * Rules of one source key (or of any key), split by the selector that is
 * cheapest to look up: a rule scoped to namespaces named exactly sits under
 * each of them, a rule with labels under its first label pair, the rest are
 * scanned. A rule is filed under one of these only when that selector is
 * necessary for it to match, so a lookup never misses one; passes() still
 * checks every selector of the rules found.
 */
class Group {
  readonly byNamespace = new Map<string, Prepared[]>();
  readonly byLabel = new Map<string, Prepared[]>();
  readonly rest: Prepared[] = [];
  size = 0;

  add(p: Prepared): void {
    this.size++;
    const exact = p.includeNames;
    if (exact) for (const ns of exact) push(this.byNamespace, ns, p);
    else if (p.labels) push(this.byLabel, labelKey(p.labels[0]![0], p.labels[0]![1]), p);
    else this.rest.push(p);
  }

  /** The rules that can match a signal about `ns` with `labels`, in load order. */
  find(ns: string | undefined, labels: Record<string, string> | undefined, out: Prepared[]): void {
    const start = out.length;
    if (ns !== undefined) for (const p of this.byNamespace.get(ns) ?? []) out.push(p);
    if (labels && this.byLabel.size) {
      for (const k in labels) {
        const found = this.byLabel.get(labelKey(k, labels[k]!));
        if (found) for (const p of found) out.push(p);
      }
    }
    for (const p of this.rest) out.push(p);
    // A rule filed under several namespaces appears once per lookup (one namespace per signal); load order is restored here.
    if (out.length - start > 1) {
      const part = out.splice(start).sort((x, y) => x.pos - y.pos);
      for (const p of part) out.push(p);
    }
  }
}

/** Combinations remembered before the memo starts again: bounded whatever the cluster's label values. */
export const OBJECT_MEMO_MAX = 4096;

const labelKey = (k: string, v: string) => `${k}\u0000${v}`;

function push<T>(m: Map<string, T[]>, k: string, v: T): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

/** Rules under one key, plus those that match any key. */
interface Bucket {
  byKey: Map<string, Group>;
  any: Group;
}

const bucket = (): Bucket => ({ byKey: new Map(), any: new Group() });

export class RuleIndex {
  readonly #buckets: Record<SignalSource, Bucket> = {
    object: bucket(), event: bucket(), alert: bucket(), webhook: bucket(), schedule: bucket(), rollout: bucket(),
  };
  readonly #rules: Prepared[];
  /** Label keys some rule selects on, sorted: the only labels an object signal's candidates depend on. */
  readonly #labelKeys: string[];
  /**
   * Candidates of object signals by everything they depend on (kind,
   * namespace, operation, cluster, the selected labels' values): a watch
   * stream repeats a few hundred such combinations, and finding and
   * checking a thousand rules' selectors per event cost more than a lookup.
   */
  readonly #objectMemo = new Map<string, readonly LoadedRule[]>();

  constructor(rules: readonly LoadedRule[]) {
    this.#rules = rules.map((lr, pos) => prepare(lr, pos));
    this.#labelKeys = [...new Set(this.#rules.flatMap((p) => (p.labels ?? []).map(([k]) => k)))].sort();
    for (const p of this.#rules) {
      const { source, match } = p.lr.rule.spec;
      const keys = source === 'object' || source === 'rollout' ? match.kinds
        : source === 'event' ? match.reasons
        : source === 'alert' ? match.alertNames
        : source === 'webhook' ? match.webhooks
        : undefined;
      const b = this.#buckets[source];
      if (!keys?.length) b.any.add(p);
      for (const k of new Set(keys ?? [])) {
        let g = b.byKey.get(k);
        if (!g) b.byKey.set(k, (g = new Group()));
        g.add(p);
      }
    }
  }

  /** The rules whose pre-selectors all pass for `signal`, in load order; their `when` decides the rest. Shared: do not change it. */
  candidates(signal: Signal): readonly LoadedRule[] {
    if (signal.source !== 'object') return this.#find(signal);
    const o = signal.object ?? signal.oldObject;
    const labels = o?.metadata.labels;
    let key = `${o?.kind ?? ''}\u0000${namespaceOf(signal) ?? '\u0001'}\u0000${signal.operation ?? ''}\u0000${signal.cluster}`;
    for (const k of this.#labelKeys) {
      const v = labels?.[k];
      key += typeof v === 'string' ? `\u0000${v}` : '\u0000\u0001';
    }
    // Kubernetes validates names and label values (no NUL): the parts cannot run into each other.
    let found = this.#objectMemo.get(key);
    if (!found) {
      if (this.#objectMemo.size >= OBJECT_MEMO_MAX) this.#objectMemo.clear();
      this.#objectMemo.set(key, (found = this.#find(signal)));
    }
    return found;
  }

  /** Combinations remembered (for tests: bounded by OBJECT_MEMO_MAX). */
  get remembered(): number {
    return this.#objectMemo.size;
  }

  #find(signal: Signal): LoadedRule[] {
    const b = this.#buckets[signal.source];
    const keyed = b.byKey.get(keyOf(signal) ?? '');
    if (!keyed?.size && !b.any.size) return [];
    const ns = namespaceOf(signal);
    const labels = signal.source === 'alert' ? signal.alert?.labels : (signal.object ?? signal.oldObject)?.metadata.labels;
    const found: Prepared[] = [];
    keyed?.find(ns, labels, found);
    if (b.any.size) {
      const n = found.length;
      b.any.find(ns, labels, found);
      if (n && found.length > n) found.sort((x, y) => x.pos - y.pos);
    }
    const out: LoadedRule[] = [];
    for (const p of found) if (passes(p, signal)) out.push(p.lr);
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
    includeNames: m.namespaces?.include?.length && m.namespaces.include.every((x) => !/[*?]/.test(x)) ? new Set(m.namespaces.include) : undefined,
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
