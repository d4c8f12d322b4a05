// The tamper-evident audit log: a hash chain over any SqlDb, with signed heads
// (also written to witnesses outside the database) and retention checkpoints,
// and its JSONL export. The Store (src/store/)
// builds one on its database and hands it out as `store.audit`.
export type * from './types.ts';
export { SqlAuditLog, pruneExpired, type AuditLogOptions } from './audit-log.ts';
export { canonicalJson, chainHash, digest, recordBody, GENESIS_HASH } from './chain.ts';
export { AuditKeys, auditKeyPath, publicKeyPath, keyId, checkpointMessage, headMessage, requireKeyFromEnv, KEY_FILE } from './checkpoint.ts';
export { FileWitness, WitnessFeed, headLine, parseHeadLines, type AuditWitness, type SignedHead } from './witness.ts';
export { ConfigMapWitness, openWitness, parseWitnessSpec, CONFIGMAP_INTERVAL_MS, WITNESS_KEY, type WitnessSpec } from './witness-configmap.ts';
export { exportJsonl, jsonlLine, checkJsonl, recomputeHash, EXPORT_FORMATS, type ExportFormat } from './export.ts';
