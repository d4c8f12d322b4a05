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
