// Outgoing notifications (issue 15): events → routes (Alertmanager style) →
// receivers (PagerDuty, email, webhooks; Slack and Mattermost through the
// chat adapters, supplied by the caller), delivered at least once through a
// durable outbox in the store. Build it with buildNotifications().
export type * from './types.ts';
export { NotificationsSchema, NOTIFY_EVENT_KINDS, DEFAULT_EVENTS, receiverEvents, receiverType, type NotificationsConfig, type ReceiverConfig, type ReceiverType, type RouteConfig } from './config.ts';
export { buildNotifications, type BuildNotificationsOptions } from './build.ts';
export { Notifications, receiverState, ROUTER_STATE, type ReceiverState, type EmitResult } from './notifications.ts';
export { Router, threadKey, type RouteDecision, type RoutedDelivery, type RouterMemory } from './router.ts';
export { Outbox, backoff, type OutboxOptions } from './outbox.ts';
export { PagerDutyReceiver, pagerDutyAction, dedupKey, type PagerDutyOptions } from './pagerduty.ts';
export { EmailReceiver, renderEmail, threadMessageId, type EmailOptions } from './email.ts';
export { WebhookReceiver, webhookSignature, WEBHOOK_VERSION, type WebhookOptions } from './webhook.ts';
export { parseMatchers, type LabelMatcher } from './matchers.ts';
export { ChatThreadReceiver, parentText, parentButtons, replyText, type ThreadPoster, type ChatThreadReceiverOptions } from './chat-thread.ts';
export { AuditShipper, type AuditShipperOptions } from './es-shipper.ts';
export { ElasticsearchTraceSchema, elasticsearchTrace, resolveEsConnection, type ElasticsearchTraceConfig, type ElasticsearchTraceInput, type EsConnection } from './es-config.ts';
export { toDocument, fromDocument, indexTemplate, ecsOutcome, dataStreamParts, type EsDocument, type ChainHead } from './es-document.ts';
export { bulkBody, parseBulkResponse, classifyItem, NDJSON, type BulkEntry, type ItemOutcome } from './es-bulk.ts';
export { EsHttp, EsNetworkError, type EsResponse } from './es-http.ts';
export { REJECTED_ACTION, type PassResult, type ShipperStore } from './es-pass.ts';
export { verifyEsDocuments, readEsDocuments, verifyEsCopy, type EsCopyCheck, type HeadChecker } from './es-verify.ts';
