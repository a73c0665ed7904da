import { describe, expect, it } from 'vitest';
import { defaultSettings, SAFEGUARD_NAMES, type ChatTenant, type Safeguard, type SafeguardName } from '../../src/api/index.js';
import { computeSafeguards, idleSessionTimeoutMinutesOf, observeCertificate, storageClassEncryption, tenantStorageClasses, type ObservedFacts, type StorageClassObject } from '../../src/controller/safeguards.js';
import { issueLeaf, issueTenantCa } from '../../src/controller/certificates.js';
import { names, placeholderMaterial, renderNetworkPolicies, renderTenant } from '../../src/render/index.js';
import { minimalSpec, tenantFixture } from '../support/tenants.js';

const ANNOTATION = 'chat.tenant-operator.dev/encrypted';
const settings = defaultSettings({ encryptedStorageClasses: ['encrypted-ssd'] });

const storageClass = (name: string, annotations?: Record<string, string>): StorageClassObject => ({ metadata: { name, ...(annotations ? { annotations } : {}) }, provisioner: 'csi.example' });

describe('storageClassEncryption', () => {
  it.each<[string, StorageClassObject | undefined, { encrypted: boolean; how: string }]>([
    ['listed in the allow-list', storageClass('encrypted-ssd'), { encrypted: true, how: 'AllowList' }],
    ['annotated "true"', storageClass('ceph-encrypted', { [ANNOTATION]: 'true' }), { encrypted: true, how: 'Annotation' }],
    ['listed and annotated "true"', storageClass('encrypted-ssd', { [ANNOTATION]: 'true' }), { encrypted: true, how: 'AllowList' }],
    ['annotated "false" although listed: the statement about the class wins', storageClass('encrypted-ssd', { [ANNOTATION]: 'false' }), { encrypted: false, how: 'MarkedUnencrypted' }],
    ['annotated with anything but "true"', storageClass('fast', { [ANNOTATION]: 'yes' }), { encrypted: false, how: 'NotMarked' }],
    ['another annotation key', storageClass('fast', { 'example.com/encrypted': 'true' }), { encrypted: false, how: 'NotMarked' }],
    ['neither listed nor annotated', storageClass('standard'), { encrypted: false, how: 'NotMarked' }],
    ['missing StorageClass, even if listed', undefined, { encrypted: false, how: 'NotFound' }],
  ])('%s', (_name, sc, expected) => {
    expect(storageClassEncryption(sc, settings)).toEqual(expected);
  });

  it('follows the annotation key from the settings', () => {
    const custom = defaultSettings({ encryptedStorageClassAnnotation: 'storage.hospital.example/encrypted-at-rest' });
    expect(storageClassEncryption(storageClass('a', { 'storage.hospital.example/encrypted-at-rest': 'true' }), custom)).toEqual({ encrypted: true, how: 'Annotation' });
    expect(storageClassEncryption(storageClass('a', { [ANNOTATION]: 'true' }), custom)).toEqual({ encrypted: false, how: 'NotMarked' });
  });
});

describe('tenantStorageClasses', () => {
  it('names the database class, and the backup class only when it differs', () => {
    expect(tenantStorageClasses(tenantFixture())).toEqual([{ name: 'encrypted-ssd', field: 'spec.database.storage.storageClassName' }]);
    const separate = tenantFixture('clinic', minimalSpec({ backup: { target: { pvc: { storageClassName: 'archive' } } } }));
    expect(tenantStorageClasses(separate).map((c) => c.name)).toEqual(['encrypted-ssd', 'archive']);
    const s3 = tenantFixture('clinic', minimalSpec({ backup: { target: { s3: { endpoint: 'https://s3.local', bucket: 'b-1', credentialsSecret: 's', egressCIDR: '10.0.0.0/24' } } } }));
    expect(tenantStorageClasses(s3).map((c) => c.name)).toEqual(['encrypted-ssd']);
  });
});

describe('idleSessionTimeoutMinutesOf', () => {
  it('reads the timeout from the ejabberd.yml the operator renders', () => {
    const t = tenantFixture('clinic', minimalSpec({ messaging: { idleSessionTimeoutMinutes: 20 } }));
    const config = renderTenant({ tenant: t, material: placeholderMaterial(t), settings, capabilities: { cloudNativePG: true, certManager: true, prometheusOperator: false } }).find(
      (o) => o.kind === 'Secret' && o.metadata.name === names.messaging.configMap,
    )!;
    const yamlText = Buffer.from((config['data'] as Record<string, string>)['ejabberd.yml']!, 'base64').toString('utf8');
    expect(idleSessionTimeoutMinutesOf(yamlText)).toBe(20);
  });

  it.each([
    ['no module', 'modules:\n  mod_ping: {}\n', undefined],
    ['seconds round up to minutes', 'modules:\n  mod_idle_logoff:\n    timeout: 601\n', 11],
    ['zero is no timeout', 'modules:\n  mod_idle_logoff:\n    timeout: 0\n', undefined],
    ['not YAML', '{{{', undefined],
  ])('%s', (_name, text, expected) => {
    expect(idleSessionTimeoutMinutesOf(text)).toBe(expected);
  });
});

