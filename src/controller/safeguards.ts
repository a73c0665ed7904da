import yaml from 'js-yaml';
import type { DirectoryProbe } from './directory-probe.js';
import type { IdentityInForce } from './identity-facts.js';
import { backupStorageClass, SAFEGUARD_NAMES, type ChatTenant, type OperatorSettings, type Safeguard, type SafeguardName } from '../api/index.js';
import { names, renderNetworkPolicies } from '../render/index.js';
import { inspectCertificate } from './certificates.js';
import { longestGapMinutes } from './cron-period.js';
import type { DistributionEncryption } from './distribution-security.js';

// Which HIPAA technical safeguards (45 CFR 164.312) hold for a tenant right now, computed from the
// spec and from facts the controller observed in the cluster. Pure: the controller gathers the facts
// (src/kube), this module only judges them, so every verdict is reproducible in a unit test.
// A fact the controller could not observe never counts as met: the safeguard does not hold and the
// reason says what is unknown.

// ---- Encryption at rest: which StorageClasses count as encrypted -------------------------------

/** The parts of a storage.k8s.io/v1 StorageClass the decision reads. */
export interface StorageClassObject {
  metadata: { name: string; annotations?: Record<string, string> };
  provisioner?: string;
  parameters?: Record<string, string>;
}

/**
 * How the decision was reached. Kubernetes cannot tell whether a volume is encrypted, so the platform
 * team vouches for it, either by listing the class in the operator settings or by annotating the
 * class. An explicit annotation "false" wins over the allow-list: it is a statement about the class
 * itself, made by whoever manages it, and the safe reading of a contradiction is "not encrypted".
 */
export type EncryptionDecision = 'AllowList' | 'Annotation' | 'MarkedUnencrypted' | 'NotMarked' | 'NotFound';

export interface StorageClassEncryption {
  encrypted: boolean;
  how: EncryptionDecision;
}

export function storageClassEncryption(storageClass: StorageClassObject | undefined, settings: OperatorSettings): StorageClassEncryption {
  if (!storageClass) return { encrypted: false, how: 'NotFound' };
  const mark = storageClass.metadata.annotations?.[settings.encryptedStorageClassAnnotation];
  if (mark === 'false') return { encrypted: false, how: 'MarkedUnencrypted' };
  if (settings.encryptedStorageClasses.includes(storageClass.metadata.name)) return { encrypted: true, how: 'AllowList' };
  if (mark === 'true') return { encrypted: true, how: 'Annotation' };
  return { encrypted: false, how: 'NotMarked' };
}

/** StorageClasses whose volumes hold the tenant's data, with the spec field that names each. */
export function tenantStorageClasses(tenant: ChatTenant): Array<{ name: string; field: string }> {
  const out = [{ name: tenant.spec.database.storage.storageClassName, field: 'spec.database.storage.storageClassName' }];
  const backup = tenant.spec.backup.target.pvc;
  if (backup) {
    const name = backupStorageClass(tenant.spec);
    if (name !== out[0]!.name) out.push({ name, field: 'spec.backup.target.pvc.storageClassName' });
  }
  return out;
}

// ---- The facts ----------------------------------------------------------------------------------

export interface CertificateObservation {
  /** RFC 3339 expiry of the serving certificate in the Secret the pods mount. */
  notAfter: string;
  /** The certificate covers every name it must (messagingDnsNames / databaseDnsNames). */
  coversNames: boolean;
}

/**
 * The observation of a serving certificate from its PEM (the tls.crt the pods mount) and the names it
 * must cover (messagingDnsNames / databaseDnsNames); undefined when the PEM cannot be read.
 */
export function observeCertificate(certPem: string | undefined, requiredNames: readonly string[]): CertificateObservation | undefined {
  if (!certPem) return undefined;
  try {
    const facts = inspectCertificate(certPem);
    const covered = new Set(facts.dnsNames);
    return { notAfter: facts.notAfter.toISOString(), coversNames: requiredNames.every((n) => covered.has(n)) };
  } catch {
    return undefined;
  }
}

export interface BackupObservation {
  /** RFC 3339 completion time of the most recent backup Job. */
  time: string;
  succeeded: boolean;
  /** Checksums re-read and a test restore passed (true), failed (false), or were not reported. */
  verified?: boolean;
}

