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

/**
 * Adds [start, end) pairs of what the preset finds in `text` to `out`.
 * A rule that throws is skipped and counted in `failures`; it never stops redaction.
 */
export function secretlintRanges(text: string, out: number[], failures: { count: number }): void {
  let current = '';
  const context: RuleContext = {
    sharedOptions: {},
    createTranslator: () => (id: string) => ({ message: id, messageId: id }),
    report: ({ range }) => {
      let [start, end] = range;
      if (URL_RULES.has(current)) {
        const m = /:\/\/([^\s/@]+)@/.exec(text.slice(start, end));
        if (m) {
          start += m.index + 3;
          end = start + m[1].length;
        }
      } else {
        while (end < text.length && TOKEN_CHAR.test(text[end])) end++;
      }
      if (end > start) out.push(start, end);
    },
    ignore: () => {},
  };
  const source: Source = {
    content: text,
    filePath: undefined,
    ext: '.log',
    contentType: 'text',
    indexToPosition: (i) => {
      const before = text.slice(0, i);
      const line = before.split('\n').length;
      return { line, column: i - before.lastIndexOf('\n') - 1 };
    },
    locationToRange: () => [0, 0],
  };
  for (const rule of RULES) {
    current = rule.meta.id;
    try {
      rule.create(context, {}).file?.(source);
    } catch {
      failures.count++;
    }
  }
}
