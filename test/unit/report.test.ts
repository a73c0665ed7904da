import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatTenantManifest, defaultSettings, type ChatTenant, type ChatTenantStatus } from '../../src/api/index.js';
import { ALGORITHM_NAME, FORMAT_VERSION } from '../../src/backup/format.js';
import type { BackupManifest } from '../../src/backup/manifest.js';
import type { Io } from '../../src/cli/commands.js';
import { reportCommand } from '../../src/cli/report.js';
import { renderPgHba, renderTenant } from '../../src/render/index.js';
import { markedMaterial as marked } from '../support/marked-material.js';
import { renderEvidenceReport, tenantConfiguration, type BackupRecord, type EvidenceInput } from '../../src/report/index.js';
import { directoryIdentity, minimalSpec, tenantFixture } from '../support/tenants.js';

const settings = defaultSettings();
const capabilities = { cloudNativePG: true, certManager: true, prometheusOperator: false };
const NOW = '2026-11-23T12:00:00Z';

/** Material whose every secret value is a marker that must never reach a report. */
const markedMaterial = (tenant: ChatTenant) => marked(tenant, '5b1e77');

const status: ChatTenantStatus = {
  observedGeneration: 4,
  phase: 'Degraded',
  namespace: 'clinic',
  conditions: [{ type: 'Ready', status: 'False', reason: 'BackupNotReady', message: 'last backup failed', lastTransitionTime: NOW, observedGeneration: 4 }],
  safeguards: [
    { name: 'AccessControl', holds: true, reason: 'UniqueAccountsNoAnonymousAccess', message: 'each user has an own account' },
    { name: 'AutomaticLogoff', holds: true, reason: 'IdleSessionTimeout', message: 'idle client sessions are closed after 20 minutes' },
    { name: 'EncryptionAtRest', holds: true, reason: 'EncryptedStorageAndBackups', message: 'StorageClass "encrypted-ssd" is listed' },
    { name: 'AuditControls', holds: true, reason: 'AuditLoggingConfigured', message: 'PostgreSQL logs every connection' },
    { name: 'Integrity', holds: false, reason: 'LastBackupFailed', message: 'the most recent backup (2026-11-23T02:05:00Z) failed' },
    { name: 'PersonOrEntityAuthentication', holds: true, reason: 'ScramAndVerifiedCertificates', message: 'users authenticate with SCRAM' },
    { name: 'TransmissionSecurity', holds: true, reason: 'TlsOnlyAndNetworkPolicies', message: 'clients connect over TLS 1.2 or newer only' },
  ],
  database: { provider: 'standalone', storageEncrypted: true },
};

function clinic(withStatus = true): ChatTenant {
  const t = tenantFixture('clinic', minimalSpec({ displayName: 'Clinic | West `wing`', messaging: { idleSessionTimeoutMinutes: 20, admins: [{ username: 'admin' }] } }));
  return { ...t, metadata: { ...t.metadata, generation: 4 }, ...(withStatus ? { status } : {}) };
}

const backups: BackupRecord[] = [
  { id: 'clinic-20261121T020500Z', createdAt: '2026-11-21T02:05:00Z', succeeded: true, bytes: 3 * 1024 * 1024, ciphertextSha256: 'a'.repeat(64), tables: 40, rows: 1200, verified: true },
  { id: 'clinic-20261123T020500Z', createdAt: '2026-11-23T02:05:00Z', succeeded: false },
  { id: 'clinic-20261122T020500Z', createdAt: '2026-11-22T02:05:00Z', succeeded: true, bytes: 512, tables: 40, rows: 1250 },
];

function input(tenant = clinic(), material = markedMaterial(tenant)): EvidenceInput {
  return {
    tenant,
    objects: renderTenant({ tenant, material, settings, capabilities }),
    backups,
    certificates: [
      { name: 'messaging', notAfter: '2027-01-22T12:00:00Z', subject: 'CN=chat.test-clinic.example', issuer: 'CN=clinic tenant CA, O=chat-tenant-operator', dnsNames: ['chat.test-clinic.example'] },
      { name: 'database', notAfter: '2026-11-20T12:00:00Z' },
    ],
    generatedAt: NOW,
    statusSource: 'the cluster',
  };
}

