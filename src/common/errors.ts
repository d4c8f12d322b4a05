// Every user-facing error carries a stable code documented in docs/errors.md,
// with the fix. Whether an operation is retried is decided from the error's
// type (`retryable`, taken from its registry entry), never from its message.

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

/**
 * "KM-X-001 message": an entry rendered into text, for messages that are not
 * thrown as a KubemendError (chat replies, commander's InvalidArgumentError).
 */
export function withCode(info: ErrorInfo, message: string): string {
  return `${info.code} ${message}`;
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
  STORE_CONNECTION_LOST: { code: 'KM-STORE-004', fix: 'The connection to PostgreSQL kept failing (server restarting, failing over, sessions terminated, network down); nothing of the failed operation was committed, so it is safe to run again, and kubemend\'s writers retry it on their own. If it persists, check the server and the network path to it.', retryable: true },
  STORE_COMMIT_UNKNOWN: { code: 'KM-STORE-005', fix: 'The connection to PostgreSQL was lost while a COMMIT was in flight and the server could not be asked whether it landed. It is not retried (it may have landed): look for the record (e.g. `kubemend audit list`) before doing it again, and check the server and the network path to it.' },
  STORE_LOCKED: { code: 'KM-STORE-006', fix: 'Another run is acting on the same target (the message names it); wait for it to end (`kubemend runs show ID`) or cancel it, then start this one again. The lock is a unique column in the database, so it holds across every kubemend process sharing it.' },
  STORE_FENCED: { code: 'KM-STORE-007', fix: 'This process stopped being the leader and another replica took the run over; nothing is needed: the new leader re-checks the step under way and carries the run on. If it happens often, look at why leases are lost (API server latency, CPU starvation, renewDeadline too short).' },
  LEADER_ELECTION: { code: 'KM-LEADER-001', fix: "Let kubemend's identity get, create and update the Lease named in the message (a Role on leases in group coordination.k8s.io in that namespace; deploy/ ships one), and check that the namespace exists and the API server is reachable. Until it can renew, the replica stays a follower." },
  AUDIT_CHAIN_BROKEN: { code: 'KM-AUDIT-001', fix: 'A record was changed, deleted or reordered outside kubemend: compare the named record with your shipped JSONL export or a backup, restore it, and investigate who had write access to the database (see docs/audit.md).' },
  AUDIT_KEY: { code: 'KM-AUDIT-002', fix: 'Point KUBEMEND_AUDIT_KEY (or --data-dir) at the Ed25519 key that signs this audit log, or pass its public key with --public-key; see docs/audit.md "Keys".' },
  AUDIT_WITNESS: { code: 'KM-AUDIT-003', fix: 'Check the audit witness named in the message: a file witness must exist and be readable (and appendable by the writer); a ConfigMap witness needs a kubeconfig whose identity may get (and, for the writer, create and update) that ConfigMap. See docs/audit.md "Witnesses".' },

  // The audit trace shipped to Elasticsearch/OpenSearch (src/notify/es-*.ts, docs/trace.md).
  TRACE_UNAUTHORIZED: { code: 'KM-TRACE-001', fix: 'Elasticsearch refused the credentials (401) or their privileges (403): check the variable named by trace.elasticsearch.apiKeyEnv (the encoded API key) or usernameEnv/passwordEnv, and grant the key or user `create_doc` and `auto_configure` on the data stream (plus `manage_index_templates` while manageTemplate is true). The shipper keeps retrying with back-off; nothing is lost meanwhile.', retryable: true },
  TRACE_UNAVAILABLE: { code: 'KM-TRACE-002', fix: 'Elasticsearch could not be reached, answered 429 or 5xx, or sent an answer that is not a bulk response; the shipper retries with back-off and continues from its checkpoint, so nothing is lost. If it persists, check the URLs in trace.elasticsearch.urls, the CA (caFile), and the cluster\'s health.', retryable: true },
  TRACE_REJECTED: { code: 'KM-TRACE-003', fix: 'Elasticsearch refused one audit record for good (a 4xx other than 409 or 429, e.g. a mapping conflict with a template someone else installed); it was skipped, recorded as trace.elasticsearch.rejected in the audit log and counted in kubemend_trace_records_rejected_total. Fix the data stream\'s mapping (let kubemend manage its template, or roll the data stream over), then re-send it from `kubemend audit export --after-seq` if needed.' },
  TRACE_TEMPLATE: { code: 'KM-TRACE-004', fix: 'Elasticsearch refused the index template: give the identity `manage_index_templates`, or install the template yourself (docs/trace.md shows it) and set trace.elasticsearch.manageTemplate: false.', retryable: true },
  TRACE_CONFIG: { code: 'KM-TRACE-005', fix: 'Set the environment variables named in trace.elasticsearch (apiKeyEnv, or usernameEnv and passwordEnv) in kubemend\'s environment, and make caFile a readable PEM file; see docs/trace.md.' },
  TRACE_VERIFY: { code: 'KM-TRACE-006', fix: 'The copy in Elasticsearch does not match the signed audit chain: the message names the first document that does not hold up. Compare it with `kubemend audit list` in the store, find who can write the data stream, and re-ship the records from the store if they were altered there.' },
  TRACE_GAP: { code: 'KM-TRACE-007', fix: 'Audit records were pruned from the store before the shipper delivered them (the store\'s retention is shorter than an Elasticsearch outage lasted); they are not in the copy. Keep the retention longer than any outage you expect, and restore the missing range from a backup or JSONL export if you need it.' },
  INCIDENT_NOT_FOUND: { code: 'KM-INCIDENT-001', fix: 'Use an incident id (or a unique prefix of one) from `kubemend incidents list`, with the same --db / --data-dir the incidents were recorded in.' },
  INCIDENT_RESOLVED: { code: 'KM-INCIDENT-002', fix: 'The incident is already resolved (or its post-mortem drafted): nothing is left to acknowledge or resolve. A note or an owner can still be added; if the harm is back, the next detection opens a new incident (`incidents` lists it).' },
  INCIDENT_ALREADY: { code: 'KM-INCIDENT-003', fix: 'Nothing to do: the incident is already in the state asked for (the reply says who put it there and when). Use `incident show ID` to see its state.' },
  INCIDENT_NOTE: { code: 'KM-INCIDENT-004', fix: 'Write a note of 1 to 2000 characters, quoted: incident note ID "what you saw or did". An incident keeps at most 200 notes; put longer write-ups in the post-mortem.' },
  // The web console's API (src/server/console/, docs/console.md).
  CONSOLE_BAD_REQUEST: { code: 'KM-CONSOLE-011', fix: 'The console sent a request the server cannot read (a cursor from another server or an old page, a filter value or body field out of range): reload the page, or for scripts send the fields docs/console.md lists.' },
  SERVE_LISTEN: { code: 'KM-SERVE-001', fix: 'Choose another --listen HOST:PORT (port 0 picks a free one), or stop the process that holds the address.' },
  SERVE_ADAPTERS: { code: 'KM-SERVE-002', fix: 'Set the environment variables (or config fields) named in the message, or unset the partial ones; the setup of each adapter is in docs/chat-adapters.md, of the webhooks in docs/serve.md.' },
  CHAT_NOT_ALLOWED: { code: 'KM-CHAT-001', fix: 'Ask from a room and for a cluster, namespace and action the chat policy allows you (the reply says which one failed), or ask an administrator to change the policy (docs/chat.md, "RBAC policy").' },
  CHAT_JUSTIFICATION: { code: 'KM-CHAT-002', fix: 'Answer with justify ID --reason "what and why" --link pointing to an alert that a configured Alertmanager says is firing (its alert list filtered by alertname), a kubemend detection (det:ID) that is open or recent, or a ticket in an approved status (docs/chat.md, "Justification").' },
  CHAT_APPROVAL_REFUSED: { code: 'KM-CHAT-003', fix: 'Someone other than the requester, in an approver group (approval.groups), approves from a room where the policy lets them approve; the requester can only confirm or cancel.' },
  CHAT_EXPIRED: { code: 'KM-CHAT-004', fix: 'Send the command again; the limits are conversationTimeout and approval.timeout in the chat config (docs/chat.md).' },
  CHAT_UNKNOWN_CLUSTER: { code: 'KM-CHAT-005', fix: 'Name one of the clusters the reply lists with --cluster, or leave --cluster out to act on the default cluster.' },
  CHAT_BAD_COMMAND: { code: 'KM-CHAT-006', fix: 'Follow the usage line in the reply, or send `help` (or `help COMMAND`); names are Kubernetes names (lowercase, digits and dashes).' },
  CHAT_POLICY_MISSING: { code: 'KM-CHAT-007', fix: 'Set `policy` in the chat settings to an RBAC policy file (docs/chat.md, "RBAC policy"); the bot never runs without one.' },
  CHAT_DELIVERY: { code: 'KM-CHAT-008', fix: "Check the adapter's bot token and its scopes, and that kubemend can reach the chat platform; the log line carries the platform's answer (docs/chat-adapters.md)." },
  CHAT_UNMAPPED_USER: { code: 'KM-CHAT-009', fix: "Ask a kubemend administrator to map your platform user id (the reply names it) to your name and groups under server.slack.users or server.mattermost.users, or to configure a guest role (docs/chat-adapters.md, \"Identities\"); display names and usernames are never used." },
  CHAT_LIMIT: { code: 'KM-CHAT-010', fix: 'Ask for a value within the limit the reply names (maxReplicas in the chat settings), or have an administrator raise it (docs/chat.md, "Settings").' },
  CHAT_NOT_REQUESTER: { code: 'KM-CHAT-011', fix: 'Only the person who asked (the same platform user) can justify, confirm or cancel a request; ask them, or send the command yourself.' },
  CHAT_PREEMPT_TIMEOUT: { code: 'KM-CHAT-012', fix: 'The automatic run holding the target was in a step that changes the cluster and did not finish it within the wait; it goes on. Look at it (`kubemend runs show ID`), then send the command again, or cancel that run first.' },
  SERVE_ROOMS: { code: 'KM-SERVE-003', fix: "Give each channel in the adapter's `rooms` map its own room name (docs/chat-adapters.md, rooms)." },
  NOTIFY_RECEIVER: { code: 'KM-NOTIFY-001', fix: 'Set the environment variables the message names for the receiver (routingKeyEnv, passwordEnv, secretEnv …), or for a slack or mattermost receiver configure that chat adapter (docs/chat-adapters.md); docs/notifications.md describes every receiver.' },
  NOTIFY_DELIVERY_FAILED: { code: 'KM-NOTIFY-002', fix: "The receiver did not take a notification (network, 429, 5xx); kubemend retries it with back-off until delivery.maxAge. If it persists, check the receiver's URL or server and kubemend's network path to it; `kubemend_notify_queue_pending` shows what waits.", retryable: true },
  NOTIFY_DEAD: { code: 'KM-NOTIFY-003', fix: "The receiver refused the notification (e.g. PagerDuty 400, a webhook's 4xx, an SMTP address rejected) or it could not be delivered within delivery.maxAge / maxAttempts; the audit record notify.delivery.dead has the receiver's answer. Fix the receiver's configuration (routing key, address, URL) — later notifications are sent as usual." },
  SLACK_APP_TOKEN: { code: 'KM-SLACK-001', fix: 'Set SLACK_APP_TOKEN to an app-level token of the same Slack app: Basic Information → App-Level Tokens → Generate, scope connections:write; it starts with xapp- (not the xoxb- bot token). Slack names what it refused (invalid_auth, token_revoked, not_allowed_token_type) in the message (docs/chat-adapters.md, "Socket Mode").' },
  SLACK_SOCKET: { code: 'KM-SLACK-002', fix: 'kubemend could not open its Socket Mode connection: check that it can reach slack.com (or SLACK_API_URL) and the wss:// URL Slack hands out (proxies, egress rules: outbound HTTPS and WebSocket on 443), and that Socket Mode is turned on in the app settings (docs/chat-adapters.md, "Socket Mode").' },
  JIRA_REFUSED: { code: 'KM-JIRA-001', fix: 'Jira refused kubemend\'s comment or transition (the audit record jira.comment.failed / jira.transition.failed carries its answer): give kubemend\'s Jira user the Add Comments (and Transition Issues) permission in the project, check justification.jira.apiVersion against the Jira (2 for Data Center / Server, 3 for Cloud), and that transitionOnSuccess names a transition the ticket offers from its status (docs/chat.md, "Jira").' },
  JIRA_UNAVAILABLE: { code: 'KM-JIRA-002', fix: 'Jira could not be reached, failed (5xx) or kept rate-limiting (429) through every retry, so the comment was not posted (the action itself was not affected): check that kubemend reaches justification.jira.url, then add the comment by hand from the audit record jira.comment.failed, which holds its text (docs/chat.md, "Jira").', retryable: true },
  RULE_COMPILE: { code: 'KM-RULE-001', fix: 'Correct the CEL expression named in the message (spec.when must be a bool, spec.subject a map with kind and name, spec.summary a string); `kubemend rules check DIR` lists every problem with file:line (docs/rules.md).' },
  RULE_EVAL: { code: 'KM-RULE-002', fix: "Make the rule's spec.subject return a map with a kind and a name for every object its spec.when matches (guard optional fields with has()); until then the detection falls back to the object itself as subject." },
  CEL_COST: { code: 'KM-RULE-003', fix: 'The data was larger than the expression can afford: nest fewer loops over it (filter first, or read one list instead of crossing two), or raise the cost runtimeLimit and the assumed list sizes (docs/rules.md, "Cost"). Until then the rule does not match that data, and a template fails its step.' },
  RUNBOOK_TEMPLATE: { code: 'KM-RUNBOOK-001', fix: 'Correct the {{ }} expression at the path named in the message; `kubemend runbooks check DIR` lists every template problem with file:line, and docs/runbooks.md lists the variables a template can read.' },

  // Kubernetes API failures outside a runbook step (a step's are ACTION_*
  // below). Retryable follows the HTTP status: conflicts, throttling, server
  // errors and network failures are worth another attempt; other 4xx are final.
  KUBECONFIG_INVALID: { code: 'KM-KUBE-001', fix: 'Pass a kubeconfig (--kubeconfig, $KUBECONFIG) whose current context names a cluster with a server URL, or pick a context with --context.' },
  KUBE_UNREACHABLE: { code: 'KM-KUBE-002', fix: "Check that the API server in the kubeconfig is reachable from kubemend (address, port, proxy, TLS). Watches reconnect with back-off; a command can be run again.", retryable: true },
  KUBE_UNAUTHORIZED: { code: 'KM-KUBE-003', fix: "Renew the kubeconfig's credentials (token, client certificate or exec plugin login); the API server did not accept them." },
  KUBE_FORBIDDEN: { code: 'KM-KUBE-004', fix: "Grant kubemend's identity (or the impersonated user) the verb on the resource named in the message with a Role/ClusterRole binding; `kubectl auth can-i` shows what it may do." },
  KUBE_NOT_FOUND: { code: 'KM-KUBE-005', fix: 'Check the namespace, kind and name in the message; the object may have been deleted meanwhile.' },
  KUBE_CONFLICT: { code: 'KM-KUBE-006', fix: 'Another writer changed the object at the same time; run the command again. If it persists, find the other writer (metadata.managedFields).', retryable: true },
  KUBE_GONE: { code: 'KM-KUBE-007', fix: 'The resource version is too old (the API server compacted its history); watches relist on their own, and a command can simply be run again.' },
  KUBE_INVALID: { code: 'KM-KUBE-008', fix: 'The API server refused the object or request as invalid; correct the field named in the message.' },
  KUBE_THROTTLED: { code: 'KM-KUBE-009', fix: 'The API server asked kubemend to slow down (429); watches back off on their own, a command can be run again. If it persists, check the API priority and fairness settings or lower the number of watched kinds.', retryable: true },
  KUBE_SERVER_ERROR: { code: 'KM-KUBE-010', fix: "The API server failed (5xx); watches retry with back-off, a command can be run again. If it persists, check the API server's health and logs.", retryable: true },
  KUBE_REJECTED: { code: 'KM-KUBE-011', fix: 'The API server refused the request with the HTTP status in the message; check the kind, path and verb against the cluster\'s API (`kubectl api-resources`).' },
  KUBECONFIG_MISSING: { code: 'KM-KUBE-012', fix: 'Pass --kubeconfig PATH of an existing file (or set $KUBECONFIG): for the sandbox, start `kubemend sandbox --kubeconfig-out PATH` and pass that PATH; for a cluster kubectl already reaches, write one with `kubectl config view --raw > PATH`.' },
  KUBECONFIG_UNREADABLE: { code: 'KM-KUBE-013', fix: 'Make the file named in the message readable by this user and a valid kubeconfig (`kubectl config view --kubeconfig PATH` shows what it holds); regenerate it with `kubemend sandbox --kubeconfig-out PATH` or `kubectl config view --raw > PATH`.' },
  KUBE_CONTEXT_UNKNOWN: { code: 'KM-KUBE-014', fix: 'Pass --context with one of the contexts the message lists (`kubectl config get-contexts --kubeconfig PATH` shows them), or set a current context with `kubectl config use-context NAME --kubeconfig PATH`.' },
  KUBE_RBAC_DENIED: { code: 'KM-KUBE-016', fix: "Grant the identity the message names the permission it names (verb, resource, API group, namespace) with a Role or ClusterRole and a binding; for kubemend's own identities add it to the ClusterRoles in deploy/base (docs/deploy.md), then check with `kubectl auth can-i VERB RESOURCE -n NAMESPACE --as=IDENTITY`." },
  KUBE_METRICS_UNAVAILABLE: { code: 'KM-KUBE-015', fix: 'Install metrics-server (or another metrics.k8s.io provider; `kubectl top nodes` works once it serves) and let kubemend list nodes.metrics.k8s.io and pods.metrics.k8s.io. Until then rules reading NodeMetrics or PodMetrics see none and do not fire; nothing else is affected.' },

  // Runbook step failures. ActionError takes these by the short name after
  // ACTION_ (`new ActionError('AT_CAP', …)`); the short name is what step
  // transitions store and runbook docs mention, the code what docs/errors.md lists.
  ACTION_UNKNOWN_RUNBOOK: { code: 'KM-ACTION-001', fix: 'Name a runbook the engine loaded (the message lists them), or add yours to the runbooks directory and check it with `kubemend runbooks check DIR`.' },
  ACTION_NO_CLUSTER: { code: 'KM-ACTION-002', fix: "Start kubemend with a kubeconfig context for the run's cluster, or trigger the run on a cluster it has access to." },
  ACTION_UNKNOWN_CLUSTER: { code: 'KM-ACTION-003', fix: 'Set fromCluster to a kubeconfig context kubemend was started with, or copy from another namespace of the same cluster with fromNamespace.' },
  ACTION_CANCELLED: { code: 'KM-ACTION-004', fix: 'The run was cancelled (the engine stopped or someone cancelled it); trigger the runbook again if the problem remains.' },
  ACTION_TIMEOUT: { code: 'KM-ACTION-005', fix: "Find out why the operation did not finish (`kubectl rollout status`, the object's events), or raise the step's `timeout` (or the action's own timeout parameter) if it needs longer; a timed-out step follows onTimeout." },
  ACTION_ABORTED: { code: 'KM-ACTION-006', fix: "The step was cancelled or hit its timeout while a call was in flight; nothing more was sent. See the step's timeout and the run's cancellation." },
  ACTION_INTERNAL: { code: 'KM-ACTION-007', fix: "An action failed unexpectedly (a kubemend bug): report it with the run's transitions (`kubemend runs show ID`)." },
  ACTION_ERROR: { code: 'KM-ACTION-008', fix: 'A kubemend error outside the action stopped the step; look up the code at the start of the message on this page and follow its fix.' },
  ACTION_BAD_REQUEST: { code: 'KM-ACTION-009', fix: "The API server refused the request as malformed (400); check the step's parameters against the action's table in docs/runbooks.md." },
  ACTION_UNAUTHORIZED: { code: 'KM-ACTION-010', fix: "The API server did not accept kubemend's credentials (401); renew the kubeconfig's token or certificate." },
  ACTION_FORBIDDEN: { code: 'KM-ACTION-011', fix: 'Grant the identity the step acts as (the service identity, or the chat user it impersonates) the verb on the resource named in the message (docs/runbooks.md, "Impersonation").' },
  ACTION_NOT_FOUND: { code: 'KM-ACTION-012', fix: "The object (or configmap key) named in the message does not exist: check the step's namespace and name, or the detection's target; it may have been deleted meanwhile." },
  ACTION_NOT_ALLOWED: { code: 'KM-ACTION-013', fix: "The API server does not support this method on that resource (405); check the step's kind." },
  ACTION_CONFLICT: { code: 'KM-ACTION-014', fix: "Another writer changed the object at the same time (409); the step is retried when it has `retries`. If it persists, find the other writer (metadata.managedFields).", retryable: true },
  ACTION_GONE: { code: 'KM-ACTION-015', fix: 'The resource version the step used has expired (410); run the step again.' },
  ACTION_INVALID: { code: 'KM-ACTION-016', fix: "Correct the value named in the message (the step's parameters, or the object's state the action cannot work with); see the action's table in docs/runbooks.md." },
  ACTION_THROTTLED: { code: 'KM-ACTION-017', fix: 'The API server asked kubemend to slow down (429); the step is retried with its back-off when it has `retries`.', retryable: true },
  ACTION_SERVER_ERROR: { code: 'KM-ACTION-018', fix: "The API server failed (5xx); the step is retried with its back-off when it has `retries`. If it persists, check the API server's health.", retryable: true },
  ACTION_NETWORK: { code: 'KM-ACTION-019', fix: 'The API server or URL could not be reached; check the address and the network path from kubemend. The step is retried with its back-off when it has `retries`.', retryable: true },
  ACTION_API_REJECTED: { code: 'KM-ACTION-020', fix: "The API server refused the request with the HTTP status in the message; check the step's kind and parameters." },
  ACTION_PAUSED: { code: 'KM-ACTION-021', fix: 'Resume the rollout (`kubectl rollout resume KIND/NAME -n NAMESPACE`) and run the runbook again; kubemend does not act on a paused rollout.' },
  ACTION_NO_PREVIOUS_REVISION: { code: 'KM-ACTION-022', fix: 'The Deployment has a single revision, so there is nothing to roll back to; fix forward (set a working image) instead.' },
  ACTION_REVISION_NOT_FOUND: { code: 'KM-ACTION-023', fix: 'Pass a toRevision listed by `kubectl rollout history deployment/NAME -n NAMESPACE`, or leave it out to roll back to the previous revision.' },
  ACTION_PROGRESS_DEADLINE_EXCEEDED: { code: 'KM-ACTION-024', fix: "The rollout stopped progressing (see the Deployment's Progressing condition and the new pods' events); roll back or fix what keeps the new pods from becoming ready." },
  ACTION_NO_MATCHING_CONTAINERS: { code: 'KM-ACTION-025', fix: 'Name containers that exist in both the source and the target (the message lists the source\'s), or leave `containers` out.' },
  ACTION_NO_SUCH_CONTAINER: { code: 'KM-ACTION-026', fix: 'Set `container` to one the workload has (the message lists them), or leave it out to change every container.' },
  ACTION_NO_CURRENT_VALUE: { code: 'KM-ACTION-027', fix: 'Give an absolute value (e.g. memoryLimit: 1Gi) instead of a factor, or set the resource on the workload first.' },
  ACTION_AT_CAP: { code: 'KM-ACTION-028', fix: "The value is already at the step's max (or min); raise the bound in the runbook if more is safe, otherwise a human has to fix the workload." },
  ACTION_ANNOTATION_EXISTS: { code: 'KM-ACTION-029', fix: 'Set overwrite: true on the k8s.annotate step, or remove the annotation first.' },
  ACTION_CAPACITY_GUARD: { code: 'KM-ACTION-030', fix: 'A human must decide: take the node out by hand, or raise the step\'s maxUnschedulableFraction if losing that much capacity is safe.' },
  ACTION_DRAIN_BLOCKED: { code: 'KM-ACTION-031', fix: 'Pods the drain may not remove are on the node: set the step flag the message names (ignoreDaemonSets, deleteEmptyDirData, force) if losing them is safe, or move them by hand.' },
  ACTION_PDB_BLOCKED: { code: 'KM-ACTION-032', fix: 'A PodDisruptionBudget allows no more evictions: wait until its pods are healthy, or relax the budget. The step is retried with its back-off when it has `retries`.', retryable: true },
  ACTION_NAME_TAKEN: { code: 'KM-ACTION-033', fix: 'A Job of that name exists and was not created by this step; delete it or give the job.run step another `name`.' },
  ACTION_JOB_FAILED: { code: 'KM-ACTION-034', fix: "Read the Job's logs (the message has the last lines) and fix the job's template or what it works on." },
  ACTION_SMOKE_FAILED: { code: 'KM-ACTION-035', fix: "The workload was not healthy during the smoke window; look at its pods' events and logs. The runbook's failure edge decides what happens next." },
  ACTION_HTTP_STATUS: { code: 'KM-ACTION-036', fix: "The endpoint refused the request with the status in the message; check the step's url, method, headers and body, or its expectStatus." },
  ACTION_HTTP_UNAVAILABLE: { code: 'KM-ACTION-037', fix: "The endpoint answered 5xx, 408 or 429; the step is retried with its back-off when it has `retries`. If it persists, check the service's health.", retryable: true },
  ACTION_HTTP_TIMEOUT: { code: 'KM-ACTION-038', fix: "The endpoint did not answer within the step's `timeout`; raise it or check the service. The step is retried with its back-off when it has `retries`.", retryable: true },
  ACTION_NOTIFY_FAILED: { code: 'KM-ACTION-039', fix: "Check the configuration of the notification channel named in the message (webhook URL, token); the step is retried with its back-off when it has `retries`.", retryable: true },
  ACTION_APPROVAL_DENIED: { code: 'KM-ACTION-040', fix: 'An approver refused; the run follows the step\'s failure edge. Trigger it again with a better justification if it is still needed.' },
  ACTION_APPROVAL_TIMEOUT: { code: 'KM-ACTION-041', fix: "No one in the approver group decided in time; raise the step's timeout, or make sure the group's members see the request (the chat approvals room)." },
  ACTION_LIMITRANGE_EXISTS: { code: 'KM-ACTION-042', fix: "The namespace got a LimitRange between the proposal and its application (the message names it): review that one (`kubectl -n NAMESPACE get limitrange -o yaml`); kubemend does not add a second beside it." },
  ACTION_SOURCE_UNHEALTHY: { code: 'KM-ACTION-044', fix: "The source workload is not healthy (the message lists each pod and what is wrong, and when): fix the source first, promote from a healthy one, or, if you know its images are good, promote with override: true (chat: --force), which needs an approver other than you." },
  ACTION_SELF_APPROVAL: { code: 'KM-ACTION-045', fix: 'The person who asked for the override approved it themselves; four-eyes needs someone else in the approver group to approve it. Ask them, then run it again.' },
  ACTION_DEPOSED: { code: 'KM-ACTION-053', fix: 'Nothing to do: this replica stopped being the leader, so it left the step to the new leader, which re-checks whether it landed before going on (docs/ha.md). If it happens often, look at why the lease was lost.' },
  ACTION_NO_MEMORY_CULPRIT: { code: 'KM-ACTION-050', fix: "No workload explains the node's memory trouble and the node still reports Ready, so kubemend leaves the node alone: look at `kubectl top pods -A --sort-by=memory` and the node's events (overcommitted limits, a system daemon), then decide whether to cordon it." },
  ACTION_RBAC_DENIED: { code: 'KM-ACTION-052', fix: "The cluster's RBAC does not let the identity the step acts as (the service identity system:serviceaccount:kubemend:remediator, or the chat user it impersonates) make the request the message names: grant that verb on that resource (for the service identity: deploy/base/clusterrole-remediator.yaml, docs/deploy.md), or leave it to a person; the run escalates." },
  ACTION_UNCONTAINABLE: { code: 'KM-ACTION-051', fix: 'The workload driving the node out of memory is neither a Deployment, StatefulSet nor DaemonSet (whose limit kubemend can set) nor scalable: stop or limit it by hand (the message names it), then uncordon what was cordoned.' },
} as const satisfies Record<string, ErrorInfo>;

type ActionKey = Extract<keyof typeof Errors, `ACTION_${string}`>;
/** The short names runbook steps fail with: the registry keys after ACTION_. */
export type ActionReason = ActionKey extends `ACTION_${infer R}` ? R : never;

/** The registry entry of a step failure's short name (INTERNAL's for a name that is not registered). */
export function actionErrorInfo(reason: string): ErrorInfo {
  return (Errors as Record<string, ErrorInfo>)[`ACTION_${reason}`] ?? Errors.ACTION_INTERNAL;
}