describe('observeCertificate', () => {
  it('reads expiry and whether every required name is covered', async () => {
    const ca = await issueTenantCa('clinic', new Date('2026-11-23T00:00:00Z'));
    const leaf = await issueLeaf(ca, { commonName: 'chat.clinic.example', dnsNames: ['chat.clinic.example', 'upload.chat.clinic.example'], usage: 'server' }, new Date('2026-11-23T00:00:00Z'));
    expect(observeCertificate(leaf.certPem, ['chat.clinic.example'])).toEqual({ notAfter: '2027-11-23T00:00:00.000Z', coversNames: true });
    expect(observeCertificate(leaf.certPem, ['chat.clinic.example', 'chat.branch.example'])).toMatchObject({ coversNames: false });
    expect(observeCertificate(undefined, [])).toBeUndefined();
    expect(observeCertificate('garbage', [])).toBeUndefined();
  });
});

const NOW = '2026-11-23T12:00:00Z';

/** Facts under which every safeguard holds for the tenant. */
function healthyFacts(tenant: ChatTenant): ObservedFacts {
  return {
    observedAt: NOW,
    namespaceOwned: true,
    storageClasses: Object.fromEntries(tenantStorageClasses(tenant).map((c) => [c.name, { encrypted: true, how: 'AllowList' as const }])),
    backupKeyPresent: true,
    networkPolicies: renderNetworkPolicies(tenant, settings).map((p) => p.metadata.name),
    messagingConfigCurrent: true,
    databaseConfigCurrent: true,
    databaseTlsEnforced: true,
    distributionEncryption: 'MutualTls',
    idleSessionTimeoutMinutes: tenant.spec.messaging.idleSessionTimeoutMinutes,
    certificates: { messaging: { notAfter: '2027-06-01T00:00:00Z', coversNames: true }, database: { notAfter: '2027-06-01T00:00:00Z', coversNames: true } },
    lastBackup: { time: '2026-11-23T02:05:00Z', succeeded: true, verified: true },
  };
}

function verdicts(tenant: ChatTenant, facts: ObservedFacts): Record<SafeguardName, Safeguard> {
  const out: Partial<Record<SafeguardName, Safeguard>> = {};
  for (const s of computeSafeguards(tenant, facts, settings)) out[s.name] = s;
  return out as Record<SafeguardName, Safeguard>;
}

