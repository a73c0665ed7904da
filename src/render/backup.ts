import { backupStorageClass, operatorImage, type ChatTenant, type OperatorSettings } from '../api/index.js';
import { componentLabels, objectMeta, selectorLabels } from './meta.js';
import { names } from './names.js';
import { databaseClientEnv, databaseLoginVolume, DATABASE_LOGIN_VOLUME } from './postgres/client-env.js';
import { hardenContainers, restrictedPodSecurityContext } from './pod-security.js';
import { DEFAULT_RESOURCES, resourceRequirements } from './resources.js';
import { tlsSecretNames } from './tls.js';
import type { KubeObject } from './types.js';
import type { EnvVar, Volume } from './wire.js';

// Scheduled, encrypted logical backups. The runner is the operator's own image (`backup` command):
// pg_dump over verified TLS, AES-256-GCM under the tenant's key, a manifest with checksums, then
// pruning by retention. Its whole contract with this CronJob is the environment below, which names
// files: every password and key is a file of a Secret volume, none is an environment variable.

export const BACKUP_APP = 'postgres-backup';
/**
 * The runner's command in the CronJob's template. Restore and verify Jobs are made from the same
 * template with another command (docs/backup.md), so this, not the labels, tells a backup apart.
 */
export const BACKUP_COMMAND = 'backup';
/** Non-root user of the operator image. */
export const OPERATOR_UID = 10001;
const KEY_DIR = '/etc/backup-key';
const DB_CA_DIR = '/etc/backup-db-ca';
const S3_CA_DIR = '/etc/backup-s3-ca';
const DB_LOGIN_DIR = '/etc/backup-db-login';
const S3_CREDENTIALS_DIR = '/etc/backup-s3-credentials';
export const BACKUP_MOUNT = '/backups';

export { databaseHost } from './postgres/client-env.js';

export function renderBackupPvc(tenant: ChatTenant): KubeObject[] {
  const pvc = tenant.spec.backup.target.pvc;
  if (!pvc) return [];
  return [
    {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: objectMeta(tenant, names.backup.pvc, { component: 'backup', appName: BACKUP_APP, retain: true }),
      spec: { accessModes: ['ReadWriteOnce'], storageClassName: backupStorageClass(tenant.spec), resources: { requests: { storage: pvc.size } } },
    },
  ];
}

/**
 * The runner's whole configuration, read by src/cli/backup.ts. The backup dumps as the messaging
 * role (it owns every table); restore and verify swap in the superuser's Secret (docs/backup.md).
 */
export function backupEnv(tenant: ChatTenant, settings: OperatorSettings): EnvVar[] {
  const { backup } = tenant.spec;
  const env: EnvVar[] = [
    { name: 'TENANT', value: tenant.metadata.name },
    ...databaseClientEnv(tenant, settings, { caDir: DB_CA_DIR, loginDir: DB_LOGIN_DIR }),
    { name: 'BACKUP_KEY_FILE', value: `${KEY_DIR}/key` },
  ];
  if (backup.retention.count !== undefined) env.push({ name: 'BACKUP_RETENTION_COUNT', value: String(backup.retention.count) });
  if (backup.retention.days !== undefined) env.push({ name: 'BACKUP_RETENTION_DAYS', value: String(backup.retention.days) });
  const s3 = backup.target.s3;
  if (s3) {
    env.push(
      { name: 'BACKUP_TARGET', value: 's3' },
      { name: 'S3_ENDPOINT', value: s3.endpoint },
      { name: 'S3_BUCKET', value: s3.bucket },
      { name: 'S3_PREFIX', value: s3.prefix ?? tenant.metadata.name },
      { name: 'S3_REGION', value: s3.region },
      { name: 'AWS_ACCESS_KEY_ID_FILE', value: `${S3_CREDENTIALS_DIR}/AWS_ACCESS_KEY_ID` },
      { name: 'AWS_SECRET_ACCESS_KEY_FILE', value: `${S3_CREDENTIALS_DIR}/AWS_SECRET_ACCESS_KEY` },
    );
    if (s3.caSecret) env.push({ name: 'S3_CA_FILE', value: `${S3_CA_DIR}/ca.crt` });
  } else {
    env.push({ name: 'BACKUP_TARGET', value: 'pvc' }, { name: 'BACKUP_DIR', value: BACKUP_MOUNT });
  }
  return env;
}

