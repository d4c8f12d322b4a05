// Small pure parts of the incident tracker: ids, titles, which detections
// open incidents, and how an audit action maps to the change announced.
import { createHash } from 'node:crypto';
import { kindRef } from '../kube/index.ts';
import type { IncidentRecord } from '../store/index.ts';
import type { Detection } from '../rules/index.ts';
import type { IncidentChange } from './lifecycle.ts';

/** The keys a detection's subject goes by in EndedRun.changed. */
export function subjectKeys(s: Detection['subject']): string[] {
  const plural = kindRef(s.kind)?.plural ?? `${s.kind.toLowerCase()}s`;
  return [`${plural}/${s.namespace ?? ''}/${s.name}`];
}

export const CHANGES: Record<string, IncidentChange> = { 'incident.opened': 'opened', 'incident.resolved': 'resolved', 'incident.mitigated': 'mitigated', 'incident.reopened': 'reopened' };

/** Still under way, and not mitigated yet. */
export function mitigable(r: IncidentRecord): boolean {
  return r.status === 'open' || r.status === 'acknowledged';
}

export function opens(d: Detection): boolean {
  return d.severity !== 'info' && d.status !== 'silenced';
}

/** Readable, sortable and the same on every replay: inc-20260101-000150-<hash of the opening detection>. */
export function incidentId(cluster: string, fingerprint: string, time: number): string {
  const stamp = new Date(time).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `inc-${stamp}-${createHash('sha256').update(`${cluster}\u0000${fingerprint}\u0000${time}`).digest('hex').slice(0, 6)}`;
}

export function titleOf(root: Detection | undefined, entities: string[]): string {
  if (!root) return 'incident';
  const s = root.subject;
  const count = (type: string) => entities.filter((e) => e.startsWith(`${type}:`)).length;
  const [nodes, workloads] = [count('node'), count('workload')];
  const scope = [nodes && `${nodes} node${nodes > 1 ? 's' : ''}`, workloads && `${workloads} workload${workloads > 1 ? 's' : ''}`].filter(Boolean).join(', ');
  return `${root.rule} on ${s.kind.toLowerCase()}/${s.namespace ? `${s.namespace}/` : ''}${s.name}${scope ? ` (${scope})` : ''}`;
}
