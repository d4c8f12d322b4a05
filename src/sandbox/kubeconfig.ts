// A kubeconfig for the sandbox: plain HTTP on loopback with a bearer token,
// accepted by kubectl and @kubernetes/client-node alike. client-node refuses
// plain HTTP unless TLS verification is marked skipped, so the cluster entry
// says so (kubectl ignores the flag for http:// servers).
import { stringify } from 'yaml';

export const SANDBOX_CONTEXT = 'kubemend-sandbox';
export const SANDBOX_TOKEN = 'kubemend-sandbox-admin';

export function kubeconfigObject(url: string, name = SANDBOX_CONTEXT): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: url, 'insecure-skip-tls-verify': true } }],
    users: [{ name: `${name}-admin`, user: { token: SANDBOX_TOKEN } }],
    contexts: [{ name, context: { cluster: name, user: `${name}-admin`, namespace: 'default' } }],
    'current-context': name,
    preferences: {},
  };
}

export function kubeconfigYaml(url: string, name = SANDBOX_CONTEXT): string {
  return stringify(kubeconfigObject(url, name));
}
