// The one assembly of kubemend's data path:
//
//   sources ─────────────► engine ───────────► sinks
//   informers per cluster   index → when →      recorder (store + audit)
//   Alertmanager/webhooks   hold → dedup →      remediation (runbooks)
//   schedules               silence → group →   incidents
//   rollouts (smoke         rate limit          printer, notifiers, …
//     windows, from the informers' signals)
//
// Every command that detects — serve, watch, run, chat, rules test, demo,
// incidents replay — builds its pipeline here, on real clusters or on the
// sandbox (the same assembly on a virtual clock), so they cannot drift
// apart. Nothing else constructs the engine.
import { type Clock, latencyNow, markEmitted, observeSince, provideInformerSizes, suppressedTotal, watchToDetectionSeconds } from '../common/index.ts';
import { KubeHttp, kindRef, type Identity, type KubeObject } from '../kube/index.ts';
import { DetectionEngine, kindsToWatch, type KindFields, type LoadedRule, KubeSource, ScheduleSource, type ScheduleSignal, WebhookSource, RolloutWatcher, type Signal } from '../rules/index.ts';
import type { LoadedRunbook, BudgetConfig } from '../runbooks/index.ts';
import { contextRule, KubeAuditTrail } from '../incidents/index.ts';
import { chatRunbooks, buildChatEngine, isProduction, type KubemendChatEngine } from '../chat/index.ts';
import { DetectionRecorder } from './recorder.ts';
import { IncidentSink } from './incidents-sink.ts';
import { incidentDesk } from './incident-desk.ts';
import { buildRemediation, type Remediation, type RemediationSettings } from './remediation.ts';
import { SilenceSync } from './silences.ts';
import type { Sink } from './sink.ts';
import { Leadership, lastRunFor, type LeaderElectionOptions, type LeaderInfo } from './leadership.ts';
import { NotifyBridge } from './notify-bridge.ts';
import type { PipelineOptions } from './options.ts';
import { cacheFields } from './cache-fields.ts';

export class Pipeline {
  readonly clock: Clock;
  readonly engine: DetectionEngine;
  readonly kubeSources = new Map<string, KubeSource>();
  /** Clients for actions and reads, separate from the informers' so their in-flight counts are their own. */
  readonly kube = new Map<string, KubeHttp>();
  readonly webhooks?: WebhookSource;
  private loadedRunbooks?: readonly LoadedRunbook[];
  /** Smoke windows after every rollout; running while a rule has `source: rollout`. */
  readonly rollouts: RolloutWatcher;
  readonly remediation?: Remediation;
  readonly incidents?: IncidentSink;
  /** The API server's audit events, when incidents.kubeAudit is set (the HTTP route adds to it). */
  readonly kubeAudit?: KubeAuditTrail;
  readonly recorder?: DetectionRecorder;
  readonly chat?: KubemendChatEngine;
  /** Describes what happens as notification events (when `notify` is set). */
  readonly notifyBridge?: NotifyBridge;
  readonly sinks: Sink[];
  /** Set with leader election; absent, this process always leads. */
  readonly leadership?: Leadership;
  /** The sinks that act on the world (store, runs, incidents): only the leader's get calls. */
  private readonly leaderSinks = new Set<Sink>();
  private readonly o: PipelineOptions;
  private rules: LoadedRule[];
  /** What the informers cache of each kind, for the rules and readers in force (cache-fields.ts). */
  private fields: KindFields;
  private schedules: ScheduleSource[] = [];
  private silenceSync?: SilenceSync;
  private readonly clusterUids = new Map<string, string>();
  private unprovide?: () => void;
  private started = false;
  private stopped = false;

