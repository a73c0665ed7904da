import { createHash } from 'node:crypto';
import { messagingImage, postgresImage, type ChatTenant, type OperatorSettings } from '../../api/index.js';
import { databaseClientEnv, databaseLoginVolume, DATABASE_LOGIN_VOLUME } from './client-env.js';
import { EJABBERD_UID } from '../ejabberd/pod-layout.js';
import { componentLabels, objectMeta, selectorLabels } from '../meta.js';
import { names } from '../names.js';
import { hardenContainers, restrictedPodSecurityContext } from '../pod-security.js';
import { tlsSecretNames } from '../tls.js';
import type { KubeObject } from '../types.js';
import { CNPG_POSTGRES_UID } from './cnpg.js';
import { POSTGRES_UID } from './standalone.js';

// The messaging server's tables, created by a step the operator owns and that is safe to repeat:
// a Job that loads the multi-host schema (pg.new.sql) shipped in the tenant's own ejabberd image
// into the tenant database, once.
//
//  - Idempotent: under an advisory lock, it does nothing when ejabberd's `users` table exists;
//    otherwise the whole file runs in one transaction, so a failure leaves no half schema.
//  - Version-true: the schema file comes from the messaging image itself (an init container copies
//    it), so it always matches the ejabberd that will use it.
//  - Upgrades are ejabberd's: 23.10+ (update_sql_schema, on by default since 24.06) finds the
//    tables, records the version it recognises in schema_version and migrates from there. An image
//    without pg.new.sql is left to update_sql_schema, and the Job says so.
//  - Over the network exactly like ejabberd: TLS verify-full against the tenant CA, SCRAM, as the
//    messaging role (which owns the database).
// A Job's pod template cannot change, so its name carries a hash of what it runs: a new messaging
// image gives a new Job (a no-op when the tables exist) and the old one is pruned.

export const SCHEMA_APP = 'ejabberd-sql-schema';
const SCRIPT_DIR = '/etc/ejabberd-sql-schema';
const SCHEMA_DIR = '/schema';
const DB_CA_DIR = '/etc/ejabberd-sql-schema-ca';
const DB_LOGIN_DIR = '/etc/ejabberd-sql-schema-login';
/** Memory-backed: holds the 0600 password file libpq insists on. */
const PASSFILE_DIR = '/run/ejabberd-sql-schema';
const LOCK_KEY = 'chat-tenant-operator/ejabberd-sql-schema';

// Copies the image's pg.new.sql: the official image keeps it in the release's priv/sql under
// /opt/ejabberd-<version>, Debian's package in /usr/share/ejabberd/sql.

export function copySchemaScript(): string {
  return [
    'set -eu',
    `f=$(find /opt /usr/share/ejabberd /usr/lib/ejabberd -name pg.new.sql 2>/dev/null | head -n 1)`,
    `if [ -n "$f" ]; then cp "$f" ${SCHEMA_DIR}/pg.new.sql; echo "schema file: $f"; else echo "this ejabberd image ships no pg.new.sql"; fi`,
    '',
  ].join('\n');
}

/**
 * libpq reads a password file only when neither group nor others may read it, and a Secret volume's
 * files are root-owned and group-readable (fsGroup): copy the password into a 0600 file of our own,
 * escaping ':' and backslash as the passfile format asks. The password never enters an environment.
 */
function passfileShell(passfile: string): string[] {
  return [
    'PGUSER=$(cat "$PGUSER_FILE")',
    'export PGUSER',
    `PGPASSFILE=${passfile}`,
    'export PGPASSFILE',
    `(umask 077 && { printf '*:*:*:*:' && sed -e 's/[\\\\:]/\\\\&/g' "$PGPASSWORD_FILE" && printf '\\n'; } > "$PGPASSFILE")`,
  ];
}

export function applySchemaShell(): string {
  return [
    'set -eu',
    ...passfileShell(`${PASSFILE_DIR}/pgpass`),
    `if [ ! -s ${SCHEMA_DIR}/pg.new.sql ]; then`,
    '  echo "no pg.new.sql from the messaging image: ejabberd creates its own tables (update_sql_schema)"',
    '  exit 0',
    'fi',
    'i=0',
    'until pg_isready -q; do',
    '  i=$((i + 1))',
    '  if [ "$i" -ge 120 ]; then echo "PostgreSQL at $PGHOST:$PGPORT did not answer for 10 minutes" >&2; exit 1; fi',
    '  sleep 5',
    'done',
    `exec psql -X -v ON_ERROR_STOP=1 -f ${SCRIPT_DIR}/apply.sql`,
    '',
  ].join('\n');
}

