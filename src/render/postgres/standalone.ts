import { createHash } from 'node:crypto';
import { postgresImage, type ChatTenant, type OperatorSettings } from '../../api/index.js';
import { componentLabels, objectMeta, selectorLabels } from '../meta.js';
import { names, ports } from '../names.js';
import { hardenContainers, restrictedPodSecurityContext } from '../pod-security.js';
import { DEFAULT_RESOURCES, resourceRequirements } from '../resources.js';
import { secret } from '../secrets.js';
import { tlsSecretNames } from '../tls.js';
import type { KubeObject } from '../types.js';
import { renderPgHba, renderPostgresqlConf } from './config.js';

// The standalone provider: one PostgreSQL instance in a StatefulSet, for small and dev sites.
// High availability is CloudNativePG's job (cnpg.ts); this module never attempts failover.

/** The official postgres image's postgres user. */
export const POSTGRES_UID = 999;
export const POSTGRES_APP = 'postgres';
const CONF_DIR = '/etc/postgresql-operator';
const TLS_DIR = '/etc/postgresql-tls';
const DATA_DIR = '/var/lib/postgresql/data';
const RUN_DIR = '/var/run/postgresql';
/** The two passwords the first start needs, as files: the image reads POSTGRES_PASSWORD_FILE itself. */
const CREDENTIALS_DIR = '/etc/postgresql-credentials';
const SUPERUSER_PASSWORD_FILE = `${CREDENTIALS_DIR}/superuser-password`;
const APP_PASSWORD_FILE = `${CREDENTIALS_DIR}/app-password`;

/**
 * Creates the least-privilege role and database of the messaging server. The official image runs
 * /docker-entrypoint-initdb.d only when it initialises an empty PGDATA; the temporary server it
 * starts for that already uses the operator's configuration (password_encryption scram-sha-256),
 * and psql reaches it over the Unix socket as the OS user postgres (pg_hba: local peer).
 */
export function initScript(): string {
  return [
    '#!/bin/sh',
    'set -eu',
    'psql -v ON_ERROR_STOP=1 --username postgres --dbname postgres \\',
    `  -v app_user='${names.database.appUser}' -v app_db='${names.database.appDatabase}' -v app_password_file="$APP_PASSWORD_FILE" <<'SQL'`,
    // psql reads the file itself: the password is in no environment and on no command line.
    "\\set app_password `cat :'app_password_file'`",
    // Least privilege, spelled out: the role may log in and owns its database, nothing more.
    "SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD %L', :'app_user', :'app_password') \\gexec",
    "SELECT format('CREATE DATABASE %I OWNER %I', :'app_db', :'app_user') \\gexec",
    "SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'app_db') \\gexec",
    'SQL',
    '',
  ].join('\n');
}

export function renderStandaloneConfigSecret(tenant: ChatTenant) {
  return secret(tenant, names.database.configMap, 'database', {
    'postgresql.conf': renderPostgresqlConf({ certFile: `${TLS_DIR}/tls.crt`, keyFile: `${TLS_DIR}/tls.key`, caFile: `${TLS_DIR}/ca.crt` }),
    'pg_hba.conf': renderPgHba(),
    'init-app-database.sh': initScript(),
  });
}

