// Persistence: the Store every part of kubemend writes through, on SQLite or
// PostgreSQL. Open one with openStore(); its audit log (src/audit/) is
// `store.audit`. The records it keeps (detections, silences, runs, chat
// requests, incidents) are defined here so every layer above can use them.
export type * from './types.ts';
export { ACTIVE_RUN_STATUSES, INCIDENT_STATUSES, ACTIVE_INCIDENT_STATUSES } from './types.ts';
export { TargetLockedError, sameFence } from './runs-sql.ts';
export { openStore, resolveDb, type OpenStoreOptions, type DbLocation } from './open.ts';
export { SqlStore } from './store-sql.ts';
export { MIGRATIONS, migrate, type Migration } from './migrations.ts';
export { redactUrl } from './postgres.ts';
