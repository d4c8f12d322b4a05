// The detection engine: signals in, detections out. It only chains the
// stages (index → when → hold → dedup → silence → group → rate-limit); each
// stage lives in its own file with its own test. The engine holds no
// cluster state of its own: cross-object questions go to the informers'
// caches through `lookup`, never to the API server.
import { type Clock, type TimerHandle, detectionsTotal, signalsTotal, suppressedTotal, KubemendError, Errors, redact, redactDeep } from '../common/index.ts';
import type { KubeObject } from '../kube/index.ts';
import type { LoadedRule } from './loader.ts';
import { RuleIndex } from './rule-index.ts';
import { activationOf, signalVars, type Activation, type Vars } from './cel.ts';
import { diffObjects } from './diff.ts';
import { DetectionBook, Grouper, HoldTracker, RateLimiter, Silences, fingerprint, detectionLabels } from './stages/index.ts';
import type { Detection, Evidence, Signal, Subject } from './types.ts';
import { defaultSubject, subjectKey } from './subject.ts';

export type DetectionChange = 'opened' | 'repeated' | 'resolved' | 'silenced' | 'reopened';

export interface Notification {
  /** Group key the notification covers. */
  group: string;
  detections: Detection[];
  time: number;
  channel: string;
}

export interface EngineHooks {
  onDetection?(d: Detection, change: DetectionChange, signal?: Signal): void;
  onNotify?(n: Notification): void;
  /** A new, unsilenced, not rate-limited detection whose rule names a runbook. */
  onAction?(d: Detection): void;
  onRuleError?(rule: string, err: unknown): void;
}

export interface EngineOptions {
  clock: Clock;
  rules: LoadedRule[];
  hooks?: EngineHooks;
  silences?: Silences;
  /** Objects of a kind in a cluster (and namespace) from the informer caches. */
  lookup?: (cluster: string, kind: string, namespace?: string) => KubeObject[];
  /** One cached object by name (namespace undefined: cluster-scoped), from the caches' key; absent: found in lookup's list. */
  get?: (cluster: string, kind: string, namespace: string | undefined, name: string) => KubeObject | undefined;
  /** The cached pods of a node, from the Pod cache's node index; absent: lookup's pods filtered. */
  podsOn?: (cluster: string, node: string) => KubeObject[];
  /** Namespaces the configuration marks production, for the rules' production() (labels are read from the cache besides). */
  production?: (cluster: string, namespace: string) => boolean;
  /** Quiet time after which a detection whose condition stopped holding is resolved (default 5m). */
  resolveAfterMs?: number;
}

const DEFAULT_RESOLVE_AFTER = 5 * 60_000;
/** What rules judge of a smoke window: how it ended, or that its workload went away (which resolves at once). */
const ROLLOUT_OUTCOMES = new Set(['passed', 'failed', 'cancelled']);

export class DetectionEngine {
  readonly clock: Clock;
  readonly book: DetectionBook;
  readonly silences: Silences;
  index: RuleIndex;
  private rules: LoadedRule[];
  private readonly hooks: EngineHooks;
  private readonly hold: HoldTracker;
  private readonly grouper: Grouper;
  private readonly limiter: RateLimiter;
  private readonly lookup: EngineOptions['lookup'];
  private readonly get: EngineOptions['get'];
  private readonly podsOn: EngineOptions['podsOn'];
  private readonly production: EngineOptions['production'];
  private readonly resolveAfterMs: number;
  /**
   * Which objects currently make each rule+subject hold. A subject (say a
   * Deployment) holds while any of its objects (its pods) does, so a healthy
   * pod's update cannot clear a crash-looping sibling; repeats count each
   * object's rising edges.
   */
  private readonly holding = new Map<string, Set<string>>();
  /**
   * rule + object → the rule+subject key the object holds under. An object's
   * update on which the rule's `when` is false needs no subject unless the
   * object was holding: this says which, so a healthy pod costs one `when`.
   * Keyed by object, then rule name: every candidate rule of one signal
   * looks up the same object key (hot after the first), and an object that
   * holds for no rule — nearly all — answers with nothing to look further.
   */
  private readonly heldBy = new Map<string, Map<string, { key: string; subjectKey: string }>>();
  private readonly resolveTimers = new Map<string, TimerHandle>();
  /** Fingerprint of each rule+subject key that has a detection, so healthy updates skip hashing. */
  private readonly fingerprints = new Map<string, string>();
  /** The last signal per rule+subject, re-checked when a hold falls due. */
  private readonly lastSignal = new Map<string, { rule: LoadedRule; signal: Signal; subject: Subject }>();
  private readonly readers = new Map<string, Pick<Vars, 'lookup' | 'get' | 'podsOn' | 'production'>>();
  /** Counters for /metrics and `rules test` summaries. */
  readonly stats = { signals: 0, evaluations: 0, errors: 0, notifications: 0, actions: 0, suppressed: 0 };

