// Plays a scenario in virtual time as fast as the CPU allows: the sandbox
// runs on a ManualClock that jumps from timer to timer. Used by tests and by
// `kubemend rules test`.
import { ManualClock } from '../../common/index.ts';
import { Sandbox } from '../cluster.ts';
import { savedVirtualTime } from '../state.ts';
import { ScenarioRunner, sandboxOptionsFor, type RunnerHooks, type ScenarioReport } from './runner.ts';
import type { Scenario } from './schema.ts';

export interface FastPlay {
  sandbox: Sandbox;
  runner: ScenarioRunner;
  clock: ManualClock;
  /** Advances virtual time to the end of the scenario (or until `untilMs` of it have elapsed). */
  run(untilMs?: number): Promise<ScenarioReport>;
}

export interface FastPlayOptions {
  start?: number;
  stepMs?: number;
  /** Keep the sandbox in this state file; when it exists, the play resumes from it (the clock starts at its saved time). */
  stateFile?: string;
  stateWriteIntervalMs?: number;
}

export function playFast(scenario: Scenario, hooks: RunnerHooks = {}, opts: FastPlayOptions = {}): FastPlay {
  const saved = opts.stateFile ? savedVirtualTime(opts.stateFile) : undefined;
  const clock = new ManualClock(saved ?? opts.start);
  const sandbox = new Sandbox(sandboxOptionsFor(scenario, { clock, stateFile: opts.stateFile, stateWriteIntervalMs: opts.stateWriteIntervalMs }));
  sandbox.start();
  const runner = new ScenarioRunner(sandbox, scenario, hooks).start();
  const step = opts.stepMs ?? 1000;
  let done = false;
  void runner.finished.then(() => (done = true));
  return {
    sandbox,
    runner,
    clock,
    async run(untilMs = scenario.spec.duration) {
      // A resumed play starts part-way: elapsed time is the scenario's, not this call's.
      while (!done && runner.elapsedMs < untilMs) {
        await clock.advance(Math.min(step, untilMs - runner.elapsedMs));
      }
      return runner.report();
    },
  };
}
