// The Database condition, judged from the workload's own status: a CloudNativePG Cluster (its Ready
// condition, phase and instance counts) or the standalone StatefulSet. Pure: the controller passes
// what it observed, as the API server returned it.

export interface DatabaseStatus {
  ready: boolean;
  readyInstances: number;
  instances: number;
  /** CamelCase, stable for alerting. */
  reason: string;
  message: string;
}

export type DatabaseObservation =
  | {
      provider: 'cloudnative-pg';
      /** Whether the CRD clusters.postgresql.cnpg.io is served. */
      cloudNativePGInstalled: boolean;
      /** The Cluster object, if it exists. */
      cluster: unknown;
      /** Instances the tenant's spec asks for. */
      desiredInstances: number;
    }
  | { provider: 'standalone'; statefulSet: unknown };

/** CloudNativePG phases (api/v1/cluster_types.go) and the reason each maps to when not healthy. */
export const CNPG_PHASE_REASONS: Readonly<Record<string, string>> = {
  'Cluster in healthy state': 'ClusterHealthy',
  'Setting up primary': 'SettingUpPrimary',
  'Creating a new replica': 'CreatingReplica',
  'Failing over': 'FailingOver',
  'Switchover in progress': 'Switchover',
  'Upgrading cluster': 'Upgrading',
  'Upgrading Postgres major version': 'MajorUpgrade',
  'Cluster upgrade delayed': 'UpgradeDelayed',
  'Online upgrade in progress': 'Upgrading',
  'Primary instance is being restarted in-place': 'PrimaryRestarting',
  'Primary instance is being restarted without a switchover': 'PrimaryRestarting',
  'Applying configuration': 'ApplyingConfiguration',
  'Waiting for the instances to become active': 'WaitingForInstances',
  'Waiting for user action': 'WaitingForUserAction',
  'Promoting to primary cluster': 'PromotingReplicaCluster',
  'Cluster is unrecoverable and needs manual intervention': 'ClusterUnrecoverable',
  'Invalid cluster definition': 'InvalidClusterDefinition',
  'Unable to create required cluster objects': 'CannotCreateClusterObjects',
  'Cluster has incomplete or invalid image catalog': 'ImageCatalogError',
  'Cluster cannot proceed to reconciliation due to an unknown plugin being required': 'PluginError',
  'Cluster cannot proceed to reconciliation due to an error while interacting with plugins': 'PluginError',
  'Cluster cannot execute instance online upgrade due to missing architecture binary': 'ArchitectureBinaryMissing',
};
const CNPG_HEALTHY_PHASE = 'Cluster in healthy state';

interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
  observedGeneration?: number;
}

function field(object: unknown, ...path: string[]): unknown {
  let at: unknown = object;
  for (const key of path) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

function count(value: unknown): number {
  const n = Number(value ?? 0);
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
}

export function databaseStatus(observation: DatabaseObservation): DatabaseStatus {
  return observation.provider === 'cloudnative-pg' ? cloudNativePGStatus(observation) : standaloneStatus(observation.statefulSet);
}

function cloudNativePGStatus(o: Extract<DatabaseObservation, { provider: 'cloudnative-pg' }>): DatabaseStatus {
  const instances = o.desiredInstances;
  const not = (readyInstances: number, reason: string, message: string): DatabaseStatus => ({ ready: false, readyInstances, instances, reason, message });
  if (!o.cloudNativePGInstalled) {
    return not(0, 'CloudNativePGNotInstalled', 'spec.database.provider is cloudnative-pg, but CloudNativePG is not installed (the CRD clusters.postgresql.cnpg.io is not served). Install the CloudNativePG operator, or use provider standalone for a new tenant.');
  }
  if (o.cluster === undefined || o.cluster === null) return not(0, 'ClusterMissing', 'The CloudNativePG Cluster has not been created yet.');
  const ready = count(field(o.cluster, 'status', 'readyInstances'));
  const phase = field(o.cluster, 'status', 'phase');
  const phaseReason = field(o.cluster, 'status', 'phaseReason');
  const counts = `${ready}/${instances} PostgreSQL instances ready`;
  if (typeof phase !== 'string' || phase === '') return not(ready, 'ClusterInitializing', `${counts}; CloudNativePG has not reported a phase yet.`);
  const detail = `CloudNativePG: ${phase}${typeof phaseReason === 'string' && phaseReason ? ` (${phaseReason})` : ''}`;
  const conditions = (field(o.cluster, 'status', 'conditions') ?? []) as Condition[];
  const readyCondition = Array.isArray(conditions) ? conditions.find((c) => c?.type === 'Ready') : undefined;
  const generation = Number(field(o.cluster, 'metadata', 'generation') ?? 0);
  if (phase !== CNPG_HEALTHY_PHASE) return not(ready, CNPG_PHASE_REASONS[phase] ?? 'ClusterNotReady', `${counts}; ${detail}.`);
  if (readyCondition && readyCondition.status !== 'True') {
    return not(ready, readyCondition.reason || 'ClusterNotReady', `${counts}; ${detail}; Ready=${readyCondition.status ?? 'Unknown'}${readyCondition.message ? `: ${readyCondition.message}` : ''}.`);
  }
  if (readyCondition?.observedGeneration !== undefined && readyCondition.observedGeneration < generation) {
    return not(ready, 'ClusterReconciling', `${counts}; CloudNativePG has not yet acted on the latest Cluster spec (generation ${generation}).`);
  }
  if (ready < instances) return not(ready, 'InstancesNotReady', `${counts}; ${detail}.`);
  return { ready: true, readyInstances: ready, instances, reason: 'DatabaseReady', message: `${counts} (${detail}).` };
}

function standaloneStatus(sts: unknown): DatabaseStatus {
  const instances = 1;
  if (sts === undefined || sts === null) return { ready: false, readyInstances: 0, instances, reason: 'StatefulSetMissing', message: 'The PostgreSQL StatefulSet has not been created yet.' };
  const ready = count(field(sts, 'status', 'readyReplicas'));
  const generation = Number(field(sts, 'metadata', 'generation') ?? 0);
  const observed = Number(field(sts, 'status', 'observedGeneration') ?? -1);
  const current = field(sts, 'status', 'currentRevision');
  const update = field(sts, 'status', 'updateRevision');
  const not = (reason: string, message: string): DatabaseStatus => ({ ready: false, readyInstances: ready, instances, reason, message });
  if (observed < generation) return not('RolloutPending', 'The StatefulSet controller has not yet acted on the latest PostgreSQL spec.');
  if (typeof current === 'string' && typeof update === 'string' && current !== update) return not('RollingUpdate', `PostgreSQL is restarting with a new revision (${update}).`);
  if (ready < 1) return not('InstanceNotReady', 'PostgreSQL (standalone) is not ready: pg_isready does not answer yet.');
  return { ready: true, readyInstances: ready, instances, reason: 'DatabaseReady', message: 'PostgreSQL (standalone) is ready.' };
}
