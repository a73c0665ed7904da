import { tenantNamespace, type ChatTenant, type OperatorSettings } from '../api/index.js';
import { objectMeta } from './meta.js';
import { names } from './names.js';
import { secret } from './secrets.js';
import type { KubeObject, TenantCertificates } from './types.js';

// Certificates of a tenant: which names each one must cover, and the objects that carry them in each
// TLS mode. Issuing (key generation, signing) happens outside the renderer, in
// src/controller/certificates.ts, because it needs randomness and a clock.

export interface TlsSecretNames {
  messaging: string;
  database: string;
  /** Client certificate for connections to PostgreSQL; absent with user-provided secrets. */
  databaseClient?: string;
}

export function tlsSecretNames(tenant: ChatTenant): TlsSecretNames {
  const { tls } = tenant.spec;
  if (tls.mode === 'Provided' && tls.secrets) return { messaging: tls.secrets.messaging, database: tls.secrets.database };
  return { messaging: names.messaging.tlsSecret, database: names.database.tlsSecret, databaseClient: names.database.clientTlsSecret };
}

function serviceNames(service: string, namespace: string, clusterDomain: string): string[] {
  return [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.${clusterDomain}`];
}

/**
 * The service hosts ejabberd runs under each XMPP domain with the rendered modules: mod_muc's rooms
 * (conference.<domain>) and mod_pubsub's nodes (pubsub.<domain>), their default hosts. No upload host:
 * HTTP upload is not served. The certificate covers them and no other tenant may claim them.
 */
export function serviceSubdomains(domain: string): string[] {
  return [`conference.${domain}`, `pubsub.${domain}`];
}

/** Names the messaging certificate must hold: the XMPP domains (clients verify these) and service names. */
export function messagingDnsNames(tenant: ChatTenant, settings: OperatorSettings): string[] {
  const ns = tenantNamespace(tenant.metadata.name);
  return [
    ...tenant.spec.xmppDomains,
    ...tenant.spec.xmppDomains.flatMap(serviceSubdomains),
    ...serviceNames(names.messaging.clientService, ns, settings.clusterDomain),
    `*.${names.messaging.headlessService}.${ns}.svc.${settings.clusterDomain}`,
  ];
}

/** Names the database certificate must hold: every Service name clients use, for verify-full. */
export function databaseDnsNames(tenant: ChatTenant, settings: OperatorSettings): string[] {
  const ns = tenantNamespace(tenant.metadata.name);
  const services =
    tenant.spec.database.provider === 'cloudnative-pg'
      ? [`${names.database.cluster}-rw`, `${names.database.cluster}-r`, `${names.database.cluster}-ro`]
      : [names.database.service];
  return services.flatMap((s) => serviceNames(s, ns, settings.clusterDomain)).concat(
    tenant.spec.database.provider === 'standalone' ? [`${names.database.statefulSet}-0.${names.database.service}.${ns}.svc.${settings.clusterDomain}`] : [],
  );
}

/** Common name of the client certificate: PostgreSQL maps it to the database user. */
export const DATABASE_CLIENT_COMMON_NAME = names.database.appUser;

export function renderTlsObjects(tenant: ChatTenant, settings: OperatorSettings, certificates: TenantCertificates | undefined): KubeObject[] {
  const { tls } = tenant.spec;
  if (tls.mode === 'Provided') return [];
  if (tls.mode === 'CertManager') return renderCertManagerCertificates(tenant, settings);
  if (!certificates) throw new Error('tls.mode OperatorCA needs issued certificates in the render input');
  const ca = certificates.ca.certPem;
  return [
    // The CA key never leaves this Secret: no pod mounts it.
    secret(tenant, names.tls.caSecret, 'certificates', { 'ca.crt': ca, 'ca.key': certificates.ca.keyPem }),
    secret(tenant, names.messaging.tlsSecret, 'certificates', { 'tls.crt': certificates.messaging.certPem, 'tls.key': certificates.messaging.keyPem, 'ca.crt': ca }, 'kubernetes.io/tls'),
    secret(tenant, names.database.tlsSecret, 'certificates', { 'tls.crt': certificates.database.certPem, 'tls.key': certificates.database.keyPem, 'ca.crt': ca }, 'kubernetes.io/tls'),
    secret(tenant, names.database.clientTlsSecret, 'certificates', { 'tls.crt': certificates.databaseClient.certPem, 'tls.key': certificates.databaseClient.keyPem, 'ca.crt': ca }, 'kubernetes.io/tls'),
  ];
}

function renderCertManagerCertificates(tenant: ChatTenant, settings: OperatorSettings): KubeObject[] {
  const issuerRef = tenant.spec.tls.issuerRef!;
  const renewBefore = `${tenant.spec.tls.renewBeforeDays * 24}h`;
  const certificate = (name: string, spec: Record<string, unknown>): KubeObject => ({
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: objectMeta(tenant, name, { component: 'certificates' }),
    spec: {
      secretName: name,
      duration: '2160h',
      renewBefore,
      privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
      issuerRef: { name: issuerRef.name, kind: issuerRef.kind, group: issuerRef.group },
      ...spec,
    },
  });
  return [
    // Client auth too: ejabberd nodes present it to each other over TLS Erlang distribution.
    certificate(names.messaging.tlsSecret, { dnsNames: messagingDnsNames(tenant, settings), usages: ['server auth', 'client auth', 'digital signature', 'key encipherment'] }),
    certificate(names.database.tlsSecret, { dnsNames: databaseDnsNames(tenant, settings), usages: ['server auth', 'digital signature', 'key encipherment'] }),
    certificate(names.database.clientTlsSecret, { commonName: DATABASE_CLIENT_COMMON_NAME, usages: ['client auth', 'digital signature', 'key encipherment'] }),
  ];
}
