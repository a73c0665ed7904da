import { randomBytes } from 'node:crypto';
import type { ChatTenant, OperatorSettings } from '../api/index.js';
import { adminJids, adminSecretKey, DATABASE_CLIENT_COMMON_NAME, databaseDnsNames, messagingDnsNames, names, type KeyPairPem, type TenantCertificates, type TenantMaterial } from '../render/index.js';
import { planCertificates, type CertificatePlan, type LeafRequest } from './certificates.js';

// Secret material of a tenant: read from the Secrets that exist, generated only where missing.
// A value that exists is never regenerated (a new database password or backup key would lock the
// tenant out of its own data); rotation is an explicit action, not a side effect of reconcile.

/** Decoded `data` of the tenant's Secrets, by Secret name, as observed in the cluster. */
export type ObservedSecrets = ReadonlyMap<string, Readonly<Record<string, string>>>;

export interface ResolvedMaterial {
  material: TenantMaterial;
  /** Names of values generated now (for an Event); never the values. */
  generated: string[];
  issued: CertificatePlan['issued'];
}

export type RandomSource = (bytes: number) => Buffer;

const password = (random: RandomSource) => random(24).toString('base64url');

/**
 * What each certificate must cover. `databaseServiceIPs` are the ClusterIPs of the database Services:
 * ejabberd verifies PostgreSQL's certificate against the address it dialled, not the host name
 * (processone/ejabberd#4180), so the database certificate carries them as IP SANs too.
 */
export function leafRequests(tenant: ChatTenant, settings: OperatorSettings, databaseServiceIPs: readonly string[] = []): Record<'messaging' | 'database' | 'databaseClient', LeafRequest> {
  const messaging = messagingDnsNames(tenant, settings);
  const database = databaseDnsNames(tenant, settings);
  return {
    messaging: { commonName: tenant.spec.xmppDomains[0]!, dnsNames: messaging, usage: 'peer' },
    database: { commonName: database[0]!, dnsNames: database, usage: 'server', ...(databaseServiceIPs.length > 0 ? { ipAddresses: [...databaseServiceIPs].sort() } : {}) },
    databaseClient: { commonName: DATABASE_CLIENT_COMMON_NAME, dnsNames: [], usage: 'client' },
  };
}

function pairFrom(data: Readonly<Record<string, string>> | undefined, certKey: string, keyKey: string): KeyPairPem | undefined {
  const certPem = data?.[certKey];
  const keyPem = data?.[keyKey];
  return certPem && keyPem ? { certPem, keyPem } : undefined;
}

function observedCertificates(observed: ObservedSecrets): Partial<TenantCertificates> {
  const out: Partial<TenantCertificates> = {};
  const ca = pairFrom(observed.get(names.tls.caSecret), 'ca.crt', 'ca.key');
  const messaging = pairFrom(observed.get(names.messaging.tlsSecret), 'tls.crt', 'tls.key');
  const database = pairFrom(observed.get(names.database.tlsSecret), 'tls.crt', 'tls.key');
  const databaseClient = pairFrom(observed.get(names.database.clientTlsSecret), 'tls.crt', 'tls.key');
  if (ca) out.ca = ca;
  if (messaging) out.messaging = messaging;
  if (database) out.database = database;
  if (databaseClient) out.databaseClient = databaseClient;
  return out;
}

export async function resolveMaterial(
  tenant: ChatTenant,
  settings: OperatorSettings,
  observed: ObservedSecrets,
  now: Date,
  random: RandomSource = randomBytes,
  databaseServiceIPs: readonly string[] = [],
): Promise<ResolvedMaterial> {
  const generated: string[] = [];
  const take = (secretName: string, key: string, make: () => string): string => {
    const existing = observed.get(secretName)?.[key];
    if (existing !== undefined && existing !== '') return existing;
    generated.push(`${secretName}/${key}`);
    return make();
  };
  const adminPasswords: Record<string, string> = {};
  for (const jid of adminJids(tenant)) adminPasswords[jid] = take(names.messaging.adminSecret, adminSecretKey(jid), () => password(random));
  const material: TenantMaterial = {
    // An Erlang cookie is an atom: hex keeps it within the characters every shell and tool accepts.
    erlangCookie: take(names.messaging.cookieSecret, 'cookie', () => random(20).toString('hex')),
    databaseSuperuserPassword: take(names.database.superuserSecret, 'password', () => password(random)),
    databaseAppPassword: take(names.database.appSecret, 'password', () => password(random)),
    adminPasswords,
    backupKey: take(names.backup.keySecret, 'key', () => random(32).toString('base64')),
  };
  let issued: CertificatePlan['issued'] = [];
  if (tenant.spec.tls.mode === 'OperatorCA') {
    const plan = await planCertificates(tenant.metadata.name, observedCertificates(observed), leafRequests(tenant, settings, databaseServiceIPs), now, tenant.spec.tls.renewBeforeDays);
    material.certificates = plan.certificates;
    issued = plan.issued;
  }
  return { material, generated, issued };
}
