import fc from 'fast-check';
import type { ChatTenantSpecInput } from '../../src/api/index.js';

// Generators of valid ChatTenant specs for property tests: every optional branch of the schema is
// reachable, values stay within the schema's ranges.

const label = fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/);
export const tenantName = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}[a-z0-9]$/).filter((n) => !n.startsWith('kube-'));
const domain = fc.tuple(label, label, fc.constantFrom('example', 'test', 'org')).map(([a, b, c]) => `${a}.${b}.${c}`);
const cidr = fc.oneof(
  fc.tuple(fc.integer({ min: 1, max: 223 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 8, max: 32 })).map(([a, b, p]) => `${a}.${b}.0.0/${p}`),
  fc.integer({ min: 16, max: 128 }).map((p) => `fd00:${p.toString(16)}::/${p}`),
);
const quantityCpu = fc.constantFrom('100m', '250m', '1', '2', '1500m');
const quantityMem = fc.constantFrom('128Mi', '1Gi', '2Gi', '512Mi');
const resources = fc.option(fc.record({ requests: fc.record({ cpu: quantityCpu, memory: quantityMem }), limits: fc.record({ cpu: quantityCpu, memory: quantityMem }) }), { nil: undefined });
const cron = fc.constantFrom('0 2 * * *', '*/30 * * * *', '15 3 * * 0', '@daily', '0 0 1 * *');

export const specArbitrary: fc.Arbitrary<ChatTenantSpecInput> = fc
  .record({
    domains: fc.uniqueArray(domain, { minLength: 1, maxLength: 3 }),
    replicas: fc.integer({ min: 1, max: 5 }),
    serviceType: fc.constantFrom('ClusterIP' as const, 'NodePort' as const, 'LoadBalancer' as const),
    federation: fc.boolean(),
    admins: fc.uniqueArray(label, { maxLength: 3 }),
    provider: fc.constantFrom('standalone' as const, 'cloudnative-pg' as const),
    instances: fc.integer({ min: 1, max: 5 }),
    storageClass: label,
    msgResources: resources,
    dbResources: resources,
    schedule: cron,
    s3: fc.boolean(),
    retention: fc.constantFrom({ count: 7 }, { days: 30 }, { count: 3, days: 10 }),
    tlsMode: fc.constantFrom('OperatorCA' as const, 'CertManager' as const, 'Provided' as const),
    clientCIDRs: fc.array(cidr, { maxLength: 3 }),
    clientNamespaces: fc.array(label.map((l) => ({ matchLabels: { team: l } })), { maxLength: 2 }),
    deletionPolicy: fc.constantFrom('Retain' as const, 'Delete' as const),
    registry: fc.option(fc.constantFrom('registry.local:5000/mirror', 'mirror.hospital.example'), { nil: undefined }),
  })
  .map((r) => ({
    displayName: `Tenant ${r.domains[0]}`,
    xmppDomains: r.domains,
    messaging: {
      replicas: r.replicas,
      service: { type: r.serviceType },
      federation: r.federation,
      admins: r.admins.map((username) => ({ username })),
      ...(r.msgResources ? { resources: r.msgResources } : {}),
      ...(r.registry ? { image: { registry: r.registry } } : {}),
    },
    database: {
      provider: r.provider,
      ...(r.provider === 'cloudnative-pg' ? { instances: r.instances } : {}),
      storage: { storageClassName: r.storageClass },
      ...(r.dbResources ? { resources: r.dbResources } : {}),
    },
    backup: {
      schedule: r.schedule,
      retention: r.retention,
      target: r.s3
        ? { s3: { endpoint: 'https://minio.backup.local:9000', bucket: 'chat-backups', credentialsSecret: 's3-credentials', egressCIDR: '10.9.0.0/24' } }
        : { pvc: { size: '5Gi' } },
    },
    tls:
      r.tlsMode === 'CertManager'
        ? { mode: r.tlsMode, issuerRef: { name: 'hospital-ca' } }
        : r.tlsMode === 'Provided'
          ? { mode: r.tlsMode, secrets: { messaging: 'my-xmpp-tls', database: 'my-db-tls' } }
          : { mode: r.tlsMode },
    network: { clientCIDRs: r.clientCIDRs, clientNamespaces: r.clientNamespaces },
    deletionPolicy: r.deletionPolicy,
  }));
