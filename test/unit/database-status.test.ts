import { describe, expect, it } from 'vitest';
import { CNPG_PHASE_REASONS, databaseStatus } from '../../src/controller/database-status.js';
import { databaseFacts } from '../../src/controller/observe.js';
import { minimalSpec, tenantFixture } from '../support/tenants.js';

const healthy = 'Cluster in healthy state';

function cluster(status: Record<string, unknown>, generation = 1) {
  return { apiVersion: 'postgresql.cnpg.io/v1', kind: 'Cluster', metadata: { name: 'postgres', generation }, status };
}

const readyCondition = (status: 'True' | 'False', extra: Record<string, unknown> = {}) => ({ type: 'Ready', status, reason: status === 'True' ? 'ClusterIsReady' : 'ClusterIsNotReady', message: status === 'True' ? 'Cluster is Ready' : 'Cluster Is Not Ready', ...extra });

const cnpg = (c: unknown, desiredInstances = 3) => databaseStatus({ provider: 'cloudnative-pg', cloudNativePGInstalled: true, cluster: c, desiredInstances });

describe('databaseStatus, cloudnative-pg', () => {
  it('without the CRD: a clear reason and what to do', () => {
    const s = databaseStatus({ provider: 'cloudnative-pg', cloudNativePGInstalled: false, cluster: undefined, desiredInstances: 3 });
    expect(s).toMatchObject({ ready: false, readyInstances: 0, instances: 3, reason: 'CloudNativePGNotInstalled' });
    expect(s.message).toMatch(/clusters\.postgresql\.cnpg\.io.*Install the CloudNativePG operator/);
  });

  const table: Array<{ name: string; cluster: unknown; ready: boolean; reason: string; readyInstances: number; message?: RegExp }> = [
    { name: 'no Cluster yet', cluster: undefined, ready: false, reason: 'ClusterMissing', readyInstances: 0 },
    { name: 'Cluster without status', cluster: cluster({}), ready: false, reason: 'ClusterInitializing', readyInstances: 0 },
    { name: 'healthy, all instances, Ready=True', cluster: cluster({ instances: 3, readyInstances: 3, phase: healthy, conditions: [readyCondition('True')] }), ready: true, reason: 'DatabaseReady', readyInstances: 3, message: /3\/3 PostgreSQL instances ready/ },
    { name: 'healthy phase without conditions (older CloudNativePG)', cluster: cluster({ instances: 3, readyInstances: 3, phase: healthy }), ready: true, reason: 'DatabaseReady', readyInstances: 3 },
    { name: 'setting up the primary', cluster: cluster({ instances: 3, readyInstances: 0, phase: 'Setting up primary', conditions: [readyCondition('False')] }), ready: false, reason: 'SettingUpPrimary', readyInstances: 0 },
    { name: 'creating replicas', cluster: cluster({ instances: 3, readyInstances: 1, phase: 'Creating a new replica' }), ready: false, reason: 'CreatingReplica', readyInstances: 1, message: /1\/3 .*Creating a new replica/ },
    { name: 'failing over', cluster: cluster({ instances: 3, readyInstances: 2, phase: 'Failing over', phaseReason: 'Failing over from postgres-1 to postgres-2' }), ready: false, reason: 'FailingOver', readyInstances: 2, message: /from postgres-1 to postgres-2/ },
    { name: 'invalid definition', cluster: cluster({ phase: 'Invalid cluster definition', phaseReason: 'spec.postgresql.parameters.ssl: Can\'t set fixed configuration parameter', conditions: [readyCondition('False')] }), ready: false, reason: 'InvalidClusterDefinition', readyInstances: 0, message: /fixed configuration parameter/ },
    { name: 'unknown phase of a newer CloudNativePG', cluster: cluster({ readyInstances: 3, phase: 'Doing something new' }), ready: false, reason: 'ClusterNotReady', readyInstances: 3, message: /Doing something new/ },
    { name: 'healthy phase but Ready=False', cluster: cluster({ readyInstances: 3, phase: healthy, conditions: [readyCondition('False')] }), ready: false, reason: 'ClusterIsNotReady', readyInstances: 3 },
    { name: 'healthy but fewer instances than the spec asks (scaling up)', cluster: cluster({ instances: 2, readyInstances: 2, phase: healthy, conditions: [readyCondition('True')] }), ready: false, reason: 'InstancesNotReady', readyInstances: 2, message: /2\/3/ },
    { name: 'Ready condition from an older generation', cluster: cluster({ readyInstances: 3, phase: healthy, conditions: [readyCondition('True', { observedGeneration: 1 })] }, 2), ready: false, reason: 'ClusterReconciling', readyInstances: 3 },
  ];
  for (const row of table) {
    it(row.name, () => {
      const s = cnpg(row.cluster);
      expect(s).toMatchObject({ ready: row.ready, reason: row.reason, readyInstances: row.readyInstances, instances: 3 });
      if (row.message) expect(s.message).toMatch(row.message);
    });
  }

  it('maps every phase CloudNativePG 1.30 defines to a CamelCase reason', () => {
    for (const reason of Object.values(CNPG_PHASE_REASONS)) expect(reason).toMatch(/^[A-Z][A-Za-z]+$/);
    for (const [phase, reason] of Object.entries(CNPG_PHASE_REASONS)) {
      if (phase === healthy) continue;
      expect(cnpg(cluster({ phase, readyInstances: 3 })).reason).toBe(reason);
    }
  });
});

