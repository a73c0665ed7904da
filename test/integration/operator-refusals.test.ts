import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { API_GROUP_VERSION, KIND, defaultSettings } from '../../src/api/index.js';
import { ANNOTATION_ADOPT } from '../../src/controller/adoption.js';
import { Caches } from '../../src/controller/caches.js';
import type { ReconcileContext } from '../../src/controller/context.js';
import { reconcileTenant } from '../../src/controller/reconciler.js';
import { KubeClient } from '../../src/kube/client.js';
import { EventRecorder } from '../../src/kube/events.js';
import { KubeObjects } from '../../src/kube/objects.js';
import { createLogger } from '../../src/log.js';
import { createOperatorMetrics } from '../../src/metrics/registry.js';
import { LABEL_TENANT } from '../../src/render/index.js';
import { uniqueName } from '../harness/kube.js';
import { condition, createTenant, getTenant, installCrdAndStorage, kubeConfig, objects, startOperator, tenantSpec, waitFor, waitForCondition, type TestOperator } from './support/operator.js';

// A refused tenant is not forgotten: what it waits for (a rival gone, a namespace annotated for
// adoption) brings it back without anyone touching it. And a namespace someone else creates in the
// instant before the operator does is never taken over.

const tenantRef = (name: string) => ({ apiVersion: API_GROUP_VERSION, kind: KIND, name });

/** No operator runs here to finalize the tenant: its finalizer is taken off by hand. */
async function removeWithoutOperator(name: string): Promise<void> {
  await objects().mergePatch(tenantRef(name), { metadata: { finalizers: null } });
  await objects().delete(tenantRef(name));
  await objects().delete({ apiVersion: 'v1', kind: 'Namespace', name });
}

/** A reconcile context over caches of the test's own, without a running operator. */
async function standaloneContext(): Promise<{ ctx: ReconcileContext; caches: Caches }> {
  const client = new KubeClient(kubeConfig(), 'refusals-test');
  const caches = new Caches(client, () => {}, () => {});
  caches.start();
  await caches.waitForSync();
  const objects = new KubeObjects(client);
  const ctx: ReconcileContext = {
    caches,
    objects,
    events: new EventRecorder(objects, 'refusals-test'),
    metrics: createOperatorMetrics(),
    settings: defaultSettings(),
    log: createLogger({ level: 'silent', destination: new Writable({ write: (_c, _e, done) => done() }) }),
    clock: () => new Date(),
    resyncMs: 600_000,
    notReadyRequeueMs: 30_000,
  };
  return { ctx, caches };
}

describe('a namespace made by someone else a moment before the operator creates it', () => {
  it('is not taken over: the tenant is refused, the namespace left as it was', async () => {
    await installCrdAndStorage();
    const { ctx, caches } = await standaloneContext();
    try {
      const name = uniqueName('race');
      await createTenant(name, tenantSpec());
      await waitFor('tenant cached', async () => !!caches.tenant(name), 10_000);
      // The namespace cache falls behind (as a watch does for a moment), then the platform creates it.
      caches.namespaces.stop();
      const theirs = await objects().create<any>({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { team: 'radiology' } } });
      await reconcileTenant(ctx, name);
      const after = await objects().get<any>({ apiVersion: 'v1', kind: 'Namespace', name });
      expect(after.metadata.resourceVersion).toBe(theirs.metadata.resourceVersion);
      expect(after.metadata.labels[LABEL_TENANT]).toBeUndefined();
      expect(condition(await getTenant(name), 'Ready')).toMatchObject({ status: 'False', reason: 'NamespaceNotOwned' });
      await removeWithoutOperator(name);
    } finally {
      caches.stop();
    }
  });

  it('a refusal asks to be retried at the resync period', async () => {
    const { ctx, caches } = await standaloneContext();
    try {
      const name = uniqueName('later');
      await objects().create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
      await createTenant(name, tenantSpec());
      await waitFor('tenant and namespace cached', async () => !!caches.tenant(name) && !!caches.namespace(name), 10_000);
      expect(await reconcileTenant(ctx, name)).toEqual({ requeueAfterMs: ctx.resyncMs });
      await removeWithoutOperator(name);
    } finally {
      caches.stop();
    }
  });
});

describe('a refused tenant comes back by itself', () => {
  let op: TestOperator;

  afterAll(async () => {
    await op?.stop();
  });

  it('when the tenant that claimed its domain first is deleted', async () => {
    op = await startOperator(uniqueName('refusals'));
    const domain = `chat.${uniqueName('shared')}.example`;
    const first = uniqueName('first');
    const second = uniqueName('second');
    await createTenant(first, tenantSpec({ xmppDomains: [domain], deletionPolicy: 'Delete' }));
    await waitForCondition(first, 'Ready', 'True');
    await createTenant(second, tenantSpec({ xmppDomains: [domain], deletionPolicy: 'Delete' }));
    const refused = await waitForCondition(second, 'Ready', 'False');
    expect(condition(refused as never, 'Ready')?.reason).toBe('DomainClaimed');
    await objects().delete(tenantRef(first));
    await waitForCondition(second, 'Ready', 'True', 180_000);
  });

  it('when the platform annotates the namespace it made for adoption', async () => {
    const name = uniqueName('platform-made');
    await objects().create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    const created = await createTenant(name, tenantSpec());
    const refused = await waitForCondition(name, 'Ready', 'False');
    expect(condition(refused as never, 'Ready')?.reason).toBe('NamespaceNotOwned');
    await objects().mergePatch({ apiVersion: 'v1', kind: 'Namespace', name }, { metadata: { annotations: { [ANNOTATION_ADOPT]: (created['metadata'] as { uid: string }).uid } } });
    await waitForCondition(name, 'Ready', 'True');
  });
});
