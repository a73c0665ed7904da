import type { KubeConfig } from '@kubernetes/client-node';
import { tenantNamespace } from '../api/index.js';
import { execInContainer } from '../kube/exec.js';
import type { AccountAction } from '../render/ejabberd/account-lifecycle-module.js';
import { NODE_SCRIPT } from '../render/ejabberd/statefulset.js';

// One account action in a tenant's ejabberd Pod, as `kubectl exec -i … account ACTION USER DOMAIN ACTOR`
// would run it: the node script's `account` subcommand hands it to mod_account_lifecycle. The new
// password travels on stdin, one line; the exec request's URL (which the API server's audit log
// records) and every argv in the Pod hold only the action, the account and who asked.

export interface AccountRequest {
  tenant: string;
  pod: string;
  action: AccountAction;
  user: string;
  domain: string;
  /** Who asked, as the audit line names them (the Kubernetes user of the CLI). */
  actor: string;
  /** The new password: for create, enable and reset; never for disable. */
  password?: string;
}

/** A refusal or failure, with what ejabberd or the node script said (never a password). */
export class AccountActionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AccountActionError';
  }
}

export function accountExecCommand(request: Pick<AccountRequest, 'action' | 'user' | 'domain' | 'actor'>): string[] {
  return ['/bin/sh', NODE_SCRIPT, 'account', request.action, request.user, request.domain, request.actor];
}

/** Runs the action and returns ejabberd's answer (e.g. "disabled; 1 session(s) ended"). */
export async function runAccountAction(kubeConfig: KubeConfig, request: AccountRequest): Promise<string> {
  if ((request.action === 'disable') !== (request.password === undefined)) {
    throw new Error(`account ${request.action}: a new password is ${request.action === 'disable' ? 'not taken' : 'required'}`);
  }
  if (request.password !== undefined && /[\r\n]/.test(request.password)) throw new Error('a password must be one line');
  const target = { namespace: tenantNamespace(request.tenant), pod: request.pod, container: 'ejabberd' };
  const stdin = request.password === undefined ? undefined : `${request.password}\n`;
  const result = await execInContainer(kubeConfig, target, accountExecCommand(request), stdin);
  const output = (result.stdout + result.stderr).trim();
  if (result.status !== 'Success') throw new AccountActionError(output || `exec in ${target.namespace}/${target.pod}: ${result.status}`);
  return output;
}
