import { SAFEGUARD_NAMES, tenantNamespace, type ChatTenant, type Safeguard, type SafeguardName } from '../api/index.js';
import type { KubeObject } from '../render/index.js';
import { tenantConfiguration, type IdentityEvidence, type TenantConfiguration } from './configuration.js';
import { bullets, code, codeList, table, text } from './markdown.js';

// A per-tenant evidence report for auditors, in Markdown: for each HIPAA technical safeguard whether
// it holds (from status.safeguards), how the operator meets it, and the configuration in force,
// followed by the backup history and certificate expiry. Pure: the caller passes the tenant (with
// its status), the rendered objects, the backup history, the certificate facts and the time.

export interface BackupRecord {
  id: string;
  /** When the dump's snapshot was taken (RFC 3339). */
  createdAt: string;
  completedAt?: string;
  succeeded: boolean;
  /** Size of the encrypted object. */
  bytes?: number;
  ciphertextSha256?: string;
  tables?: number;
  rows?: number;
  /** A test restore compared row counts (true), found a mismatch (false), or has not run. */
  verified?: boolean;
}

export interface CertificateRecord {
  /** Which certificate: ca, messaging, database, databaseClient. */
  name: string;
  notAfter: string;
  subject?: string;
  issuer?: string;
  dnsNames?: string[];
}

export interface EvidenceInput {
  tenant: ChatTenant;
  /** The objects the operator renders for the tenant (what it applies). */
  objects: readonly KubeObject[];
  backups: readonly BackupRecord[];
  certificates: readonly CertificateRecord[];
  /** When the report is generated (RFC 3339); expiry is counted from it. */
  generatedAt: string;
  /** Where status came from, e.g. "the cluster" or "the file tenant.yaml"; undefined: no status. */
  statusSource?: string;
}

interface SafeguardText {
  title: string;
  cfr: string;
  how: string;
  configuration: (c: TenantConfiguration, tenant: ChatTenant) => string[];
}

const yesNo = (b: boolean) => (b ? 'yes' : 'no');

