// kubemend's HTTP server: webhook receivers for signals, the chat adapters'
// routes and the server config.
export { loadServerConfig, resolveAdapters } from './serve-config.ts';
export { webhooksPlugin } from './webhooks.ts';
export { createApp } from './app.ts';
export type { ServerSpec } from './serve-config.ts';
export { loadServiceConfig } from './service-config.ts';
export type { ServiceConfig } from './service-config.ts';
export { auditStoreOptions, type AuditStoreOptions } from './audit-options.ts';
export { resolveWebhooks, webhookRoutes } from './webhook-config.ts';
export { auditRefusals, type RefusalAuditOptions } from './refusal-audit.ts';
export { LeaderElectionSchema, leaseNamespace, type LeaderElectionConfig } from './leader-config.ts';
export { serviceNotifications, type ServiceNotificationsOptions } from './notifications.ts';