/**
 * What the controller saw in the cluster. Optional facts are "not observed (yet)"; each is read from
 * the tenant's own objects, never from another tenant's.
 */
export interface ObservedFacts {
  /** When the facts were read (RFC 3339); certificate expiry and backup age are measured from it. */
  observedAt: string;
  /** The tenant namespace exists and carries this ChatTenant's owner reference and labels. */
  namespaceOwned?: boolean;
  /** storageClassEncryption() of each class in tenantStorageClasses(), by class name. */
  storageClasses: Readonly<Record<string, StorageClassEncryption>>;
  /** The backup key Secret exists and holds a 32-byte key. */
  backupKeyPresent?: boolean;
  /** Names of the NetworkPolicies present in the tenant namespace. */
  networkPolicies?: readonly string[];
  /** The ejabberd configuration the pods run is the one the operator rendered for this generation. */
  messagingConfigCurrent?: boolean;
  /** The PostgreSQL configuration (parameters, pg_hba) in effect is the one the operator rendered. */
  databaseConfigCurrent?: boolean;
  /** PostgreSQL accepts only TLS connections with SCRAM (ssl on, pg_hba hostssl + reject). */
  databaseTlsEnforced?: boolean;
  /** How ejabberd nodes talk to each other, per the configuration the pods mount (distributionEncryptionOf). */
  distributionEncryption?: DistributionEncryption;
  /** The identity source the running ejabberd configuration uses (identityInForceOf). */
  identity?: IdentityInForce;
  /** Directory tenants: the operator's last TLS probe of the directory servers (no bind). */
  directoryProbe?: DirectoryProbe;
  /** Idle session timeout the running ejabberd configuration enforces; undefined when it enforces none. */
  idleSessionTimeoutMinutes?: number;
  certificates: { messaging?: CertificateObservation; database?: CertificateObservation };
  lastBackup?: BackupObservation;
}

/**
 * The idle session timeout an ejabberd.yml enforces, in minutes (mod_idle_logoff's timeout is in
 * seconds), or undefined when it enforces none. The controller reads it from the configuration the
 * pods mount, so AutomaticLogoff is judged on what runs, not on what the spec asks for.
 */
export function idleSessionTimeoutMinutesOf(ejabberdYaml: string): number | undefined {
  let config: unknown;
  try {
    config = yaml.load(ejabberdYaml);
  } catch {
    return undefined;
  }
  const modules = (config as { modules?: Record<string, unknown> } | undefined)?.modules;
  const timeout = (modules?.['mod_idle_logoff'] as { timeout?: unknown } | undefined)?.timeout;
  return typeof timeout === 'number' && timeout > 0 ? Math.ceil(timeout / 60) : undefined;
}

// ---- The verdicts -------------------------------------------------------------------------------

interface Problem {
  reason: string;
  message: string;
}

function verdict(name: SafeguardName, problems: Problem[], ok: Problem): Safeguard {
  if (problems.length === 0) return { name, holds: true, reason: ok.reason, message: ok.message };
  return { name, holds: false, reason: problems[0]!.reason, message: problems.map((p) => p.message).join('; ') };
}

const MESSAGING_CONFIG_NOT_APPLIED: Problem = { reason: 'MessagingConfigNotApplied', message: 'the ejabberd pods do not (yet) run the configuration the operator rendered for this generation' };
const DATABASE_TLS_NOT_ENFORCED: Problem = { reason: 'DatabaseTlsNotEnforced', message: 'PostgreSQL is not observed to accept TLS-only connections (ssl on, pg_hba hostssl with scram-sha-256, everything else rejected)' };

function notObserved(what: string): Problem {
  return { reason: `${what}NotObserved`, message: `${what.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase()} has not been observed yet` };
}

