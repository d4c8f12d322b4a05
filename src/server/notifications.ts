// The service's notifications: the config's routes and receivers, with the
// Slack and Mattermost receivers posting through the chat adapters'
// credentials and rooms (one thread per incident), delivered by the outbox
// while this replica leads.
import type { Clock } from '../common/index.ts';
import type { Store } from '../store/index.ts';
import { buildNotifications, ChatThreadReceiver, receiverState, receiverType, type Notifications, type NotificationsConfig, type Receiver } from '../notify/index.ts';
import { SlackPoster, MattermostPoster, type MattermostAdapter } from '../chat/index.ts';
import type { ResolvedAdapters } from './serve-config.ts';

export interface ServiceNotificationsOptions {
  config: NotificationsConfig;
  store: Store;
  clock: Clock;
  env: NodeJS.ProcessEnv;
  adapters: ResolvedAdapters;
  /** The Mattermost adapter once the HTTP server has built it (its buttons are signed by it). */
  mattermost: () => MattermostAdapter | undefined;
  /** Deliver only while this holds (the leader, under leader election). */
  canDeliver: () => boolean;
  log: (line: string) => void;
}

/** Fails with KM-NOTIFY-001 naming every receiver that cannot be built (a chat receiver without its adapter's credentials, an unset secret). */
export function serviceNotifications(o: ServiceNotificationsOptions): Notifications {
  const chat: Record<string, Receiver> = {};
  const slack = o.adapters.slack;
  const slackPoster = slack && new SlackPoster({ botToken: slack.botToken, slackApiUrl: slack.slackApiUrl, rooms: slack.rooms });
  let mmPoster: MattermostPoster | undefined;
  for (const r of o.config.receivers) {
    const type = receiverType(r);
    const state = receiverState(o.store, r.name, o.clock);
    if (type === 'slack' && slackPoster && r.slack) {
      chat[r.name] = new ChatThreadReceiver({ name: r.name, type, channel: r.slack.channel, poster: slackPoster, state });
    } else if (type === 'mattermost' && o.adapters.mattermost && r.mattermost) {
      chat[r.name] = new ChatThreadReceiver({
        name: r.name, type, channel: r.mattermost.channel, state,
        poster: () => {
          const a = o.mattermost();
          if (a && !mmPoster) mmPoster = new MattermostPoster(a);
          return mmPoster;
        },
      });
    }
  }
  return buildNotifications({ config: o.config, store: o.store, clock: o.clock, env: o.env, receivers: chat, canDeliver: o.canDeliver, log: o.log });
}
