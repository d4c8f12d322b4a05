// Addressing replies. The engine and the helpers it delegates to (approvals)
// build replies the same way; keeping that here, rather than on the engine,
// lets those helpers work without importing the engine that owns them.
import type { ChatReply, ChatUser } from './types.ts';

/** What a handler returns: replies to the sender's room (and, for approvals, elsewhere). */
export type Out = ChatReply[];

export interface ReplyOptions {
  /** Shown only to the message's sender (where the adapter can). */
  ephemeral?: boolean;
  buttons?: ChatReply['buttons'];
  mention?: string[];
}

/** A reply in the message's room and thread. */
export function reply(msg: { room: string; thread?: string; user?: ChatUser }, text: string, o: ReplyOptions = {}): ChatReply {
  const r: ChatReply = { room: msg.room, text };
  if (msg.thread) r.thread = msg.thread;
  if (o.ephemeral && msg.user) r.ephemeralTo = msg.user.id;
  if (o.buttons?.length) r.buttons = o.buttons;
  if (o.mention?.length) r.mention = o.mention;
  return r;
}