export function renderStandalonePostgres(tenant: ChatTenant, settings: OperatorSettings, configSecret: KubeObject): KubeObject[] {
  const db = tenant.spec.database;
  const selector = selectorLabels(tenant, POSTGRES_APP);
  const tls = tlsSecretNames(tenant);
  // Over the Unix socket: TCP from 127.0.0.1 is rejected by pg_hba (no TLS), and every probe would
  // log a rejected connection.
  const pgIsReady = ['pg_isready', '-h', RUN_DIR, '-p', String(ports.postgres), '-U', 'postgres', '-d', 'postgres'];
  const statefulSet: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: objectMeta(tenant, names.database.statefulSet, { component: 'database', appName: POSTGRES_APP }),
    spec: {
      serviceName: names.database.service,
      replicas: 1,
      selector: { matchLabels: selector },
      // A PVC created from this template is never deleted by the StatefulSet controller.
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
      template: {
        metadata: {
          labels: { ...componentLabels(tenant, 'database', POSTGRES_APP), ...selector },
          annotations: { 'chat.tenant-operator.dev/config-checksum': createHash('sha256').update(JSON.stringify(configSecret['data'])).digest('hex') },
        },
        spec: {
          serviceAccountName: names.database.serviceAccount,
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: restrictedPodSecurityContext(POSTGRES_UID),
          terminationGracePeriodSeconds: 120,
          containers: hardenContainers([
            {
              name: 'postgres',
              image: postgresImage(tenant.spec, settings),
              imagePullPolicy: db.image.pullPolicy,
              args: ['-c', `config_file=${CONF_DIR}/postgresql.conf`, '-c', `hba_file=${CONF_DIR}/pg_hba.conf`],
              env: [
                // A subdirectory: the volume root belongs to root (group 999 through fsGroup) and may
                // hold lost+found; initdb wants an empty directory it owns, mode 0700.
                { name: 'PGDATA', value: `${DATA_DIR}/pgdata` },
                { name: 'POSTGRES_USER', value: 'postgres' },
                // The image's entrypoint reads this file into an exported POSTGRES_PASSWORD of its own on
                // every start (docker_setup_env → file_env), which the server inherits: a limit of the
                // image, not closed here (docs/hipaa.md).
                { name: 'POSTGRES_PASSWORD_FILE', value: SUPERUSER_PASSWORD_FILE },
                { name: 'POSTGRES_INITDB_ARGS', value: '--auth-local=peer --auth-host=scram-sha-256 --data-checksums' },
                { name: 'APP_PASSWORD_FILE', value: APP_PASSWORD_FILE },
              ],
              ports: [{ name: 'postgres', containerPort: ports.postgres }],
              resources: resourceRequirements(db.resources, DEFAULT_RESOURCES.database),
              readinessProbe: { exec: { command: pgIsReady }, periodSeconds: 10, timeoutSeconds: 5 },
              livenessProbe: { exec: { command: pgIsReady }, periodSeconds: 30, timeoutSeconds: 5, failureThreshold: 6 },
              // First start runs initdb and the init script; allow it ten minutes.
              startupProbe: { exec: { command: pgIsReady }, periodSeconds: 5, failureThreshold: 120 },
              volumeMounts: [
                { name: 'data', mountPath: DATA_DIR },
                { name: 'config', mountPath: CONF_DIR, readOnly: true },
                { name: 'init', mountPath: '/docker-entrypoint-initdb.d', readOnly: true },
                { name: 'tls', mountPath: TLS_DIR, readOnly: true },
                { name: 'credentials', mountPath: CREDENTIALS_DIR, readOnly: true },
                { name: 'run', mountPath: RUN_DIR },
                { name: 'tmp', mountPath: '/tmp' },
              ],
            },
          ]),
          volumes: [
            { name: 'config', secret: { secretName: names.database.configMap, defaultMode: 0o440, items: [{ key: 'postgresql.conf', path: 'postgresql.conf' }, { key: 'pg_hba.conf', path: 'pg_hba.conf' }] } },
            { name: 'init', secret: { secretName: names.database.configMap, defaultMode: 0o550, items: [{ key: 'init-app-database.sh', path: 'init-app-database.sh' }] } },
            // Secret files are owned by root; with fsGroup the kubelet gives them group 999 and
            // group read, so they end up root:999 0440. PostgreSQL accepts a root-owned key that has
            // no group write and no world access (0640 or stricter), and reads it through the group.
            // (test/workload/postgres-standalone.test.ts starts a real server with exactly that.)
            { name: 'tls', secret: { secretName: tls.database, defaultMode: 0o440 } },
            // root:999 0440 through fsGroup, like the key above: readable by the server's group only.
            {
              name: 'credentials',
              projected: {
                defaultMode: 0o440,
                sources: [
                  { secret: { name: names.database.superuserSecret, items: [{ key: 'password', path: 'superuser-password' }] } },
                  { secret: { name: names.database.appSecret, items: [{ key: 'password', path: 'app-password' }] } },
                ],
              },
            },
            { name: 'run', emptyDir: {} },
            { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '256Mi' } },
          ],
        },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: 'data', labels: componentLabels(tenant, 'database', POSTGRES_APP), annotations: { 'chat.tenant-operator.dev/retain': 'true' } },
          spec: { accessModes: ['ReadWriteOnce'], storageClassName: db.storage.storageClassName, resources: { requests: { storage: db.storage.size } } },
        },
      ],
    },
  };
  const service: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: objectMeta(tenant, names.database.service, { component: 'database', appName: POSTGRES_APP }),
    spec: { selector, ports: [{ name: 'postgres', port: ports.postgres, targetPort: ports.postgres, protocol: 'TCP' }] },
  };
  return [service, statefulSet];
}
