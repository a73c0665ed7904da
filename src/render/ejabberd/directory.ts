import { directoryOf, type ChatTenant, type DirectorySpec } from '../../api/index.js';

// Sign-in against the hospital directory (spec.identity.source Directory), as ejabberd's LDAP options.
// The same options serve both flavours: ejabberd 23.01 and the official image read them alike.
//
// Only LDAPS is ever rendered (ldap_encrypt: tls). ejabberd has no StartTLS for LDAP; 23.01 accepts
// `ldap_encrypt: starttls` and then connects and binds in plaintext (its eldap only knows tls and
// none), so the spec refuses StartTLS at admission and this file has no way to say it.
//
// Where the bind password goes: ejabberd reads ldap_password only from its configuration; there is
// no file variant (as there is none for sql_password). The controller reads the bind Secret and the
// password is written into ejabberd.yml, which lives in the tenant's config Secret next to the
// database password, mounted as a file and never in an environment variable or an argument. The
// alternative, an include file mounted straight from the bind Secret, would make the hospital write
// ejabberd YAML into its Secret, and a changed password would not roll the pods (the config Secret's
// checksum does).

type Yaml = Record<string, unknown>;

/** Where the directory's CA is mounted in a pod (from spec.identity.directory.caSecret). */
export const DIRECTORY_CA_DIR = '/etc/ejabberd-directory-ca';
export const DIRECTORY_CA_FILE = `${DIRECTORY_CA_DIR}/ca.crt`;

/** What a node needs besides the spec: the CA file path and the bind credentials (from the bind Secret). */
export interface DirectoryRuntime {
  caFile: string;
  bindDN: string;
  bindPassword: string;
}

/**
 * The auth options of a tenant. Internal: SQL accounts with SCRAM. Directory: the directory first
 * checked through SQL, so the spec's admin accounts (SQL, passwords in xmpp-admin-credentials) keep
 * working when the directory is down: that is the tenant's emergency access. No one else has an SQL
 * account in directory mode (no registration, and the accounts command refuses such tenants).
 */
export function authOptions(tenant: ChatTenant, directory: DirectoryRuntime | undefined): Yaml {
  const spec = directoryOf(tenant.spec.identity);
  if (!spec) return { auth_method: ['sql'] };
  if (!directory) throw new Error(`tenant ${tenant.metadata.name}: identity source Directory needs the directory's CA file and bind credentials`);
  return { auth_method: ['sql', 'ldap'], ...ldapOptions(spec, directory), ...authCacheOptions(spec) };
}

function ldapOptions(spec: DirectorySpec, directory: DirectoryRuntime): Yaml {
  return {
    ldap_servers: spec.servers,
    ldap_port: spec.port,
    // TLS from the first byte; the certificate must chain to the hospital's CA and name the server
    // as written in ldap_servers (hard: no certificate, no connection, no bind).
    ldap_encrypt: 'tls',
    ldap_tls_verify: 'hard',
    ldap_tls_cacertfile: directory.caFile,
    ldap_rootdn: directory.bindDN,
    ldap_password: directory.bindPassword,
    ldap_base: spec.baseDN,
    ldap_uids: { [spec.uidAttribute]: '%u' },
    // ejabberd ANDs this with the uid match, for sign-in and for every existence check.
    ldap_filter: spec.accessFilter,
  };
}

/**
 * A successful check is trusted for cacheSeconds; a leaver can sign in again for at most that long.
 * Misses are not cached: a new member of the group can sign in at once.
 */
function authCacheOptions(spec: DirectorySpec): Yaml {
  if (spec.cacheSeconds === 0) return { auth_use_cache: false };
  return { auth_use_cache: true, auth_cache_life_time: spec.cacheSeconds, auth_cache_missed: false };
}

/** The leaver sweep, only with a directory: mod_directory_leavers (erlang-modules.ts). */
export function directoryModules(tenant: ChatTenant): Yaml {
  const spec = directoryOf(tenant.spec.identity);
  return spec ? { mod_directory_leavers: { interval: spec.sessionCheckSeconds } } : {};
}
