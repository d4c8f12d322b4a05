export { ScenarioSchema, type Scenario, type ScenarioStep, type ScenarioMilestone } from './schema.ts';
export { listScenarios, resolveScenario, loadScenarioFile, SCENARIO_DIR, type LoadedScenario } from './loader.ts';
export { ScenarioRunner, sandboxOptionsFor, type MilestoneResult, type ScenarioReport, type RunnerHooks } from './runner.ts';
export { applyStep, LAST_APPLIED } from './steps.ts';
export { playFast, type FastPlay } from './fast.ts';
