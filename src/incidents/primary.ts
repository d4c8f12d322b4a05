// Which incident of a replay or a post-mortem run is "the" incident.
import type { IncidentRecord } from '../store/index.ts';

const RANK = { critical: 2, warning: 1, info: 0 } as const;

/** The most severe incident not merged into another, then the one with the most detections, then the oldest. */
export function primaryOf(incidents: IncidentRecord[]): IncidentRecord | undefined {
  return incidents
    .filter((i) => !(i.data as { mergedInto?: string }).mergedInto)
    .sort((a, b) => RANK[b.severity] - RANK[a.severity] || b.detectionIds.length - a.detectionIds.length || a.openedAt - b.openedAt)[0];
}
