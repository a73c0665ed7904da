import type { ChatTenant } from '../api/index.js';
import { adminJids } from './secrets.js';
import type { TenantCertificates, TenantMaterial } from './types.js';

// Stand-ins for secret material when rendering outside a cluster (`render` command, unit tests):
// deterministic, obviously not secret, and never valid credentials. The operator in a cluster
// uses real material (src/controller/material.ts) and never these.

export const PLACEHOLDER = 'generated-in-cluster-by-chat-tenant-operator';

const pem = (label: string, what: string) => `-----BEGIN ${label}-----\n${Buffer.from(`${PLACEHOLDER}:${what}`).toString('base64')}\n-----END ${label}-----\n`;

function placeholderCertificates(): TenantCertificates {
  const pair = (what: string) => ({ certPem: pem('CERTIFICATE', what), keyPem: pem('PRIVATE KEY', what) });
  return { ca: pair('ca'), messaging: pair('messaging'), database: pair('database'), databaseClient: pair('database-client') };
}

export function placeholderMaterial(tenant: ChatTenant): TenantMaterial {
  return {
    erlangCookie: PLACEHOLDER,
    databaseSuperuserPassword: PLACEHOLDER,
    databaseAppPassword: PLACEHOLDER,
    adminPasswords: Object.fromEntries(adminJids(tenant).map((jid) => [jid, PLACEHOLDER])),
    backupKey: PLACEHOLDER,
    ...(tenant.spec.tls.mode === 'OperatorCA' ? { certificates: placeholderCertificates() } : {}),
    ...(tenant.spec.identity.source === 'Directory' ? { directoryBind: { bindDN: `CN=${PLACEHOLDER}`, password: PLACEHOLDER } } : {}),
  };
}
