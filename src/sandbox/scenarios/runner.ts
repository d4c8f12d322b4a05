// Plays a scenario on a sandbox: steps at their virtual times, milestones
// checked as the cluster changes. The same runner serves `kubemend sandbox
// --scenario` (real time × speed) and tests (a ManualClock, as fast as the
// CPU allows), so what a test proves is what a user sees.
import { parse as parseCel } from '@marcbachmann/cel-js';
import type { TimerHandle } from '../../common/index.ts';
import type { Sandbox, SandboxOptions } from '../cluster.ts';
import { scenarioIdentity, type ScenarioProgress } from '../state.ts';
import { findKind } from './kinds.ts';
import type { Scenario, ScenarioMilestone, ScenarioStep } from './schema.ts';
import { applyStep } from './steps.ts';

export interface MilestoneResult {
  name: string;
  description?: string;
  /** Virtual milliseconds after the start when it was first seen. */
  reachedAtMs?: number;
  byMs?: number;
  /** Not reached by its deadline (or by the end of the scenario). */
  missed: boolean;
}

export interface ScenarioReport {
  name: string;
  elapsedMs: number;
  milestones: MilestoneResult[];
  ok: boolean;
}

export interface RunnerHooks {
  onStep?(step: ScenarioStep, index: number, elapsedMs: number): void;
  onMilestone?(m: MilestoneResult): void;
  onError?(step: ScenarioStep, err: unknown): void;
}

/** Sandbox options a scenario asks for (nodes, images, kubelet tuning), and its identity for the state file. */
export function sandboxOptionsFor(s: Scenario, over: Pick<SandboxOptions, 'clock' | 'speed' | 'stateFile' | 'stateWriteIntervalMs' | 'onStateError'> = {}): SandboxOptions {
  return {
    ...over,
    scenario: scenarioIdentity(s),
    nodes: s.spec.nodes?.map((n) => ({ ...n, labels: n.labels && { ...n.labels } })),
    images: structuredClone(s.spec.images) as SandboxOptions['images'],
    config: s.spec.kubelet ? { kubelet: { ...s.spec.kubelet } } : undefined,
    ...(s.spec.rbac ? { rbac: s.spec.rbac } : {}),
    ...(s.spec.users ? { users: s.spec.users.map((u) => ({ ...u, groups: u.groups && [...u.groups] })) } : {}),
  };
}

interface CompiledMilestone {
  spec: ScenarioMilestone;
  storage: string;
  check: (vars: Record<string, unknown>) => unknown;
  result: MilestoneResult;
}

export class ScenarioRunner {
  readonly scenario: Scenario;
  private readonly sandbox: Sandbox;
  private readonly hooks: RunnerHooks;
  private readonly milestones: CompiledMilestone[];
  private startedAt = 0;
  private readonly cancels: (() => void)[] = [];
  private checkQueued = false;
  private tickHandle?: TimerHandle;
  private stopped = false;
  private done = false;
  private readonly applied = new Set<number>();
  private resumedFrom?: ScenarioProgress;
  private resolveFinished!: (r: ScenarioReport) => void;
  /** Resolves when the scenario's duration has passed. */
  readonly finished: Promise<ScenarioReport>;

  constructor(sandbox: Sandbox, scenario: Scenario, hooks: RunnerHooks = {}) {
    this.sandbox = sandbox;
    this.scenario = scenario;
    this.hooks = hooks;
    this.milestones = scenario.spec.milestones.map((m) => ({
      spec: m,
      storage: findKind(m.kind, m.apiVersion)!.storage,
      check: parseCel(m.where) as (vars: Record<string, unknown>) => unknown,
      result: { name: m.name, description: m.description, byMs: m.by, missed: false },
    }));
    this.finished = new Promise((r) => (this.resolveFinished = r));
  }

  get elapsedMs(): number {
    return this.sandbox.clock.now() - this.startedAt;
  }

  /**
   * The progress this runner continued from: set by start() when the sandbox
   * was restored from a state file that had this scenario under way.
   */
  get resumed(): ScenarioProgress | undefined {
    return this.resumedFrom;
  }

  /** What the sandbox's state file records of this run. */
  progress(): ScenarioProgress {
    return {
      scenario: this.scenario.metadata.name,
      startedAt: this.startedAt,
      appliedSteps: [...this.applied].sort((a, b) => a - b),
      milestones: this.milestones.map(({ result: r }) => ({ name: r.name, reachedAtMs: r.reachedAtMs, missed: r.missed })),
      finished: this.done,
    };
  }

