// A scenario replayed on the sandbox in virtual time with the one pipeline
// attached: what `rules test`, `run --sandbox`, the demo and `incidents
// replay` run, and what the end-to-end tests check. The pipeline is the same
// as on a real cluster — informers over HTTP, the same engine and sinks — so
// what a rule or runbook does here is what it will do in production.
//
// After every virtual second the session waits until each informer has seen
// the store's latest change of its kind and no request is in flight, which
// makes runs deterministic however fast the CPU is.
import { formatClock, KubemendError, Errors } from '../common/index.ts';
import type { Store, RunRecord } from '../store/index.ts';
import type { LoadedRule } from '../rules/index.ts';
import { type LoadedRunbook, type BudgetConfig, LineNotifier } from '../runbooks/index.ts';
import { playFast, type FastPlay, findKind, type Scenario } from '../sandbox/index.ts';
import { kubeConfigFromYaml, type KubeHttp } from '../kube/index.ts';
import { Pipeline } from './pipeline.ts';
import type { PipelineOptions } from './options.ts';
import { LinePrinter, printRuns } from './printer.ts';
import type { Sink } from './sink.ts';

export const SANDBOX_CLUSTER = 'sandbox';

export interface ScenarioSessionOptions {
  scenario: Scenario;
  rules: LoadedRule[];
  /** With a store: detections are recorded and silences followed. */
  store?: Store;
  /** Runbooks to remediate with (needs a store); omit for detection only. */
  runbooks?: LoadedRunbook[];
  dryRun?: boolean;
  budgets?: Partial<BudgetConfig>;
  retriggerAfterMs?: number;
  /** Who may decide runbook approval steps (default: nobody, so they time out). */
  approvers?: (group: string, user: string) => boolean;
  incidents?: PipelineOptions['incidents'];
  /** Smoke windows after rollouts (`source: rollout` rules): the default window. */
  smoke?: PipelineOptions['smoke'];
  sinks?: Sink[];
  /** Cache whole objects rather than the fields their readers need (comparisons; PipelineOptions.cacheWholeObjects). */
  cacheWholeObjects?: boolean;
  /** Progress lines (detections, steps, notifications), stamped with virtual time. */
  out?: (line: string) => void;
}

export class ScenarioSession {
  readonly play: FastPlay;
  readonly pipeline: Pipeline;
  readonly startedAt: number;
  readonly store?: Store;
  /** Extra clients whose requests a tick waits for (e.g. a chat executor's). */
  readonly waitFor: KubeHttp[] = [];
  private readonly storageOf: Map<string, string>;

  private constructor(play: FastPlay, pipeline: Pipeline, store?: Store) {
    this.play = play;
    this.pipeline = pipeline;
    this.store = store;
    this.startedAt = play.clock.now();
    this.storageOf = new Map();
  }

  static async start(o: ScenarioSessionOptions): Promise<ScenarioSession> {
    const play = playFast(o.scenario);
    await play.sandbox.listen();
    const kc = kubeConfigFromYaml(play.sandbox.kubeconfig());
    let session: ScenarioSession | undefined;
    const print = o.out && ((l: string) => o.out!(`[+${formatClock(session?.elapsedMs ?? 0)}] ${l}`));
    const pipeline = new Pipeline({
      clock: play.clock,
      clusters: [{ name: SANDBOX_CLUSTER, kubeconfig: kc }],
      rules: o.rules,
      store: o.store,
      remediation: o.runbooks && {
        runbooks: o.runbooks,
        dryRun: o.dryRun,
        budgets: o.budgets,
        retriggerAfterMs: o.retriggerAfterMs,
        approvers: o.approvers,
        notifiers: print ? [new LineNotifier(print)] : [],
      },
      incidents: o.incidents,
      smoke: o.smoke,
      sinks: [...(print ? [new LinePrinter(print)] : []), ...(o.sinks ?? [])],
      cacheWholeObjects: o.cacheWholeObjects,
      log: print,
    });
    session = new ScenarioSession(play, pipeline, o.store);
    if (print && pipeline.remediation) printRuns(pipeline.remediation.executor, print);
    await pipeline.start();
    return session;
  }

  get clock() {
    return this.play.clock;
  }

  get sandbox() {
    return this.play.sandbox;
  }

  get engine() {
    return this.pipeline.engine;
  }

  get remediation() {
    return this.pipeline.remediation!;
  }

  get source() {
    return this.pipeline.kubeSources.get(SANDBOX_CLUSTER)!;
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
  }

  /** Plays the scenario to its end, then lets every run finish (up to `graceMs` more virtual time). */
  async runToEnd(graceMs = 15 * 60_000): Promise<void> {
    while (!this.done) await this.tick();
    const limit = this.elapsedMs + graceMs;
    while (this.activeRuns() > 0 && this.elapsedMs < limit) await this.tick();
    await this.pipeline.flush();
  }

  activeRuns(): number {
    return this.pipeline.remediation?.executor.activeCount ?? 0;
  }

  /** Runs of this session's store, newest first. */
  async runs(): Promise<RunRecord[]> {
    return this.store ? this.store.listRuns({ since: this.startedAt }) : [];
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
    const source = this.source;
    // The source's own client too: a schedule tick's LIST of a polled kind (metrics.k8s.io) runs on it.
    const clients = [...this.pipeline.kube.values(), source.http, ...this.waitFor];
    const t0 = Date.now();
    for (let quiet = 0; quiet < 3; ) {
      const behind = source.kinds().some((k) => Number(source.informer(k.kind)!.resourceVersion || 0) < store.lastChangeRV(this.storage(k.kind)));
      const busy = clients.some((k) => k.inFlight > 0);
      quiet = behind || busy ? 0 : quiet + 1;
      if (Date.now() - t0 > 30_000) throw new KubemendError(Errors.SCENARIO_FAILED, 'the sandbox did not settle within 30s of real time: an informer fell behind or a request never answered');
      await new Promise((r) => setImmediate(r));
    }
  }

  async stop(): Promise<void> {
    this.pipeline.remediation?.executor.cancelAll();
    await this.pipeline.stop();
    this.play.runner.stop();
    await this.sandbox.stop();
  }

  private storage(kind: string): string {
    let s = this.storageOf.get(kind);
    if (!s) {
      s = findKind(kind)!.storage;
      this.storageOf.set(kind, s);
    }
    return s;
  }
}