function accessControl(tenant: ChatTenant, facts: ObservedFacts): Safeguard {
  const problems: Problem[] = [];
  if (facts.namespaceOwned === undefined) problems.push(notObserved('Namespace'));
  else if (!facts.namespaceOwned) problems.push({ reason: 'NamespaceNotOwned', message: `namespace "${tenant.metadata.name}" is not owned by this ChatTenant` });
  if (facts.networkPolicies === undefined) problems.push(notObserved('NetworkPolicies'));
  else if (!facts.networkPolicies.includes(names.network.defaultDeny)) problems.push({ reason: 'DefaultDenyMissing', message: `NetworkPolicy ${names.network.defaultDeny} is missing: the namespace is not closed by default` });
  if (facts.messagingConfigCurrent !== true) problems.push(MESSAGING_CONFIG_NOT_APPLIED);
  problems.push(...identityProblems(facts));
  const admins = tenant.spec.messaging.admins.length;
  return verdict('AccessControl', problems, {
    reason: 'UniqueAccountsNoAnonymousAccess',
    message:
      `${identityStatement(facts.identity)}; anonymous login and in-band registration are disabled; ` +
      `${admins} administrator account(s) from spec.messaging.admins; the tenant namespace denies all traffic by default (${names.network.defaultDeny})`,
  });
}

/** What AccessControl says about who signs in, from the running configuration. */
function identityStatement(identity: IdentityInForce | undefined): string {
  if (identity?.source !== 'Directory') return "identity source Internal: each user has an own account in the tenant's own database";
  return (
    `identity source Directory: staff sign in with the hospital directory over LDAPS, verified against its CA, only when ${identity.accessFilter} admits them; ` +
    `a leaver can sign in for at most ${identity.cacheSeconds} s and keeps an open session for at most ${(identity.cacheSeconds ?? 0) + (identity.sessionCheckSeconds ?? 0)} s`
  );
}

function identityProblems(facts: ObservedFacts): Problem[] {
  const identity = facts.identity;
  if (identity?.source !== 'Directory') return [];
  const problems: Problem[] = [];
  if (!identity.encrypted || !identity.verified) problems.push({ reason: 'DirectoryNotVerified', message: 'the running ejabberd configuration does not require a verified LDAPS connection to the directory' });
  if (!identity.accessFilter) problems.push({ reason: 'DirectoryAdmitsEveryone', message: 'the running ejabberd configuration has no access filter: every account of the directory may sign in' });
  if (identity.sessionCheckSeconds === undefined) problems.push({ reason: 'LeaverSessionsNotChecked', message: 'open sessions are never checked against the directory: a leaver keeps a session until it ends' });
  if (facts.directoryProbe && !facts.directoryProbe.verified) {
    problems.push({ reason: facts.directoryProbe.reachable ? 'DirectoryNotVerified' : 'DirectoryUnreachable', message: `the directory did not pass the operator's TLS check: ${facts.directoryProbe.message}` });
  }
  return problems;
}

function automaticLogoff(tenant: ChatTenant, facts: ObservedFacts): Safeguard {
  const wanted = tenant.spec.messaging.idleSessionTimeoutMinutes;
  const problems: Problem[] = [];
  if (facts.messagingConfigCurrent !== true) problems.push(MESSAGING_CONFIG_NOT_APPLIED);
  else if (facts.idleSessionTimeoutMinutes === undefined) {
    problems.push({ reason: 'IdleTimeoutNotEnforced', message: `spec.messaging.idleSessionTimeoutMinutes is ${wanted}, but the running ejabberd configuration enforces no idle session timeout` });
  } else if (facts.idleSessionTimeoutMinutes > wanted) {
    problems.push({ reason: 'IdleTimeoutTooLong', message: `ejabberd closes idle sessions after ${facts.idleSessionTimeoutMinutes} minutes, longer than spec.messaging.idleSessionTimeoutMinutes (${wanted})` });
  }
  return verdict('AutomaticLogoff', problems, { reason: 'IdleSessionTimeout', message: `idle client sessions are closed after ${facts.idleSessionTimeoutMinutes} minutes (spec.messaging.idleSessionTimeoutMinutes: ${wanted})` });
}

const HOW_TEXT: Record<EncryptionDecision, string> = {
  AllowList: 'listed in the operator setting encryptedStorageClasses',
  Annotation: 'annotated as encrypted',
  MarkedUnencrypted: 'annotated as NOT encrypted',
  NotMarked: 'neither listed in encryptedStorageClasses nor annotated as encrypted',
  NotFound: 'does not exist',
};

