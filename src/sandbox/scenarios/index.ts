export { ScenarioSchema, type Scenario, type ScenarioStep, type ScenarioMilestone } from './schema.ts';
export { listScenarios, resolveScenario, loadScenarioFile, SCENARIO_DIR, type LoadedScenario } from './loader.ts';
export { ScenarioRunner, applyStep, sandboxOptionsFor, type MilestoneResult, type ScenarioReport, type RunnerHooks } from './runner.ts';
export { playFast, type FastPlay } from './fast.ts';
