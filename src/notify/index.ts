// Outgoing notifications: routes, the outbox, receivers (issue 15).
export type * from './types.ts';
export { ChatThreadReceiver, parentText, parentButtons, replyText, type ThreadPoster, type ReceiverState, type ChatThreadReceiverOptions } from './chat-thread.ts';
