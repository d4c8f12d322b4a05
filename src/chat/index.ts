// The chat bot: command grammar, conversations (justify, confirm, approve),
// the engine adapters talk to, the terminal adapter, and the wiring that
// builds it all on a store, a clock and the clusters' APIs.
export type * from './types.ts';
export { KubemendChatEngine, type ChatEngineOptions } from './engine.ts';
export { parseCommand, helpText, usageOf, tokenize, USAGE, COMMANDS, WORKLOAD_ACTIONS, REQUEST_ID, type Command, type ActionCommand, type Parsed, type WorkloadAction } from './grammar.ts';
export { chatSettings, loadChatConfig, isProduction, ChatSettingsSchema, type ChatSettings, type ChatSettingsInput } from './settings.ts';
export { checkJustification, splitJustification, StaticTicketChecker, type TicketChecker, type TicketVerdict, type Justification } from './justification.ts';
export { JiraTicketChecker, type JiraOptions } from './jira.ts';
export { JiraWriter, JiraRequestError, adf, wiki, type CommentDoc, type JiraWriteOptions } from './jira-write.ts';
export { TicketTrace, jiraCommentsTotal, jiraTransitionsTotal, type TicketTraceOptions } from './ticket-trace.ts';
export { Redactor, redact } from './redact.ts';
export { chatRunbooks, CHAT_RUNBOOK_DIR } from './operations.ts';
export { workloadStatus } from './status.ts';
export { TerminalAdapter, trialUser, type TerminalOptions } from './terminal.ts';
export {
  SlackAdapter, MattermostAdapter, ConsoleAdapter, SECURITY_HEADERS, CSRF_HEADER, openEventStream, chatAdapterErrorsTotal, SlackPoster, MattermostPoster, PosterError,
  type ThreadPoster, type SlackPosterOptions,
  type SlackAdapterOptions, type MattermostAdapterOptions, type ConsoleAdapterOptions, type ConsoleUser, type HttpChatAdapter,
} from './adapters/index.ts';
export { buildChatEngine, ticketChecker, ticketTrace, alertChecker, type ChatEngineWiring } from './wiring.ts';
export type { RunbookApprovalListener } from './runbook-approvals.ts';
export { AlertmanagerChecker, alertOfLink, parseMatchers, type AlertChecker, type AlertVerdict, type AlertmanagerSite } from './alerts.ts';
export { mapIdentity, platformId, sameIdentity, samePerson, describeUser, auditIdentity, PLATFORMS, type IdentityMapping, type GuestRole } from './identity.ts';
export type { IncidentDesk } from './desk.ts';
export { INCIDENT_USAGE, RUN_USAGE, type DeskCommand, type IncidentCommand, type RunCommand, type ListCommand } from './desk-grammar.ts';