  constructor(o: PipelineOptions) {
    this.o = o;
    this.clock = o.clock;
    this.rules = this.withContext(o.rules);
    this.fields = cacheFields(this.rules, { incidents: Boolean(o.incidents) });
    const sinks: Sink[] = [];
    if (o.store && (o.record ?? true)) sinks.push((this.recorder = new DetectionRecorder({ store: o.store, clock: o.clock, log: o.log })));
    for (const c of o.clusters) this.kube.set(c.name, new KubeHttp(c.kubeconfig));
    if (o.leaderElection) this.leadership = this.elect(o.leaderElection);
    if (o.notify) {
      const notify = o.notify;
      this.notifyBridge = new NotifyBridge({
        clock: o.clock,
        // Every replica sees the runs and detections: one tells people about them. A person's action
        // happens on one replica only, leading or not; the leader's outbox delivers what any replica queued.
        emit: (e, personal) => (personal || this.leading) && notify.emit(e),
        log: o.log,
        links: notify.links,
        openIncidents: () => this.incidents?.tracker.openIncidents() ?? [],
        annotations: (cluster, kind, ns, name) => {
          const inf = this.kubeSources.get(cluster)?.informer(kind);
          return (inf?.get(ns, name) as KubeObject | undefined)?.metadata?.annotations;
        },
      });
    }
    const remediation: RemediationSettings | undefined = o.chat
      // Chat runs need the executor even where detections do not remediate; approval-group membership and RBAC are the chat engine's to check.
      ? { ...(o.remediation || { runbooks: [], auto: false }), runbooks: [...chatRunbooks(), ...(o.remediation ? o.remediation.runbooks : [])], approvers: () => true }
      : o.remediation || undefined;
    if (remediation) {
      if (!o.store) throw new Error('internal: remediation needs a store');
      const notifiers = [...(remediation.notifiers ?? []), ...(this.notifyBridge ? [this.notifyBridge] : [])];
      this.remediation = buildRemediation({ ...remediation, notifiers, store: o.store, clock: o.clock, kube: (c) => this.kube.get(c), clusterUid: (c) => this.clusterUids.get(c), durable: async (c) => o.clusters.find((x) => x.name === c)?.durable?.(), log: o.log, onRunEnd: (run) => this.incidents?.runEnded(run), fencing: this.leadership });
      sinks.push(this.remediation.sink);
      if (this.notifyBridge) this.remediation.executor.on(this.notifyBridge);
    }
    if (o.incidents) {
      if (!o.store) throw new Error('internal: incident tracking needs a store');
      const { expectedManagers, kubeAudit, ...tracking } = o.incidents;
      if (kubeAudit) this.kubeAudit = new KubeAuditTrail({ ...kubeAudit, clock: o.clock });
      const onIncident = tracking.onIncident;
      const bridge = this.notifyBridge;
      this.incidents = new IncidentSink({
        ...tracking,
        onIncident: (i, change) => {
          onIncident?.(i, change);
          bridge?.incidentChanged(i, change);
        },
        changes: { expectedManagers, audit: this.kubeAudit },
        store: o.store,
        clock: o.clock,
        lookup: (cluster, kind, ns) => {
          const src = this.kubeSources.get(cluster);
          return src?.informer(kind) ? src.list(kind, ns) : undefined;
        },
        podsAtStart: () => [...this.kubeSources.values()].map((s) => ({ cluster: s.cluster, pods: s.list('Pod') })),
        onError: (err) => o.log?.(`incident tracker error: ${(err as Error).message}`),
      });
      sinks.push(this.incidents);
      const sink = this.incidents;
      this.remediation?.executor.on({ onTransition: (run) => sink.runActive(run) });
    }
    if (o.chat && this.remediation && o.store) {
      this.chat = buildChatEngine({
        ...o.chat,
        store: o.store,
        clock: o.clock,
        executor: this.remediation.executor,
        approvals: this.remediation.approvals,
        kube: (c) => this.kube.get(c),
        clusters: o.clusters.map((c) => c.name),
        log: o.log,
        replicas: o.leaderElection !== undefined,
        incidents: this.incidents && incidentDesk(this.incidents, o.store),
        ...(this.notifyBridge ? { onRunbookApproval: this.notifyBridge.approvalListener((id) => o.store!.getRun(id)) } : {}),
      });
    }
    for (const s of sinks) this.leaderSinks.add(s);
    // Labels of detections, for the events of runs and incidents; its events are gated on leading.
    if (this.notifyBridge) sinks.push(this.notifyBridge);
    sinks.push(...(o.sinks ?? []));
    this.sinks = sinks;
    if (o.webhooks !== false && o.webhooks !== undefined) {
      this.webhooks = new WebhookSource({ clock: o.clock, defaultCluster: o.clusters[0]?.name ?? 'default', clusterLabel: o.webhooks.clusterLabel });
    }
    this.engine = new DetectionEngine({
      clock: o.clock,
      rules: this.rules,
      lookup: (cluster, kind, ns) => this.kubeSources.get(cluster)?.list(kind, ns) ?? [],
      get: (cluster, kind, ns, name) => this.kubeSources.get(cluster)?.get(kind, ns, name),
      podsOn: (cluster, node) => this.kubeSources.get(cluster)?.podsOn(node) ?? [],
      production: o.production ?? (o.chat ? ((settings) => (cluster: string, ns: string) => isProduction(settings, cluster, ns))(o.chat.settings) : undefined),
      hooks: {
        onDetection: (d, change, signal) => {
          // The mark a run started by this change measures from (the executor's latency histograms).
          const at = latencyNow();
          markEmitted(d, at);
          // Repeats are not changes of state: the watch→detection histogram counts the rest.
          if (change !== 'repeated') observeSince(watchToDetectionSeconds, signal?.seenAt, at);
          this.each((s) => s.onDetection?.(d, change, signal));
        },
        onNotify: (n) => this.each((s) => s.onNotify?.(n)),
        onRuleError: (rule, err) => o.log?.(`warning: rule ${rule}: ${(err as Error).message}`),
      },
    });
    for (const c of o.clusters) {
      this.kubeSources.set(c.name, new KubeSource({
        cluster: c.name,
        kubeconfig: c.kubeconfig,
        clock: o.clock,
        kinds: kindsToWatch(this.rules),
        fields: (kind) => (o.cacheWholeObjects ? undefined : this.fields.forKind(kind)),
        onError: (kind, err) => o.log?.(`warning: ${c.name} ${kind}: ${(err as Error).message}`),
      }));
    }
    this.rollouts = new RolloutWatcher({
      clock: o.clock,
      lookup: (cluster, kind, ns) => this.kubeSources.get(cluster)?.list(kind, ns) ?? [],
      get: (cluster, kind, ns, name) => this.kubeSources.get(cluster)?.informer(kind)?.get(ns, name),
      defaultWindowMs: o.smoke?.windowMs,
      log: o.log,
    });
    if (o.store && o.silences !== false) {
      this.silenceSync = new SilenceSync({ store: o.store, clock: o.clock, silences: this.engine.silences, intervalMs: o.silences?.intervalMs, log: o.log });
    }
  }

