import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { names } from '../../src/render/index.js';
import { uniqueName } from '../harness/kube.js';
import { condition, createTenant, getTenant, installCrdAndStorage, objects, startOperator, startProvisioner, tenantSpec, waitFor, waitForCondition, type TestOperator } from './support/operator.js';

// A tenant's life on a real control plane: created, Ready from its workloads' own status, changed,
// drifted and restored.

let op: TestOperator;

beforeAll(async () => {
  await installCrdAndStorage();
  startProvisioner();
  op = await startOperator(uniqueName('lifecycle'));
});

afterAll(async () => {
  await op?.stop();
});

describe('a tenant on a real control plane', () => {
  const name = uniqueName('clinic');

  it('gets every rendered object, Pods on simulated nodes, and becomes Ready', async () => {
    await createTenant(name, tenantSpec());
    const tenant = await waitForCondition(name, 'Ready', 'True');
    const status = (tenant as { status: any }).status;
    expect(status.phase).toBe('Ready');
    expect(status.messaging).toEqual({ replicas: 2, readyReplicas: 2 });
    expect(status.database.readyInstances).toBe(1);
    expect(status.observedGeneration).toBe(1);
    const o = objects();
    for (const [apiVersion, kind, n] of [
      ['v1', 'Namespace', name],
      ['apps/v1', 'StatefulSet', names.messaging.statefulSet],
      ['apps/v1', 'StatefulSet', names.database.statefulSet],
      ['batch/v1', 'CronJob', names.backup.cronJob],
      ['networking.k8s.io/v1', 'NetworkPolicy', names.network.defaultDeny],
      ['v1', 'Secret', names.backup.keySecret],
    ] as const) {
      expect(await o.get({ apiVersion, kind, name: n, namespace: kind === 'Namespace' ? undefined : name }), `${kind}/${n}`).toBeDefined();
    }
  });
});
