import { API_GROUP, API_VERSION, PLURAL, directoryOf, validateChatTenant } from '../api/index.js';
import type { KubeClient } from '../kube/client.js';

// What the account command needs to know before it acts: the tenant's XMPP domains, whether its
// accounts are internal at all (a directory tenant's accounts live in the directory), and who is
// asking, for the audit line.

export interface AccountTenant {
  domains: string[];
  /** Why the tenant has no internal accounts to manage; undefined when it has. */
  notInternal?: string;
}

export async function readAccountTenant(client: KubeClient, name: string): Promise<AccountTenant> {
  const object = await client.request('GET', `/apis/${API_GROUP}/${API_VERSION}/${PLURAL}/${encodeURIComponent(name)}`);
  const result = validateChatTenant(object);
  if (!result.ok) throw new Error(`ChatTenant ${name} is not valid: ${result.problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  const { spec } = result.tenant;
  if (!directoryOf(spec.identity)) return { domains: spec.xmppDomains };
  const notInternal = `ChatTenant ${name} signs staff in with its directory (spec.identity.source Directory): manage their accounts there`;
  return { domains: spec.xmppDomains, notInternal };
}

/**
 * The caller's Kubernetes user name, as the API server authenticated it (SelfSubjectReview, 1.28+),
 * prefixed "kube:". Where the API has no SelfSubjectReview, the kubeconfig's user entry names it, and
 * the prefix says that it is only what the kubeconfig calls them.
 */
export async function whoAmI(client: KubeClient, kubeconfigUser: string | undefined): Promise<string> {
  try {
    const review = await client.request<{ status?: { userInfo?: { username?: string } } }>('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
    });
    const name = review.status?.userInfo?.username;
    if (name) return auditName(`kube:${name}`);
  } catch {
    // Older API servers; fall through to the kubeconfig's name.
  }
  return auditName(`kubeconfig-user:${kubeconfigUser ?? 'unknown'}`);
}

/** What the audit line can carry: the characters mod_account_lifecycle keeps, others as "_". */
export function auditName(name: string): string {
  return name.replace(/[^A-Za-z0-9@._:/+=-]/g, '_');
}