  constructor(opts: EngineOptions) {
    this.clock = opts.clock;
    this.rules = opts.rules;
    this.hooks = opts.hooks ?? {};
    this.lookup = opts.lookup;
    this.get = opts.get;
    this.podsOn = opts.podsOn;
    this.production = opts.production;
    this.resolveAfterMs = opts.resolveAfterMs ?? DEFAULT_RESOLVE_AFTER;
    this.index = new RuleIndex(opts.rules);
    this.book = new DetectionBook(opts.clock);
    this.silences = opts.silences ?? new Silences(opts.clock);
    this.hold = new HoldTracker(opts.clock);
    this.limiter = new RateLimiter(opts.clock);
    this.grouper = new Grouper(opts.clock, (group, detections) => this.notify(group, detections));
  }

  ingest(signal: Signal): void {
    // An Event's deletion is its one-hour TTL expiring, not something that happened.
    if (signal.source === 'event' && signal.operation === 'delete') return;
    // A smoke window's outcome is what rules judge; its other phases (started, skipped …) are recorded by the sinks.
    if (signal.source === 'rollout' && !ROLLOUT_OUTCOMES.has(signal.rollout?.phase ?? '')) return;
    this.stats.signals++;
    signalsTotal.inc({ source: signal.source, kind: signal.object?.kind ?? '' });
    const actOf = once(() => this.vars(signal));
    const objKey = objectKeyFor(signal);
    for (const lr of this.index.candidates(signal)) this.evaluate(lr, signal, actOf, objKey);
  }

  /**
   * Swaps the rule set (hot reload) keeping every detection, so a reload
   * never re-opens what is already open. State kept for rules that are gone
   * is dropped; a changed rule keeps its detections under the same name.
   */
  setRules(rules: LoadedRule[]): void {
    const names = new Set(rules.map((r) => r.rule.metadata.name));
    for (const key of [...this.holding.keys()]) if (!names.has(key.slice(0, key.indexOf('\u0000')))) this.holding.delete(key);
    for (const key of [...this.lastSignal.keys()]) if (!names.has(key.slice(0, key.indexOf('\u0000')))) this.lastSignal.delete(key);
    for (const [obj, rulesHeld] of [...this.heldBy]) {
      for (const name of [...rulesHeld.keys()]) if (!names.has(name)) rulesHeld.delete(name);
      if (!rulesHeld.size) this.heldBy.delete(obj);
    }
    this.rules = rules;
    this.index = new RuleIndex(rules);
  }

  get ruleCount(): number {
    return this.rules.length;
  }

