import type { KubeConfig } from '@kubernetes/client-node';
import { tenantNamespace } from '../api/index.js';
import { execInContainer } from '../kube/exec.js';
import { names } from '../render/index.js';
import { NODE_SCRIPT } from '../render/ejabberd/statefulset.js';

// Accounts on a running tenant, made the way a platform engineer would: ejabberdctl in an ejabberd
// Pod, through the node script's `ctl` (which knows the node name, the cookie and TLS distribution).
// A password travels on stdin, never in the exec request's URL (the API server's audit log keeps it).

export async function ejabberdctl(kubeConfig: KubeConfig, tenant: string, pod: string, args: string[], secretLastArg?: string): Promise<string> {
  const command =
    secretLastArg === undefined
      ? ['/bin/sh', NODE_SCRIPT, 'ctl', ...args]
      : ['/bin/sh', '-c', `IFS= read -r secret; exec /bin/sh ${NODE_SCRIPT} ctl "$@" "$secret"`, 'sh', ...args];
  const target = { namespace: tenantNamespace(tenant), pod, container: 'ejabberd' };
  const result = await execInContainer(kubeConfig, target, command, secretLastArg === undefined ? undefined : `${secretLastArg}\n`);
  if (result.status !== 'Success') throw new Error(`ejabberdctl ${args[0] ?? ''} in ${tenant}/${pod}: ${result.status} ${(result.stdout + result.stderr).trim()}`);
  return result.stdout;
}

/** Registers the account unless it exists (an existing account keeps its password). */
export async function ensureAccount(kubeConfig: KubeConfig, tenant: string, user: string, domain: string, password: string): Promise<void> {
  const pod = `${names.messaging.statefulSet}-0`;
  const exists = await ejabberdctl(kubeConfig, tenant, pod, ['check_account', user, domain]).then(
    () => true,
    () => false,
  );
  if (!exists) await ejabberdctl(kubeConfig, tenant, pod, ['register', user, domain], password);
}

/** Registers the account, or sets its password when it exists: afterwards the password is this one. */
export async function setAccountPassword(kubeConfig: KubeConfig, tenant: string, user: string, domain: string, password: string): Promise<void> {
  const pod = `${names.messaging.statefulSet}-0`;
  const exists = await ejabberdctl(kubeConfig, tenant, pod, ['check_account', user, domain]).then(
    () => true,
    () => false,
  );
  await ejabberdctl(kubeConfig, tenant, pod, [exists ? 'change_password' : 'register', user, domain], password);
}
