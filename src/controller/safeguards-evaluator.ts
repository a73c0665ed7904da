import type { ChatTenant, OperatorSettings, Safeguard } from '../api/index.js';
import type { TenantFacts } from './status.js';

// status.safeguards from the spec and the observed facts: for each HIPAA technical safeguard
// (45 CFR 164.312), whether it holds for this tenant now, and why not where it does not.

const holds = (name: Safeguard['name'], reason: string, message: string): Safeguard => ({ name, holds: true, reason, message });
const fails = (name: Safeguard['name'], reason: string, message: string): Safeguard => ({ name, holds: false, reason, message });

export function evaluateSafeguards(tenant: ChatTenant, facts: TenantFacts, _settings: OperatorSettings, _now: Date): Safeguard[] {
  const m = tenant.spec.messaging;
  const out: Safeguard[] = [];
  out.push(
    facts.messaging.status === 'True'
      ? holds('AccessControl', 'AccountsInTenantDatabase', `Accounts live in the tenant's own database; no anonymous login, no in-band registration; ${m.admins.length} admin account(s) from spec.`)
      : fails('AccessControl', 'MessagingNotReady', `The messaging server is not serving: ${facts.messaging.message}`),
  );
  out.push(holds('AutomaticLogoff', 'IdleTimeoutConfigured', `Idle client sessions are closed after ${m.idleSessionTimeoutMinutes} minute(s).`));
  if (facts.database.storageEncrypted === false) {
    out.push(fails('EncryptionAtRest', 'StorageNotEncrypted', facts.database.message));
  } else if (facts.certificates.status !== 'True') {
    out.push(fails('EncryptionAtRest', 'CertificatesNotReady', facts.certificates.message));
  } else {
    out.push(holds('EncryptionAtRest', 'EncryptedStorageAndBackups', `Storage class "${tenant.spec.database.storage.storageClassName}" is marked encrypted; backups are encrypted with AES-256-GCM under the tenant's own key.`));
  }
  out.push(holds('AuditControls', 'AuditTrail', 'ejabberd logs logins and admin actions, PostgreSQL logs connections and DDL, the operator records Events; managed fields record who changed what.'));
  out.push(
    facts.backup.lastResult === 'Failed'
      ? fails('Integrity', 'LastBackupFailed', facts.backup.message)
      : holds('Integrity', 'BackupsChecksummed', 'Backups carry SHA-256 checksums and authenticated encryption; restore verifies them before writing.'),
  );
  out.push(
    facts.database.status === 'True'
      ? holds('PersonOrEntityAuthentication', 'ScramAndVerifiedTls', 'Passwords are stored as SCRAM; database connections verify the server certificate (verify-full).')
      : fails('PersonOrEntityAuthentication', 'DatabaseNotReady', facts.database.message),
  );
  out.push(
    facts.network.status === 'True' && facts.certificates.status === 'True'
      ? holds('TransmissionSecurity', 'TlsOnlyAndNetworkPolicies', 'TLS 1.2+ only (STARTTLS required, no plaintext ports); default-deny network policies allow only the intended flows.')
      : fails('TransmissionSecurity', facts.network.status !== 'True' ? 'NetworkPoliciesMissing' : 'CertificatesNotReady', facts.network.status !== 'True' ? facts.network.message : facts.certificates.message),
  );
  return out;
}