export function renderBackupCronJob(tenant: ChatTenant, settings: OperatorSettings): KubeObject {
  const { backup } = tenant.spec;
  const tls = tlsSecretNames(tenant);
  const volumes: Volume[] = [
    { name: 'key', secret: { secretName: names.backup.keySecret, defaultMode: 0o440 } },
    { name: 'database-ca', secret: { secretName: tls.database, defaultMode: 0o440, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
    databaseLoginVolume(),
    // Memory-backed: the runner writes pg_dump's 0600 password file here, never to a node's disk.
    { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
  ];
  const mounts = [
    { name: 'key', mountPath: KEY_DIR, readOnly: true },
    { name: 'database-ca', mountPath: DB_CA_DIR, readOnly: true },
    { name: DATABASE_LOGIN_VOLUME, mountPath: DB_LOGIN_DIR, readOnly: true },
    { name: 'tmp', mountPath: '/tmp' },
  ];
  if (backup.target.pvc) {
    volumes.push({ name: 'backups', persistentVolumeClaim: { claimName: names.backup.pvc } });
    mounts.push({ name: 'backups', mountPath: BACKUP_MOUNT });
  }
  if (backup.target.s3) {
    const items = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'].map((key) => ({ key, path: key }));
    volumes.push({ name: 's3-credentials', secret: { secretName: backup.target.s3.credentialsSecret, defaultMode: 0o440, items } });
    mounts.push({ name: 's3-credentials', mountPath: S3_CREDENTIALS_DIR, readOnly: true });
  }
  if (backup.target.s3?.caSecret) {
    volumes.push({ name: 's3-ca', secret: { secretName: backup.target.s3.caSecret, defaultMode: 0o440, items: [{ key: 'ca.crt', path: 'ca.crt' }] } });
    mounts.push({ name: 's3-ca', mountPath: S3_CA_DIR, readOnly: true });
  }
  const selector = selectorLabels(tenant, BACKUP_APP);
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: objectMeta(tenant, names.backup.cronJob, { component: 'backup', appName: BACKUP_APP }),
    spec: {
      schedule: backup.schedule,
      ...(backup.timeZone ? { timeZone: backup.timeZone } : {}),
      suspend: backup.suspend,
      concurrencyPolicy: 'Forbid',
      startingDeadlineSeconds: 3600,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        metadata: { labels: componentLabels(tenant, 'backup', BACKUP_APP) },
        spec: {
          backoffLimit: 2,
          activeDeadlineSeconds: 6 * 3600,
          ttlSecondsAfterFinished: 7 * 24 * 3600,
          template: {
            metadata: { labels: { ...componentLabels(tenant, 'backup', BACKUP_APP), ...selector } },
            spec: {
              serviceAccountName: names.backup.serviceAccount,
              automountServiceAccountToken: false,
              enableServiceLinks: false,
              restartPolicy: 'Never',
              securityContext: restrictedPodSecurityContext(OPERATOR_UID),
              containers: hardenContainers([
                {
                  name: 'backup',
                  image: operatorImage(settings),
                  imagePullPolicy: 'IfNotPresent',
                  args: [BACKUP_COMMAND],
                  env: backupEnv(tenant, settings),
                  resources: resourceRequirements(undefined, DEFAULT_RESOURCES.backup),
                  volumeMounts: mounts,
                },
              ]),
              volumes,
            },
          },
        },
      },
    },
  };
}
