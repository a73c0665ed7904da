import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_GROUP_VERSION, KIND } from '../../src/api/index.js';
import { resourceFor } from '../../src/kube/resources.js';
import { ANNOTATION_TENANT_UID } from '../../src/render/index.js';
import { controllerCases, type ControllerCase } from '../support/bad-inputs.js';
import { uniqueName } from '../harness/kube.js';
import { condition, installCrdAndStorage, objects, startOperator, waitFor, type TestOperator } from './support/operator.js';

// The catalogue's cases that only the cluster can reveal, against the real operator: each ends as a
// condition with its reason and a message naming the field, and nothing is created or deleted.

let op: TestOperator;

beforeAll(async () => {
  await installCrdAndStorage();
  op = await startOperator(uniqueName('bad-inputs'));
});

afterAll(async () => {
  await op?.stop();
});

/** The case with its fixed names made unique, so cases never meet each other's objects. */
function localise(c: ControllerCase): { c: ControllerCase; name: string; rename: (s: string) => string } {
  const suffix = uniqueName('x').slice(2);
  const name = `bad-input-${suffix}`;
  const rename = (s: string) => s.replaceAll('bad-input', name).replaceAll('first-clinic', `a-first-${suffix}`).replaceAll('chat.shared.example', `chat.shared-${suffix}.example`).replaceAll('chat.test-clinic.example', `chat.clinic-${suffix}.example`).replaceAll('chat.mine.example', `chat.mine-${suffix}.example`).replaceAll('"standard"', `"standard-${suffix}"`).replaceAll('"legacy"', `"legacy-${suffix}"`).replaceAll('"archive-hdd"', `"archive-hdd-${suffix}"`).replaceAll('"does-not-exist"', `"does-not-exist-${suffix}"`).replaceAll('"encrypted-ssd"', `"encrypted-ssd-${suffix}"`);
  return { c: JSON.parse(rename(JSON.stringify(c))) as ControllerCase, name, rename };
}

async function managedObjectsIn(namespace: string): Promise<string[]> {
  const out: string[] = [];
  for (const [apiVersion, kind] of [['v1', 'Secret'], ['apps/v1', 'StatefulSet'], ['networking.k8s.io/v1', 'NetworkPolicy'], ['v1', 'PersistentVolumeClaim'], ['v1', 'Service']] as const) {
    const list = await objects().list<any>(resourceFor(apiVersion, kind), { namespace, labelSelector: 'app.kubernetes.io/managed-by=chat-tenant-operator' });
    out.push(...list.items.map((o) => `${kind}/${o.metadata.name}`));
  }
  return out;
}

describe('bad inputs only the cluster can reveal', () => {
  it.each(controllerCases().map((c) => [c.id, c] as const))('%s', async (_id, original) => {
    const { c, name } = localise(original);
    const o = objects();
    for (const sc of c.cluster.storageClasses ?? []) await o.apply({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', provisioner: 'kubernetes.io/no-provisioner', ...sc } as never);
    for (const ns of c.cluster.namespaces ?? []) {
      const { uid: _uid, ...metadata } = ns.metadata as Record<string, unknown>;
      await o.create({ apiVersion: 'v1', kind: 'Namespace', metadata } as never);
    }
    for (const other of c.cluster.otherTenants ?? []) {
      await o.create({ apiVersion: API_GROUP_VERSION, kind: KIND, metadata: { name: other.metadata.name }, spec: other.spec } as never);
      await new Promise((r) => setTimeout(r, 1100)); // creation timestamps have one-second resolution
    }
    const foreignBefore = c.cluster.namespaces?.length ? await managedObjectsIn(name) : [];
    await o.create({ apiVersion: API_GROUP_VERSION, kind: KIND, metadata: { name }, spec: c.manifest.spec } as never);
    let tenant: any;
    await waitFor(`${c.expect.conditionType} ${c.expect.reason}`, async () => {
      tenant = await o.get<any>({ apiVersion: API_GROUP_VERSION, kind: KIND, name });
      return condition(tenant, c.expect.conditionType)?.reason === c.expect.reason;
    }, 60_000).catch((e: Error) => {
      throw new Error(`${e.message}; status ${JSON.stringify(tenant?.status?.conditions)}; operator warnings: ${op.logs().split('\n').filter((l) => /"level":"(warn|error)"/.test(l)).slice(-3).join('\n')}`);
    });
    const cond = condition(tenant, c.expect.conditionType)!;
    expect(cond.status).toBe('False');
    expect(cond.message).toContain(c.field);
    expect(condition(tenant, 'Ready')?.status).toBe('False');
    if (c.safeguard) expect(tenant.status.safeguards.find((s: any) => s.name === c.safeguard!.name)).toMatchObject({ holds: false, reason: c.safeguard.reason });
    // Nothing created: no namespace of ours, nothing of ours in a foreign one; nothing deleted there.
    await op.operator.idle();
    if (c.cluster.namespaces?.length) {
      expect(await managedObjectsIn(name)).toEqual(foreignBefore);
      const ns = await o.get<any>({ apiVersion: 'v1', kind: 'Namespace', name });
      expect(ns.metadata.ownerReferences ?? []).not.toContainEqual(expect.objectContaining({ kind: KIND, name }));
      expect(ns.metadata.annotations?.[ANNOTATION_TENANT_UID]).toBeUndefined();
    } else {
      expect(await o.get({ apiVersion: 'v1', kind: 'Namespace', name })).toBeUndefined();
    }
  });
});
