// The action registry: runbook steps name an action by these keys.
import type { Action } from '../types.ts';
import { approval } from './approval.ts';
import { collect } from './collect.ts';
import { drain } from './drain.ts';
import { httpRequest } from './http.ts';
import { jobRun } from './job.ts';
import { findMemoryCulprit } from './memory-culprit.ts';
import { cordon, uncordon } from './nodes.ts';
import { notify } from './notify.ts';
import { deletePod } from './pods.ts';
import { annotate, patchResources } from './resources.ts';
import { rollback } from './rollback.ts';
import { promote, rolloutRestart } from './rollout.ts';
import { scale } from './scale.ts';
import { smokeCheck } from './smoke.ts';
import { waitRollout } from './wait.ts';
import { proposeMemoryLimits, proposeLimitRangeAction as proposeLimitRange } from './propose.ts';
import { createLimitRange } from './limitrange.ts';

export { findMemoryCulprit, approval, collect, drain, httpRequest, jobRun, cordon, uncordon, notify, deletePod, annotate, patchResources, rollback, promote, rolloutRestart, scale, smokeCheck, waitRollout, proposeMemoryLimits, proposeLimitRange, createLimitRange };
export { OPERATION_ANNOTATION } from './util.ts';
export { rolloutStatus } from './wait.ts';

const all: Action[] = [
  rolloutRestart, rollback, promote, scale, deletePod, cordon, uncordon, drain,
  patchResources, annotate, waitRollout, smokeCheck, collect, findMemoryCulprit, jobRun, httpRequest, notify, approval,
  proposeMemoryLimits, proposeLimitRange, createLimitRange,
];

export const ACTIONS: ReadonlyMap<string, Action> = new Map(all.map((a) => [a.name, a]));