  /** A schedule tick for one rule: with match.kinds, a sweep over every cached object of those kinds. */
  sweep(ruleName: string, cluster: string): void {
    const lr = this.rules.find((r) => r.rule.metadata.name === ruleName);
    if (!lr) return;
    const kinds = lr.rule.spec.match.kinds;
    const time = this.clock.now();
    const schedule = { rule: ruleName };
    if (!kinds?.length || !this.lookup) {
      const signal: Signal = { source: 'schedule', cluster, time, schedule };
      this.evaluate(lr, signal, once(() => this.vars(signal)), objectKeyFor(signal));
      return;
    }
    for (const kind of kinds) {
      for (const object of this.lookup(cluster, kind)) {
        const signal: Signal = { source: 'schedule', cluster, time, object, schedule };
        // The index applies the rule's namespace and label filters to each swept object.
        if (this.index.candidates(signal).includes(lr)) this.evaluate(lr, signal, once(() => this.vars(signal)), objectKeyFor(signal));
      }
    }
  }

  detections(): Detection[] {
    return this.book.all();
  }

  stop(): void {
    for (const t of this.resolveTimers.values()) t.cancel();
    this.resolveTimers.clear();
    this.hold.stopAll();
    this.grouper.close(false);
  }

  /** The CEL activation of a signal: built once per signal, shared by every rule evaluated on it. */
  private vars(signal: Signal): Activation {
    return activationOf(signalVars(signal, { now: this.clock.now(), ...this.readersOf(signal.cluster) }), this.clock.now());
  }

  /** The cache readers of one cluster, made once per cluster rather than per signal. */
  private readersOf(cluster: string): Pick<Vars, 'lookup' | 'get' | 'podsOn' | 'production'> {
    let r = this.readers.get(cluster);
    if (r) return r;
    const { lookup, get, podsOn, production } = this;
    r = {
      lookup: lookup && ((kind: string, ns?: string) => lookup(cluster, kind, ns)),
      get: get && ((kind: string, ns: string | undefined, name: string) => get(cluster, kind, ns, name)),
      podsOn: podsOn && ((node: string) => podsOn(cluster, node)),
      production: production && ((ns: string) => production(cluster, ns)),
    };
    this.readers.set(cluster, r);
    return r;
  }

  /** `objKey`: the object's identity for stateful sources (objectKeyFor), computed once per signal. */
  private evaluate(lr: LoadedRule, signal: Signal, actOf: () => Activation, objKey: string | undefined): void {
    const rule = lr.rule;
    const name = rule.metadata.name;
    this.stats.evaluations++;
    // `when` never throws: a missing field or a type error is "no match",
    // counted in lr.compiled.stats() for /metrics.
    const holds = lr.compiled.when(actOf());
    const deleted = signal.source === 'object' && signal.operation === 'delete';
    const stateful = signal.source === 'object' || signal.source === 'schedule';
    const objectHolds = holds && !deleted;
    // An object that does not hold and was not holding changes nothing: no subject, no hold, no resolve.
    const held = objKey === undefined ? undefined : this.heldBy.get(objKey)?.get(name);
    if (objKey !== undefined && !objectHolds && !held) return;
    let subject: Subject | undefined;
    let sKey: string;
    if (held && !objectHolds) sKey = held.subjectKey;
    else {
      try {
        subject = lr.compiled.subject ? toSubject(signal.cluster, lr.compiled.subject(actOf())) : defaultSubject(signal, name);
      } catch (err) {
        this.hooks.onRuleError?.(name, err);
        subject = defaultSubject(signal, name);
      }
      sKey = subjectKey(subject);
    }
    const key = held && !objectHolds ? held.key : `${name}\u0000${sKey}`;
    const oKey = objKey ?? sKey;
    // A subject that changed while the object held (its owner changed): the object leaves the old subject.
    if (held && objectHolds && held.key !== key) this.leave(lr, held.key, oKey);
    const set = this.holding.get(key) ?? new Set<string>();
    const objectWasHolding = set.has(oKey);
    if (objectHolds) set.add(oKey);
    else set.delete(oKey);
    if (set.size) this.holding.set(key, set);
    else this.holding.delete(key);
    if (objKey !== undefined) {
      const rulesHeld = this.heldBy.get(objKey);
      if (objectHolds) {
        if (rulesHeld) rulesHeld.set(name, { key, subjectKey: sKey });
        else this.heldBy.set(objKey, new Map([[name, { key, subjectKey: sKey }]]));
      } else if (rulesHeld?.delete(name) && rulesHeld.size === 0) this.heldBy.delete(objKey);
    }
    if (objectHolds) this.lastSignal.set(key, { rule: lr, signal, subject: subject! });
    const state = this.hold.observe(key, set.size > 0, rule.spec.for ?? 0, () => this.due(key));
    if (state === 'waiting') suppressedTotal.inc({ reason: 'hold' });
    if (state === 'fire') {
      // Conditions on objects (watched or swept) count rising edges, e.g. a pod
      // going back into CrashLoopBackOff; events, alerts and webhooks count
      // every occurrence.
      const occurrence = !stateful || !objectWasHolding || signal.operation === 'create';
      if (objectHolds && (occurrence || !this.fingerprints.has(key))) this.fire(lr, subject!, signal, key, actOf());
    } else if (set.size === 0) {
      // The subject itself is gone: nothing left to wait for.
      const subjectGone = (deleted && sKey === oKey) || signal.alert?.status === 'resolved' || signal.rollout?.phase === 'cancelled';
      this.scheduleResolve(lr, key, subjectGone);
    }
  }

