import { tenantNamespace, type ChatTenant } from '../api/index.js';
import { tlsSecretNames, type TenantCertificates } from '../render/index.js';
import type { Json } from '../kube/client.js';
import type { ReconcileContext } from './context.js';
import type { CertificatePems, LiveWorld } from './observe.js';

// The TLS Secrets the tenant's pods mount, read as they are now. With tls.mode Provided and
// CertManager the platform (or cert-manager) writes them: they carry no operator label, so no cache
// holds them, and they are read from the API server once per reconcile. What they hold drives the pods'
// roll (a checksum in the pod template) and what status says the pods serve.

export type TlsSecrets = Map<string, Json | undefined>;

const field = (secret: Json | undefined, key: string): string | undefined => {
  const value = ((secret?.['data'] ?? {}) as Record<string, string>)[key];
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
};

/** The Secrets of tls.mode Provided and CertManager (none with OperatorCA: the operator writes those). */
export async function readPlatformTlsSecrets(ctx: ReconcileContext, tenant: ChatTenant): Promise<TlsSecrets> {
  const out: TlsSecrets = new Map();
  if (tenant.spec.tls.mode === 'OperatorCA') return out;
  const names = tlsSecretNames(tenant);
  for (const name of [names.messaging, names.database, ...(names.databaseClient ? [names.databaseClient] : [])]) {
    out.set(name, await ctx.objects.get<Json>({ apiVersion: 'v1', kind: 'Secret', name, namespace: tenantNamespace(tenant.metadata.name) }));
  }
  return out;
}

/** What the checksum in the pod template covers: each Secret's tls.crt and ca.crt, in a fixed order. */
export function platformCertificates(tenant: ChatTenant, secrets: TlsSecrets): string[] | undefined {
  if (tenant.spec.tls.mode === 'OperatorCA') return undefined;
  return [...secrets.keys()].flatMap((name) => [field(secrets.get(name), 'tls.crt') ?? '', field(secrets.get(name), 'ca.crt') ?? '']);
}

/** The messaging and database server Secrets, for the safeguards: operator-issued ones from this reconcile's view. */
export function servingTlsSecrets(tenant: ChatTenant, world: LiveWorld, platform: TlsSecrets): TlsSecrets {
  const { messaging, database } = tlsSecretNames(tenant);
  const fromWorld = (name: string) => world.find((d) => d.object.kind === 'Secret' && d.object.metadata.name === name)?.live;
  return new Map([messaging, database].map((name) => [name, fromWorld(name) ?? platform.get(name)]));
}

/** Certificate PEMs by role: the operator's own, or what the platform's Secrets hold. */
export function certificatePems(tenant: ChatTenant, issued: TenantCertificates | undefined, platform: TlsSecrets): CertificatePems {
  if (issued) return { ca: issued.ca.certPem, messaging: issued.messaging.certPem, database: issued.database.certPem };
  const names = tlsSecretNames(tenant);
  const pems: CertificatePems = {};
  const messaging = field(platform.get(names.messaging), 'tls.crt');
  const database = field(platform.get(names.database), 'tls.crt');
  const ca = field(platform.get(names.messaging), 'ca.crt') ?? field(platform.get(names.database), 'ca.crt');
  if (messaging) pems.messaging = messaging;
  if (database) pems.database = database;
  if (ca) pems.ca = ca;
  return pems;
}
