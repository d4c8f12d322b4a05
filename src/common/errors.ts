// Every user-facing error carries a stable code documented in docs/errors.md,
// with the fix. Whether an operation is retried is decided from the error's
// type (`retryable`), never from its message.

export interface ErrorInfo {
  /** Stable identifier, e.g. KM-SANDBOX-001. Never reuse or renumber. */
  code: string;
  /** What the user can do about it. */
  fix: string;
  retryable?: boolean;
}

export class KubemendError extends Error {
  readonly code: string;
  readonly fix: string;
  readonly retryable: boolean;

  constructor(info: ErrorInfo, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KubemendError';
    this.code = info.code;
    this.fix = info.fix;
    this.retryable = info.retryable ?? false;
  }

  /** One-line rendering for terminals: "KM-X-001 message (fix: …)". */
  render(): string {
    return `${this.code} ${this.message}\n  fix: ${this.fix}`;
  }
}

/** The catalogue; docs/errors.md mirrors it (a test keeps them in step). */
export const Errors = {
  SCENARIO_NOT_FOUND: { code: 'KM-SANDBOX-001', fix: 'Pass a scenario name from `scenarios/` (see `kubemend sandbox --help`) or a path to a scenario YAML file.' },
  SCENARIO_INVALID: { code: 'KM-SANDBOX-002', fix: 'Correct the field named in the message; the format is documented in docs/scenarios.md.' },
  PORT_IN_USE: { code: 'KM-SANDBOX-003', fix: 'Choose another --port, or --port 0 to let the system pick a free one.' },
  SANDBOX_STATE_MISMATCH: { code: 'KM-SANDBOX-006', fix: 'Start the sandbox with the scenario the state was saved with, or delete the state file (or pass another --state-file) to start afresh.' },
  SANDBOX_STATE_FILE: { code: 'KM-SANDBOX-007', fix: 'Pass a --state-file in a writable directory; an existing file there must be one a kubemend sandbox wrote (delete it to start afresh).' },
  BAD_FLAG: { code: 'KM-CLI-001', fix: 'Run the command with --help to see the accepted values.' },
  KUBECONFIG_WRITE: { code: 'KM-SANDBOX-004', fix: 'Pass a writable path to --kubeconfig-out.' },
  SCENARIO_FAILED: { code: 'KM-SANDBOX-005', fix: 'A scenario milestone was not reached in time; run it with --speed 1 and watch `kubectl get events -A -w` to see where it stalls.' },
  CONFIG_INVALID: { code: 'KM-CONFIG-001', fix: 'Correct each field named in the message (file:line path); the formats are documented in docs/.' },
  SILENCE_INVALID: { code: 'KM-SILENCE-001', fix: 'Write each matcher as name=value, name!=value, name=~regex or name!~regex (regexes are anchored), give an end time or duration after the start, and say who creates it and why.' },
  STORE_UNAVAILABLE: { code: 'KM-STORE-001', fix: 'Check --db / KUBEMEND_DB: a postgres:// URL must name a reachable server and database the user may write (start a local one with `pg_ctlcluster 15 main start`); for SQLite the data directory (--data-dir, $KUBEMEND_HOME) must be writable.' },
  STORE_SCHEMA_NEWER: { code: 'KM-STORE-002', fix: 'The database was migrated by a newer kubemend; upgrade this kubemend (migrations only move forward), or point --db at another database.' },
  STORE_NOT_FOUND: { code: 'KM-STORE-003', fix: 'Use an id that exists (list them with the matching `kubemend … list` command); records are never created implicitly by an update.' },
  AUDIT_CHAIN_BROKEN: { code: 'KM-AUDIT-001', fix: 'A record was changed, deleted or reordered outside kubemend: compare the named record with your shipped JSONL export or a backup, restore it, and investigate who had write access to the database (see docs/audit.md).' },
  AUDIT_KEY: { code: 'KM-AUDIT-002', fix: 'Point KUBEMEND_AUDIT_KEY (or --data-dir) at the Ed25519 key that signs this audit log, or pass its public key with --public-key; see docs/audit.md "Keys".' },
  INCIDENT_NOT_FOUND: { code: 'KM-INCIDENT-001', fix: 'Use an incident id (or a unique prefix of one) from `kubemend incidents list`, with the same --db / --data-dir the incidents were recorded in.' },
  SERVE_LISTEN: { code: 'KM-SERVE-001', fix: 'Choose another --listen HOST:PORT (port 0 picks a free one), or stop the process that holds the address.' },
  SERVE_ADAPTERS: { code: 'KM-SERVE-002', fix: 'Set the environment variables (or server config fields) named in the message, or unset the partial ones; the setup of each adapter is in docs/chat-adapters.md.' },
  CHAT_NOT_ALLOWED: { code: 'KM-CHAT-001', fix: 'Ask from a room and for a cluster, namespace and action the chat policy allows you (the reply says which one failed), or ask an administrator to change the policy (docs/chat.md, "RBAC policy").' },
  CHAT_JUSTIFICATION: { code: 'KM-CHAT-002', fix: 'Answer with justify ID --reason "what and why" --link pointing to an alert on a configured Alertmanager/Grafana host, a kubemend detection (det:ID) or a ticket in an approved status (docs/chat.md, "Justification").' },
  CHAT_APPROVAL_REFUSED: { code: 'KM-CHAT-003', fix: 'Someone other than the requester, in an approver group (approval.groups), approves from a room where the policy lets them approve; the requester can only confirm or cancel.' },
  CHAT_EXPIRED: { code: 'KM-CHAT-004', fix: 'Send the command again; the limits are conversationTimeout and approval.timeout in the chat config (docs/chat.md).' },
  CHAT_UNKNOWN_CLUSTER: { code: 'KM-CHAT-005', fix: 'Name one of the clusters the reply lists with --cluster, or leave --cluster out to act on the default cluster.' },
} as const satisfies Record<string, ErrorInfo>;