  /** Silences first, then every cache synced, then the sinks (resuming runs), then schedules and webhooks. */
  async start(): Promise<void> {
    if (this.started) throw new Error('internal: pipeline already started');
    this.started = true;
    await this.silenceSync?.start();
    // Level-based, as controller-runtime starts no worker before every cache
    // has synced: a rule reads other kinds through owner() and the action's
    // `when` (a Deployment's earlier ReplicaSets), so the objects the first
    // lists find are evaluated once all of them are in, in the order they came.
    const early: Signal[] = [];
    let to: (sig: Signal) => void = (sig) => void early.push(sig);
    await Promise.all([...this.kubeSources.values()].map((s) => s.start((sig) => to(sig))));
    to = (sig) => this.ingest(sig);
    for (const sig of early) this.ingest(sig);
    // Only resumed runs need to know which cluster is which; detection alone makes no GET.
    if (this.remediation) await this.readClusterUids();
    this.syncRollouts();
    for (const s of this.sinks) await s.start?.();
    await this.chat?.start();
    this.startSchedules();
    this.webhooks?.start((sig) => this.received(sig));
    this.leadership?.start();
    this.unprovide = provideInformerSizes(() => [...this.kubeSources.values()].flatMap((src) => src.kinds().map((k) => ({ cluster: src.cluster, kind: k.kind, objects: src.list(k.kind).length }))));
  }

  /** Whether this process acts (always, without leader election). */
  get leading(): boolean {
    return !this.leadership || this.leadership.leading;
  }

  /** For /leader and /readyz. */
  leaderInfo(): LeaderInfo {
    return this.leadership?.info() ?? { enabled: false, leading: true };
  }

  /** Whether every informer has synced (for /readyz). */
  get synced(): boolean {
    return this.started && !this.stopped && [...this.kubeSources.values()].every((s) => s.kinds().every((k) => s.informer(k.kind)!.isSynced));
  }

  /** One signal from any source: the sinks that observe see it first, then the engine. */
  ingest(signal: Signal): void {
    this.rollouts.observe(signal);
    for (const s of this.sinks) {
      // The incident tracker's change feed stays warm on followers; the recorder's smoke records are the leader's to write.
      if (!s.observe || (s === this.recorder && !this.leading)) continue;
      try {
        s.observe(signal);
      } catch (err) {
        this.o.log?.(`warning: sink ${s.name}: ${(err as Error).message}`);
      }
    }
    // An Event an informer's first LIST finds happened before kubemend watched it (at start,
    // or when a reload adds the kind): acting on it now (a SystemOOM an hour old) would
    // remediate the past. Objects are state, so they are evaluated.
    if (signal.initial && signal.source === 'event') {
      suppressedTotal.inc({ reason: 'before_start' });
      return;
    }
    this.engine.ingest(signal);
  }

  currentRules(): LoadedRule[] {
    return this.o.rules;
  }

