// Provider tokens (AWS secret keys, GCP service-account keys, Slack, GitHub,
// GitLab, OpenAI, Anthropic, Stripe, npm, SendGrid, Shopify, Grafana, Vault,
// 1Password, database connection strings, …) from secretlint's recommended
// preset (@secretlint/secretlint-rule-preset-recommend, MIT, maintained with
// secretlint). Its rules are run here synchronously through the rule API
// they are written against (`create(context, options)` → `{ file(source) }`,
// `context.report({ range })`): secretlint's own runner is asynchronous and
// builds translated messages, and redaction sits on synchronous paths (chat
// replies) and runs on every log tail.
import { creator as recommended } from '@secretlint/secretlint-rule-preset-recommend';

interface Report {
  range: readonly [number, number];
}
interface RuleContext {
  sharedOptions: Record<string, unknown>;
  createTranslator: () => (id: string) => { message: string; messageId: string };
  report(d: Report): void;
  ignore(): void;
}
interface Source {
  content: string;
  filePath: undefined;
  ext: string;
  contentType: 'text';
  indexToPosition(i: number): { line: number; column: number };
  locationToRange(): [number, number];
}
interface RuleCreator {
  meta: { id: string };
  create(context: RuleContext, options: Record<string, unknown>): { file?(source: Source): unknown };
}

/**
 * `filter-comments` honours `secretlint-disable` comments: a log line must
 * not be able to switch redaction off.
 */
const SKIPPED = new Set(['@secretlint/secretlint-rule-filter-comments']);
const RULES: readonly RuleCreator[] = (recommended as unknown as { rules: RuleCreator[] }).rules.filter((r) => !SKIPPED.has(r.meta.id));

/** Rules whose range is a whole URL: only its `user:password@` part is masked, so the host stays readable. */
const URL_RULES = new Set(['@secretlint/secretlint-rule-basicauth', '@secretlint/secretlint-rule-database-connection-string']);

export const SECRETLINT_RULE_IDS: readonly string[] = RULES.map((r) => r.meta.id);

/** Characters a token is made of: a reported range is extended over them (some rules report fewer characters than the token has). */
const TOKEN_CHAR = /[A-Za-z0-9+/=_~.-]/;

/** Where the rules' reports go during one call (redaction is synchronous, so one at a time). */
let sink: { text: string; out: number[]; rule: string } = { text: '', out: [], rule: '' };

function report({ range }: Report): void {
  const { text, out, rule } = sink;
  let [start, end] = range;
  if (URL_RULES.has(rule)) {
    const m = /:\/\/([^\s/@]+)@/.exec(text.slice(start, end));
    if (m) {
      start += m.index + 3;
      end = start + m[1].length;
    }
  } else {
    while (end < text.length && TOKEN_CHAR.test(text[end])) end++;
  }
  if (end > start) out.push(start, end);
}

const CONTEXT: RuleContext = {
  sharedOptions: {},
  createTranslator: () => (id: string) => ({ message: id, messageId: id }),
  report,
  ignore: () => {},
};

/** Each rule's handler, made once: the rules keep no state between files. */
const HANDLERS = RULES.map((r) => ({ id: r.meta.id, file: r.create(CONTEXT, {}).file }));

/**
 * Every provider token the preset knows is a long unbroken run (20 and more
 * token characters) or a URL: text with neither (most chat messages, Event
 * summaries) skips the preset.
 */
const WORTH_SCANNING = /[A-Za-z0-9_.+/=~-]{20}|:\/\//;

/**
 * Adds [start, end) pairs of what the preset finds in `text` to `out`.
 * A rule that throws is skipped and counted in `failures`; it never stops redaction.
 */
export function secretlintRanges(text: string, out: number[], failures: { count: number }): void {
  if (!WORTH_SCANNING.test(text)) return;
  const source: Source = {
    content: text,
    filePath: undefined,
    ext: '.log',
    contentType: 'text',
    indexToPosition: (i) => {
      const before = text.slice(0, i);
      return { line: before.split('\n').length, column: i - before.lastIndexOf('\n') - 1 };
    },
    locationToRange: () => [0, 0],
  };
  for (const h of HANDLERS) {
    sink = { text, out, rule: h.id };
    try {
      h.file?.(source);
    } catch {
      failures.count++;
    }
  }
  sink = { text: '', out: [], rule: '' };
}
