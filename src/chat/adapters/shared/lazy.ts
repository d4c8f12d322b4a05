// The chat services' client libraries are loaded on first use: @slack/socket-mode
// brings undici (over 100 modules), and with @slack/web-api and
// @mattermost/client they cost every process that imports the chat folder —
// every command, every test file — a large share of its start-up, though
// most never talk to Slack or Mattermost. require() of an ES module is
// synchronous in Node 24.
import { createRequire } from 'node:module';

type SlackWeb = typeof import('@slack/web-api');
type SlackSocket = typeof import('@slack/socket-mode');
type Mattermost = typeof import('@mattermost/client');

const require = createRequire(import.meta.url);
let web: SlackWeb | undefined;
let socket: SlackSocket | undefined;
let mattermost: Mattermost | undefined;

export const slackWeb = (): SlackWeb => (web ??= require('@slack/web-api') as SlackWeb);
export const slackSocket = (): SlackSocket => (socket ??= require('@slack/socket-mode') as SlackSocket);
export const mattermostClient = (): Mattermost => (mattermost ??= require('@mattermost/client') as Mattermost);
