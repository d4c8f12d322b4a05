// A rule's `when` as its top-level conjuncts (`a && b && c` → a, b, c). Rule
// sets at scale are copies of a few rules with one condition added — a
// namespace, a team, a threshold — so most conjuncts are shared: evaluated
// once per event and remembered by their text (cel.ts), a thousand copies
// cost little more than the few originals.
import type { ASTNode } from '@marcbachmann/cel-js';
import { balancedSpan } from './cel-meter.ts';

/**
 * The source text of each top-level `&&` operand, whitespace-normalised so
 * the same condition written on different lines is one key; undefined when
 * the expression is not a conjunction (nothing to share).
 */
export function conjunctTexts(expr: string, ast: ASTNode): string[] | undefined {
  if (ast.op !== '&&') return undefined;
  const out: ASTNode[] = [];
  const flatten = (n: ASTNode): void => {
    if (n.op === '&&') {
      const [l, r] = n.args as [ASTNode, ASTNode];
      flatten(l);
      flatten(r);
    } else out.push(n);
  };
  flatten(ast);
  return out.map((n) => {
    const { start, end } = balancedSpan(expr, n.start, n.end);
    return normalise(expr.slice(start, end));
  });
}

/** Whitespace outside string literals collapsed to one space; literals kept as written. */
export function normalise(text: string): string {
  let out = '';
  let quote = '';
  let space = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      out += ch;
      if (ch === '\\') out += text[++i] ?? '';
      else if (ch === quote) quote = '';
      continue;
    }
    if (/\s/.test(ch)) {
      space = true;
      continue;
    }
    if (space && out) out += ' ';
    space = false;
    if (ch === '"' || ch === "'") quote = ch;
    out += ch;
  }
  return out;
}
