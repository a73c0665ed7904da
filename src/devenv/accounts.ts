import type { KubeConfig } from '@kubernetes/client-node';
import { tenantNamespace } from '../api/index.js';
import { runAccountAction } from '../accounts/exec.js';
import { execInContainer } from '../kube/exec.js';
import { names } from '../render/index.js';
import { NODE_SCRIPT } from '../render/ejabberd/statefulset.js';

// Accounts on a running tenant, made the way a platform engineer does with `chat-tenant-operator
// account`: the node script's `account` subcommand in an ejabberd Pod, the password on stdin (never in
// the exec request's URL, which the API server's audit log keeps, nor in any argv in the Pod), every
// action in the tenant's audit log. Queries without a secret go through the node script's `ctl`.

/** Who the audit lines name for accounts the local environment and its tests make. */
const ACTOR = 'chat-tenant-operator-devenv';

/** One ejabberdctl command without a secret (queries: check_account, list_cluster, ...). */
export async function ejabberdctl(kubeConfig: KubeConfig, tenant: string, pod: string, args: string[]): Promise<string> {
  const target = { namespace: tenantNamespace(tenant), pod, container: 'ejabberd' };
  const result = await execInContainer(kubeConfig, target, ['/bin/sh', NODE_SCRIPT, 'ctl', ...args]);
  if (result.status !== 'Success') throw new Error(`ejabberdctl ${args[0] ?? ''} in ${tenant}/${pod}: ${result.status} ${(result.stdout + result.stderr).trim()}`);
  return result.stdout;
}

async function accountExists(kubeConfig: KubeConfig, tenant: string, pod: string, user: string, domain: string): Promise<boolean> {
  return ejabberdctl(kubeConfig, tenant, pod, ['check_account', user, domain]).then(
    () => true,
    () => false,
  );
}

/** Creates the account unless it exists (an existing account keeps its password). */
export async function ensureAccount(kubeConfig: KubeConfig, tenant: string, user: string, domain: string, password: string): Promise<void> {
  const pod = `${names.messaging.statefulSet}-0`;
  if (!(await accountExists(kubeConfig, tenant, pod, user, domain))) await runAccountAction(kubeConfig, { tenant, pod, action: 'create', user, domain, actor: ACTOR, password });
}

/** Creates the account, or resets its password when it exists: afterwards the password is this one. */
export async function setAccountPassword(kubeConfig: KubeConfig, tenant: string, user: string, domain: string, password: string): Promise<void> {
  const pod = `${names.messaging.statefulSet}-0`;
  const action = (await accountExists(kubeConfig, tenant, pod, user, domain)) ? 'reset' : 'create';
  await runAccountAction(kubeConfig, { tenant, pod, action, user, domain, actor: ACTOR, password });
}
