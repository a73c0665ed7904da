import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_GROUP_VERSION, FINALIZER, KIND } from '../../src/api/index.js';
import { resourceFor } from '../../src/kube/resources.js';
import { sharedControlPlane, uniqueName } from '../harness/kube.js';
import { createTenant, getTenant, installCrdAndStorage, objects, startOperator, tenantSpec, waitFor, waitForCondition, type TestOperator } from './support/operator.js';

// What deletionPolicy Retain keeps survives every usual way of deleting a ChatTenant, with the real
// garbage collector running (kube-controller-manager, which discovers the ChatTenant kind through the
// CRD): foreground and background cascades, and a finalizer removed by hand with no operator running.
// And Delete removes keys last.

const tenantRef = (name: string) => ({ apiVersion: API_GROUP_VERSION, kind: KIND, name });
const list = async (kind: string, apiVersion: string, namespace: string) => (await objects().list<any>(resourceFor(apiVersion, kind), { namespace })).items;

/** Everything Retain promises to keep, as bytes that must not change: identities, keys, volume claims. */
async function retainedSnapshot(namespace: string) {
  const ns = await objects().get<any>({ apiVersion: 'v1', kind: 'Namespace', name: namespace });
  const secrets = (await list('Secret', 'v1', namespace)).filter((s) => s.metadata.labels?.['app.kubernetes.io/managed-by'] === 'chat-tenant-operator');
  const pvcs = await list('PersistentVolumeClaim', 'v1', namespace);
  return {
    namespace: { uid: ns?.metadata.uid, terminating: ns?.metadata.deletionTimestamp !== undefined },
    secrets: Object.fromEntries(secrets.map((s) => [s.metadata.name, { uid: s.metadata.uid, data: s.data }])),
    volumes: Object.fromEntries(pvcs.map((p) => [p.metadata.name, { uid: p.metadata.uid, volume: p.spec.volumeName ?? null, terminating: p.metadata.deletionTimestamp !== undefined }])),
  };
}

async function readyRetainTenant(): Promise<{ name: string; before: Awaited<ReturnType<typeof retainedSnapshot>> }> {
  const name = uniqueName('keep');
  await createTenant(name, tenantSpec({ deletionPolicy: 'Retain' }));
  await waitForCondition(name, 'Ready', 'True');
  const before = await retainedSnapshot(name);
  expect(Object.keys(before.secrets).length).toBeGreaterThanOrEqual(5);
  expect(Object.keys(before.volumes).length).toBe(2);
  return { name, before };
}

/** The garbage collector has had its chance: it collected the workloads, which do hang off the tenant. */
async function collectorDone(namespace: string): Promise<void> {
  await waitFor('the garbage collector took the workloads', async () => {
    const left = await Promise.all([list('StatefulSet', 'apps/v1', namespace), list('CronJob', 'batch/v1', namespace), list('NetworkPolicy', 'networking.k8s.io/v1', namespace)]);
    return left.every((l) => l.length === 0);
  }, 120_000);
  // And a little longer: a namespace or Secret it was going to take would be marked by now.
  await new Promise((r) => setTimeout(r, 3_000));
}

describe('deletionPolicy Retain', () => {
  let op: TestOperator;

  beforeAll(async () => {
    await installCrdAndStorage();
    op = await startOperator(uniqueName('retain'));
  });

  afterAll(async () => {
    await op?.stop();
  });

  it('kubectl delete --cascade=foreground: namespace, keys and volumes kept byte for byte', async () => {
    const { name, before } = await readyRetainTenant();
    // The garbage collector does not wait for the operator: with none running (a restart, an upgrade)
    // it works through the foreground cascade alone, and whatever hangs off the tenant goes.
    await op.stop();
    try {
      await objects().delete(tenantRef(name), { propagationPolicy: 'Foreground' });
      await collectorDone(name);
      expect(await retainedSnapshot(name)).toEqual(before);
    } finally {
      op = await startOperator(uniqueName('retain'));
    }
    await waitFor('tenant finalized and gone', async () => !(await getTenant(name)), 120_000);
    expect(await retainedSnapshot(name)).toEqual(before);
  });

  it('kubectl delete (background): the same', async () => {
    const { name, before } = await readyRetainTenant();
    await objects().delete(tenantRef(name), { propagationPolicy: 'Background' });
    await waitFor('tenant gone', async () => !(await getTenant(name)), 120_000);
    await collectorDone(name);
    expect(await retainedSnapshot(name)).toEqual(before);
  });

  it('the finalizer removed by hand while no operator runs: the same', async () => {
    const { name, before } = await readyRetainTenant();
    await op.stop();
    try {
      await objects().delete(tenantRef(name), { propagationPolicy: 'Foreground' });
      const stuck = await getTenant(name);
      expect(stuck?.metadata['finalizers']).toContain(FINALIZER);
      // What a platform engineer does after uninstalling the operator.
      await objects().jsonPatch(tenantRef(name), [{ op: 'replace', path: '/metadata/finalizers', value: (stuck!.metadata['finalizers'] as string[]).filter((f) => f !== FINALIZER) }]);
      await waitFor('tenant gone', async () => !(await getTenant(name)), 120_000);
      await collectorDone(name);
      expect(await retainedSnapshot(name)).toEqual(before);
    } finally {
      op = await startOperator(uniqueName('retain'));
    }
  });
});

describe('deletionPolicy Delete', () => {
  let op: TestOperator;

  beforeAll(async () => {
    await installCrdAndStorage();
    op = await startOperator(uniqueName('delete-order'));
  });

  afterAll(async () => {
    await op?.stop();
  });

  it('removes workloads, then volumes, then keys, then the namespace (as the API server logged the deletes)', async () => {
    const name = uniqueName('shred');
    await createTenant(name, tenantSpec({ deletionPolicy: 'Delete' }));
    await waitForCondition(name, 'Ready', 'True');
    await objects().delete(tenantRef(name));
    await waitFor('tenant gone', async () => !(await getTenant(name)), 180_000);
    await waitFor('namespace gone', async () => !(await objects().get({ apiVersion: 'v1', kind: 'Namespace', name })), 180_000);

    const audit = (await readFile(sharedControlPlane().auditLogPath, 'utf8')).split('\n').filter((l) => l.includes('"verb":"delete"') && l.includes('chat-tenant-operator/'));
    const deletes = audit
      .map((l) => JSON.parse(l) as { stage: string; objectRef: { resource: string; namespace?: string; name: string }; requestReceivedTimestamp: string; responseStatus?: { code: number } })
      .filter((e) => e.stage === 'ResponseComplete' && (e.objectRef.namespace === name || (e.objectRef.resource === 'namespaces' && e.objectRef.name === name)))
      .sort((a, b) => Date.parse(a.requestReceivedTimestamp) - Date.parse(b.requestReceivedTimestamp))
      .map((e) => e.objectRef.resource);
    const stage = (resource: string) => (resource === 'namespaces' ? 3 : resource === 'secrets' ? 2 : resource === 'persistentvolumeclaims' ? 1 : 0);
    expect(deletes).toContain('secrets');
    expect(deletes).toContain('persistentvolumeclaims');
    expect(deletes).toContain('statefulsets');
    expect(deletes.at(-1)).toBe('namespaces');
    // Stages never go backwards: no workload after a volume, no volume after a key.
    expect(deletes.map(stage)).toEqual([...deletes.map(stage)].sort((a, b) => a - b));
  });
});
