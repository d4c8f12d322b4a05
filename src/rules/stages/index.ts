// The stateful stages of the rules path, in the order the engine chains them.
export { HoldTracker, type HoldState } from './hold.ts';
export { fingerprint, detectionLabels, IDENTITY_LABELS, type RuleLabelSource } from './fingerprint.ts';
export { DetectionBook, type DetectionSeed, type DetectionBookOptions, type UpsertOptions, type UpsertResult } from './dedup.ts';
export {
  Silences, parseMatcher, compileMatcher, formatMatcher, silenceState,
  type Matcher, type MatchOp, type CompiledMatcher, type SilenceInput, type SilenceState, type SilencesOptions,
} from './silence.ts';
export { Grouper, GROUP_BY_ALL } from './group.ts';
export { RateLimiter } from './ratelimit.ts';
