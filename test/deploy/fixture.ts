// Shared by the deploy tests: the overlays as `kubectl kustomize` renders
// them, the ClusterRoles' rules as (verb, group, resource) triples, the
// access the code says kubemend needs (for the shipped rules and runbooks),
// the pod's ConfigMap mounts laid out in a directory, and a kubeconfig
// carrying a ServiceAccount token — the way an operator would assemble them.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments, stringify } from 'yaml';
import { accessTriples, type ApiAccess } from '../../src/kube/index.ts';
import { loadRules } from '../../src/rules/index.ts';
import { ACTIONS, loadRunbooks, runbookAccess } from '../../src/runbooks/index.ts';
import { serviceAccess } from '../../src/pipeline/index.ts';
import { KUBECTL } from '../conformance/harness.ts';

const run = promisify(execFile);
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const overlay = (name: 'single' | 'ha') => join(ROOT, 'deploy/overlays', name);
export const SA = 'system:serviceaccount:kubemend:kubemend';
export const REMEDIATOR = 'system:serviceaccount:kubemend:remediator';

export type Doc = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; [k: string]: any };

const rendered = new Map<string, Promise<string>>();

/** `kubectl kustomize DIR`, parsed (rendered once per file run; each caller gets its own copy). */
export async function render(dir: string): Promise<Doc[]> {
  if (!rendered.has(dir)) rendered.set(dir, run(KUBECTL, ['kustomize', dir], { maxBuffer: 64 << 20 }).then((r) => r.stdout));
  return parseAllDocuments(await rendered.get(dir)!).map((d) => d.toJSON() as Doc);
}

export const find = (docs: Doc[], kind: string, name?: string) => docs.filter((d) => d.kind === kind && (name === undefined || d.metadata.name === name));
export const one = (docs: Doc[], kind: string, name?: string) => {
  const hits = find(docs, kind, name);
  if (hits.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${hits.length}`);
  return hits[0];
};
/** A generated ConfigMap by the name before kustomize's hash suffix. */
export const configMap = (docs: Doc[], base: string) => {
  const hits = docs.filter((d) => d.kind === 'ConfigMap' && new RegExp(`^${base}-[a-z0-9]{10}$`).test(d.metadata.name));
  if (hits.length !== 1) throw new Error(`expected one ConfigMap ${base}-<hash>, found ${hits.length}`);
  return hits[0];
};

/** A role's rules as `verb group/resource` strings; rules naming resourceNames are kept apart (`…@name`). */
export function roleTriples(role: Doc): string[] {
  const out: string[] = [];
  for (const r of role.rules ?? []) {
    for (const g of r.apiGroups ?? []) {
      const base = accessTriples([{ group: g, resources: r.resources ?? [], verbs: r.verbs ?? [] }]);
      out.push(...(r.resourceNames?.length ? base.flatMap((t) => r.resourceNames.map((n: string) => `${t}@${n}`)) : base));
    }
  }
  return [...new Set(out)].sort();
}

/** What the code says: kubemend's own identity over the shipped rules, the remediator over the shipped runbooks. */
export function expectedAccess(): { service: ApiAccess[]; remediator: ApiAccess[] } {
  const rules = loadRules(join(ROOT, 'rules'));
  const runbooks = loadRunbooks(join(ROOT, 'runbooks'), { actions: ACTIONS });
  return { service: serviceAccess(rules), remediator: runbookAccess(runbooks, ACTIONS) };
}

/** The pod's read-only mounts (/etc/kubemend/{config,rules,runbooks,policy}) from the rendered ConfigMaps, under `dir`. */
export function materialize(docs: Doc[], dir: string): string {
  const mounts: Record<string, string> = { config: 'kubemend-config', rules: 'kubemend-rules', runbooks: 'kubemend-runbooks', policy: 'kubemend-policy' };
  for (const [mount, cm] of Object.entries(mounts)) {
    mkdirSync(join(dir, mount), { recursive: true });
    for (const [key, text] of Object.entries<string>(configMap(docs, cm).data ?? {})) writeFileSync(join(dir, mount, key), text);
  }
  return join(dir, 'config', 'kubemend.yaml');
}

/**
 * A kubeconfig holding only a bearer token, as one made from `kubectl create
 * token` is. The context is named as client-node names the in-cluster one, so
 * the pod's config (chat.defaultCluster: inClusterContext) applies unchanged.
 */
export function tokenKubeconfig(url: string, token: string, context = 'inClusterContext'): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'sandbox', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'kubemend', user: { token } }],
    contexts: [{ name: context, context: { cluster: 'sandbox', user: 'kubemend', namespace: 'kubemend' } }],
    'current-context': context,
  });
}
