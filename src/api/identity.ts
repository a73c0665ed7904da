import { z } from 'zod';
import { doc } from './schema-helpers.js';
import { DNS_SUBDOMAIN, isCidr } from './formats.js';

// How a tenant's staff sign in. Internal: accounts in the tenant's own database (SQL, SCRAM).
// Directory: ejabberd binds to the hospital's LDAP / Active Directory over TLS, and only users the
// access filter admits may sign in. Everything that makes a directory unsafe to trust (plaintext,
// an unverified server, a filter that admits the whole directory) is refused here, at admission.

/** The filters ejabberd combines with the uid attribute: one parenthesised LDAP filter, RFC 4515 style. */
const LDAP_FILTER = /^\(.*\)$/;

/**
 * Filters that match every entry. With one of them as the access filter, anyone with an account in
 * the directory (service accounts, contractors, patients of a patient portal) could sign in.
 */
export const MATCH_ALL_FILTERS = ['(objectClass=*)', '(objectclass=*)', '(&)', '(|(objectClass=*))'];

const ldapFilter = (description: string) =>
  doc(
    z
      .string()
      .min(3)
      .max(1024)
      .regex(LDAP_FILTER, 'must be one LDAP filter in parentheses, e.g. (memberOf=CN=Chat Users,OU=Groups,DC=hospital,DC=example)')
      .refine((f) => !MATCH_ALL_FILTERS.includes(f.replace(/\s+/g, '')), { message: 'must not match every entry of the directory' }),
    description,
    [{ rule: `!(self.replace(' ', '') in ${JSON.stringify(MATCH_ALL_FILTERS)})`, message: 'must not match every entry of the directory' }],
  );

const secretKeySelector = (description: string, defaultKey: string) =>
  doc(
    z
      .object({
        name: doc(z.string().min(1).max(253).regex(DNS_SUBDOMAIN, 'must be a Secret name'), 'Name of a Secret in the tenant namespace.'),
        key: doc(z.string().min(1).max(253).regex(/^[-._a-zA-Z0-9]+$/, 'must be a Secret key'), `Key in the Secret (default ${defaultKey}).`).default(defaultKey),
      })
      .strict(),
    description,
  );

/** A directory server's address: a DNS name or an IP address (no scheme, no port). */
const SERVER = /^(([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*|[0-9a-fA-F:.]+)$/;

export const LDAPS_PORT = 636;

export const DirectorySpec = doc(
  z
    .object({
      servers: doc(
        z.array(z.string().min(1).max(253).regex(SERVER, 'must be a host name or IP address, without scheme or port')).min(1).max(8),
        'Directory servers (domain controllers), tried in order. Their certificates must name them as written here.',
      ),
      port: doc(z.number().int().min(1).max(65535), 'Port of the directory servers; 636 for LDAPS.').default(LDAPS_PORT),
      encryption: doc(
        z.enum(['LDAPS', 'StartTLS']).refine((e) => e === 'LDAPS', {
          message: 'StartTLS is not available: ejabberd only speaks LDAPS (TLS from the first byte), and 23.01 silently binds in plaintext when asked for StartTLS',
        }),
        'How the connection is encrypted. Only LDAPS (TLS from the first byte) is accepted: ejabberd has no StartTLS for LDAP, and plain LDAP is never offered.',
        [{ rule: "self == 'LDAPS'", message: 'StartTLS is not available: ejabberd only speaks LDAPS (TLS from the first byte), and 23.01 silently binds in plaintext when asked for StartTLS' }],
      ).default('LDAPS'),
      caSecret: secretKeySelector('Secret holding the PEM CA certificate(s) the directory servers\' certificates must chain to. Always verified, with host name.', 'ca.crt'),
      bindSecret: doc(
        z.object({ name: doc(z.string().min(1).max(253).regex(DNS_SUBDOMAIN, 'must be a Secret name'), 'Name of a Secret in the tenant namespace.') }).strict(),
        'Secret (type kubernetes.io/basic-auth) with the service account ejabberd binds as: key username holds its DN, key password its password.',
      ),
      baseDN: doc(z.string().min(3).max(1024).regex(/^[^=,]+=[^,]+(,[^=,]+=[^,]+)*$/, 'must be a DN such as DC=hospital,DC=example'), 'Where users are searched, e.g. OU=Staff,DC=hospital,DC=example.'),
      uidAttribute: doc(z.string().min(1).max(64).regex(/^[A-Za-z][A-Za-z0-9-]*$/, 'must be an LDAP attribute name'), 'Attribute whose value is the XMPP user name: sAMAccountName in Active Directory, uid in OpenLDAP.'),
      accessFilter: ldapFilter(
        'Only users this filter matches may sign in and keep their sessions, e.g. (&(memberOf=CN=Chat Users,OU=Groups,DC=hospital,DC=example)(!(userAccountControl:1.2.840.113556.1.4.803:=2))) for enabled members of a group in Active Directory.',
      ),
      cacheSeconds: doc(
        z.number().int().min(0).max(600),
        'How long ejabberd trusts a successful directory check before asking the directory again (0: every sign-in asks). A leaver can still sign in for at most this long.',
      ).default(60),
      sessionCheckSeconds: doc(
        z.number().int().min(5).max(600),
        'How often each ejabberd node checks the users of its open sessions against the directory and ends the sessions of those it no longer admits.',
      ).default(60),
      cidrs: doc(
        z.array(z.string().max(64).refine(isCidr, { error: (issue) => `"${String(issue.input)}" is not a CIDR (expected e.g. 10.20.0.0/16 or fd00::/64)` })).min(1).max(16),
        'Addresses of the directory servers; the ejabberd pods may open connections to these, on the directory port only.',
      ),
    })
    .strict(),
  'The hospital directory (LDAP / Active Directory) staff sign in with.',
);
export type DirectorySpec = z.infer<typeof DirectorySpec>;

export const IdentitySpec = doc(
  z
    .object({
      source: doc(z.enum(['Internal', 'Directory']), 'Internal: accounts in the tenant\'s own database, managed with the accounts command. Directory: staff sign in with their directory password.').default('Internal'),
      directory: DirectorySpec.optional(),
    })
    .strict()
    .superRefine((identity, ctx) => {
      if (identity.source === 'Directory' && !identity.directory) ctx.addIssue({ code: 'custom', path: ['directory'], message: 'source Directory needs directory' });
      if (identity.source === 'Internal' && identity.directory) ctx.addIssue({ code: 'custom', path: ['directory'], message: 'directory is only used with source Directory' });
    }),
  'How users sign in.',
  [
    { rule: "!has(self.source) || self.source != 'Directory' || has(self.directory)", message: 'source Directory needs directory', fieldPath: '.directory' },
    { rule: "(has(self.source) && self.source == 'Directory') || !has(self.directory)", message: 'directory is only used with source Directory', fieldPath: '.directory' },
  ],
);
export type IdentitySpec = z.infer<typeof IdentitySpec>;

/** The directory in force, or undefined for internal accounts. */
export function directoryOf(identity: IdentitySpec): DirectorySpec | undefined {
  return identity.source === 'Directory' ? identity.directory : undefined;
}


