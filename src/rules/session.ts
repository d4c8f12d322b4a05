// A scenario on the sandbox with detection attached, driven in virtual time:
// each tick advances the clock one second, then waits until the informers
// have seen every change and no request is in flight, so what happens in a
// tick is deterministic however fast the machine is. `kubemend rules test`,
// `kubemend run --sandbox` and the end-to-end tests all drive this.
import { KubeConfig } from '@kubernetes/client-node';
import { playFast, type FastPlay } from '../sandbox/scenarios/index.ts';
import { findKind } from '../sandbox/scenarios/kinds.ts';
import type { Scenario } from '../sandbox/scenarios/schema.ts';
import { KubeHttp } from '../kube/http.ts';
import { DetectionEngine, type EngineHooks } from './engine.ts';
import type { LoadedRule } from './loader.ts';
import { KubeSource } from './sources/kube-source.ts';
import { kindsToWatch } from './kinds-needed.ts';
import { nextFireTime, parseSchedule, type ParsedSchedule } from './sources/schedule.ts';
import type { Signal } from './types.ts';

export const SANDBOX_CLUSTER = 'sandbox';

export class SandboxSession {
  readonly play: FastPlay;
  readonly engine: DetectionEngine;
  readonly source: KubeSource;
  /** A client for actions (separate from the informers' so its in-flight count is its own). */
  readonly kube: KubeHttp;
  readonly startedAt: number;
  /** The store's storage key of each watched kind, for the settle check. */
  private readonly storageOf: Map<string, string>;
  private readonly schedules: { rule: string; schedule: ParsedSchedule; next: number }[];
  /** Called with every signal before the engine sees it (incident tracking, change feeds). */
  readonly signalObservers: ((s: Signal) => void)[] = [];
  /** Extra clients whose requests a tick waits for (e.g. a second executor's). */
  readonly waitFor: KubeHttp[] = [];

  private constructor(play: FastPlay, rules: LoadedRule[], hooks: EngineHooks, kc: KubeConfig) {
    this.play = play;
    const clock = play.clock;
    this.startedAt = clock.now();
    const kinds = kindsToWatch(rules);
    this.source = new KubeSource({ cluster: SANDBOX_CLUSTER, kubeconfig: kc, clock, kinds });
    this.kube = new KubeHttp(kc);
    this.storageOf = new Map(kinds.map((k) => [k, findKind(k)!.storage]));
    this.engine = new DetectionEngine({ clock, rules, hooks, lookup: (_c, kind, ns) => this.source.list(kind, ns) });
    // Every schedule sweeps once at the start, then on its interval or cron times (virtual).
    this.schedules = rules.filter((r) => r.rule.spec.source === 'schedule').map((r) => ({ rule: r.rule.metadata.name, schedule: parseSchedule(r.rule.spec.schedule!), next: this.startedAt }));
  }

  static async start(scenario: Scenario, rules: LoadedRule[], hooks: EngineHooks = {}): Promise<SandboxSession> {
    const play = playFast(scenario);
    await play.sandbox.listen();
    const kc = new KubeConfig();
    kc.loadFromString(play.sandbox.kubeconfig());
    const s = new SandboxSession(play, rules, hooks, kc);
    await s.source.start((sig) => {
      for (const observe of s.signalObservers) observe(sig);
      s.engine.ingest(sig);
    });
    return s;
  }

  get clock() {
    return this.play.clock;
  }

  get sandbox() {
    return this.play.sandbox;
  }

  get elapsedMs(): number {
    return this.clock.now() - this.startedAt;
  }

  get done(): boolean {
    return this.elapsedMs >= this.play.runner.scenario.spec.duration;
  }

  /** One virtual second, then wait for the world to settle. */
  async tick(): Promise<void> {
    await this.clock.advance(1000);
    await this.settle();
    const now = this.clock.now();
    for (const sch of this.schedules) {
      if (now < sch.next) continue;
      this.engine.sweep(sch.rule, SANDBOX_CLUSTER);
      sch.next = nextFireTime(sch.schedule, now, this.startedAt) ?? Infinity;
    }
  }

  /** Restarts the API server (every watch drops), optionally compacting history first (every resume gets 410). */
  async disrupt(compact: boolean): Promise<void> {
    const port = Number(new URL(this.sandbox.url).port);
    await this.sandbox.api!.close();
    if (compact) this.sandbox.store.compact();
    await this.sandbox.listen({ port });
  }

  async settle(): Promise<void> {
    const store = this.sandbox.store;
    const t0 = Date.now();
    for (let quiet = 0; quiet < 3; ) {
      const behind = this.source.kinds().some((k) => Number(this.source.informer(k.kind)!.resourceVersion || 0) < store.lastChangeRV(this.storageOf.get(k.kind)!));
      const busy = this.kube.inFlight > 0 || this.waitFor.some((k) => k.inFlight > 0);
      quiet = behind || busy ? 0 : quiet + 1;
      if (Date.now() - t0 > 30_000) throw new Error('the sandbox session did not settle within 30s');
      await new Promise((r) => setImmediate(r));
    }
  }

  async stop(): Promise<void> {
    this.engine.stop();
    this.source.stop();
    this.play.runner.stop();
    await this.sandbox.stop();
  }
}
