// What the notification outbox needs from a chat platform to keep one thread
// per incident: post (a parent, or a reply under one) and update in place.
// Posters throw PosterError, whose `retryable` tells the outbox whether
// another try can help (a rate limit, the network) or not (an unknown
// channel, a revoked token), so failures are retried or dead-lettered by
// their type, never by parsing messages.
import type { ChatButton } from '../../types.ts';

export interface ThreadPoster {
  /** Posts a message (a reply when `thread` is a parent's reference); resolves with the message's reference (Slack ts, Mattermost post id). */
  post(m: { channel: string; text: string; thread?: string; buttons?: ChatButton[] }): Promise<string>;
  /** Replaces a posted message's text and buttons (none: the buttons go). */
  update(m: { channel: string; ref: string; text: string; buttons?: ChatButton[] }): Promise<void>;
}

export class PosterError extends Error {
  readonly retryable: boolean;
  readonly retryAfterMs?: number;

  constructor(message: string, retryable: boolean, retryAfterMs?: number) {
    super(message);
    this.name = 'PosterError';
    this.retryable = retryable;
    this.retryAfterMs = retryAfterMs;
  }
}
