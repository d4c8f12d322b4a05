// Which kinds to watch for a set of rules: what the index says they match
// on, plus kinds their CEL reads through objects('Kind', …) lookups (and
// production(), which reads Namespaces' labels).
import { RuleIndex } from './rule-index.ts';
import type { LoadedRule } from './loader.ts';

export function kindsToWatch(rules: LoadedRule[]): string[] {
  const kinds = new Set<string>();
  for (const k of new RuleIndex(rules).kindsNeeded()) {
    kinds.add(k.kind);
    if (k.events) kinds.add('Event');
  }
  for (const r of rules) {
    const a = r.rule.spec.action;
    const text = [r.rule.spec.when, r.rule.spec.subject ?? '', r.rule.spec.summary ?? '', a && 'runbook' in a ? a.when ?? '' : ''].join('\n');
    for (const m of text.matchAll(/objects\(\s*['"]([A-Za-z]+)['"]/g)) kinds.add(m[1]);
    if (/\bproduction\(/.test(text)) kinds.add('Namespace');
    if (r.rule.spec.source === 'event') kinds.add('Event');
  }
  return [...kinds].sort();
}
