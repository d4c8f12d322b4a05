// Who a kubeconfig's credentials are: the API server says so through a
// SelfSubjectReview (authentication.k8s.io/v1, Kubernetes 1.28+). Where it is
// not served (older clusters, the sandbox) the kubeconfig context's user
// entry name stands in: the name the person chose to act as with this file.
import { KubemendError, Errors } from '../common/index.ts';
import { KubeApiError } from './errors.ts';
import type { KubeHttp } from './http.ts';

export interface KubeUser {
  user: string;
  /** Groups the API server reports (without system:authenticated, which every request has). */
  groups: string[];
  source: 'selfsubjectreview' | 'kubeconfig';
}

const REVIEW = '/apis/authentication.k8s.io/v1/selfsubjectreviews';

export async function whoAmI(kube: KubeHttp): Promise<KubeUser> {
  try {
    const res = await kube.request<{ status?: { userInfo?: { username?: string; groups?: string[] } } }>('POST', REVIEW, {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
    });
    const info = res?.status?.userInfo;
    if (info?.username) return { user: info.username, groups: (info.groups ?? []).filter((g) => g !== 'system:authenticated'), source: 'selfsubjectreview' };
  } catch (err) {
    // Not served (404), or not allowed (403): the kubeconfig's own name for the user. Anything else is a real failure.
    if (!(err instanceof KubeApiError) || (err.status !== 404 && err.status !== 403 && err.status !== 405)) throw err;
  }
  const name = kube.kc.getCurrentUser()?.name;
  if (!name) throw new KubemendError(Errors.KUBECONFIG_INVALID, `the kubeconfig's context "${kube.kc.getCurrentContext()}" names no user, and the API server does not serve SelfSubjectReview to say who its credentials are`);
  return { user: name, groups: [], source: 'kubeconfig' };
}