  /** `objKey` no longer makes `key` hold; when it was the last object, the hold ends and the detection resolves in time. */
  private leave(lr: LoadedRule, key: string, objKey: string): void {
    const set = this.holding.get(key);
    if (!set?.delete(objKey) || set.size) return;
    this.holding.delete(key);
    this.hold.observe(key, false, 0, () => {});
    this.scheduleResolve(lr, key, false);
  }

  /** A `for` hold fell due: re-check against the current object from the cache (a point read, not a scan) before firing. */
  private due(key: string): void {
    const last = this.lastSignal.get(key);
    if (!last) return;
    let signal = last.signal;
    if (signal.object && (this.get || this.lookup) && signal.source === 'object') {
      const o = signal.object;
      const current = this.get
        ? this.get(signal.cluster, o.kind ?? '', o.metadata.namespace, o.metadata.name ?? '')
        : this.lookup!(signal.cluster, o.kind ?? '', o.metadata.namespace).find((x) => x.metadata.name === o.metadata.name);
      if (!current) return;
      signal = { ...signal, object: current, oldObject: undefined, time: this.clock.now() };
      try {
        if (last.rule.compiled.when(this.vars(signal)) !== true) return;
      } catch {
        return;
      }
    }
    // Held on purpose: the time since the watch event is the rule's `for`, not latency (seenAt dropped).
    const fired = { ...signal, time: this.clock.now(), seenAt: undefined };
    this.fire(last.rule, last.subject, fired, key, this.vars(fired));
  }

