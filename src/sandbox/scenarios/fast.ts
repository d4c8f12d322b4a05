// Plays a scenario in virtual time as fast as the CPU allows: the sandbox
// runs on a ManualClock that jumps from timer to timer. Used by tests and by
// `kubemend rules test`.
import { ManualClock } from '../../common/index.ts';
import { Sandbox } from '../cluster.ts';
import { ScenarioRunner, sandboxOptionsFor, type RunnerHooks, type ScenarioReport } from './runner.ts';
import type { Scenario } from './schema.ts';

export interface FastPlay {
  sandbox: Sandbox;
  runner: ScenarioRunner;
  clock: ManualClock;
  /** Advances virtual time to the end of the scenario (or `untilMs` after the start). */
  run(untilMs?: number): Promise<ScenarioReport>;
}

export function playFast(scenario: Scenario, hooks: RunnerHooks = {}, opts: { start?: number; stepMs?: number } = {}): FastPlay {
  const clock = new ManualClock(opts.start);
  const sandbox = new Sandbox(sandboxOptionsFor(scenario, { clock }));
  sandbox.start();
  const runner = new ScenarioRunner(sandbox, scenario, hooks).start();
  const step = opts.stepMs ?? 1000;
  const begin = clock.now();
  let done = false;
  void runner.finished.then(() => (done = true));
  return {
    sandbox,
    runner,
    clock,
    async run(untilMs = scenario.spec.duration) {
      while (!done && clock.now() - begin < untilMs) {
        await clock.advance(Math.min(step, untilMs - (clock.now() - begin)));
      }
      return runner.report();
    },
  };
}
