// Between the engine's plain text and Slack's formats: replies become mrkdwn
// (with &, < and > escaped, so a reply can never forge a mention or a link)
// plus Block Kit buttons; incoming text loses Slack's markup (<@U…>,
// <https://…|label>, &amp;) so the engine parses what the user typed.
import type { ChatReply } from '../../types.ts';

export interface SlackBlock {
  type: string;
  [key: string]: unknown;
}

// Block Kit limits (https://api.slack.com/reference/block-kit): section text
// 3000 characters, 50 blocks per message, 25 elements per actions block,
// button text 75 characters, button value 2000 characters.
const SECTION_MAX = 3000;
const BLOCKS_MAX = 50;
const BUTTONS_MAX = 25;
const BUTTON_TEXT_MAX = 75;
const BUTTON_VALUE_MAX = 2000;
// chat.postMessage truncates text beyond 40,000 characters; say so instead.
const TEXT_MAX = 39_000;

export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** How a ChatReply.mention entry is written: user and group ids become real mentions. */
export function slackMention(m: string): string {
  if (/^[UW][A-Z0-9]{2,}$/.test(m)) return `<@${m}>`;
  if (/^S[A-Z0-9]{2,}$/.test(m)) return `<!subteam^${m}>`;
  if (m === 'here' || m === 'channel' || m === 'everyone') return `<!${m}>`;
  return `@${escapeMrkdwn(m.replace(/^@/, ''))}`;
}

/** The text (always present: it is what notifications show) and, for buttons, the blocks. */
export function slackBlocks(reply: ChatReply): { text: string; blocks?: SlackBlock[] } {
  const mentions = (reply.mention ?? []).map(slackMention).join(' ');
  let text = (mentions ? `${mentions} ` : '') + escapeMrkdwn(reply.text);
  if (text.length > TEXT_MAX) text = `${text.slice(0, TEXT_MAX)}\n… (truncated)`;
  const buttons = (reply.buttons ?? []).slice(0, BUTTONS_MAX);
  if (!buttons.length) return { text };
  const sections: SlackBlock[] = [];
  for (let i = 0; i < text.length && sections.length < BLOCKS_MAX - 1; i += SECTION_MAX) {
    sections.push({ type: 'section', text: { type: 'mrkdwn', text: text.slice(i, i + SECTION_MAX) } });
  }
  const actions: SlackBlock = {
    type: 'actions',
    block_id: 'kubemend_actions',
    elements: buttons.map((b, i) => ({
      type: 'button',
      action_id: `kubemend_${i}`,
      text: { type: 'plain_text', text: b.label.slice(0, BUTTON_TEXT_MAX) || '…', emoji: true },
      value: b.value.slice(0, BUTTON_VALUE_MAX),
      ...(b.style ? { style: b.style } : {}),
    })),
  };
  return { text, blocks: [...sections, actions] };
}

/**
 * Slack's message markup to what the user typed: `<@U1>` → `@U1`,
 * `<#C1|ops>` → `#ops`, `<https://x|label>` → `https://x`,
 * `<mailto:a@b|a@b>` → `a@b`, and &amp; &lt; &gt; unescaped.
 */
export function slackTextToPlain(text: string): string {
  return text
    .replace(/<([^<>]*)>/g, (_, inner: string) => {
      const [target, label] = inner.split('|', 2) as [string, string | undefined];
      if (target.startsWith('@')) return target;
      if (target.startsWith('#')) return label ? `#${label}` : target;
      if (target.startsWith('!')) return label ?? `@${target.slice(1).split('^')[0]}`;
      if (target.startsWith('mailto:')) return label ?? target.slice(7);
      return target;
    })
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}
