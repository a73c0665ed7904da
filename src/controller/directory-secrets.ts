import { directoryOf, tenantNamespace, type ChatTenant } from '../api/index.js';
import type { Json } from '../kube/client.js';
import type { ReconcileContext } from './context.js';

// The hospital's two Secrets a directory tenant depends on: the CA that verifies the directory and
// the account ejabberd binds as. The hospital creates them in the tenant namespace (which the
// operator creates first), so a new tenant waits for them: until both hold what they must, nothing
// of the tenant's messaging changes and the tenant says which field names what is missing.
// The bind password goes into ejabberd.yml in the config Secret (see render/ejabberd/directory.ts).

export interface DirectoryBind {
  bindDN: string;
  password: string;
}

export type DirectorySecretsResult = { ok: true; bind?: DirectoryBind; caPem?: string } | { ok: false; field: string; message: string };

const decoded = (secret: Json | undefined, key: string): string | undefined => {
  const value = ((secret?.['data'] ?? {}) as Record<string, string>)[key];
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
};

/** Pure: judges the two Secrets as read (undefined: not found). */
export function judgeDirectorySecrets(tenant: ChatTenant, caSecret: Json | undefined, bindSecret: Json | undefined): DirectorySecretsResult {
  const directory = directoryOf(tenant.spec.identity);
  if (!directory) return { ok: true };
  const ns = tenantNamespace(tenant.metadata.name);
  const caField = 'spec.identity.directory.caSecret';
  const bindField = 'spec.identity.directory.bindSecret';
  if (!caSecret) return { ok: false, field: caField, message: `${caField}: Secret ${directory.caSecret.name} not found in namespace ${ns}` };
  const caPem = decoded(caSecret, directory.caSecret.key);
  if (!caPem?.includes('-----BEGIN CERTIFICATE-----')) {
    return { ok: false, field: caField, message: `${caField}: Secret ${directory.caSecret.name} has no PEM certificate under key ${directory.caSecret.key}` };
  }
  if (!bindSecret) return { ok: false, field: bindField, message: `${bindField}: Secret ${directory.bindSecret.name} not found in namespace ${ns}` };
  const bindDN = decoded(bindSecret, 'username');
  const password = decoded(bindSecret, 'password');
  if (!bindDN || !password) {
    return { ok: false, field: bindField, message: `${bindField}: Secret ${directory.bindSecret.name} needs keys username (the bind DN) and password, both non-empty` };
  }
  // A line break would end the YAML scalar ejabberd reads it from; a DN or password never holds one.
  if (/[\r\n]/.test(bindDN) || /[\r\n]/.test(password)) return { ok: false, field: bindField, message: `${bindField}: username and password must be single lines (no trailing newline)` };
  return { ok: true, bind: { bindDN, password }, caPem };
}

export async function readDirectorySecrets(ctx: ReconcileContext, tenant: ChatTenant): Promise<DirectorySecretsResult> {
  const directory = directoryOf(tenant.spec.identity);
  if (!directory) return { ok: true };
  const namespace = tenantNamespace(tenant.metadata.name);
  const get = (name: string) => ctx.objects.get<Json>({ apiVersion: 'v1', kind: 'Secret', name, namespace });
  return judgeDirectorySecrets(tenant, await get(directory.caSecret.name), await get(directory.bindSecret.name));
}