/** Identity source, access group and leaver window, as an auditor asks for them. */
function identityLines(identity: IdentityEvidence): string[] {
  if (!identity.directory) return ['identity source: `Internal` (accounts in the tenant\'s database, created by administrators)'];
  const d = identity.directory;
  return [
    `identity source: \`Directory\`: ${codeList(d.servers)} port ${d.port ?? 'default'}, \`ldap_encrypt\` ${code(d.encryption)}, \`ldap_tls_verify\` ${code(d.verify)}`,
    `access group (\`ldap_filter\`): ${d.accessFilter ? code(d.accessFilter) : 'none: every account of the directory may sign in'}`,
    `leaver window: sign-in refused at most ${d.cacheSeconds} s after removal (auth cache); open sessions ended ${d.sessionCheckSeconds !== undefined ? `at most ${d.cacheSeconds + d.sessionCheckSeconds} s after removal (\`mod_directory_leavers\`)` : 'never: no session check configured'}`,
  ];
}

const SAFEGUARDS: Record<SafeguardName, SafeguardText> = {
  AccessControl: {
    title: 'Access control and unique user identification',
    cfr: '45 CFR 164.312(a)(1), (a)(2)(i)',
    how:
      'Every user has an own XMPP account in the tenant\'s own PostgreSQL; accounts are provisioned, not self-registered; anonymous login is not offered; ' +
      'administrators are named in the spec. The tenant runs in its own namespace under Pod Security "restricted", closed by a default-deny network policy.',
    configuration: (c) => [
      ...(c.ejabberd
        ? [
            `ejabberd \`auth_method\`: ${codeList(c.ejabberd.authMethods)}`,
            `in-band registration (\`access_rules.register\`): ${code(c.ejabberd.registration ?? 'not configured')}`,
            `SASL mechanisms disabled: ${codeList(c.ejabberd.disabledSaslMechanisms)}`,
            `administrators (\`acl.admin\`): ${codeList(c.ejabberd.admins)}`,
            ...identityLines(c.ejabberd.identity),
          ]
        : ['ejabberd configuration: not available']),
      `namespace ${code(c.namespace.name)} Pod Security labels: ${codeList(Object.entries(c.namespace.podSecurity).map(([k, v]) => `${k}=${v}`))}`,
      `default deny: ${c.networkPolicies.some((p) => p.name === 'default-deny') ? '`default-deny` selects every pod, ingress and egress' : 'missing'}`,
    ],
  },
  AutomaticLogoff: {
    title: 'Automatic logoff',
    cfr: '45 CFR 164.312(a)(2)(iii)',
    how: 'ejabberd closes client sessions that have been idle for the time set in the spec (module mod_idle_logoff); dead connections are also detected by pings.',
    configuration: (c, t) => [
      `\`spec.messaging.idleSessionTimeoutMinutes\`: ${code(t.spec.messaging.idleSessionTimeoutMinutes)}`,
      `ejabberd \`mod_idle_logoff\`: ${c.ejabberd?.idleTimeoutMinutes !== undefined ? `idle sessions closed after ${c.ejabberd.idleTimeoutMinutes} minutes` : 'not configured'}`,
    ],
  },
  EncryptionAtRest: {
    title: 'Encryption and decryption (data at rest)',
    cfr: '45 CFR 164.312(a)(2)(iv)',
    how:
      'Volumes use a StorageClass the platform team vouches is encrypted (listed in the operator settings or annotated); the operator refuses to call a class encrypted otherwise. ' +
      'Backups are encrypted before they leave the pod with AES-256-GCM under a key of this tenant alone.',
    configuration: (c, t) => [
      `database StorageClass: ${code(c.postgres?.storageClass ?? t.spec.database.storage.storageClassName)}` +
        (t.status?.database?.storageEncrypted !== undefined ? ` (observed as ${t.status.database.storageEncrypted ? 'encrypted' : 'NOT encrypted'})` : ''),
      ...(c.backup ? [`backup target: ${text(c.backup.target)}${c.backup.storageClass ? `, StorageClass ${code(c.backup.storageClass)}` : ''}`, `backup encryption: AES-256-GCM, key in Secret ${code(c.backup.keySecret)} (never mounted by the database or ejabberd)`] : []),
    ],
  },
  AuditControls: {
    title: 'Audit controls',
    cfr: '45 CFR 164.312(b)',
    how:
      'PostgreSQL logs every connection, disconnection and schema change with user, database and client address; ejabberd logs logins, failed logins, session ends and administrative commands; ' +
      'the operator records Kubernetes Events, and the API server keeps who changed the ChatTenant (managed fields, audit log).',
    configuration: (c) => [
      ...(c.postgres ? Object.entries(c.postgres.parameters).filter(([k]) => k.startsWith('log_')).map(([k, v]) => `PostgreSQL \`${k}\`: ${code(v)}`) : []),
      ...(c.ejabberd ? [`ejabberd \`loglevel\`: ${code(c.ejabberd.loglevel ?? 'default')}`, `ejabberd administrative audit module (\`mod_admin_audit\`): ${yesNo(c.ejabberd.adminAudit)}`] : []),
    ],
  },
  Integrity: {
    title: 'Integrity',
    cfr: '45 CFR 164.312(c)(1), (c)(2)',
    how:
      'PostgreSQL runs with data checksums. Each backup is sealed with authenticated encryption (tampering fails decryption), listed with SHA-256 checksums of ciphertext and plaintext ' +
      'and row counts in a manifest under an HMAC; a restore checks all of it before writing, and verification restores into a scratch database and compares row counts.',
    configuration: (c) => [
      `PostgreSQL data checksums: ${yesNo(c.postgres?.dataChecksums ?? false)}`,
      ...(c.backup
        ? [`backup schedule: ${code(c.backup.schedule)}${c.backup.timeZone ? ` (${text(c.backup.timeZone)})` : ' (UTC)'}${c.backup.suspended ? ', SUSPENDED' : ''}`, `retention: ${text(c.backup.retention || 'not set')}`]
        : ['backups: not configured']),
    ],
  },
  PersonOrEntityAuthentication: {
    title: 'Person or entity authentication',
    cfr: '45 CFR 164.312(d)',
    how:
      'Users authenticate with SCRAM (passwords stored only as SCRAM hashes). PostgreSQL accepts nothing but scram-sha-256 over TLS; ejabberd and the backup job verify the database\'s certificate ' +
      'against the tenant CA and its host name, so neither can be pointed at an impostor.',
    configuration: (c) => [
      ...(c.ejabberd ? [`ejabberd \`auth_password_format\`: ${code(c.ejabberd.passwordFormat ?? 'plain')}${c.ejabberd.scramHash ? `, \`auth_scram_hash\`: ${code(c.ejabberd.scramHash)}` : ''}`, `ejabberd to PostgreSQL: TLS ${yesNo(c.ejabberd.databaseTls.ssl)}, server certificate verified ${yesNo(c.ejabberd.databaseTls.verifyServer)}`] : []),
      ...(c.backup?.databaseSslMode ? [`backup job to PostgreSQL: \`PGSSLMODE=${text(c.backup.databaseSslMode)}\``] : []),
      ...(c.postgres ? [`PostgreSQL \`password_encryption\`: ${code(c.postgres.parameters['password_encryption'] ?? 'default')}`, `pg_hba rules, in order: ${c.postgres.hba.map((l) => code(l.replace(/\s+/g, ' '))).join('; ')}`] : []),
    ],
  },
  TransmissionSecurity: {
    title: 'Transmission security',
    cfr: '45 CFR 164.312(e)(1), (e)(2)(i), (e)(2)(ii)',
    how:
      'Clients reach ejabberd over TLS 1.2 or newer only: STARTTLS is required on 5222, 5223 and 5443 are TLS from the first byte, and no plaintext port is exposed. ' +
      'PostgreSQL accepts TLS only. Network policies deny every flow but the intended ones (docs/network.md).',
    configuration: (c) => [
      ...(c.ejabberd
        ? [
            `ejabberd listeners: ${c.ejabberd.listeners.map((l) => `${l.port} ${l.module} (${l.transport})`).join('; ') || '(none)'}`,
            `TLS protocol options: ${codeList(c.ejabberd.protocolOptions)}`,
            `ciphers: ${code(c.ejabberd.ciphers ?? 'default')}`,
            `federation (\`access_rules.s2s\`): ${code(c.ejabberd.federation)}${c.ejabberd.s2sUseStarttls ? `, \`s2s_use_starttls\`: ${code(c.ejabberd.s2sUseStarttls)}` : ''}`,
          ]
        : []),
      ...(c.clientService ? [`client Service: type ${code(c.clientService.type)}, ports ${codeList(c.clientService.ports)}`] : []),
      ...(c.postgres?.parameters['ssl_min_protocol_version'] ? [`PostgreSQL \`ssl_min_protocol_version\`: ${code(c.postgres.parameters['ssl_min_protocol_version'])}`] : []),
      `network policies (${c.networkPolicies.length}): ${codeList(c.networkPolicies.map((p) => p.name))}`,
    ],
  },
};