describe('computeSafeguards', () => {
  const tenant = tenantFixture('clinic', minimalSpec({ messaging: { admins: [{ username: 'admin' }] } }));

  it('returns the seven safeguards in order, each with a CamelCase reason and a message', () => {
    const result = computeSafeguards(tenant, healthyFacts(tenant), settings);
    expect(result.map((s) => s.name)).toEqual([...SAFEGUARD_NAMES]);
    for (const s of result) {
      expect(s.reason).toMatch(/^[A-Z][A-Za-z]+$/);
      expect(s.message.length).toBeGreaterThan(10);
    }
  });

  it('every safeguard holds on healthy facts', () => {
    const result = computeSafeguards(tenant, healthyFacts(tenant), settings);
    expect(result.filter((s) => !s.holds)).toEqual([]);
    expect(Object.fromEntries(result.map((s) => [s.name, s.reason]))).toEqual({
      AccessControl: 'UniqueAccountsNoAnonymousAccess',
      AutomaticLogoff: 'IdleSessionTimeout',
      EncryptionAtRest: 'EncryptedStorageAndBackups',
      AuditControls: 'AuditLoggingConfigured',
      Integrity: 'BackupVerified',
      PersonOrEntityAuthentication: 'ScramAndVerifiedCertificates',
      TransmissionSecurity: 'TlsOnlyAndNetworkPolicies',
    });
  });

  it('a verdict names how it is met', () => {
    const v = verdicts(tenant, healthyFacts(tenant));
    expect(v.AutomaticLogoff.message).toContain('15 minutes');
    expect(v.EncryptionAtRest.message).toContain('StorageClass "encrypted-ssd" is listed in the operator setting encryptedStorageClasses');
    expect(v.AccessControl.message).toContain('1 administrator account(s)');
    expect(v.TransmissionSecurity.message).toContain(names.network.defaultDeny);
    expect(v.TransmissionSecurity.message).toContain('TLS Erlang distribution');
    expect(v.Integrity.message).toContain('2026-11-23T02:05:00Z');
  });

  // One row per way a safeguard fails: the fact that breaks it, the safeguard, the reason, and a
  // fragment of the message. Every other safeguard must keep holding (a fact breaks only its own).
  it.each<[string, (f: ObservedFacts) => ObservedFacts, SafeguardName[], string, string]>([
    ['namespace not ours', (f) => ({ ...f, namespaceOwned: false }), ['AccessControl'], 'NamespaceNotOwned', 'namespace "clinic" is not owned'],
    ['namespace not observed', (f) => ({ ...f, namespaceOwned: undefined }), ['AccessControl'], 'NamespaceNotObserved', 'namespace has not been observed'],
    ['default deny missing', (f) => ({ ...f, networkPolicies: f.networkPolicies!.filter((n) => n !== names.network.defaultDeny) }), ['AccessControl', 'TransmissionSecurity'], 'DefaultDenyMissing', 'default-deny is missing'],
    ['idle timeout not enforced', (f) => ({ ...f, idleSessionTimeoutMinutes: undefined }), ['AutomaticLogoff'], 'IdleTimeoutNotEnforced', 'enforces no idle session timeout'],
    ['idle timeout longer than the spec', (f) => ({ ...f, idleSessionTimeoutMinutes: 60 }), ['AutomaticLogoff'], 'IdleTimeoutTooLong', 'after 60 minutes, longer than spec.messaging.idleSessionTimeoutMinutes (15)'],
    ['messaging config not applied', (f) => ({ ...f, messagingConfigCurrent: false }), ['AccessControl', 'AutomaticLogoff', 'AuditControls', 'PersonOrEntityAuthentication', 'TransmissionSecurity'], 'MessagingConfigNotApplied', 'do not (yet) run the configuration'],
    ['storage class not marked', (f) => ({ ...f, storageClasses: { 'encrypted-ssd': { encrypted: false, how: 'NotMarked' } } }), ['EncryptionAtRest'], 'StorageClassNotEncrypted', 'StorageClass "encrypted-ssd" (spec.database.storage.storageClassName) neither listed'],
    ['storage class marked unencrypted', (f) => ({ ...f, storageClasses: { 'encrypted-ssd': { encrypted: false, how: 'MarkedUnencrypted' } } }), ['EncryptionAtRest'], 'StorageClassNotEncrypted', 'annotated as NOT encrypted'],
    ['storage class missing', (f) => ({ ...f, storageClasses: { 'encrypted-ssd': { encrypted: false, how: 'NotFound' } } }), ['EncryptionAtRest'], 'StorageClassNotFound', 'does not exist'],
    ['storage class not observed', (f) => ({ ...f, storageClasses: {} }), ['EncryptionAtRest'], 'StorageClassNotObserved', 'has not been observed'],
    ['backup key missing', (f) => ({ ...f, backupKeyPresent: false }), ['EncryptionAtRest'], 'BackupKeyMissing', names.backup.keySecret],
    ['database config not applied', (f) => ({ ...f, databaseConfigCurrent: false }), ['AuditControls'], 'DatabaseConfigNotApplied', 'connection and DDL logging'],
    ['no backup yet', (f) => ({ ...f, lastBackup: undefined }), ['Integrity'], 'NoBackupYet', 'no backup has completed'],
    ['last backup failed', (f) => ({ ...f, lastBackup: { time: '2026-11-23T02:05:00Z', succeeded: false } }), ['Integrity'], 'LastBackupFailed', 'failed'],
    ['backup failed verification', (f) => ({ ...f, lastBackup: { time: '2026-11-23T02:05:00Z', succeeded: true, verified: false } }), ['Integrity'], 'BackupVerificationFailed', 'failed verification'],
    ['backup overdue for a daily schedule', (f) => ({ ...f, lastBackup: { time: '2026-11-21T02:05:00Z', succeeded: true, verified: true } }), ['Integrity'], 'BackupOverdue', 'older than schedule "0 2 * * *" allows (30 hours)'],
    ['database TLS not enforced', (f) => ({ ...f, databaseTlsEnforced: false }), ['PersonOrEntityAuthentication', 'TransmissionSecurity'], 'DatabaseTlsNotEnforced', 'TLS-only'],
    ['database certificate expired', (f) => ({ ...f, certificates: { ...f.certificates, database: { notAfter: '2026-11-01T00:00:00Z', coversNames: true } } }), ['PersonOrEntityAuthentication'], 'CertificateExpired', 'database certificate expired at 2026-11-01T00:00:00Z'],
    ['database certificate missing', (f) => ({ ...f, certificates: { messaging: f.certificates.messaging } }), ['PersonOrEntityAuthentication'], 'CertificateMissing', 'database certificate has not been observed'],
    ['messaging certificate expired', (f) => ({ ...f, certificates: { ...f.certificates, messaging: { notAfter: '2026-11-23T11:59:59Z', coversNames: true } } }), ['TransmissionSecurity'], 'CertificateExpired', 'messaging (XMPP) certificate expired'],
    ['messaging certificate for other names', (f) => ({ ...f, certificates: { ...f.certificates, messaging: { notAfter: '2027-06-01T00:00:00Z', coversNames: false } } }), ['TransmissionSecurity'], 'CertificateNamesMismatch', 'does not cover every name'],
    ['a flow policy missing', (f) => ({ ...f, networkPolicies: f.networkPolicies!.filter((n) => n !== names.network.allowDns && n !== names.network.backupEgress) }), ['TransmissionSecurity'], 'NetworkPoliciesMissing', 'NetworkPolicies missing: allow-dns, backup-egress'],
    ['network policies not observed', (f) => ({ ...f, networkPolicies: undefined }), ['AccessControl', 'TransmissionSecurity'], 'NetworkPoliciesNotObserved', 'network policies has not been observed'],
    ['Erlang distribution in plaintext', (f) => ({ ...f, distributionEncryption: 'Plaintext' }), ['TransmissionSecurity'], 'DistributionNotMutualTls', 'plaintext Erlang distribution'],
    ['Erlang distribution without peer verification', (f) => ({ ...f, distributionEncryption: 'TlsWithoutPeerVerification' }), ['TransmissionSecurity'], 'DistributionNotMutualTls', 'without verifying both peers'],
    ['Erlang distribution not observed', (f) => ({ ...f, distributionEncryption: undefined }), ['TransmissionSecurity'], 'ErlangDistributionNotObserved', 'erlang distribution has not been observed'],
  ])('%s', (_name, breakIt, broken, reason, fragment) => {
    const v = verdicts(tenant, breakIt(healthyFacts(tenant)));
    for (const name of SAFEGUARD_NAMES) expect(v[name].holds, name).toBe(!broken.includes(name));
    expect(v[broken[0]!].reason).toBe(reason);
    expect(v[broken[0]!].message).toContain(fragment);
  });

  it('suspended backups break Integrity, whatever the last backup did', () => {
    const suspended = tenantFixture('clinic', minimalSpec({ backup: { suspend: true } }));
    const v = verdicts(suspended, healthyFacts(suspended));
    expect(v.Integrity).toMatchObject({ holds: false, reason: 'BackupsSuspended' });
  });

  it('backup age is judged by the schedule: a weekly schedule tolerates six days', () => {
    const weekly = tenantFixture('clinic', minimalSpec({ backup: { schedule: '0 3 * * 0' } }));
    const sixDaysOld = { ...healthyFacts(weekly), lastBackup: { time: '2026-11-17T12:00:00Z', succeeded: true } };
    expect(verdicts(weekly, sixDaysOld).Integrity).toMatchObject({ holds: true, reason: 'BackupSucceeded' });
    const eightDaysOld = { ...sixDaysOld, lastBackup: { time: '2026-11-15T11:00:00Z', succeeded: true } };
    expect(verdicts(weekly, eightDaysOld).Integrity).toMatchObject({ holds: false, reason: 'BackupOverdue' });
  });

  it('a separate backup storage class must be encrypted too', () => {
    const separate = tenantFixture('clinic', minimalSpec({ backup: { target: { pvc: { storageClassName: 'archive' } } } }));
    const facts = { ...healthyFacts(separate), storageClasses: { 'encrypted-ssd': { encrypted: true, how: 'AllowList' as const }, archive: { encrypted: false, how: 'NotMarked' as const } } };
    const v = verdicts(separate, facts);
    expect(v.EncryptionAtRest).toMatchObject({ holds: false, reason: 'StorageClassNotEncrypted' });
    expect(v.EncryptionAtRest.message).toContain('StorageClass "archive" (spec.backup.target.pvc.storageClassName)');
  });

  it('CloudNativePG tenants need their CloudNativePG policy for TransmissionSecurity', () => {
    const cnpg = tenantFixture('clinic', minimalSpec({ database: { provider: 'cloudnative-pg', storage: { storageClassName: 'encrypted-ssd' } } }));
    const facts = healthyFacts(cnpg);
    expect(verdicts(cnpg, facts).TransmissionSecurity.holds).toBe(true);
    const without = { ...facts, networkPolicies: facts.networkPolicies!.filter((n) => n !== names.network.databaseFromCnpg) };
    expect(verdicts(cnpg, without).TransmissionSecurity).toMatchObject({ holds: false, reason: 'NetworkPoliciesMissing' });
  });

  it('reports every problem of a safeguard in its message, the first one as the reason', () => {
    const v = verdicts(tenant, { ...healthyFacts(tenant), databaseTlsEnforced: false, certificates: {} });
    expect(v.PersonOrEntityAuthentication.reason).toBe('DatabaseTlsNotEnforced');
    expect(v.PersonOrEntityAuthentication.message).toContain('database certificate has not been observed');
  });
});
