// The options many commands share, declared once: the same flag names, help
// texts and defaults everywhere, so `--data-dir` means the same thing in
// `audit list` as in `runs show`. A command whose use of a flag is narrower
// (the demo's throwaway store, watch's silences) passes its own help text.
import type { Command } from 'commander';

/** Commander parser for repeatable flags: `--context a --context b` → ['a', 'b']. */
export const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export const HELP = {
  db: 'postgres://user@host/db URL or SQLite file (default $KUBEMEND_DB, else <data-dir>/kubemend.db)',
  dataDir: 'where kubemend keeps its data and audit key (default $KUBEMEND_HOME or ~/.kubemend)',
  kubeconfig: 'kubeconfig file (default: $KUBECONFIG or ~/.kube/config)',
  context: 'kubeconfig context (repeatable; default: the current one)',
  json: 'print JSON',
} as const;

/** What storeOptions adds: where the store is. */
export interface StoreFlags {
  db?: string;
  dataDir?: string;
}

/** What clusterOptions adds: which clusters, by kubeconfig context. */
export interface ClusterFlags {
  kubeconfig?: string;
  context: string[];
}

export function dataDirOption(c: Command, help: string = HELP.dataDir): Command {
  return c.option('--data-dir <dir>', help);
}

/** --db and --data-dir (the data directory also holds the audit key and silences). */
export function storeOptions(c: Command, help: { db?: string; dataDir?: string } = {}): Command {
  return dataDirOption(c.option('--db <url>', help.db ?? HELP.db), help.dataDir);
}

/** --kubeconfig and the repeatable --context (default: none given, i.e. the current context). */
export function clusterOptions(c: Command, help: { kubeconfig?: string; context?: string } = {}): Command {
  return c
    .option('--kubeconfig <path>', help.kubeconfig ?? HELP.kubeconfig)
    .option('--context <name>', help.context ?? HELP.context, collect, [] as string[]);
}

export function jsonOption(c: Command, help: string = HELP.json): Command {
  return c.option('--json', help);
}