describe('renderEvidenceReport', () => {
  const report = renderEvidenceReport(input());

  it('never contains a secret value, though the rendered objects carry them', () => {
    expect(report).not.toMatch(/SECRET-[a-z0-9-]+-5b1e77/);
    expect(report).not.toContain('sql_password');
  });

  it('summarises every safeguard with its regulation and whether it holds', () => {
    const summary = report.slice(report.indexOf('## Summary'), report.indexOf('## Access control'));
    expect(summary).toContain('| Access control and unique user identification | 45 CFR 164.312(a)(1), (a)(2)(i) | yes | `UniqueAccountsNoAnonymousAccess` |');
    expect(summary).toContain('| Integrity | 45 CFR 164.312(c)(1), (c)(2) | **NO** | `LastBackupFailed` |');
    expect(summary.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| ---') && !l.startsWith('| Safeguard'))).toHaveLength(7);
  });

  it('gives each safeguard its status, how it is met, and the configuration in force', () => {
    for (const title of ['Access control', 'Automatic logoff', 'Encryption and decryption', 'Audit controls', 'Integrity', 'Person or entity authentication', 'Transmission security']) {
      const start = report.indexOf(`## ${title}`);
      expect(start, title).toBeGreaterThan(0);
      const section = report.slice(start, report.indexOf('\n## ', start + 1));
      expect(section).toContain('**Status:**');
      expect(section).toContain('**How the operator meets it:**');
      expect(section).toContain('**Configuration in force:**');
    }
    expect(report).toContain('**Status:** **does NOT hold** (`LastBackupFailed`): the most recent backup (2026-11-23T02:05:00Z) failed');
  });

  it('shows the TLS options, listeners, pg_hba lines and network policies the tenant runs with', () => {
    expect(report).toContain('5222 ejabberd_c2s (STARTTLS required); 5223 ejabberd_c2s (TLS); 5443 ejabberd_http (TLS)');
    expect(report).toContain('`no_tlsv1`, `no_tlsv1_1`');
    for (const line of renderPgHba().split('\n').filter((l) => l !== '' && !l.startsWith('#'))) expect(report).toContain(`\`${line.replace(/\s+/g, ' ')}\``);
    for (const name of ['default-deny', 'allow-dns', 'ejabberd-cluster', 'postgres-from-tenant', 'backup-egress']) expect(report).toContain(`\`${name}\``);
    expect(report).toContain('ejabberd `mod_idle_logoff`: idle sessions closed after 20 minutes');
    expect(report).toContain('in-band registration (`access_rules.register`): `deny all`');
    expect(report).toContain('administrators (`acl.admin`): `admin@chat.test-clinic.example`');
    expect(report).toContain('backup job to PostgreSQL: `PGSSLMODE=verify-full`');
    expect(report).toContain('PostgreSQL data checksums: yes');
  });

  it('lists the backup history newest first, failures marked', () => {
    const rows = report.split('\n').filter((l) => l.startsWith('| `clinic-2026'));
    expect(rows.map((r) => r.split(' | ')[0])).toEqual(['| `clinic-20261123T020500Z`', '| `clinic-20261122T020500Z`', '| `clinic-20261121T020500Z`']);
    expect(rows[0]).toContain('**failed**');
    expect(rows[2]).toContain('| 3.0 MiB |');
    expect(rows[2]).toContain('| passed |');
    expect(rows[1]).toContain('| not run |');
  });

  it('shows certificate expiry in days from the report time, and flags an expired one', () => {
    expect(report).toContain('| messaging | `CN=chat.test-clinic.example` | `CN=clinic tenant CA, O=chat-tenant-operator` | 2027-01-22T12:00:00Z | 60 |');
    expect(report).toContain('| database |  |  | 2026-11-20T12:00:00Z | **expired 3 days ago** |');
  });

  it('keeps tables intact whatever the display name holds', () => {
    expect(report).toContain('# HIPAA technical safeguards: evidence for Clinic \\| West `wing`');
    const header = report.split('\n').filter((l) => l.startsWith('| Tenant'));
    expect(header).toEqual(['| Tenant | `clinic` (ChatTenant) |']);
  });

  it('is the same for the same input (no clock, no randomness)', () => {
    expect(renderEvidenceReport(input())).toBe(report);
  });

  it('without status it says what was not observed instead of claiming anything', () => {
    const offline = renderEvidenceReport({ ...input(clinic(false)), statusSource: undefined });
    expect(offline).toContain('**Status:** not observed');
    expect(offline).not.toContain('| yes |');
    expect(offline).toContain('| Status from | nowhere: configuration only |');
  });

  it('reads the CloudNativePG cluster for the database evidence', () => {
    const t = tenantFixture('clinic', minimalSpec({ database: { provider: 'cloudnative-pg', storage: { storageClassName: 'encrypted-ssd' } } }));
    const config = tenantConfiguration(t, renderTenant({ tenant: t, material: markedMaterial(t), settings, capabilities }));
    expect(config.postgres).toMatchObject({ provider: 'cloudnative-pg', dataChecksums: true, storageClass: 'encrypted-ssd', hba: ['hostnossl all all all reject', 'hostssl all all all scram-sha-256', 'host all all all reject'] });
    expect(config.postgres!.parameters['ssl_min_protocol_version']).toBe('TLSv1.3');
  });
});

describe('report command', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'report-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function capture(): Io & { stdout: () => string; stderr: () => string } {
    let out = '';
    let err = '';
    return { out: (t) => void (out += t), err: (t) => void (err += t), stdout: () => out, stderr: () => err };
  }

  const manifestOf = (tenant: string, id: string, createdAt: string): BackupManifest => ({
    formatVersion: FORMAT_VERSION,
    backupId: id,
    tenant,
    createdAt,
    completedAt: createdAt,
    database: 'ejabberd',
    serverVersion: '17.6',
    pgDumpVersion: '17.6',
    dumpFormat: 'custom',
    encryption: { algorithm: ALGORITHM_NAME, chunkSize: 65536, keyId: '0123456789abcdef' },
    ciphertext: { object: `${id}.dump.enc`, sha256: 'b'.repeat(64), bytes: 2048 },
    plaintext: { sha256: 'c'.repeat(64), bytes: 4096 },
    tables: [{ schema: 'public', table: 'users', rows: 12 }, { schema: 'public', table: 'archive', rows: 30 }],
    mac: 'd'.repeat(64),
  });

  it('renders offline from a file: status from the file, backups from a manifest directory', async () => {
    const file = path.join(dir, 'tenant.yaml');
    await writeFile(file, yaml.dump({ ...chatTenantManifest('clinic', minimalSpec()), status }));
    const backupsDir = path.join(dir, 'backups');
    await mkdir(backupsDir);
    await writeFile(path.join(backupsDir, 'clinic-1.manifest.json'), JSON.stringify(manifestOf('clinic', 'clinic-1', '2026-11-22T02:05:00Z')));
    await writeFile(path.join(backupsDir, 'other-1.manifest.json'), JSON.stringify(manifestOf('other-tenant', 'other-1', '2026-11-22T02:05:00Z')));
    const io = capture();
    expect(await reportCommand(io, ['-f', file, '--backups', backupsDir, '--now', NOW])).toBe(0);
    expect(io.stderr()).toBe('');
    const out = io.stdout();
    expect(out).toContain(`| Status from | the file ${file} |`);
    expect(out).toContain('**NO** | `LastBackupFailed`');
    expect(out).toContain('| `clinic-1` | 2026-11-22T02:05:00Z | succeeded | 2.0 KiB | `' + 'b'.repeat(64) + '` | 2 | 42 | not run |');
    expect(out).not.toContain('other-1');
  });

  it('names the field of an invalid tenant and exits 1; refuses a bad --now', async () => {
    const file = path.join(dir, 'bad.yaml');
    await writeFile(file, yaml.dump(chatTenantManifest('clinic', minimalSpec({ messaging: { replicas: 0 } }))));
    const io = capture();
    expect(await reportCommand(io, ['-f', file])).toBe(1);
    expect(io.stderr()).toContain('spec.messaging.replicas');
    const io2 = capture();
    expect(await reportCommand(io2, ['-f', file, '--now', 'yesterday'])).toBe(2);
  });

  it('ignores a status that is not a ChatTenant status, and says so', async () => {
    const file = path.join(dir, 'odd-status.yaml');
    await writeFile(file, yaml.dump({ ...chatTenantManifest('clinic', minimalSpec()), status: { phase: 'Exploded' } }));
    const io = capture();
    expect(await reportCommand(io, ['-f', file, '--now', NOW])).toBe(0);
    expect(io.stderr()).toContain('status is not a ChatTenant status');
    expect(io.stdout()).toContain('**Status:** not observed');
  });
});

describe('identity in the auditor report', () => {
  it('an internal tenant says so', () => {
    expect(renderEvidenceReport(input())).toContain('identity source: `Internal`');
  });

  it('a directory tenant lists the source, the access group and the leaver window, never the bind password', () => {
    const t = tenantFixture('clinic', minimalSpec({ identity: directoryIdentity({ cacheSeconds: 45, sessionCheckSeconds: 30 }) }));
    const bindPassword = 'bind-secret-5b1e77';
    const report = renderEvidenceReport(input(t, { ...markedMaterial(t), directoryBind: { bindDN: 'CN=svc,DC=h,DC=example', password: bindPassword } }));
    expect(report).toContain('identity source: `Directory`: `dc1.hospital.example`, `dc2.hospital.example` port 636, `ldap_encrypt` `tls`, `ldap_tls_verify` `hard`');
    expect(report).toContain('access group (`ldap_filter`): `(memberOf=CN=Chat Users,OU=Groups,DC=hospital,DC=example)`');
    expect(report).toContain('leaver window: sign-in refused at most 45 s after removal (auth cache); open sessions ended at most 75 s after removal');
    expect(report).not.toContain(bindPassword);
  });
});