  private fire(lr: LoadedRule, subject: Subject, signal: Signal, key: string, act: Activation): void {
    const rule = lr.rule;
    const name = rule.metadata.name;
    const fp = this.fingerprints.get(key) ?? fingerprint(name, subject);
    this.fingerprints.set(key, fp);
    this.resolveTimers.get(fp)?.cancel();
    this.resolveTimers.delete(fp);
    const labels = detectionLabels({ name, labels: rule.metadata.labels, severity: rule.spec.severity }, subject);
    const summary = this.summary(lr, act);
    const { detection, isNew, reopened } = this.book.upsert(
      fp,
      () => ({
        rule: name,
        cluster: subject.cluster,
        subject,
        fingerprint: fp,
        severity: rule.spec.severity,
        summary,
        labels,
        action: rule.spec.action && ('runbook' in rule.spec.action
          ? { runbook: rule.spec.action.runbook, params: { ...rule.spec.action.params } }
          : { notify: { channel: rule.spec.action.notify.channel } }),
      }),
      evidenceOf(signal, summary),
      { reopenWithinMs: rule.spec.resolveAfter ?? this.resolveAfterMs },
    );
    this.decideAction(lr, detection, act);
    if (!isNew && !reopened) {
      suppressedTotal.inc({ reason: 'dedup' });
      detectionsTotal.inc({ rule: name, change: 'repeated' });
      this.hooks.onDetection?.(detection, 'repeated', signal);
      return;
    }
    const silence = this.silences.match(labels);
    if (silence) {
      detection.status = 'silenced';
      detection.silencedBy = silence.id;
      detection.suppressed = 'silenced';
      this.stats.suppressed++;
      suppressedTotal.inc({ reason: 'silence' });
      detectionsTotal.inc({ rule: name, change: 'silenced' });
      this.hooks.onDetection?.(detection, 'silenced', signal);
      return;
    }
    // Decided before the sinks hear of it: remediation reads `suppressed` to know a rate-limited detection starts nothing.
    const limit = rule.spec.rateLimit;
    const limited = limit !== undefined && !this.limiter.allow(`rule:${name}`, limit.max, limit.per);
    if (limited) {
      detection.suppressed = 'rate-limit';
      this.stats.suppressed++;
      suppressedTotal.inc({ reason: 'rate_limit' });
    }
    detectionsTotal.inc({ rule: name, change: reopened ? 'reopened' : 'opened' });
    this.hooks.onDetection?.(detection, reopened ? 'reopened' : 'opened', signal);
    if (limited) return;
    if (detection.action?.runbook && detection.action.mode !== 'offer' && !detection.action.withheld) {
      this.stats.actions++;
      this.hooks.onAction?.(detection);
    }
    const group = this.grouper.groupKey(labels, rule.spec.group.by);
    if (this.grouper.offer(group, rule.spec.group.window, detection) === 'notify') this.notify(group, [detection]);
    else {
      detection.suppressed = 'group-window';
      suppressedTotal.inc({ reason: 'group' });
    }
  }

  /**
   * The rule's action as it stands at this firing: offered rather than
   * started (mode), and withheld when action.when does not hold now (the
   * runbook would fail or do harm, e.g. a rollback with nothing to roll back
   * to) with the reason remediation audits as not acting.
   */
  private decideAction(lr: LoadedRule, d: Detection, act: Activation): void {
    const a = lr.rule.spec.action;
    if (!a || !('runbook' in a) || !d.action?.runbook) return;
    if (a.mode === 'offer') d.action.mode = 'offer';
    else delete d.action.mode;
    if (lr.compiled.actionWhen && !lr.compiled.actionWhen(act)) d.action.withheld = a.skipReason ?? `the rule's action.when does not hold: ${a.when}`;
    else delete d.action.withheld;
  }

  private notify(group: string, detections: Detection[]): void {
    this.stats.notifications++;
    for (const d of detections) d.notifications++;
    const channel = detections[0]?.action?.notify?.channel ?? 'default';
    this.hooks.onNotify?.({ group, detections, time: this.clock.now(), channel });
  }

  private scheduleResolve(lr: LoadedRule, key: string, now: boolean): void {
    const fp = this.fingerprints.get(key);
    if (!fp) return;
    const d = this.book.get(fp);
    if (!d || d.status === 'resolved' || this.resolveTimers.has(fp)) return;
    // Only conditions on objects resolve by themselves; events and webhooks
    // are occurrences, alerts resolve when Alertmanager says so.
    // A rollout's detection resolves once a later window of the workload passes.
    if (!['object', 'alert', 'schedule', 'rollout'].includes(lr.rule.spec.source)) return;
    const resolve = () => {
      this.resolveTimers.delete(fp);
      if (this.holding.has(key)) return;
      const r = this.book.resolve(fp);
      this.lastSignal.delete(key);
      this.fingerprints.delete(key);
      if (r) {
        detectionsTotal.inc({ rule: r.rule, change: 'resolved' });
        this.hooks.onDetection?.(r, 'resolved');
      }
    };
    if (now) return resolve();
    this.resolveTimers.set(fp, this.clock.setTimeout(resolve, lr.rule.spec.resolveAfter ?? this.resolveAfterMs));
  }

