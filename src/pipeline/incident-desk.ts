// The incident desk chat works with (src/chat/desk.ts), over this process's
// incident tracker: reads come from the store (any replica answers the
// same), people's actions go through the tracker, which applies them to the
// stored record under its row lock and to the live incident when it drives it.
import type { IncidentDesk } from '../chat/index.ts';
import { findIncident } from '../incidents/index.ts';
import { ACTIVE_INCIDENT_STATUSES, type Store } from '../store/index.ts';
import type { IncidentSink } from './incidents-sink.ts';

export function incidentDesk(sink: IncidentSink, store: Store): IncidentDesk {
  const t = sink.tracker;
  return {
    list: ({ all, limit }) => store.listIncidents(all ? { limit } : { status: ACTIVE_INCIDENT_STATUSES, limit }),
    get: (id) => findIncident(store, id),
    ack: (id, by) => t.ack(id, by),
    assign: (id, owner, by) => t.assign(id, owner, by),
    resolve: (id, by, reason) => t.resolve(id, by, reason),
    note: (id, by, text) => t.note(id, by, text),
  };
}
