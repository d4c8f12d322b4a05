// A scenario replayed on the sandbox with detection, remediation and the
// incident tracker attached, in virtual time; then the post-mortem drafts.
// What `kubemend incidents replay` runs and the end-to-end tests check.
import type { IncidentRecord, Store } from '../store/types.ts';
import type { LoadedRule } from '../rules/loader.ts';
import type { LoadedRunbook } from '../runbooks/loader.ts';
import { RemediationSession } from '../runbooks/session.ts';
import type { Scenario } from '../sandbox/scenarios/schema.ts';
import { attachIncidents, contextRule } from './attach.ts';
import { renderMarkdown } from './markdown.ts';
import { draftPostmortem, type PostmortemModel } from './postmortem.ts';
import { gatherIncident } from './timeline.ts';
import type { IncidentTracker } from './tracker.ts';

export interface ReplayOptions {
  scenario: Scenario;
  rules: LoadedRule[];
  runbooks: LoadedRunbook[];
  store: Store;
  dryRun?: boolean;
  /** Progress lines (detections, steps, incidents) with virtual time. */
  out?: (line: string) => void;
  /** Called once the tracker is attached, before the scenario plays (tests inject detections here). */
  onStart?: (rs: RemediationSession, tracker: IncidentTracker) => void | Promise<void>;
}

export interface ReplayResult {
  incidents: IncidentRecord[];
  /** The incident the post-mortem is drafted for: the most severe, then the one with the most detections. */
  primary?: IncidentRecord;
  postmortem?: PostmortemModel;
  markdown?: string;
}

const RANK = { critical: 2, warning: 1, info: 0 } as const;

export async function replayIncidents(o: ReplayOptions): Promise<ReplayResult> {
  const rs = await RemediationSession.start({ scenario: o.scenario, rules: [...o.rules, ...contextRule(o.rules)], runbooks: o.runbooks, store: o.store, dryRun: o.dryRun, out: o.out });
  const stamp = () => `[+${Math.floor(rs.session.elapsedMs / 60_000)}m${String(Math.floor(rs.session.elapsedMs / 1000) % 60).padStart(2, '0')}s]`;
  let tracker: IncidentTracker | undefined;
  try {
    tracker = attachIncidents(rs, {
      store: o.store,
      onIncident: (i, change) => {
        if (change !== 'updated') o.out?.(`${stamp()} incident ${change}: ${i.id} ${i.title}`);
      },
      onError: (err) => o.out?.(`${stamp()} incident tracker error: ${(err as Error).message}`),
    });
    await o.onStart?.(rs, tracker);
    await rs.runToEnd();
    await tracker.flush();
  } finally {
    tracker?.stop();
    await rs.stop();
  }
  const incidents = (await o.store.listIncidents({})).sort((a, b) => a.openedAt - b.openedAt || a.id.localeCompare(b.id));
  const primary = primaryOf(incidents);
  if (!primary) return { incidents };
  const postmortem = draftPostmortem(await gatherIncident(o.store, primary.id));
  return { incidents, primary, postmortem, markdown: renderMarkdown(postmortem) };
}

export function primaryOf(incidents: IncidentRecord[]): IncidentRecord | undefined {
  return incidents
    .filter((i) => !(i.data as { mergedInto?: string }).mergedInto)
    .sort((a, b) => RANK[b.severity] - RANK[a.severity] || b.detectionIds.length - a.detectionIds.length || a.openedAt - b.openedAt)[0];
}
