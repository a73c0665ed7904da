import { afterEach, beforeAll, expect, it } from 'vitest';
import { sharedControlPlane, uniqueName } from '../harness/kube.js';
import { startApiServerProxy } from './support/api-server-proxy.js';
import { createTenant, installCrdAndStorage, kubeConfig, startOperator, tenantSpec, waitFor } from './support/operator.js';

// Issue 14, "two leaders", with real replicas on the real API server. Replica A reaches it through a
// proxy that can hang or slow its traffic; replica B talks to it directly. Both run in this process,
// so their logs share one clock.

const LEASE = { leaseDurationSeconds: 4, renewDeadlineSeconds: 3, retryPeriodSeconds: 1 };

// In the order pushed: the proxy closes first, so nothing of A waits on a hung connection while it stops.
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup().catch(() => {});
});

beforeAll(async () => {
  await installCrdAndStorage();
});

interface Interval {
  from: number;
  to: number;
}

/** When a replica led, from its own log ('became leader' ... 'stopped leading'); still leading: to = Infinity. */
function leadingIntervals(logs: string): Interval[] {
  const intervals: Interval[] = [];
  let from: number | undefined;
  for (const line of logs.split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { msg?: string; time?: string };
    if (entry.msg === 'became leader') from = Date.parse(entry.time!);
    if (entry.msg === 'stopped leading' && from !== undefined) {
      intervals.push({ from, to: Date.parse(entry.time!) });
      from = undefined;
    }
  }
  if (from !== undefined) intervals.push({ from, to: Infinity });
  return intervals;
}

const overlaps = (x: Interval, y: Interval) => x.from < y.to && y.from < x.to;

// A leader whose renewals hang must stop reconciling when its renew deadline passes, before a standby
// that judges the lease by its own clock can take it over.
it('a leader whose renewals hang stops leading before a standby starts; they never lead at once', async () => {
  const leaseName = uniqueName('lease');
  const proxy = await startApiServerProxy(sharedControlPlane().server);
  cleanups.push(() => proxy.close());
  const a = await startOperator('hung-a', { ...LEASE, leaseName, kubeConfig: proxy.kubeConfig(kubeConfig()) });
  cleanups.push(a.stop);
  await waitFor('replica A leads', async () => a.operator.isLeader, 30_000, 50);
  const b = await startOperator('standby-b', { ...LEASE, leaseName });
  cleanups.push(b.stop);
  // B has watched A renew for longer than a lease duration and stayed a standby.
  await new Promise((r) => setTimeout(r, (LEASE.leaseDurationSeconds + 1) * 1000));
  expect(b.operator.isLeader).toBe(false);

  const hungAt = Date.now();
  proxy.hang();
  await waitFor('replica B leads', async () => b.operator.isLeader, 30_000, 50);

  const ofA = leadingIntervals(a.logs());
  const ofB = leadingIntervals(b.logs());
  expect(ofA).toHaveLength(1);
  expect(ofB).toHaveLength(1);
  for (const x of ofA) for (const y of ofB) expect(overlaps(x, y), `A led ${JSON.stringify(x)}, B led ${JSON.stringify(y)}`).toBe(false);
  expect(a.operator.isLeader).toBe(false);
  // A gave up on its own timer, within a renew deadline of its last renewal, not when a request failed.
  expect(ofA[0]!.to - hungAt).toBeLessThanOrEqual(LEASE.renewDeadlineSeconds * 1000 + 500);
});

// A leader that is told to stop must not hand the lease over while a reconcile of its own still runs:
// the next leader would reconcile the same tenant at the same time.
it('a stopping leader finishes the reconcile in flight before it releases the lease', async () => {
  const leaseName = uniqueName('lease');
  const proxy = await startApiServerProxy(sharedControlPlane().server);
  cleanups.push(() => proxy.close());
  // Slow enough that a tenant's first reconcile takes seconds; quick enough for renewals to meet the deadline.
  proxy.addLatency(150);
  const a = await startOperator('stopping-a', { ...LEASE, leaseName, kubeConfig: proxy.kubeConfig(kubeConfig()) });
  cleanups.push(a.stop);
  await waitFor('replica A leads with synced caches', async () => a.operator.isLeader && a.operator.ready, 60_000, 50);
  await createTenant(uniqueName('stop'), tenantSpec());
  await waitFor('replica A writes for the tenant', async () => (a.operator.client.stats.requests['PATCH'] ?? 0) > 0, 60_000, 10);
  const reconcileEnded = /"msg":"(reconciled|reconcile failed; will retry)"/;
  expect(reconcileEnded.test(a.logs()), 'the reconcile had already ended when stop began').toBe(false);

  await a.stop();
  await waitFor('the reconcile in flight ends', async () => reconcileEnded.test(a.logs()), 60_000, 50);
  const lines = a.logs().split('\n');
  const ended = lines.findIndex((l) => reconcileEnded.test(l));
  const released = lines.findIndex((l) => l.includes('"msg":"released the leader lease"'));
  expect(released, 'A released the lease').toBeGreaterThan(-1);
  expect(ended, 'the reconcile ended before the lease was released').toBeLessThan(released);
});
