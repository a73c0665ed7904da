import type { ChatTenant } from '../api/index.js';
import { objectMeta, type Component } from './meta.js';
import { names } from './names.js';
import type { KubeObject, TenantMaterial } from './types.js';

// Secrets carry every credential of the tenant. Values come from TenantMaterial (read from the
// cluster, generated once when missing); this module only shapes them.

export type SecretObject = KubeObject & { kind: 'Secret'; type: string; data: Record<string, string> };

export function b64(value: string): string {
  return Buffer.from(value, 'utf8').toString('base64');
}

/**
 * Every Secret is marked retain: credentials and keys outlive the tenant under deletionPolicy Retain
 * (restoring a backup needs its key) and are never pruned.
 */
export function secret(tenant: ChatTenant, name: string, component: Component, data: Record<string, string>, type = 'Opaque'): SecretObject {
  const retain = true;
  const encoded = Object.fromEntries(Object.entries(data).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, b64(v)]));
  return { apiVersion: 'v1', kind: 'Secret', metadata: objectMeta(tenant, name, { component, retain }), type, data: encoded };
}

/** Secret keys allow [-._a-zA-Z0-9]; "@" is not allowed, so a JID's "@" becomes "_at_" (domains hold no "_"). */
export function adminSecretKey(jid: string): string {
  return jid.replace('@', '_at_');
}

export function adminJids(tenant: ChatTenant): string[] {
  const primary = tenant.spec.xmppDomains[0]!;
  return tenant.spec.messaging.admins.map((a) => `${a.username}@${a.domain ?? primary}`);
}

export function renderCredentialSecrets(tenant: ChatTenant, material: TenantMaterial): SecretObject[] {
  const adminData: Record<string, string> = {};
  for (const jid of adminJids(tenant)) {
    const password = material.adminPasswords[jid];
    if (password === undefined) throw new Error(`no password material for admin ${jid}`);
    adminData[adminSecretKey(jid)] = password;
  }
  return [
    secret(tenant, names.messaging.cookieSecret, 'messaging', { cookie: material.erlangCookie }),
    secret(tenant, names.messaging.adminSecret, 'messaging', adminData, 'Opaque'),
    secret(tenant, names.database.superuserSecret, 'database', { username: 'postgres', password: material.databaseSuperuserPassword }, 'kubernetes.io/basic-auth'),
    secret(tenant, names.database.appSecret, 'database', { username: names.database.appUser, password: material.databaseAppPassword }, 'kubernetes.io/basic-auth'),
    secret(tenant, names.backup.keySecret, 'backup', { key: material.backupKey }, 'Opaque'),
  ];
}
