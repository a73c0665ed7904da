import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { names } from '../../src/render/index.js';
import { uniqueName } from '../harness/kube.js';
import { resourceFor } from '../../src/kube/resources.js';
import { createTenant, getTenant, installCrdAndStorage, objects, tenantSpec, waitFor, waitForCondition } from './support/operator.js';
import { startOperatorProcess, type OperatorProcess } from './support/operator-process.js';

// The operator as separate processes: leader election between replicas, SIGTERM, and a crash in the
// middle of a reconcile.

const running: OperatorProcess[] = [];
const start = (identity: string, lease: string, extraArgs: string[] = []) => {
  const p = startOperatorProcess(identity, lease, extraArgs);
  running.push(p);
  return p;
};

beforeAll(async () => {
  await installCrdAndStorage();
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill()));
});

async function leaseHolder(lease: string): Promise<string | undefined> {
  const l = await objects().get<any>({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', name: lease, namespace: 'default' });
  return l?.spec?.holderIdentity || undefined;
}

const secretData = async (ns: string, name: string) => (await objects().get<any>({ apiVersion: 'v1', kind: 'Secret', name, namespace: ns }))?.data;

describe('operator processes', () => {
  it('two replicas: only the leader reconciles; kill it and the other takes over within the lease duration', async () => {
    const lease = uniqueName('lease');
    // A leader whose renewal misses the renew deadline stops (and the process exits): on a loaded
    // machine 4 s leases (2.7 s deadline) were missed, and replica-b reconciled first. 8 s leave room.
    const a = start('replica-a', lease, ['--lease-duration', '8']);
    await waitFor('replica-a leads', async () => (await leaseHolder(lease)) === 'replica-a', 60_000);
    const b = start('replica-b', lease, ['--lease-duration', '8']);
    await new Promise((r) => setTimeout(r, 3000));
    expect(await leaseHolder(lease)).toBe('replica-a');
    const name = uniqueName('ha');
    await createTenant(name, tenantSpec());
    await waitForCondition(name, 'Ready', 'True');
    // Only the leader reconciled. (Its log line follows the status write and the Events, which take a while
    // on a loaded machine, so wait for it.)
    await waitFor('replica-a logged its reconcile', async () => /"msg":"reconciled"/.test(a.output()), 60_000, 100);
    expect(b.output()).not.toMatch(/"msg":"reconciled"/);
    const killedAt = Date.now();
    await a.kill();
    await waitFor('replica-b leads', async () => (await leaseHolder(lease)) === 'replica-b', 30_000, 250);
    expect(Date.now() - killedAt).toBeLessThan(8000 + 6000); // lease duration + retry periods
    // The new leader reconciles: a change made now is applied by it.
    await objects().mergePatch({ apiVersion: 'chat.tenant-operator.dev/v1alpha1', kind: 'ChatTenant', name }, { spec: { messaging: { replicas: 1 } } });
    await waitFor('replica-b applied the change', async () => (await getTenant(name))?.status?.observedGeneration === 2, 60_000);
    await waitFor('replica-b logged its reconcile', async () => /"msg":"reconciled"/.test(b.output()), 60_000, 100);
  });

  it('SIGTERM releases the lease so a standby takes over at once', async () => {
    const lease = uniqueName('lease');
    const a = start('term-a', lease);
    await waitFor('term-a leads', async () => (await leaseHolder(lease)) === 'term-a', 60_000);
    const b = start('term-b', lease);
    await new Promise((r) => setTimeout(r, 2000));
    expect(await a.terminate()).toBe(0);
    const releasedAt = Date.now();
    await waitFor('term-b leads', async () => (await leaseHolder(lease)) === 'term-b', 30_000, 200);
    expect(Date.now() - releasedAt).toBeLessThan(3500);
    void b;
  });

  it('a crash in the middle of a reconcile: a new process converges with no regenerated secret', async () => {
    const lease = uniqueName('lease');
    const a = start('crash-a', lease);
    await waitFor('crash-a leads', async () => (await leaseHolder(lease)) === 'crash-a', 60_000);
    const name = uniqueName('crash');
    await createTenant(name, tenantSpec());
    // Kill as soon as the first credentials exist, before the workloads are all applied.
    await waitFor('first secret written', async () => !!(await secretData(name, names.database.appSecret)), 60_000, 50);
    await a.kill();
    const before = {
      app: await secretData(name, names.database.appSecret),
      cookie: await secretData(name, names.messaging.cookieSecret),
      key: await secretData(name, names.backup.keySecret),
      ca: await secretData(name, names.tls.caSecret),
    };
    start('crash-b', lease);
    await waitForCondition(name, 'Ready', 'True');
    expect(await secretData(name, names.database.appSecret)).toEqual(before.app);
    if (before.cookie) expect(await secretData(name, names.messaging.cookieSecret)).toEqual(before.cookie);
    if (before.key) expect(await secretData(name, names.backup.keySecret)).toEqual(before.key);
    if (before.ca) expect(await secretData(name, names.tls.caSecret)).toEqual(before.ca);
    const secrets = await objects().list<any>(resourceFor('v1', 'Secret'), { namespace: name, labelSelector: 'app.kubernetes.io/managed-by=chat-tenant-operator' });
    const namesSeen = secrets.items.map((s) => s.metadata.name);
    expect(new Set(namesSeen).size).toBe(namesSeen.length);
  });
});

afterAll(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill()));
});
