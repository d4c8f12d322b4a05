// Contracts of the chat bot: adapters (Slack, Mattermost, web console,
// terminal) turn platform messages into ChatMessages and render ChatReplies;
// one ChatEngine parses commands, holds conversations (justify, confirm,
// approve), authorises with casbin and executes through the runbook executor.

export interface ChatUser {
  /** Stable id on the platform (Slack user id, Mattermost user id, console login). */
  id: string;
  /** The name used for RBAC and Kubernetes impersonation (e.g. an email or LDAP name). */
  name: string;
  groups?: string[];
}

export interface ChatMessage {
  adapter: 'slack' | 'mattermost' | 'console' | 'terminal' | string;
  /** Channel / room id (RBAC subject dimension). */
  room: string;
  user: ChatUser;
  text: string;
  /** Platform thread / conversation id, so replies land in the same thread. */
  thread?: string;
  time: number;
}

/** A button the user can press instead of typing (confirm, approve, deny). */
export interface ChatButton {
  label: string;
  /** The text the engine receives when pressed, e.g. "confirm 3f2a". */
  value: string;
  style?: 'primary' | 'danger';
}

export interface ChatReply {
  room: string;
  thread?: string;
  /** Plain text (adapters may format it); never contains secrets. */
  text: string;
  buttons?: ChatButton[];
  /** Only the addressed user should see it (ephemeral), when the platform supports it. */
  ephemeralTo?: string;
  /** Mention these users/groups (approvers). */
  mention?: string[];
}

export interface ChatEngine {
  /** Handles one message; resolves with the replies to post (possibly several rooms: e.g. an approval request). */
  handle(msg: ChatMessage): Promise<ChatReply[]>;
  /** Replies that arrive later (run progress, approval time-outs): adapters subscribe and post them. */
  onAsyncReply(listener: (r: ChatReply) => void): () => void;
}

export interface ChatAdapter {
  readonly name: string;
  start(engine: ChatEngine): Promise<void>;
  stop(): Promise<void>;
}
