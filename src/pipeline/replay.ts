// `kubemend incidents replay`: a scenario on the sandbox with detection,
// remediation and incident tracking, in virtual time; then the post-mortem
// draft of its primary incident.
import { formatClock } from '../common/index.ts';
import type { IncidentRecord, Store } from '../store/index.ts';
import type { LoadedRule } from '../rules/index.ts';
import type { LoadedRunbook } from '../runbooks/index.ts';
import type { Scenario } from '../sandbox/index.ts';
import { renderMarkdown, draftPostmortem, type PostmortemModel, gatherIncident, primaryOf } from '../incidents/index.ts';
import { ScenarioSession } from './scenario-session.ts';

export interface ReplayOptions {
  scenario: Scenario;
  rules: LoadedRule[];
  runbooks: LoadedRunbook[];
  store: Store;
  dryRun?: boolean;
  /** Progress lines (detections, steps, incidents) with virtual time. */
  out?: (line: string) => void;
  /** Cache whole objects (comparisons; PipelineOptions.cacheWholeObjects). */
  cacheWholeObjects?: boolean;
  /** Called once the pipeline runs, before the scenario plays (tests inject detections here). */
  onStart?: (session: ScenarioSession) => void | Promise<void>;
}

export interface ReplayResult {
  incidents: IncidentRecord[];
  /** The incident the post-mortem is drafted for: the most severe, then the one with the most detections. */
  primary?: IncidentRecord;
  postmortem?: PostmortemModel;
  markdown?: string;
}

export async function replayIncidents(o: ReplayOptions): Promise<ReplayResult> {
  let session: ScenarioSession | undefined;
  const stamp = () => `[+${formatClock(session?.elapsedMs ?? 0)}]`;
  session = await ScenarioSession.start({
    scenario: o.scenario,
    rules: o.rules,
    runbooks: o.runbooks,
    store: o.store,
    dryRun: o.dryRun,
    out: o.out,
    cacheWholeObjects: o.cacheWholeObjects,
    incidents: {
      onIncident: (i, change) => {
        if (change !== 'updated') o.out?.(`${stamp()} incident ${change}: ${i.id} ${i.title}`);
      },
    },
  });
  try {
    await o.onStart?.(session);
    await session.runToEnd();
  } finally {
    await session.stop();
  }
  const incidents = (await o.store.listIncidents({})).sort((a, b) => a.openedAt - b.openedAt || a.id.localeCompare(b.id));
  const primary = primaryOf(incidents);
  if (!primary) return { incidents };
  const postmortem = draftPostmortem(await gatherIncident(o.store, primary.id));
  return { incidents, primary, postmortem, markdown: renderMarkdown(postmortem) };
}
