// Which open incidents a detection may relate to, without computing every
// open incident's touch for every detection (that grew with the number of
// open incidents and of their members: tens of ms per detection in a busy
// cluster, on the event loop, before remediation's runs go out).
//
// What an incident is about (its `own` keys) is indexed as members join. A
// member's own keys depend on the placements only through its pod's
// workload, which changes only when that pod's placement is added or
// forgotten (the tracker calls refreshPod then), and on the caches only for
// an HPA's target (refreshed before every decision: HPAs are few). What an
// incident is near (the nodes its pods ran on) moves with every placement
// and with `since`, so it is not indexed but asked of the placement table:
// an incident is near node n when a pod on n is one of its members, or
// belongs to one of its workloads and was not deleted before `since` —
// exactly what touchOf's near keys are. Answers are those of
// relation(touchOf(d), incidentTouch(members)) over every open incident
// (test/incidents/incident-index.test.ts).
import type { Detection } from '../rules/index.ts';
import { keys, touchOf, type Touch, type TouchSets } from './correlate.ts';
import type { PlacementTable } from './placements.ts';
import type { CacheLookup } from './types.ts';

interface Entry<L> {
  cluster: string;
  /** Own keys by member detection id. */
  members: Map<string, { d: Detection; keys: string[] }>;
  /** How many members own each key. */
  own: Map<string, number>;
  l: L;
}

export class IncidentIndex<L extends object> {
  private readonly entries = new Map<L, Entry<L>>();
  /** cluster \0 key → incidents that own it. */
  private readonly owners = new Map<string, Set<L>>();
  /** cluster \0 namespace/pod → incidents with a Pod member of that name. */
  private readonly pods = new Map<string, Set<L>>();
  /** Incidents with an HPA member, by cluster. */
  private readonly hpas = new Map<string, Set<L>>();
  private readonly lookup: CacheLookup;

  constructor(lookup: CacheLookup) {
    this.lookup = lookup;
  }

  /** A member joined `l` (a no-op when it is already one). */
  add(l: L, cluster: string, d: Detection, table: PlacementTable): void {
    let e = this.entries.get(l);
    if (!e) this.entries.set(l, (e = { cluster, members: new Map(), own: new Map(), l }));
    // incidentTouch counts only the incident's own cluster's members.
    if (e.members.has(d.id) || d.cluster !== cluster) return;
    const m = { d, keys: ownKeys(d, table, this.lookup) };
    e.members.set(d.id, m);
    for (const k of m.keys) this.count(e, k, 1);
    if (d.subject.kind === 'Pod') addTo(this.pods, `${cluster}\u0000${d.subject.namespace ?? ''}/${d.subject.name}`, l);
    if (d.subject.kind === 'HorizontalPodAutoscaler') addTo(this.hpas, cluster, l);
  }

  /** `l` is closed or forgotten: it relates to nothing any more. */
  remove(l: L): void {
    const e = this.entries.get(l);
    if (!e) return;
    this.entries.delete(l);
    for (const m of e.members.values()) {
      for (const k of m.keys) this.count(e, k, -1);
      if (m.d.subject.kind === 'Pod') removeFrom(this.pods, `${e.cluster}\u0000${m.d.subject.namespace ?? ''}/${m.d.subject.name}`, l);
    }
    removeFrom(this.hpas, e.cluster, l);
  }

  /** The placement of `namespace/pod` was added or forgotten: its members' workload may have changed. */
  refreshPod(cluster: string, key: string, table: PlacementTable): void {
    for (const l of this.pods.get(`${cluster}\u0000${key}`) ?? []) {
      const e = this.entries.get(l)!;
      for (const m of e.members.values()) if (m.d.subject.kind === 'Pod' && `${m.d.subject.namespace ?? ''}/${m.d.subject.name}` === key) this.rekey(e, m, table);
    }
  }

  /** What HPAs target comes from the caches, which change without telling: asked again before each decision. */
  refreshVolatile(cluster: string, table: PlacementTable): void {
    for (const l of this.hpas.get(cluster) ?? []) {
      const e = this.entries.get(l)!;
      for (const m of e.members.values()) if (m.d.subject.kind === 'HorizontalPodAutoscaler') this.rekey(e, m, table);
    }
  }

  /** Every incident that may relate to a detection with touch `t` (a superset: relation() decides). */
  candidates(cluster: string, t: Touch, table: PlacementTable, since: number): Set<L> {
    const out = new Set<L>();
    for (const k of [...t.own, ...t.near]) for (const l of this.owners.get(`${cluster}\u0000${k}`) ?? []) out.add(l);
    // Near an incident: the detection is about a node the incident's pods ran on.
    for (const k of t.own) {
      if (!k.startsWith('node:')) continue;
      for (const p of table.onNode(k.slice(5))) {
        const via = [`object:Pod/${p.namespace}/${p.pod}`, ...(p.deletedAt !== undefined && p.deletedAt < since ? [] : [keys.workload(p.workload)])];
        for (const key of via) for (const l of this.owners.get(`${cluster}\u0000${key}`) ?? []) out.add(l);
      }
    }
    return out;
  }

  /** `l`'s touch as relation() asks it. */
  touch(l: L, table: PlacementTable, since: number): TouchSets {
    const e = this.entries.get(l);
    const own = e?.own ?? new Map<string, number>();
    return {
      own: { has: (k) => own.has(k) },
      near: {
        has: (k) => {
          if (!k.startsWith('node:')) return false;
          for (const p of table.onNode(k.slice(5))) {
            if (own.has(keys.object('Pod', p.namespace, p.pod))) return true;
            if (!(p.deletedAt !== undefined && p.deletedAt < since) && own.has(keys.workload(p.workload))) return true;
          }
          return false;
        },
      },
    };
  }

  has(l: L): boolean {
    return this.entries.has(l);
  }

  /** The keys `l` owns (what incidentTouch(...).own holds). */
  ownKeys(l: L): string[] {
    return [...(this.entries.get(l)?.own.keys() ?? [])];
  }

  private rekey(e: Entry<L>, m: { d: Detection; keys: string[] }, table: PlacementTable): void {
    for (const k of m.keys) this.count(e, k, -1);
    m.keys = ownKeys(m.d, table, this.lookup);
    for (const k of m.keys) this.count(e, k, 1);
  }

  private count(e: Entry<L>, k: string, by: 1 | -1): void {
    const n = (e.own.get(k) ?? 0) + by;
    if (n > 0) {
      e.own.set(k, n);
      if (by > 0 && n === 1) addTo(this.owners, `${e.cluster}\u0000${k}`, e.l);
      return;
    }
    e.own.delete(k);
    removeFrom(this.owners, `${e.cluster}\u0000${k}`, e.l);
  }
}

/** A member's own keys do not depend on `since`: any view of the table gives them. */
function ownKeys(d: Detection, table: PlacementTable, lookup: CacheLookup): string[] {
  return [...touchOf(d.subject, table.view(0), lookup).own];
}

function addTo<L>(m: Map<string, Set<L>>, k: string, l: L): void {
  let s = m.get(k);
  if (!s) m.set(k, (s = new Set()));
  s.add(l);
}

function removeFrom<L>(m: Map<string, Set<L>>, k: string, l: L): void {
  const s = m.get(k);
  if (!s) return;
  s.delete(l);
  if (!s.size) m.delete(k);
}