  /**
   * Hot reload: the engine keeps its detections; a cache that lacks fields the
   * new rules read is listed again with them before the engine sees the rules
   * (fewer fields change nothing until restart); informers start for kinds the
   * new rules need (a kind no longer needed keeps its informer until restart);
   * schedules are rebuilt. The caller has validated the set.
   */
  async setRules(rules: LoadedRule[]): Promise<void> {
    this.o.rules = rules;
    this.rules = this.withContext(rules);
    this.fields = cacheFields(this.rules, { incidents: Boolean(this.o.incidents) });
    const fields = this.fields;
    await Promise.all([...this.kubeSources.values()].map(async (s) => {
      const relisted = await s.widen((kind) => (this.o.cacheWholeObjects ? undefined : fields.forKind(kind)));
      if (relisted.length) this.o.log?.(`${s.cluster}: listed ${relisted.join(', ')} again to cache the fields the new rules read`);
    }));
    this.engine.setRules(this.rules);
    const kinds = kindsToWatch(this.rules);
    await Promise.all([...this.kubeSources.values()].map((s) => s.addKinds(kinds, (sig) => this.ingest(sig))));
    if (this.started) {
      this.syncRollouts();
      for (const s of this.schedules) s.stop();
      this.startSchedules();
    }
  }

  /** Hot reload of the default smoke window (windows already open keep theirs). */
  setSmokeWindow(ms: number): void {
    this.rollouts.defaultWindowMs = ms;
  }

  /** Hot reload: new runs use these runbooks (chat's own stay); runs in flight keep theirs. */
  setRunbooks(runbooks: LoadedRunbook[]): void {
    const all = this.o.chat ? [...chatRunbooks(), ...runbooks] : runbooks;
    this.loadedRunbooks = all;
    this.remediation?.setRunbooks(all);
  }

  /** The runbooks new runs use now, chat's own included (the console draws their step graphs). */
  runbooks(): readonly LoadedRunbook[] {
    return this.loadedRunbooks ?? (this.o.chat ? [...chatRunbooks(), ...(this.o.remediation ? this.o.remediation.runbooks : [])] : this.o.remediation ? this.o.remediation.runbooks : []);
  }

  /** Hot reload of budgets and the cool-down; returns what was applied. */
  setBudgets(budgets: Partial<BudgetConfig>, retriggerAfterMs?: number): string {
    if (!this.remediation) return 'remediation is off: budgets unused';
    this.remediation.executor.budgets.config = { ...this.remediation.executor.budgets.config, ...budgets };
    if (retriggerAfterMs !== undefined) this.remediation.remediator.retriggerAfterMs = retriggerAfterMs;
    const b = this.remediation.executor.budgets.config;
    return `budgets ${b.actionsPerTargetPerHour} actions/target/h, ${b.concurrentPerNamespace}/namespace, ${b.concurrentPerCluster}/cluster, escalate after ${b.failuresBeforeEscalate} failures`;
  }

  /** Waits until every sink has written what it was handed. */
  async flush(): Promise<void> {
    for (const s of this.sinks) await s.flush?.();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // First: runs in flight are abandoned under this term and the lease released, so a follower takes over at once.
    await this.leadership?.stop();
    this.unprovide?.();
    this.silenceSync?.stop();
    for (const s of this.schedules) s.stop();
    this.webhooks?.stop();
    this.rollouts.stop();
    for (const s of this.kubeSources.values()) s.stop();
    this.chat?.stop();
    this.engine.stop();
    for (const s of this.sinks) {
      try {
        await s.stop?.();
        await s.flush?.();
      } catch (err) {
        this.o.log?.(`warning: stopping ${s.name}: ${(err as Error).message}`);
      }
    }
  }

  /** Objects of a kind in a cluster, from the informer caches (undefined when the kind is not watched). */
  cached(cluster: string, kind: string, namespace?: string): KubeObject[] | undefined {
    const src = this.kubeSources.get(cluster);
    return src?.informer(kind) ? src.list(kind, namespace) : undefined;
  }

  private each(fn: (s: Sink) => void): void {
    const leading = this.leading;
    for (const s of this.sinks) {
      if (!leading && this.leaderSinks.has(s)) continue;
      try {
        fn(s);
      } catch (err) {
        this.o.log?.(`warning: sink ${s.name}: ${(err as Error).message}`);
      }
    }
  }