/** psql script: lock, look, and create everything in one transaction only when nothing is there. */
export function applySchemaSql(): string {
  return [
    `SELECT pg_advisory_lock(hashtext('${LOCK_KEY}'));`,
    `SELECT to_regclass('public.users') IS NOT NULL AS present \\gset`,
    '\\if :present',
    '\\echo ejabberd schema present: nothing to do',
    '\\else',
    'BEGIN;',
    `\\i ${SCHEMA_DIR}/pg.new.sql`,
    'COMMIT;',
    '\\echo ejabberd schema created',
    '\\endif',
    `SELECT pg_advisory_unlock(hashtext('${LOCK_KEY}'));`,
    '',
  ].join('\n');
}

export function renderSchemaConfigMap(tenant: ChatTenant): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: objectMeta(tenant, names.database.schemaConfigMap, { component: 'database', appName: SCHEMA_APP }),
    data: { 'apply.sql': applySchemaSql(), 'copy-schema.sh': copySchemaScript(), 'run.sh': applySchemaShell() },
  };
}

export function renderSchemaJob(tenant: ChatTenant, settings: OperatorSettings, configMap: KubeObject): KubeObject {
  const tls = tlsSecretNames(tenant);
  const uid = tenant.spec.database.provider === 'standalone' ? POSTGRES_UID : CNPG_POSTGRES_UID;
  const labels = { ...componentLabels(tenant, 'database', SCHEMA_APP), ...selectorLabels(tenant, SCHEMA_APP) };
  const volumeMounts = (extra: Array<{ name: string; mountPath: string; readOnly?: boolean }>) => [{ name: 'scripts', mountPath: SCRIPT_DIR, readOnly: true }, { name: 'schema', mountPath: SCHEMA_DIR }, ...extra];
  const podSpec = {
    serviceAccountName: names.messaging.serviceAccount,
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    restartPolicy: 'Never',
    securityContext: restrictedPodSecurityContext(uid),
    initContainers: hardenContainers([
      {
        name: 'schema-source',
        image: messagingImage(tenant.spec, settings),
        imagePullPolicy: tenant.spec.messaging.image.pullPolicy,
        command: ['/bin/sh', `${SCRIPT_DIR}/copy-schema.sh`],
        securityContext: { runAsUser: EJABBERD_UID, runAsGroup: EJABBERD_UID },
        resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '64Mi' } },
        volumeMounts: volumeMounts([]),
      },
    ]),
    containers: hardenContainers([
      {
        name: 'apply',
        image: postgresImage(tenant.spec, settings),
        imagePullPolicy: tenant.spec.database.image.pullPolicy,
        command: ['/bin/sh', `${SCRIPT_DIR}/run.sh`],
        env: [
          ...databaseClientEnv(tenant, settings, { caDir: DB_CA_DIR, loginDir: DB_LOGIN_DIR }),
          { name: 'PGCONNECT_TIMEOUT', value: '10' },
          { name: 'PGAPPNAME', value: SCHEMA_APP },
        ],
        resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
        volumeMounts: volumeMounts([
          { name: 'database-ca', mountPath: DB_CA_DIR, readOnly: true },
          { name: DATABASE_LOGIN_VOLUME, mountPath: DB_LOGIN_DIR, readOnly: true },
          { name: 'passfile', mountPath: PASSFILE_DIR },
        ]),
      },
    ]),
    volumes: [
      { name: 'scripts', configMap: { name: names.database.schemaConfigMap, defaultMode: 0o444 } },
      { name: 'schema', emptyDir: { sizeLimit: '16Mi' } },
      { name: 'database-ca', secret: { secretName: tls.database, defaultMode: 0o444, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      databaseLoginVolume(),
      { name: 'passfile', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
    ],
  };
  const spec = { backoffLimit: 4, activeDeadlineSeconds: 1800, template: { metadata: { labels }, spec: podSpec } };
  const hash = createHash('sha256').update(JSON.stringify({ spec, data: configMap['data'] })).digest('hex').slice(0, 10);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: objectMeta(tenant, `${names.database.schemaJob}-${hash}`, { component: 'database', appName: SCHEMA_APP }),
    spec,
  };
}

/** The ConfigMap and the Job, in apply order. */
export function renderSchemaStep(tenant: ChatTenant, settings: OperatorSettings): KubeObject[] {
  const configMap = renderSchemaConfigMap(tenant);
  return [configMap, renderSchemaJob(tenant, settings, configMap)];
}
