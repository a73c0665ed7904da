import * as k8s from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { chatTenantCrd } from '../../src/api/crd.js';
import { API_GROUP, API_VERSION, CRD_NAME, PLURAL, type ChatTenantObject } from '../../src/api/index.js';
import { KubeClient, type Json } from '../../src/kube/client.js';
import { KubeObjects } from '../../src/kube/objects.js';
import { apiMessage, apiStatus, eventually, sharedKubeConfig, uniqueName } from '../harness/kube.js';
import { createCases, updateCases, type CreateCase } from '../support/bad-inputs.js';

// The bad-input catalogue against the real kube-apiserver with the generated CRD installed: every
// 'admission' case is refused at create (or update) with a message naming the field and nothing is
// stored; every 'validation' case is admitted, which is why the controller validates with zod.

const kc = sharedKubeConfig();
const custom = kc.makeApiClient(k8s.CustomObjectsApi);
const target = { group: API_GROUP, version: API_VERSION, plural: PLURAL };

beforeAll(async () => {
  const objects = new KubeObjects(new KubeClient(kc));
  await objects.apply(chatTenantCrd() as never);
  await eventually('the ChatTenant CRD to be established', async () => {
    const crd = await objects.get<Json>({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: CRD_NAME });
    const conditions = (crd?.['status'] as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions;
    return conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false;
  });
});

/** The case's manifest under a name of this run, unless the name is what the case is about. */
function named(c: CreateCase): ChatTenantObject {
  return c.keepName ? c.manifest : { ...c.manifest, metadata: { ...c.manifest.metadata, name: uniqueName(`bad-${c.id}`).slice(0, 63) } };
}

async function createRejection(body: ChatTenantObject, strict: boolean): Promise<{ status: number | undefined; message: string } | undefined> {
  try {
    await custom.createClusterCustomObject({ ...target, body, ...(strict ? { fieldValidation: 'Strict' } : {}) });
    return undefined;
  } catch (error) {
    return { status: apiStatus(error), message: apiMessage(error) };
  }
}

async function exists(name: string): Promise<boolean> {
  try {
    await custom.getClusterCustomObject({ ...target, name });
    return true;
  } catch (error) {
    if (apiStatus(error) === 404) return false;
    throw error;
  }
}

async function remove(name: string): Promise<void> {
  try {
    await custom.deleteClusterCustomObject({ ...target, name });
  } catch (error) {
    if (apiStatus(error) !== 404) throw error;
  }
}

describe.each(createCases('admission'))('admission refuses $id', (c) => {
  it(`at create, naming ${c.field}; nothing is stored`, async () => {
    const body = named(c);
    const wasThere = await exists(body.metadata.name);
    const rejection = await createRejection(body, c.strictFieldValidation === true);
    if (!rejection) await remove(body.metadata.name);
    expect(rejection, `${c.description}: the API server admitted it`).toBeDefined();
    // 422 Invalid for schema and CEL; strict field validation answers 400 Bad Request.
    expect([400, 422]).toContain(rejection!.status);
    expect(rejection!.message).toContain(c.field);
    if (!wasThere) expect(await exists(body.metadata.name)).toBe(false);
  });
});

describe.each(createCases('validation'))('admission lets $id through (only zod catches it)', (c) => {
  it('is stored by the API server, so the controller must report it', async () => {
    const body = named(c);
    const rejection = await createRejection(body, true);
    await remove(body.metadata.name);
    expect(rejection, 'the API server refused it: tag the case admission').toBeUndefined();
  });
});

/** The value at a dotted path such as spec.database.storage.storageClassName. */
function valueAt(object: unknown, field: string): unknown {
  return field.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], object);
}

describe.each(updateCases())('admission refuses $id', (c) => {
  it(`on update, naming ${c.field}; the stored object keeps its value`, async () => {
    const name = uniqueName(`bad-${c.id}`).slice(0, 63);
    const created = (await custom.createClusterCustomObject({ ...target, body: { ...c.before, metadata: { name } } })) as ChatTenantObject;
    try {
      let rejection: { status: number | undefined; message: string } | undefined;
      try {
        await custom.replaceClusterCustomObject({ ...target, name, body: { ...c.after, metadata: { name, resourceVersion: created.metadata.resourceVersion } } });
      } catch (error) {
        rejection = { status: apiStatus(error), message: apiMessage(error) };
      }
      expect(rejection, `${c.description}: the API server accepted the change`).toBeDefined();
      expect(rejection!.status).toBe(422);
      expect(rejection!.message).toContain(c.field);
      const stored = await custom.getClusterCustomObject({ ...target, name });
      expect(valueAt(stored, c.field)).toEqual(valueAt(c.before, c.field));
    } finally {
      await remove(name);
    }
  });
});
