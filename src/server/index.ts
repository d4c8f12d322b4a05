// kubemend's HTTP server: webhook receivers for signals, the chat adapters'
// routes and the server config.
export { loadServerConfig, resolveAdapters } from './serve-config.ts';
export { webhooksPlugin } from './webhooks.ts';
