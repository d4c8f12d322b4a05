// Chat adapters served over kubemend's HTTP server (src/server/app.ts): Slack,
// Mattermost and the web console. The terminal adapter lives in
// src/chat/terminal.ts.
export { SlackAdapter, type SlackAdapterOptions } from './slack/adapter.ts';
export { verifySlackRequest, slackSignature, SLACK_MAX_SKEW_SECONDS, type SlackVerification } from './slack/verify.ts';
export { slackBlocks, slackTextToPlain, escapeMrkdwn } from './slack/format.ts';
export { MattermostAdapter, mattermostText, escapeMattermost, type MattermostAdapterOptions } from './mattermost/adapter.ts';
export { ConsoleAdapter, SECURITY_HEADERS, CSRF_HEADER, openEventStream, type ConsoleAdapterOptions, type ConsoleUser } from './console/adapter.ts';
export {
  BaseAdapter, RecentIds, chatMessagesTotal, chatRepliesTotal, chatAdapterErrorsTotal,
  type HttpChatAdapter, type ChatIdentity,
} from './shared/base.ts';
export { PosterError, type ThreadPoster } from './shared/poster.ts';
export { SlackPoster, type SlackPosterOptions } from './slack/poster.ts';
export { MattermostPoster } from './mattermost/poster.ts';
