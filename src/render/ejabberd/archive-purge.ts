import { createHash } from 'node:crypto';
import { messagingImage, type ChatTenant, type OperatorSettings } from '../../api/index.js';
import { componentLabels, objectMeta, selectorLabels } from '../meta.js';
import { names } from '../names.js';
import { hardenContainers, restrictedPodSecurityContext } from '../pod-security.js';
import { DEFAULT_RESOURCES, resourceRequirements } from '../resources.js';
import type { KubeObject } from '../types.js';
import { CLIENT_CONFIG_FILES } from './config-files.js';
import { tlsSecretNames } from '../tls.js';
import { EJABBERD_UID, ERLANG_VM_SECURITY_CONTEXT, POD_PATHS, TLS_DIR, messagingTlsVolume } from './pod-layout.js';
import { CONFIG_FILES } from './runtime.js';

// Message archive retention (spec.messaging.archiveRetentionDays), enforced daily. ejabberd has no
// retention setting for its archive; its own command delete_old_mam_messages does the deleting, so the
// rows go the way ejabberd expects (and with whatever schema the running version has). The job is a
// short-lived ejabberdctl client: it reaches a node over TLS Erlang distribution with the tenant's
// cookie and messaging certificate, and mounts no database password.

export const ARCHIVE_PURGE_APP = 'ejabberd-archive-purge';

/** A minute past 03:00 UTC derived from the tenant name, so tenants do not all purge at once. */
export function archivePurgeSchedule(tenant: ChatTenant): string {
  const minute = createHash('sha256').update(tenant.metadata.name).digest().readUInt16BE(0) % 60;
  return `${minute} 3 * * *`;
}

export function renderArchivePurgeCronJob(tenant: ChatTenant, settings: OperatorSettings): KubeObject {
  const m = tenant.spec.messaging;
  const labels = { ...componentLabels(tenant, 'messaging', ARCHIVE_PURGE_APP), ...selectorLabels(tenant, ARCHIVE_PURGE_APP) };
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: objectMeta(tenant, names.messaging.archivePurgeCronJob, { component: 'messaging', appName: ARCHIVE_PURGE_APP }),
    spec: {
      schedule: archivePurgeSchedule(tenant),
      timeZone: 'Etc/UTC',
      concurrencyPolicy: 'Forbid',
      startingDeadlineSeconds: 3600,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        metadata: { labels },
        spec: {
          backoffLimit: 3,
          activeDeadlineSeconds: 3600,
          ttlSecondsAfterFinished: 7 * 24 * 3600,
          template: {
            metadata: { labels },
            spec: {
              serviceAccountName: names.messaging.serviceAccount,
              automountServiceAccountToken: false,
              enableServiceLinks: false,
              restartPolicy: 'Never',
              securityContext: restrictedPodSecurityContext(EJABBERD_UID),
              containers: hardenContainers([
                {
                  name: 'purge',
                  image: messagingImage(tenant.spec, settings),
                  imagePullPolicy: m.image.pullPolicy,
                  command: ['/bin/sh', `${POD_PATHS.configDir}/${CONFIG_FILES.nodeScript}`, 'purge-archive', String(m.archiveRetentionDays)],
                  securityContext: ERLANG_VM_SECURITY_CONTEXT,
                  env: [{ name: 'HOME', value: POD_PATHS.home }],
                  resources: resourceRequirements(undefined, DEFAULT_RESOURCES.purge),
                  volumeMounts: [
                    { name: 'config', mountPath: POD_PATHS.configDir, readOnly: true },
                    { name: 'cookie', mountPath: POD_PATHS.cookieFile.replace(/\/[^/]+$/, ''), readOnly: true },
                    // Its identity on TLS distribution: nodes accept only the tenant's certificate.
                    { name: 'tls', mountPath: TLS_DIR, readOnly: true },
                    { name: 'runtime', mountPath: POD_PATHS.home },
                    { name: 'tmp', mountPath: '/tmp' },
                  ],
                },
              ]),
              volumes: [
                // Only the client files: ejabberd.yml (and with it the database password) stays out.
                { name: 'config', secret: { secretName: names.messaging.configMap, defaultMode: 0o440, items: CLIENT_CONFIG_FILES.map((f) => ({ key: f, path: f })) } },
                { name: 'cookie', secret: { secretName: names.messaging.cookieSecret, defaultMode: 0o440, items: [{ key: 'cookie', path: 'cookie' }] } },
                messagingTlsVolume(tlsSecretNames(tenant).messaging),
                { name: 'runtime', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } },
                { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
              ],
            },
          },
        },
      },
    },
  };
}
