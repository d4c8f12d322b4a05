// The store's audit settings from the service config (store.auditKeyFile,
// store.requireAuditKey, store.auditWitness), as openStore options: where the
// signing key comes from, whether it must be provided, and the witnesses
// every signed head is also written to. Unset fields fall back to openStore's
// own defaults ($KUBEMEND_AUDIT_KEY, $KUBEMEND_AUDIT_REQUIRE_KEY,
// $KUBEMEND_AUDIT_WITNESS).
import { ConfigMapWitness, FileWitness, type AuditWitness } from '../audit/index.ts';
import { loadContexts } from '../kube/index.ts';
import type { OpenStoreOptions } from '../store/index.ts';
import type { ServiceConfig } from './service-config.ts';

export type AuditStoreOptions = Pick<OpenStoreOptions, 'keyFile' | 'requireKey' | 'witnesses' | 'witnessIntervalMs'>;

/** `clusters`: where a ConfigMap witness's cluster is found (its context, else the first watched, else the current one). */
export function auditStoreOptions(store: ServiceConfig['store'], clusters: { kubeconfig?: string; contexts: readonly string[] }): AuditStoreOptions {
  const w = store.auditWitness;
  let witnesses: AuditWitness[] | undefined;
  if (w) {
    witnesses = [];
    if (w.file) witnesses.push(new FileWitness(w.file));
    if (w.configMap) {
      const [namespace, name] = w.configMap.split('/');
      const context = w.context ?? clusters.contexts[0];
      const [cluster] = loadContexts(clusters.kubeconfig, context ? [context] : []);
      witnesses.push(new ConfigMapWitness(cluster.http, namespace, name));
    }
  }
  return { keyFile: store.auditKeyFile, requireKey: store.requireAuditKey, witnesses, witnessIntervalMs: w?.interval };
}