function encryptionAtRest(tenant: ChatTenant, facts: ObservedFacts, settings: OperatorSettings): Safeguard {
  const problems: Problem[] = [];
  const met: string[] = [];
  for (const { name, field } of tenantStorageClasses(tenant)) {
    const decision = facts.storageClasses[name];
    if (!decision) problems.push({ reason: 'StorageClassNotObserved', message: `StorageClass "${name}" (${field}) has not been observed yet` });
    else if (!decision.encrypted) {
      const hint = decision.how === 'NotFound' ? '' : ` (list it in encryptedStorageClasses or annotate it ${settings.encryptedStorageClassAnnotation}="true" once its volumes are encrypted)`;
      problems.push({ reason: decision.how === 'NotFound' ? 'StorageClassNotFound' : 'StorageClassNotEncrypted', message: `StorageClass "${name}" (${field}) ${HOW_TEXT[decision.how]}${hint}` });
    } else met.push(`StorageClass "${name}" is ${HOW_TEXT[decision.how]}`);
  }
  if (facts.backupKeyPresent === undefined) problems.push(notObserved('BackupKey'));
  else if (!facts.backupKeyPresent) problems.push({ reason: 'BackupKeyMissing', message: `Secret ${names.backup.keySecret} with the tenant's backup key is missing` });
  return verdict('EncryptionAtRest', problems, {
    reason: 'EncryptedStorageAndBackups',
    message: `${met.join('; ')}; backups are encrypted with the tenant's own AES-256-GCM key (Secret ${names.backup.keySecret})`,
  });
}

function auditControls(facts: ObservedFacts): Safeguard {
  const problems: Problem[] = [];
  if (facts.databaseConfigCurrent !== true) problems.push({ reason: 'DatabaseConfigNotApplied', message: 'PostgreSQL does not (yet) run the configuration the operator rendered (connection and DDL logging)' });
  if (facts.messagingConfigCurrent !== true) problems.push(MESSAGING_CONFIG_NOT_APPLIED);
  return verdict('AuditControls', problems, {
    reason: 'AuditLoggingConfigured',
    message:
      'PostgreSQL logs every connection, disconnection and DDL statement with user, database and client address; ejabberd logs sessions at level info; ' +
      'the operator records Kubernetes Events, and the API server keeps managed fields of every change to the ChatTenant',
  });
}

/** Grace on top of the longest gap between scheduled runs: a backup takes time to run. */
const BACKUP_GRACE_MINUTES = 6 * 60;

function integrity(tenant: ChatTenant, facts: ObservedFacts): Safeguard {
  const { backup } = tenant.spec;
  const problems: Problem[] = [];
  const last = facts.lastBackup;
  if (backup.suspend) problems.push({ reason: 'BackupsSuspended', message: 'scheduled backups are suspended (spec.backup.suspend)' });
  if (!last) problems.push({ reason: 'NoBackupYet', message: 'no backup has completed yet' });
  else if (!last.succeeded) problems.push({ reason: 'LastBackupFailed', message: `the most recent backup (${last.time}) failed` });
  else {
    if (last.verified === false) problems.push({ reason: 'BackupVerificationFailed', message: `the most recent backup (${last.time}) failed verification` });
    const ageMinutes = (Date.parse(facts.observedAt) - Date.parse(last.time)) / 60_000;
    const limit = longestGapMinutes(backup.schedule) + BACKUP_GRACE_MINUTES;
    if (!(ageMinutes <= limit)) problems.push({ reason: 'BackupOverdue', message: `the last successful backup (${last.time}) is older than schedule "${backup.schedule}" allows (${Math.round(limit / 60)} hours)` });
  }
  const verified = last?.verified === true;
  return verdict('Integrity', problems, {
    reason: verified ? 'BackupVerified' : 'BackupSucceeded',
    message:
      `the last backup (${last?.time}) succeeded${verified ? ' and was verified' : ''}; each backup is sealed with AES-256-GCM (tamper-evident) and listed with its SHA-256 checksum; ` +
      'PostgreSQL runs with data checksums',
  });
}

