// One API client per kubeconfig context: how every multi-cluster command
// (watch, run, chat, serve) turns `--kubeconfig F --context A --context B`
// into clusters, each labelled with its context name.
import type { KubeConfig } from '@kubernetes/client-node';
import { KubemendError, Errors } from '../common/index.ts';
import { clientNode } from './lazy.ts';
import { KubeHttp } from './http.ts';

export interface ClusterContext {
  /** The context name: what detections, runs and policies call the cluster. */
  name: string;
  kubeconfig: KubeConfig;
  http: KubeHttp;
}

/** `path` undefined means $KUBECONFIG or ~/.kube/config; no contexts means the current one. */
export function loadContexts(path: string | undefined, contexts: string[]): ClusterContext[] {
  const { KubeConfig } = clientNode();
  const base = new KubeConfig();
  if (path) base.loadFromFile(path);
  else base.loadFromDefault();
  const names = contexts.length ? contexts : [base.getCurrentContext()];
  return names.map((name) => {
    if (!base.getContextObject(name)) {
      throw new KubemendError(Errors.BAD_FLAG, `context "${name}" is not in ${path ?? 'the kubeconfig'}; known: ${base.getContexts().map((c) => c.name).join(', ') || 'none'}`);
    }
    const kc = new KubeConfig();
    kc.loadFromString(base.exportConfig());
    kc.setCurrentContext(name);
    return { name, kubeconfig: kc, http: new KubeHttp(kc) };
  });
}
