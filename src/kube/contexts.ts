// One API client per kubeconfig context: how every multi-cluster command
// (watch, run, chat, serve) turns `--kubeconfig F --context A --context B`
// into clusters, each labelled with its context name.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { KubemendError, Errors } from '../common/index.ts';
import { clientNode } from './lazy.ts';
import { KubeHttp } from './http.ts';

/** A KubeConfig read from YAML text (the sandbox's, a test's), loading client-node only now. */
export function kubeConfigFromYaml(yaml: string): KubeConfig {
  const kc = new (clientNode().KubeConfig)();
  kc.loadFromString(yaml);
  return kc;
}

export interface ClusterContext {
  /** The context name: what detections, runs and policies call the cluster. */
  name: string;
  kubeconfig: KubeConfig;
  http: KubeHttp;
}

/** Where client-node finds a pod's service-account credentials. */
const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** `path` undefined means $KUBECONFIG or ~/.kube/config; no contexts means the current one. */
export function loadContexts(path: string | undefined, contexts: string[]): ClusterContext[] {
  const { config: base, source } = readKubeconfig(path);
  const known = () => base.getContexts().map((c) => c.name).join(', ') || 'none';
  const current = base.getCurrentContext();
  if (!contexts.length && !current) {
    throw new KubemendError(Errors.KUBE_CONTEXT_UNKNOWN, `${source} has no current-context; pass --context NAME (known: ${known()})`);
  }
  const names = contexts.length ? contexts : [current];
  return names.map((name) => {
    const ctx = base.getContextObject(name);
    if (!ctx) throw new KubemendError(Errors.KUBE_CONTEXT_UNKNOWN, `context "${name}" is not in ${source} (known: ${known()})`);
    const kc = new (clientNode().KubeConfig)();
    kc.loadFromString(base.exportConfig());
    kc.setCurrentContext(name);
    if (!kc.getCurrentCluster()) {
      throw new KubemendError(Errors.KUBECONFIG_UNREADABLE, `${source}: context "${name}" names cluster "${ctx.cluster}", which the file does not define`);
    }
    return { name, kubeconfig: kc, http: new KubeHttp(kc) };
  });
}

/**
 * The kubeconfig as client-node would load it, but a missing, unreadable or
 * malformed file is a KubemendError naming it instead of a raw ENOENT or
 * YAML stack trace.
 */
function readKubeconfig(path: string | undefined): { config: KubeConfig; source: string } {
  const fromEnv = process.env.KUBECONFIG?.split(delimiter).filter(Boolean) ?? [];
  const home = join(homedir(), '.kube', 'config');
  const files = path ? [path] : fromEnv.length ? fromEnv : existsSync(home) ? [home] : [];
  const named = (f: string) => (!path && fromEnv.length ? `${f} (from $KUBECONFIG)` : f);
  if (!files.length && !existsSync(SERVICE_ACCOUNT_TOKEN)) {
    throw new KubemendError(Errors.KUBECONFIG_MISSING, `no kubeconfig: --kubeconfig is not given, $KUBECONFIG is unset and ${home} does not exist`);
  }
  for (const f of files) {
    if (!existsSync(f)) throw new KubemendError(Errors.KUBECONFIG_MISSING, `kubeconfig ${named(f)} does not exist`);
    if (statSync(f).isDirectory()) throw new KubemendError(Errors.KUBECONFIG_UNREADABLE, `cannot read kubeconfig ${named(f)}: it is a directory, not a file`);
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch (err) {
      throw new KubemendError(Errors.KUBECONFIG_UNREADABLE, `cannot read kubeconfig ${named(f)}: ${(err as Error).message}`, { cause: err });
    }
    // Parsed on its own first so an error names the file it is in.
    const one = new (clientNode().KubeConfig)();
    try {
      one.loadFromString(text);
    } catch (err) {
      throw new KubemendError(Errors.KUBECONFIG_UNREADABLE, `kubeconfig ${named(f)} is not a valid kubeconfig: ${firstLine(err)}`, { cause: err });
    }
    if (!one.getContexts().length && !one.getClusters().length) {
      throw new KubemendError(Errors.KUBECONFIG_UNREADABLE, `kubeconfig ${named(f)} defines no clusters and no contexts`);
    }
  }
  const config = new (clientNode().KubeConfig)();
  if (path) config.loadFromFile(path);
  else config.loadFromDefault();
  return { config, source: files.length ? `kubeconfig ${named(files.join(delimiter))}` : 'the in-cluster service account' };
}

function firstLine(err: unknown): string {
  const m = (err as Error)?.message ?? String(err);
  if (/Cannot read properties of (null|undefined)/.test(m)) return 'it is empty or not a YAML mapping';
  return m.split('\n')[0];
}
