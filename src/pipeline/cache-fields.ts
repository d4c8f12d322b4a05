// What the informer caches keep of each kind: what the loaded rules read
// (rules/field-paths.ts, from their CEL), what the engine itself reads, and
// the fixed needs of the other readers of the caches and of the signals the
// informers hand out — the rollout watcher while a rule reads smoke
// windows, the incident tracker when incidents are on, the notification
// routes (a subject's team annotation). Runbooks read nothing from the
// caches: their actions read the live object from the API server, and
// their templates see the detection, never a cached object. Chat's
// `status` reads through the API server as the chat user.
import { KindFields, ROLLOUT_FIELDS, addFieldTable, rulesFields, type LoadedRule } from '../rules/index.ts';
import { INCIDENT_FIELDS } from '../incidents/index.ts';
import { TEAM_ANNOTATION } from './notify-bridge.ts';

export interface CacheReaders {
  /** The incident tracker reads the caches and the signals (change feed, observations, guardrails). */
  incidents?: boolean;
}

const NOTIFY_FIELDS = { '*': [`metadata.annotations["${TEAM_ANNOTATION}"]`] };

/** The fields to cache per kind for `rules` and the readers that are on. */
export function cacheFields(rules: readonly LoadedRule[], readers: CacheReaders = {}): KindFields {
  const out = rulesFields(rules);
  addFieldTable(out, NOTIFY_FIELDS);
  if (rules.some((r) => r.rule.spec.source === 'rollout')) addFieldTable(out, ROLLOUT_FIELDS);
  if (readers.incidents) addFieldTable(out, INCIDENT_FIELDS);
  return out;
}
