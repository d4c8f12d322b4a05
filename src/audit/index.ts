// The store and audit log's public API. Open a store with openStore(); write
// audit records through store.audit; everything else is detail.
export type * from './types.ts';
export { openStore, resolveDb, type OpenStoreOptions, type DbLocation } from './open.ts';
export { SqlStore } from './store-sql.ts';
export { SqlAuditLog, pruneExpired } from './audit-log.ts';
export { canonicalJson, chainHash, digest, GENESIS_HASH } from './chain.ts';
export { AuditKeys, auditKeyPath, publicKeyPath, keyId, KEY_FILE } from './checkpoint.ts';
export { exportJsonl, jsonlLine, checkJsonl, recomputeHash, EXPORT_FORMATS, type ExportFormat } from './export.ts';
export { MIGRATIONS, migrate, type Migration } from './migrations.ts';
export { redactUrl } from './postgres.ts';
export type { SqlDb, SqlExec, SqlValue, Dialect } from './db.ts';