  /** Masked: a summary often quotes an Event's message, and it is stored, notified and audited. */
  private summary(lr: LoadedRule, act: Activation): string {
    if (lr.compiled.summary) {
      try {
        return redact(String(lr.compiled.summary(act)));
      } catch {
        /* fall through to the description */
      }
    }
    return lr.rule.metadata.description ?? lr.rule.metadata.name;
  }
}

function once<T>(make: () => T): () => T {
  let v: T | undefined;
  return () => (v ??= make());
}

/** Conditions on objects (watched or swept) hold per object; other sources per subject. */
function objectKeyFor(signal: Signal): string | undefined {
  return (signal.source === 'object' || signal.source === 'schedule') && signal.object ? objectKeyOf(signal.cluster, signal.object) : undefined;
}

function objectKeyOf(cluster: string, o: KubeObject): string {
  return `${cluster}/${o.kind ?? ''}/${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;
}

function toSubject(cluster: string, v: unknown): Subject {
  const m = (v ?? {}) as Record<string, unknown>;
  if (typeof m.name !== 'string' || typeof m.kind !== 'string') throw new KubemendError(Errors.RULE_EVAL, `spec.subject must be a map with a kind and a name, got ${JSON.stringify(v)}`);
  return { cluster, kind: m.kind, name: m.name, ...(typeof m.namespace === 'string' && m.namespace ? { namespace: m.namespace } : {}) };
}

/**
 * What a detection keeps as evidence. Event messages, alert annotations and
 * object diffs are text from programs (an Event can quote a failing
 * container's output): masked before they are kept.
 */
function evidenceOf(signal: Signal, summary: string): Evidence {
  const time = signal.time;
  if (signal.source === 'event' && signal.event) {
    const e = signal.event;
    const io = e.involvedObject ?? {};
    const message = redact(String(e.message ?? ''));
    return {
      time,
      type: 'event',
      summary: `${e.type} ${e.reason}: ${message}`,
      event: { reason: e.reason, message, type: e.type, count: e.count ?? 1, involvedObject: `${String(io.kind ?? '').toLowerCase()}/${io.name}` },
    };
  }
  if (signal.source === 'alert' && signal.alert) {
    return { time, type: 'alert', summary: redact(`${signal.alert.status} ${signal.alert.labels.alertname ?? ''}: ${signal.alert.annotations?.summary ?? ''}`.trim()) };
  }
  if (signal.source === 'webhook' && signal.webhook) return { time, type: 'webhook', summary: `webhook ${signal.webhook.name}` };
  if (signal.source === 'rollout' && signal.rollout) return { time, type: 'rollout', summary, rollout: redactDeep(signal.rollout) };
  if (signal.object && signal.oldObject) return { time, type: 'change', summary, diff: changeOf(signal, signal.object, signal.oldObject) };
  return { time, type: 'state', summary };
}

/** The last signal's masked diff: every rule that fires on one signal (a thousand copies of a few rules) keeps the same evidence, computed once. */
let lastChange: { signal: Signal; object: KubeObject; oldObject: KubeObject; diff: Evidence['diff'] } | undefined;

function changeOf(signal: Signal, object: KubeObject, oldObject: KubeObject): Evidence['diff'] {
  const c = lastChange;
  if (c && c.signal === signal && c.object === object && c.oldObject === oldObject) return c.diff;
  const diff = redactDeep(diffObjects(oldObject, object, { ignoreStatus: false }));
  lastChange = { signal, object, oldObject, diff };
  return diff;
}
