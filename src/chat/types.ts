// Contracts of the chat bot: adapters (Slack, Mattermost, web console,
// terminal) turn platform messages into ChatMessages and render ChatReplies;
// one ChatEngine parses commands, holds conversations (justify, confirm,
// approve), authorises with casbin and executes through the runbook executor.

export interface ChatUser {
  /** The platform that vouches for the user: slack, mattermost, console, terminal. */
  platform: string;
  /**
   * The user's stable id on that platform (Slack user id, Mattermost user id,
   * console login, terminal OS user@host); with `platform` it is the identity
   * four-eyes compares. Replies addressed to the user (ephemeral) use it.
   */
  id: string;
  /** What the platform shows (a username, a login): for people and the audit log, never for a decision. */
  displayName?: string;
  /** The policy subject: RBAC, approvals and Kubernetes impersonation act as it. */
  name: string;
  groups?: string[];
  /**
   * Where `name` and `groups` come from: a configured mapping (or the
   * kubeconfig, for the terminal), the configured guest role, or nothing —
   * an unmapped user is refused before any command is read.
   */
  mapping: 'mapped' | 'guest' | 'unmapped';
  /**
   * The device several identities may share (one terminal, one OS user):
   * four-eyes also needs the approver on another one.
   */
  session?: string;
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
