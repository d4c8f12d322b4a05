// The embedded sandbox cluster: a Kubernetes API server (sandbox/server/),
// its controllers and the incident scenarios it replays. It stands beside the
// stack rather than in it: it imports only common, and only the top floors
// (pipeline, server, cli) may drive it.
export { Sandbox } from './cluster.ts';
export {
  resolveScenario, listScenarios, ScenarioRunner, sandboxOptionsFor, playFast,
  type LoadedScenario, type FastPlay,
} from './scenarios/index.ts';
export type { Scenario } from './scenarios/schema.ts';
export { findKind } from './scenarios/kinds.ts';
export { isImageReference } from './images.ts';
