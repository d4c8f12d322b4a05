// Posts notifications into Mattermost threads for the notification outbox,
// through the adapter (its bot account, its signed buttons, so a press on a
// notification is checked like any other). Client4 makes one request per
// call; the outbox retries. Mattermost answers errors as
// {id, message, status_code}: 4xx other than 429 cannot be fixed by trying
// again (a wrong channel, a revoked token), 5xx and the network can.
import type { ChatButton } from '../../types.ts';
import { PosterError, type ThreadPoster } from '../shared/poster.ts';
import type { MattermostAdapter } from './adapter.ts';

export class MattermostPoster implements ThreadPoster {
  private readonly adapter: MattermostAdapter;

  constructor(adapter: MattermostAdapter) {
    this.adapter = adapter;
  }

  async post(m: { channel: string; text: string; thread?: string; buttons?: ChatButton[] }): Promise<string> {
    const post = this.adapter.postOf({ room: this.room(m.channel), text: m.text, thread: m.thread, buttons: m.buttons });
    const created = await this.call(() => this.adapter.client.createPost(post));
    return created.id;
  }

  async update(m: { channel: string; ref: string; text: string; buttons?: ChatButton[] }): Promise<void> {
    const post = this.adapter.postOf({ room: this.room(m.channel), text: m.text, buttons: m.buttons });
    await this.call(() => this.adapter.client.patchPost({ id: m.ref, message: post.message, props: post.props ?? { attachments: [] } }));
  }

  /** A room name the adapter knows, or a channel id (26 characters), which the adapter writes as `mattermost:<id>`. */
  private room(channel: string): string {
    return this.adapter.owns(channel) ? channel : `mattermost:${channel}`;
  }

  private async call<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      const e = err as { status_code?: number; message?: string; server_error_id?: string };
      const status = e.status_code ?? 0;
      if (!status) throw new PosterError(`cannot reach Mattermost: ${e.message ?? String(err)}`, true);
      throw new PosterError(`Mattermost answered HTTP ${status}${e.server_error_id ? ` (${e.server_error_id})` : ''}`, status >= 500 || status === 429);
    }
  }
}
