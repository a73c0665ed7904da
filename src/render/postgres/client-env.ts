import { tenantNamespace, type ChatTenant, type OperatorSettings } from '../../api/index.js';
import { names, ports } from '../names.js';
import type { EnvVar, Volume } from '../wire.js';

// How a pod of the tenant connects to its database with libpq: the read-write Service, the
// messaging server's least-privilege role, and verify-full against the tenant CA mounted at caDir.
// The login reaches the pod as files of a Secret volume, never as environment variables: a
// process's environment is readable in /proc/<pid>/environ and handed to every child it starts.

export function databaseHost(tenant: ChatTenant, settings: OperatorSettings): string {
  const service = tenant.spec.database.provider === 'cloudnative-pg' ? names.database.cnpgReadWriteService : names.database.service;
  return `${service}.${tenantNamespace(tenant.metadata.name)}.svc.${settings.clusterDomain}`;
}

/** Volume name of the login Secret; restore and verify Jobs swap its Secret for the superuser's (docs/backup.md). */
export const DATABASE_LOGIN_VOLUME = 'database-login';

export interface DatabaseClientPaths {
  /** Holds ca.crt, the tenant CA. */
  caDir: string;
  /** Holds username and password, the files of a kubernetes.io/basic-auth Secret. */
  loginDir: string;
}

export function databaseClientEnv(tenant: ChatTenant, settings: OperatorSettings, paths: DatabaseClientPaths): EnvVar[] {
  return [
    { name: 'PGHOST', value: databaseHost(tenant, settings) },
    { name: 'PGPORT', value: String(ports.postgres) },
    { name: 'PGDATABASE', value: names.database.appDatabase },
    // Not libpq's own variables: the consumer reads these files (libpq's PGPASSFILE refuses any file
    // that group or others may read, and a Secret volume's files are root-owned and group-readable).
    { name: 'PGUSER_FILE', value: `${paths.loginDir}/username` },
    { name: 'PGPASSWORD_FILE', value: `${paths.loginDir}/password` },
    // verify-full: the server certificate must chain to the tenant CA and match the host name.
    { name: 'PGSSLMODE', value: 'verify-full' },
    { name: 'PGSSLROOTCERT', value: `${paths.caDir}/ca.crt` },
  ];
}

/** The messaging role's login Secret as files; 0440: root-owned, readable by the pod's fsGroup only. */
export function databaseLoginVolume(): Volume {
  return {
    name: DATABASE_LOGIN_VOLUME,
    secret: { secretName: names.database.appSecret, defaultMode: 0o440, items: [{ key: 'username', path: 'username' }, { key: 'password', path: 'password' }] },
  };
}