  private elect(settings: LeaderElectionOptions): Leadership {
    const cluster = settings.cluster ?? this.o.clusters[0]?.name;
    const kube = cluster === undefined ? undefined : this.kube.get(cluster);
    if (!kube) throw new Error(`internal: leader election's cluster "${cluster}" is not one of the pipeline's`);
    if (!this.o.store) throw new Error('internal: leader election needs a store');
    return new Leadership(settings, kube, {
      store: this.o.store,
      clock: this.o.clock,
      executor: () => this.remediation?.executor,
      ingest: (sig) => this.ingest(sig),
      takeOver: () => this.takeOver(),
      log: this.o.log,
    });
  }

  /**
   * A signal from a webhook. A follower feeds its own engine (warm for a
   * takeover) and relays it through the store for the leader, whose sinks
   * act: the sender may have reached any replica.
   */
  private received(sig: Signal): void {
    this.ingest(sig);
    if (this.leading || !this.o.store) return;
    this.o.store.relaySignal(sig.time, sig).catch((err: unknown) => this.o.log?.(`error: relaying a ${sig.source} signal to the leader: ${(err as Error).message}`));
  }

  /**
   * A new leader's sinks catch up with the detections its engine holds open:
   * one the store already has open (recorded by the last leader) keeps that
   * record's id, so it is updated, not duplicated, and its runs are found;
   * the recorder records the others; the remediator counts the last
   * leader's run for each as its own (Remediator.adopt); the incident
   * tracker, whose state is in memory, sees each as opened.
   */
  private async takeOver(): Promise<void> {
    const store = this.o.store!;
    const open = this.engine.detections().filter((d) => d.status === 'open');
    if (!open.length) return;
    const recorded = new Map((await store.listDetections({ status: 'open' })).map((d) => [d.fingerprint, d]));
    for (const d of open) {
      const prior = recorded.get(d.fingerprint);
      if (prior) {
        d.id = prior.id;
        d.firstSeen = Math.min(d.firstSeen, prior.firstSeen);
      } else {
        this.recorder?.onDetection(d, 'opened');
      }
      this.remediation?.sink.adopt(d, await lastRunFor(store, d));
      this.incidents?.onDetection(d, 'opened');
    }
  }

  private withContext(rules: LoadedRule[]): LoadedRule[] {
    return this.o.incidents ? [...rules, ...contextRule(rules)] : rules;
  }

  /** Smoke windows cost a look per workload change: only while a rule reads them (the caches are synced by now). */
  private syncRollouts(): void {
    if (this.stopped) return;
    const wanted = this.rules.some((r) => r.rule.spec.source === 'rollout');
    if (wanted && !this.rollouts.running) this.rollouts.start((sig) => this.ingest(sig), [...this.kubeSources.keys()]);
    else if (!wanted && this.rollouts.running) this.rollouts.stop();
  }

  private startSchedules(): void {
    if (this.o.schedules === false) {
      this.schedules = [];
      return;
    }
    const entries = this.rules.filter((r) => r.rule.spec.source === 'schedule').map((r) => ({ ruleName: r.rule.metadata.name, schedule: r.rule.spec.schedule! }));
    if (!entries.length) {
      this.schedules = [];
      return;
    }
    this.schedules = [...this.kubeSources.keys()].map((cluster) => new ScheduleSource(entries, { clock: this.clock, cluster, runAtStart: true }));
    const polled = new Map(this.rules.map((r) => [r.rule.metadata.name, kindsToWatch([r]).filter((k) => kindRef(k)?.polled)]));
    for (const s of this.schedules) s.start((sig) => this.tick((sig as ScheduleSignal).scheduleRule, sig.cluster, polled.get((sig as ScheduleSignal).scheduleRule) ?? []));
  }

  /** A schedule tick: kinds that cannot be watched (metrics.k8s.io) are listed once for it, then the rule sweeps. */
  private tick(rule: string, cluster: string, polled: string[]): void {
    const src = this.kubeSources.get(cluster);
    if (!polled.length || !src) return this.engine.sweep(rule, cluster);
    void src.refresh(polled).then(() => {
      if (!this.stopped) this.engine.sweep(rule, cluster);
    });
  }

  /** Each cluster's identity, read once: one GET per cluster at start, never per event. */
  private async readClusterUids(): Promise<void> {
    await Promise.all([...this.kube.entries()].map(async ([name, http]) => {
      try {
        const ns = await http.request<{ metadata?: { uid?: string } }>('GET', '/api/v1/namespaces/kube-system');
        if (ns?.metadata?.uid) this.clusterUids.set(name, ns.metadata.uid);
      } catch (err) {
        this.o.log?.(`warning: ${name}: cannot read the kube-system namespace to identify the cluster (${(err as Error).message}); resumed runs are not checked against it`);
      }
    }));
  }
}

export type { Identity };
