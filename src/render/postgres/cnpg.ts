import { databaseInstances, postgresImage, type ChatTenant, type OperatorSettings } from '../../api/index.js';
import { componentLabels, objectMeta } from '../meta.js';
import { names } from '../names.js';
import { DEFAULT_RESOURCES, resourceRequirements } from '../resources.js';
import { tlsSecretNames } from '../tls.js';
import type { KubeObject } from '../types.js';
import { cloudNativePGHbaRules, securityParameters } from './config.js';
import { POSTGRES_APP } from './standalone.js';

// The cloudnative-pg provider: a CloudNativePG Cluster does replication, failover, PDBs and
// anti-affinity. The operator only states what the tenant needs from it. Checked against
// CloudNativePG's own CRD schema (test/integration/cnpg-cluster.test.ts).

export const CNPG_API_VERSION = 'postgresql.cnpg.io/v1';
/**
 * The CloudNativePG release whose CRD the Cluster is validated against, and which the real node
 * runs: the newest whose dependencies the Go module proxy serves (v1.30.1's are refused).
 */
export const CNPG_VERSION = 'v1.30.0';
/** User of the postgres process in CloudNativePG operand images. */
export const CNPG_POSTGRES_UID = 26;

/** From this many instances on, a commit waits for a standby (see synchronousReplication). */
export const SYNCHRONOUS_FROM_INSTANCES = 3;

/**
 * Asynchronous replication acknowledges a commit once the primary has it: a message ejabberd has
 * stored can be lost if the primary dies before a standby received it, and CloudNativePG promotes
 * the most advanced standby without it. With 3 or more instances, each commit also waits until one
 * standby (any of them) has it, so every acknowledged message survives a failover (RPO 0), at the
 * cost of a round trip per commit and writes that stop while no standby is connected ("required":
 * durability over availability). Two instances stay asynchronous: one standby down would stop all
 * writes. docs/operations.md states the trade-off.
 */
export function synchronousReplication(instances: number): { method: 'any'; number: number; dataDurability: 'required' } | undefined {
  return instances >= SYNCHRONOUS_FROM_INSTANCES ? { method: 'any', number: 1, dataDurability: 'required' } : undefined;
}

export function renderCloudNativePGCluster(tenant: ChatTenant, settings: OperatorSettings): KubeObject {
  const db = tenant.spec.database;
  const tls = tlsSecretNames(tenant);
  const instances = databaseInstances(tenant.spec);
  const synchronous = synchronousReplication(instances);
  return {
    apiVersion: CNPG_API_VERSION,
    kind: 'Cluster',
    // retain: CloudNativePG owns the instance PVCs through this object, so under deletionPolicy
    // Retain the Cluster itself must be kept (and detached), or garbage collection takes the data.
    metadata: objectMeta(tenant, names.database.cluster, { component: 'database', appName: POSTGRES_APP, retain: true }),
    spec: {
      instances,
      imageName: postgresImage(tenant.spec, settings),
      imagePullPolicy: db.image.pullPolicy,
      // Pods inherit the labels the network policies select on.
      inheritedMetadata: { labels: { ...componentLabels(tenant, 'database', POSTGRES_APP) } },
      storage: { storageClass: db.storage.storageClassName, size: db.storage.size },
      bootstrap: {
        initdb: {
          database: names.database.appDatabase,
          // The messaging server's role owns its database and nothing else: no superuser, no
          // CREATEDB, no CREATEROLE (CloudNativePG creates the owner without them).
          owner: names.database.appUser,
          secret: { name: names.database.appSecret },
          dataChecksums: true,
        },
      },
      // The superuser logs in only over TLS + SCRAM like everyone else; restore and verify need a
      // role that can create databases, and no workload mounts this Secret (docs/backup.md).
      superuserSecret: { name: names.database.superuserSecret },
      enableSuperuserAccess: true,
      // Server certificate from the tenant CA: serverTLSSecret needs tls.crt and tls.key,
      // serverCASecret needs ca.crt; the tenant's database Secret holds all three. The client CA
      // (for streaming_replica certificates) stays CloudNativePG's own: it needs the CA key to sign,
      // and the tenant CA key is never handed out.
      certificates: { serverTLSSecret: tls.database, serverCASecret: tls.database },
      postgresql: {
        parameters: securityParameters('TLSv1.3'),
        pg_hba: cloudNativePGHbaRules(),
        ...(synchronous ? { synchronous } : {}),
      },
      // A deleted or drained instance stops with a fast shutdown at once: a smart one waits for every
      // client session to end, and ejabberd's pooled connections never end, so it only delayed the
      // failover by the whole smart window (180 s by default). Fast still flushes WAL to the standbys.
      smartShutdownTimeout: 0,
      resources: resourceRequirements(db.resources, DEFAULT_RESOURCES.database),
      affinity: { enablePodAntiAffinity: true, podAntiAffinityType: 'preferred', topologyKey: 'kubernetes.io/hostname' },
      topologySpreadConstraints: [
        { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { 'cnpg.io/cluster': names.database.cluster } } },
      ],
      // A PDB over a single instance would block every node drain (CloudNativePG's own advice).
      enablePDB: instances > 1,
      primaryUpdateStrategy: 'unsupervised',
      // The metrics exporter (port 9187) always runs; its default queries stay on. PodMonitor
      // generation is deprecated in CloudNativePG 1.30: the monitoring renderer owns scraping.
      monitoring: { disableDefaultQueries: false },
    },
  };
}