function certificateProblems(which: 'messaging' | 'database', cert: CertificateObservation | undefined, now: number): Problem[] {
  const label = which === 'messaging' ? 'messaging (XMPP) certificate' : 'database certificate';
  if (!cert) return [{ reason: 'CertificateMissing', message: `the ${label} has not been observed` }];
  const problems: Problem[] = [];
  if (!(Date.parse(cert.notAfter) > now)) problems.push({ reason: 'CertificateExpired', message: `the ${label} expired at ${cert.notAfter}` });
  if (!cert.coversNames) problems.push({ reason: 'CertificateNamesMismatch', message: `the ${label} does not cover every name clients use` });
  return problems;
}

function personOrEntityAuthentication(facts: ObservedFacts): Safeguard {
  const problems: Problem[] = [];
  if (facts.messagingConfigCurrent !== true) problems.push(MESSAGING_CONFIG_NOT_APPLIED);
  if (facts.databaseTlsEnforced !== true) problems.push(DATABASE_TLS_NOT_ENFORCED);
  problems.push(...certificateProblems('database', facts.certificates.database, Date.parse(facts.observedAt)));
  return verdict('PersonOrEntityAuthentication', problems, {
    reason: 'ScramAndVerifiedCertificates',
    message:
      'users authenticate with SCRAM (passwords stored as SCRAM hashes, no plain or DIGEST-MD5 mechanisms); PostgreSQL accepts only scram-sha-256 over TLS; ' +
      'ejabberd and the backup job verify the database certificate against the tenant CA and its host name',
  });
}

function transmissionSecurity(tenant: ChatTenant, facts: ObservedFacts, settings: OperatorSettings): Safeguard {
  const now = Date.parse(facts.observedAt);
  const problems: Problem[] = [];
  problems.push(...certificateProblems('messaging', facts.certificates.messaging, now));
  if (facts.messagingConfigCurrent !== true) problems.push(MESSAGING_CONFIG_NOT_APPLIED);
  if (facts.databaseTlsEnforced !== true) problems.push(DATABASE_TLS_NOT_ENFORCED);
  if (facts.distributionEncryption === undefined) problems.push(notObserved('ErlangDistribution'));
  else if (facts.distributionEncryption !== 'MutualTls') {
    problems.push({
      reason: 'DistributionNotMutualTls',
      message:
        facts.distributionEncryption === 'Plaintext'
          ? 'ejabberd nodes exchange messages over plaintext Erlang distribution (cookie only)'
          : 'ejabberd nodes use TLS Erlang distribution without verifying both peers against the tenant CA',
    });
  }
  const expected = renderNetworkPolicies(tenant, settings).map((p) => p.metadata.name);
  if (facts.networkPolicies === undefined) problems.push(notObserved('NetworkPolicies'));
  else {
    const missing = expected.filter((n) => !facts.networkPolicies!.includes(n));
    if (missing.length > 0) problems.push({ reason: 'NetworkPoliciesMissing', message: `NetworkPolicies missing: ${missing.join(', ')}` });
  }
  return verdict('TransmissionSecurity', problems, {
    reason: 'TlsOnlyAndNetworkPolicies',
    message:
      'clients connect over TLS 1.2 or newer only (STARTTLS required on 5222, direct TLS on 5223 and 5443, no plaintext port); the database accepts TLS only; ' +
      'ejabberd nodes (and ejabberdctl) talk over TLS Erlang distribution, each side verified against the tenant CA; ' +
      `${expected.length} NetworkPolicies deny every flow but the intended ones (${expected.join(', ')})`,
  });
}

/** The seven safeguards in SAFEGUARD_NAMES order, each with whether it holds and why. */
export function computeSafeguards(tenant: ChatTenant, observed: ObservedFacts, settings: OperatorSettings): Safeguard[] {
  const byName: Record<SafeguardName, Safeguard> = {
    AccessControl: accessControl(tenant, observed),
    AutomaticLogoff: automaticLogoff(tenant, observed),
    EncryptionAtRest: encryptionAtRest(tenant, observed, settings),
    AuditControls: auditControls(observed),
    Integrity: integrity(tenant, observed),
    PersonOrEntityAuthentication: personOrEntityAuthentication(observed),
    TransmissionSecurity: transmissionSecurity(tenant, observed, settings),
  };
  return SAFEGUARD_NAMES.map((name) => byName[name]);
}