describe('databaseStatus, standalone', () => {
  const sts = (status: Record<string, unknown>, generation = 2) => ({ metadata: { name: 'postgres', generation }, spec: { replicas: 1 }, status });
  const table: Array<{ name: string; sts: unknown; ready: boolean; reason: string }> = [
    { name: 'no StatefulSet', sts: undefined, ready: false, reason: 'StatefulSetMissing' },
    { name: 'ready and current', sts: sts({ observedGeneration: 2, replicas: 1, readyReplicas: 1, currentRevision: 'postgres-a', updateRevision: 'postgres-a' }), ready: true, reason: 'DatabaseReady' },
    { name: 'starting (pg_isready not yet answering)', sts: sts({ observedGeneration: 2, replicas: 1, readyReplicas: 0, currentRevision: 'postgres-a', updateRevision: 'postgres-a' }), ready: false, reason: 'InstanceNotReady' },
    { name: 'spec changed, controller has not seen it', sts: sts({ observedGeneration: 1, readyReplicas: 1 }), ready: false, reason: 'RolloutPending' },
    { name: 'rolling to a new revision', sts: sts({ observedGeneration: 2, readyReplicas: 1, currentRevision: 'postgres-a', updateRevision: 'postgres-b' }), ready: false, reason: 'RollingUpdate' },
  ];
  for (const row of table) {
    it(row.name, () => {
      expect(databaseStatus({ provider: 'standalone', statefulSet: row.sts })).toMatchObject({ ready: row.ready, reason: row.reason, instances: 1 });
    });
  }
});

describe("the tenant's Database condition facts", () => {
  // The reconciler's facts come from databaseStatus: a failover shows as FailingOver with CloudNativePG's
  // own words, not as a generic "not healthy".
  const tenant = tenantFixture('clinic', minimalSpec({ database: { provider: 'cloudnative-pg', instances: 3, storage: { storageClassName: 'encrypted-ssd' } } }));
  it('a CloudNativePG failover is named, with its phase reason', () => {
    const facts = databaseFacts(tenant, {
      cloudNativePGInstalled: true,
      unencrypted: [],
      kubernetesApiEgress: true,
      databaseWorkload: cluster({ readyInstances: 2, phase: 'Failing over', phaseReason: 'Failing over from postgres-1 to postgres-2', conditions: [readyCondition('False')] }),
    });
    expect(facts).toMatchObject({ status: 'False', reason: 'FailingOver', readyInstances: 2, instances: 3, provider: 'cloudnative-pg' });
    expect(facts.message).toContain('postgres-1 to postgres-2');
    expect(facts.message).not.toContain('kubernetesApiCIDRs');
  });
  it('a Cluster not ready while the API server is unreachable by policy says so, and a ready one does not', () => {
    const creating = cluster({ readyInstances: 0, phase: 'Setting up primary', conditions: [readyCondition('False')] });
    const blocked = databaseFacts(tenant, { cloudNativePGInstalled: true, unencrypted: [], kubernetesApiEgress: false, databaseWorkload: creating });
    expect(blocked).toMatchObject({ status: 'False', reason: 'SettingUpPrimary' });
    expect(blocked.message).toMatch(/kubernetesApiCIDRs is empty.*docs\/network\.md/);
    const healthyCluster = cluster({ instances: 3, readyInstances: 3, phase: healthy, conditions: [readyCondition('True')] });
    expect(databaseFacts(tenant, { cloudNativePGInstalled: true, unencrypted: [], kubernetesApiEgress: false, databaseWorkload: healthyCluster })).toMatchObject({ status: 'True', reason: 'DatabaseReady' });
  });
  it('storage nobody vouches encrypted outranks everything else', () => {
    const facts = databaseFacts(tenant, { cloudNativePGInstalled: true, kubernetesApiEgress: true, unencrypted: [{ field: 'spec.database.storage.storageClassName', name: 'plain', how: 'not listed' }], databaseWorkload: undefined });
    expect(facts).toMatchObject({ status: 'False', reason: 'StorageNotEncrypted', storageEncrypted: false });
  });
});
