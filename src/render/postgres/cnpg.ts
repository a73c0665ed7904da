import { databaseInstances, postgresImage, type ChatTenant, type OperatorSettings } from '../../api/index.js';
import { componentLabels, objectMeta } from '../meta.js';
import { names } from '../names.js';
import { DEFAULT_RESOURCES, resourceRequirements } from '../resources.js';
import { tlsSecretNames } from '../tls.js';
import type { KubeObject } from '../types.js';
import { cloudNativePGHbaRules, securityParameters } from './config.js';
import { POSTGRES_APP } from './standalone.js';

// The cloudnative-pg provider: a CloudNativePG Cluster does replication, failover, PDBs and
// anti-affinity. The operator only states what the tenant needs from it.

export const CNPG_API_VERSION = 'postgresql.cnpg.io/v1';

export function renderCloudNativePGCluster(tenant: ChatTenant, settings: OperatorSettings): KubeObject {
  const db = tenant.spec.database;
  const tls = tlsSecretNames(tenant);
  return {
    apiVersion: CNPG_API_VERSION,
    kind: 'Cluster',
    metadata: objectMeta(tenant, names.database.cluster, { component: 'database', appName: POSTGRES_APP }),
    spec: {
      instances: databaseInstances(tenant.spec),
      imageName: postgresImage(tenant.spec, settings),
      imagePullPolicy: db.image.pullPolicy,
      // Pods inherit the labels the network policies select on.
      inheritedMetadata: { labels: { ...componentLabels(tenant, 'database', POSTGRES_APP) } },
      storage: { storageClass: db.storage.storageClassName, size: db.storage.size },
      bootstrap: { initdb: { database: names.database.appDatabase, owner: names.database.appUser, secret: { name: names.database.appSecret }, dataChecksums: true } },
      superuserSecret: { name: names.database.superuserSecret },
      enableSuperuserAccess: false,
      certificates: { serverTLSSecret: tls.database, serverCASecret: tls.database },
      postgresql: { parameters: securityParameters(), pg_hba: cloudNativePGHbaRules() },
      resources: resourceRequirements(db.resources, DEFAULT_RESOURCES.database),
      affinity: { enablePodAntiAffinity: true, podAntiAffinityType: 'preferred', topologyKey: 'kubernetes.io/hostname' },
      topologySpreadConstraints: [
        { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { 'cnpg.io/cluster': names.database.cluster } } },
      ],
      enablePDB: true,
      primaryUpdateStrategy: 'unsupervised',
      monitoring: { enablePodMonitor: settings.prometheusOperator },
    },
  };
}
