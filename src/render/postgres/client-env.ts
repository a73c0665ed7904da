import { tenantNamespace, type ChatTenant, type OperatorSettings } from '../../api/index.js';
import { names, ports } from '../names.js';
import type { EnvVar } from '../wire.js';

// How a pod of the tenant connects to its database with libpq: the read-write Service, the
// messaging server's least-privilege role, and verify-full against the tenant CA mounted at caDir.

export function databaseHost(tenant: ChatTenant, settings: OperatorSettings): string {
  const service = tenant.spec.database.provider === 'cloudnative-pg' ? names.database.cnpgReadWriteService : names.database.service;
  return `${service}.${tenantNamespace(tenant.metadata.name)}.svc.${settings.clusterDomain}`;
}

export function databaseClientEnv(tenant: ChatTenant, settings: OperatorSettings, caDir: string): EnvVar[] {
  return [
    { name: 'PGHOST', value: databaseHost(tenant, settings) },
    { name: 'PGPORT', value: String(ports.postgres) },
    { name: 'PGDATABASE', value: names.database.appDatabase },
    { name: 'PGUSER', valueFrom: { secretKeyRef: { name: names.database.appSecret, key: 'username' } } },
    { name: 'PGPASSWORD', valueFrom: { secretKeyRef: { name: names.database.appSecret, key: 'password' } } },
    // verify-full: the server certificate must chain to the tenant CA and match the host name.
    { name: 'PGSSLMODE', value: 'verify-full' },
    { name: 'PGSSLROOTCERT', value: `${caDir}/ca.crt` },
  ];
}