  /**
   * Plays the scenario. On a sandbox restored from its state file it resumes
   * instead: elapsed time counts from the saved start, applied steps are not
   * applied again, reached (or missed) milestones stay so, and a finished run
   * resolves `finished` at once.
   */
  start(): this {
    const clock = this.sandbox.clock;
    this.sandbox.trackProgress(scenarioIdentity(this.scenario), () => this.progress());
    const saved = this.sandbox.restored?.progress;
    this.startedAt = clock.now();
    if (saved && saved.scenario === this.scenario.metadata.name) this.resume(saved);
    if (this.done) {
      this.stopped = true;
      queueMicrotask(() => this.resolveFinished(this.report()));
      return this;
    }
    const at = (ms: number) => Math.max(0, this.startedAt + ms - clock.now());
    this.scenario.spec.steps.forEach((step, i) => {
      if (this.applied.has(i)) return;
      const h = clock.setTimeout(() => this.runStep(step, i), at(step.at));
      this.cancels.push(() => h.cancel());
    });
    for (const m of this.milestones) {
      if (m.result.byMs === undefined || m.result.reachedAtMs !== undefined || m.result.missed) continue;
      const h = clock.setTimeout(() => this.deadline(m), at(m.result.byMs));
      this.cancels.push(() => h.cancel());
    }
    const watched = new Set(this.milestones.map((m) => m.storage));
    this.cancels.push(this.sandbox.store.subscribe((ev) => {
      if (watched.has(ev.storage)) this.queueCheck();
    }));
    // Time alone can satisfy a milestone (an age, a pod still Pending).
    const tick = () => {
      if (this.stopped) return;
      this.queueCheck();
      this.tickHandle = clock.setTimeout(tick, 1000);
    };
    this.cancels.push(() => this.tickHandle?.cancel());
    tick();
    const end = clock.setTimeout(() => this.finish(), at(this.scenario.spec.duration));
    this.cancels.push(() => end.cancel());
    return this;
  }

  private resume(saved: ScenarioProgress): void {
    this.resumedFrom = saved;
    this.startedAt = saved.startedAt;
    for (const i of saved.appliedSteps) this.applied.add(i);
    for (const m of this.milestones) {
      const s = saved.milestones.find((x) => x.name === m.result.name);
      if (!s) continue;
      if (s.reachedAtMs !== undefined) m.result.reachedAtMs = s.reachedAtMs;
      m.result.missed = s.missed;
    }
    this.done = saved.finished;
  }

  report(): ScenarioReport {
    const milestones = this.milestones.map((m) => ({ ...m.result }));
    return {
      name: this.scenario.metadata.name,
      elapsedMs: this.elapsedMs,
      milestones,
      ok: milestones.every((m) => m.reachedAtMs !== undefined && !m.missed),
    };
  }

  stop(): void {
    this.stopped = true;
    for (const c of this.cancels.splice(0)) c();
  }

  private finish(): void {
    this.checkMilestones();
    for (const m of this.milestones) if (m.result.reachedAtMs === undefined) m.result.missed = true;
    this.done = true;
    this.sandbox.markDirty();
    this.stop();
    this.resolveFinished(this.report());
  }

  private deadline(m: CompiledMilestone): void {
    this.checkMilestones();
    if (m.result.reachedAtMs === undefined) {
      m.result.missed = true;
      this.sandbox.markDirty();
    }
  }

  private queueCheck(): void {
    if (this.checkQueued || this.stopped) return;
    this.checkQueued = true;
    setImmediate(() => {
      this.checkQueued = false;
      if (!this.stopped) this.checkMilestones();
    });
  }

  private checkMilestones(): void {
    const now = this.sandbox.clock.now();
    const elapsedSeconds = (now - this.startedAt) / 1000;
    for (const m of this.milestones) {
      if (m.result.reachedAtMs !== undefined) continue;
      const items = this.sandbox.store.list(m.storage, m.spec.namespace).items;
      const hit = items.some((object) => {
        const created = Date.parse(object.metadata.creationTimestamp ?? '');
        try {
          return m.check({ object, ageSeconds: (now - created) / 1000, elapsedSeconds }) === true;
        } catch {
          return false; // a missing field means "not yet"
        }
      });
      if (hit) {
        m.result.reachedAtMs = now - this.startedAt;
        if (m.result.byMs !== undefined && m.result.reachedAtMs > m.result.byMs) m.result.missed = true;
        this.sandbox.markDirty();
        this.hooks.onMilestone?.({ ...m.result });
      }
    }
  }

  private runStep(step: ScenarioStep, index: number): void {
    if (this.stopped) return;
    // Marked before it runs, in the same synchronous turn: a snapshot shows the step and its effects together or neither.
    this.applied.add(index);
    this.sandbox.markDirty();
    this.hooks.onStep?.(step, index, this.elapsedMs);
    try {
      applyStep(this.sandbox, step);
    } catch (err) {
      if (this.hooks.onError) this.hooks.onError(step, err);
      else throw err;
    }
  }
}
