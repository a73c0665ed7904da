import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_GROUP_VERSION, KIND } from '../../src/api/index.js';
import { resourceFor } from '../../src/kube/resources.js';
import { names } from '../../src/render/index.js';
import { ANNOTATION_ADOPT } from '../../src/controller/adoption.js';
import { uniqueName } from '../harness/kube.js';
import { condition, createTenant, getTenant, installCrdAndStorage, objects, startOperator, tenantSpec, waitFor, waitForCondition, type TestOperator } from './support/operator.js';

// Deletion through the finalizer: Retain keeps data detached from the owner; Delete removes all.

let op: TestOperator;

beforeAll(async () => {
  await installCrdAndStorage();
  op = await startOperator(uniqueName('deletion'));
});

afterAll(async () => {
  await op?.stop();
});

const tenantRef = (name: string) => ({ apiVersion: API_GROUP_VERSION, kind: KIND, name });
const list = async (kind: string, apiVersion: string, namespace: string) => (await objects().list<any>(resourceFor(apiVersion, kind), { namespace })).items;

describe('deleting a tenant', () => {
  it('with Retain: volumes, backups, secrets and the namespace stay, no longer owned by the tenant', async () => {
    const name = uniqueName('retain');
    const created = await createTenant(name, tenantSpec({ deletionPolicy: 'Retain' }));
    await waitForCondition(name, 'Ready', 'True');
    const uid = (created['metadata'] as { uid: string }).uid;
    const secretsBefore = await list('Secret', 'v1', name);
    await objects().delete(tenantRef(name));
    await waitFor('tenant gone', async () => !(await getTenant(name)), 60_000);
    // The garbage collector takes everything that is not data, in its own time.
    await waitFor('workloads, policies and CronJob collected', async () => {
      const left = await Promise.all([list('StatefulSet', 'apps/v1', name), list('NetworkPolicy', 'networking.k8s.io/v1', name), list('CronJob', 'batch/v1', name), list('Service', 'v1', name)]);
      return left.every((l) => l.length === 0);
    }, 90_000);
    const ns = await objects().get<any>({ apiVersion: 'v1', kind: 'Namespace', name });
    expect(ns?.status?.phase).toBe('Active');
    const pvcs = await list('PersistentVolumeClaim', 'v1', name);
    expect(pvcs.map((p) => p.metadata.name).sort()).toEqual(['data-postgres-0', names.backup.pvc].sort());
    const secrets = await list('Secret', 'v1', name);
    expect(secrets.map((s) => s.metadata.name).sort()).toEqual(secretsBefore.map((s) => s.metadata.name).sort());
    for (const o of [ns, ...pvcs, ...secrets]) expect((o.metadata.ownerReferences ?? []).filter((r: any) => r.uid === uid), `${o.kind ?? ''}/${o.metadata.name}`).toEqual([]);
  });

  it('a retained tenant is brought back only deliberately: refused, then adopted through the annotation, with its keys', async () => {
    const name = uniqueName('revive');
    await createTenant(name, tenantSpec({ deletionPolicy: 'Retain' }));
    await waitForCondition(name, 'Ready', 'True');
    const key = (await objects().get<any>({ apiVersion: 'v1', kind: 'Secret', name: names.backup.keySecret, namespace: name })).data;
    await objects().delete(tenantRef(name));
    await waitFor('tenant gone', async () => !(await getTenant(name)), 60_000);
    const again = await createTenant(name, tenantSpec({ deletionPolicy: 'Retain' }));
    const refused = await waitForCondition(name, 'Ready', 'False');
    expect(condition(refused as never, 'Ready')?.reason).toBe('NamespaceNotOwned');
    await objects().mergePatch({ apiVersion: 'v1', kind: 'Namespace', name }, { metadata: { annotations: { [ANNOTATION_ADOPT]: (again['metadata'] as { uid: string }).uid } } });
    await waitForCondition(name, 'Ready', 'True');
    expect((await objects().get<any>({ apiVersion: 'v1', kind: 'Secret', name: names.backup.keySecret, namespace: name })).data).toEqual(key);
  });

  it('with Delete: every object of the tenant goes, namespace included, and other tenants are untouched', async () => {
    const name = uniqueName('delete');
    const bystander = uniqueName('bystander');
    await createTenant(name, tenantSpec({ deletionPolicy: 'Delete' }));
    await createTenant(bystander, tenantSpec({ deletionPolicy: 'Delete' }));
    await waitForCondition(name, 'Ready', 'True');
    await waitForCondition(bystander, 'Ready', 'True');
    const bystanderSecrets = (await list('Secret', 'v1', bystander)).map((s) => `${s.metadata.name}:${s.metadata.resourceVersion}`);
    await objects().delete(tenantRef(name));
    await waitFor('tenant gone', async () => !(await getTenant(name)), 120_000);
    await waitFor('namespace gone', async () => !(await objects().get({ apiVersion: 'v1', kind: 'Namespace', name })), 120_000);
    expect((await list('Secret', 'v1', bystander)).map((s) => `${s.metadata.name}:${s.metadata.resourceVersion}`)).toEqual(bystanderSecrets);
    expect((await getTenant(bystander))?.status?.phase).toBe('Ready');
  });
});
