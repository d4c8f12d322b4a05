// Route matchers in Alertmanager's syntax (its pkg/labels ParseMatchers), so
// a route written for Alertmanager means the same here: `name=value`,
// `name!=value`, `name=~regex`, `name!~regex`; the value may be
// double-quoted with `\"`, `\n` and `\\` escapes; one string may hold several
// matchers separated by commas outside quotes, optionally in `{…}`. Regexes
// are anchored to the whole value, and a missing label matches as "".

export interface LabelMatcher {
  name: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
  test(labels: Record<string, string>): boolean;
}

const MATCHER = /^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|=|!=|!~)\s*([\s\S]*?)\s*$/;

export class MatcherSyntaxError extends Error {}

/** Splits a list on commas outside double quotes (a `\"` does not toggle quoting). */
function splitList(s: string): string[] {
  const tokens: string[] = [];
  let token = '';
  let quoted = false;
  let escaped = false;
  for (const ch of s) {
    if (ch === ',' && !quoted) {
      tokens.push(token);
      token = '';
      continue;
    }
    if (ch === '"') {
      if (!escaped) quoted = !quoted;
      else escaped = false;
    } else if (ch === '\\') {
      escaped = !escaped;
    } else {
      escaped = false;
    }
    token += ch;
  }
  if (token.trim() !== '') tokens.push(token);
  return tokens;
}

function unquote(raw: string, source: string): string {
  let rest = raw;
  let expectQuote = false;
  if (rest.startsWith('"')) {
    rest = rest.slice(1);
    expectQuote = true;
  }
  let out = '';
  let escaped = false;
  const chars = [...rest];
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (escaped) {
      escaped = false;
      if (ch === 'n') out += '\n';
      else if (ch === '"' || ch === '\\') out += ch;
      // A spurious escape keeps its backslash, as Alertmanager's parser does.
      else out += `\\${ch}`;
      continue;
    }
    if (ch === '\\') {
      if (i < chars.length - 1) escaped = true;
      else out += '\\';
    } else if (ch === '"') {
      if (!expectQuote || i < chars.length - 1) throw new MatcherSyntaxError(`matcher value contains an unescaped double quote: ${source}`);
      expectQuote = false;
    } else {
      out += ch;
    }
  }
  if (expectQuote) throw new MatcherSyntaxError(`matcher value contains an unescaped double quote: ${source}`);
  return out;
}

export function parseMatcher(s: string): LabelMatcher {
  const m = MATCHER.exec(s);
  if (!m) throw new MatcherSyntaxError(`bad matcher format: ${s.trim()} (expected name=value, name!=value, name=~regex or name!~regex)`);
  const [, name, op, raw] = m;
  const value = unquote(raw, raw);
  const get = (l: Record<string, string>) => l[name] ?? '';
  let test: (l: Record<string, string>) => boolean;
  if (op === '=') test = (l) => get(l) === value;
  else if (op === '!=') test = (l) => get(l) !== value;
  else {
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${value})$`);
    } catch (err) {
      throw new MatcherSyntaxError(`the regex of ${name}${op}"${value}" does not compile: ${(err as Error).message}`);
    }
    test = op === '=~' ? (l) => re.test(get(l)) : (l) => !re.test(get(l));
  }
  return { name, op: op as LabelMatcher['op'], value, test };
}

/** One entry of a route's `matchers` list: one or more matchers. */
export function parseMatchers(s: string): LabelMatcher[] {
  let body = s;
  if (body.startsWith('{')) body = body.slice(1);
  if (body.endsWith('}')) body = body.slice(0, -1);
  return splitList(body).map(parseMatcher);
}

export function matchesAll(ms: readonly LabelMatcher[], labels: Record<string, string>): boolean {
  return ms.every((m) => m.test(labels));
}
