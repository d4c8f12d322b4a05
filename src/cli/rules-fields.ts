// `kubemend rules fields DIR`: what the informer caches keep of each kind
// for these rules — the fields their CEL reads, the engine's own, the
// rollout watcher's and (with --incidents) the incident tracker's, plus the
// identity metadata every object keeps (docs/rules.md, "What the cache
// keeps"). A field not listed is not in `object`, `oldObject` or a lookup.
import type { Command } from 'commander';
import { ConfigError, formatProblem } from '../common/index.ts';
import { kindRef, treePaths, withIdentity } from '../kube/index.ts';
import { kindsToWatch, loadRules } from '../rules/index.ts';
import { contextRule } from '../incidents/index.ts';
import { cacheFields } from '../pipeline/index.ts';

export function registerRulesFields(rulesCommand: Command): void {
  rulesCommand
    .command('fields <dir>')
    .description('List the fields the informer caches keep of each kind for these rules (everything else is dropped on entry)')
    .option('--incidents', 'as `serve` with incidents.enabled: add what the incident tracker reads')
    .option('--kind <kind>', 'only this kind')
    .option('--json', 'one JSON object: kind → paths')
    .action((dir: string, flags: { incidents?: boolean; kind?: string; json?: boolean }) => {
      let rules;
      try {
        rules = loadRules(dir);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        for (const p of err.problems) process.stdout.write(`${formatProblem(p)}\n`);
        process.exitCode = 1;
        return;
      }
      const all = flags.incidents ? [...rules, ...contextRule(rules)] : rules;
      const fields = cacheFields(all, { incidents: flags.incidents });
      const kinds = flags.kind ? [flags.kind] : kindsToWatch(all);
      // metrics.k8s.io kinds are listed once per tick and never cached: a rule sees them whole.
      const out = Object.fromEntries(kinds.map((k) => [k, kindRef(k)?.polled ? ['(everything)'] : treePaths(withIdentity(fields.forKind(k)))]));
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
        return;
      }
      for (const [kind, paths] of Object.entries(out)) {
        process.stdout.write(`${kind}\n${paths.map((p) => `  ${p}\n`).join('')}`);
      }
    });
}
