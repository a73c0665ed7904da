import type { ChatTenant } from '../../src/api/index.js';
import { adminJids, type TenantMaterial } from '../../src/render/index.js';

/**
 * Secret material whose every value is a unique marker (`SECRET-…-<tag>`), so a test can search any
 * output for a leak. Certificates are public and stay recognisable as `CERT-<what>`.
 */
export function markedMaterial(tenant: ChatTenant, tag: string): TenantMaterial {
  const mark = (what: string) => `SECRET-${what}-${tag}`;
  const pair = (what: string) => ({ certPem: `CERT-${what}`, keyPem: mark(`${what}-key`) });
  return {
    erlangCookie: mark('cookie'),
    databaseSuperuserPassword: mark('superuser'),
    databaseAppPassword: mark('app'),
    adminPasswords: Object.fromEntries(adminJids(tenant).map((jid, i) => [jid, mark(`admin${i}`)])),
    backupKey: mark('backupkey'),
    certificates: { ca: pair('ca'), messaging: pair('messaging'), database: pair('database'), databaseClient: pair('client') },
  };
}