function verdictLine(s: Safeguard | undefined): string {
  if (!s) return '**Status:** not observed (no status in the input: this report shows configuration only)';
  return `**Status:** ${s.holds ? 'holds' : '**does NOT hold**'} (${code(s.reason)}): ${text(s.message)}`;
}

const DAY_MS = 24 * 3600 * 1000;

function bytesText(n: number | undefined): string {
  if (n === undefined) return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

function backupSection(backups: readonly BackupRecord[]): string {
  if (backups.length === 0) return 'No backup history was given to this report.';
  const rows = [...backups]
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
    .map((b) => [
      code(b.id),
      text(b.createdAt),
      b.succeeded ? 'succeeded' : '**failed**',
      text(bytesText(b.bytes)),
      b.ciphertextSha256 ? code(b.ciphertextSha256) : '',
      b.tables !== undefined ? String(b.tables) : '',
      b.rows !== undefined ? String(b.rows) : '',
      b.verified === undefined ? 'not run' : b.verified ? 'passed' : '**failed**',
    ]);
  return table(['Backup', 'Created', 'Result', 'Size', 'Ciphertext SHA-256', 'Tables', 'Rows', 'Verification'], rows);
}

function certificateSection(certificates: readonly CertificateRecord[], generatedAt: string): string {
  if (certificates.length === 0) return 'No certificate facts were given to this report.';
  const now = Date.parse(generatedAt);
  const rows = certificates.map((c) => {
    const days = Math.floor((Date.parse(c.notAfter) - now) / DAY_MS);
    return [text(c.name), c.subject ? code(c.subject) : '', c.issuer ? code(c.issuer) : '', text(c.notAfter), days < 0 ? `**expired ${-days} days ago**` : String(days), c.dnsNames ? codeList(c.dnsNames) : ''];
  });
  return table(['Certificate', 'Subject', 'Issuer', 'Not after', 'Days left', 'Names'], rows);
}

function objectsSection(objects: readonly KubeObject[]): string {
  const byKind = new Map<string, string[]>();
  for (const o of objects) byKind.set(o.kind, [...(byKind.get(o.kind) ?? []), o.metadata.name]);
  const rows = [...byKind.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([kind, list]) => [text(kind), String(list.length), codeList(list)]);
  return table(['Kind', 'Count', 'Names'], rows);
}

export function renderEvidenceReport(input: EvidenceInput): string {
  const { tenant, objects, generatedAt } = input;
  const status = tenant.status;
  const config = tenantConfiguration(tenant, objects);
  const safeguards = new Map((status?.safeguards ?? []).map((s) => [s.name, s]));
  const ready = status?.conditions?.find((c) => c.type === 'Ready');
  const out: string[] = [];
  out.push(`# HIPAA technical safeguards: evidence for ${text(tenant.spec.displayName)}`, '');
  out.push(
    table(
      ['Field', 'Value'],
      [
        ['Tenant', `${code(tenant.metadata.name)} (ChatTenant)`],
        ['Namespace', code(status?.namespace ?? tenantNamespace(tenant.metadata.name))],
        ['XMPP domains', codeList(tenant.spec.xmppDomains)],
        ['Database', `${code(tenant.spec.database.provider)}, StorageClass ${code(tenant.spec.database.storage.storageClassName)}`],
        ['Report generated', text(generatedAt)],
        ['Spec generation', `${tenant.metadata.generation ?? 'unknown'}${status?.observedGeneration !== undefined ? ` (status describes generation ${status.observedGeneration})` : ''}`],
        ['Ready', ready ? `${text(ready.status)} (${code(ready.reason)})` : 'not observed'],
        ['Status from', text(input.statusSource ?? 'nowhere: configuration only')],
      ],
    ),
    '',
  );
  out.push('## Summary', '');
  out.push(
    table(
      ['Safeguard', 'Regulation', 'Holds', 'Reason'],
      SAFEGUARD_NAMES.map((name) => {
        const s = safeguards.get(name);
        return [text(SAFEGUARDS[name].title), text(SAFEGUARDS[name].cfr), s ? (s.holds ? 'yes' : '**NO**') : 'not observed', s ? code(s.reason) : ''];
      }),
    ),
    '',
  );
  for (const name of SAFEGUARD_NAMES) {
    const t = SAFEGUARDS[name];
    out.push(`## ${t.title} (${t.cfr})`, '', verdictLine(safeguards.get(name)), '', `**How the operator meets it:** ${t.how}`, '', '**Configuration in force:**', '', bullets(t.configuration(config, tenant)), '');
  }
  out.push('## Backup history', '', backupSection(input.backups), '');
  out.push('## Certificates', '', certificateSection(input.certificates, generatedAt), '');
  out.push('## Objects the operator manages for this tenant', '', objectsSection(objects), '');
  out.push(
    '## Outside the operator',
    '',
    'A business associate agreement, encrypted storage behind the StorageClass, access control to the cluster and its audit log, and custody of the keys in the tenant Secrets ' +
      '(etcd encryption, backups of the keys) are the platform team\'s. See docs/hipaa.md.',
    '',
  );
  return out.join('\n');
}
