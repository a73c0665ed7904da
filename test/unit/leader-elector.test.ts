import { afterEach, describe, expect, it } from 'vitest';
import type { Json } from '../../src/kube/client.js';
import { ApiError } from '../../src/kube/errors.js';
import { LeaderElector, type LeaseOptions } from '../../src/kube/lease.js';
import type { Cancellable, KubeObjectLike, KubeObjects } from '../../src/kube/objects.js';

// The elector against an in-memory Lease with resourceVersions, where one candidate's requests can be
// made to hang until they are aborted (as a silent network leaves them). Durations are fractions of a
// second so the timing is real but the test is quick.

const TIMING = { leaseDurationSeconds: 0.4, renewDeadlineSeconds: 0.25, retryPeriodSeconds: 0.05 };

class LeaseStore {
  lease: Json | undefined;
  private version = 0;

  write(object: Json, expectVersion?: string): Json {
    const current = (this.lease?.['metadata'] as Json | undefined)?.['resourceVersion'];
    if (expectVersion !== undefined && current !== expectVersion) throw new ApiError('PUT', 'lease', 409, 'Conflict', 'stale');
    this.lease = structuredClone({ ...object, metadata: { ...(object['metadata'] as Json), resourceVersion: String(++this.version) } });
    return structuredClone(this.lease);
  }
}

/** One candidate's view of the store; `hung` makes every request wait until its signal aborts. */
function objectsFor(store: LeaseStore, state: { hung: boolean; aborted: number }): KubeObjects {
  const answer = <T>(options: Cancellable, work: () => T): Promise<T> =>
    state.hung
      ? new Promise((_resolve, reject) =>
          options.signal?.addEventListener('abort', () => {
            state.aborted++;
            reject(new Error('aborted'));
          }),
        )
      : Promise.resolve().then(work);
  return {
    get: (_ref: unknown, options: Cancellable = {}) => answer(options, () => (store.lease ? structuredClone(store.lease) : undefined)),
    create: (object: KubeObjectLike, options: Cancellable = {}) =>
      answer(options, () => {
        if (store.lease) throw new ApiError('POST', 'lease', 409, 'AlreadyExists', 'exists');
        return store.write(object);
      }),
    replace: (object: KubeObjectLike, options: Cancellable = {}) =>
      answer(options, () => store.write(object, (object.metadata as Json)['resourceVersion'] as string)),
  } as unknown as KubeObjects;
}

interface Candidate {
  elector: LeaderElector;
  state: { hung: boolean; aborted: number };
  intervals: Array<{ from: number; to: number }>;
}

const electors: LeaderElector[] = [];
afterEach(async () => {
  await Promise.all(electors.splice(0).map((e) => e.release()));
});

function candidate(store: LeaseStore, identity: string, timing: Partial<LeaseOptions> = {}): Candidate {
  const state = { hung: false, aborted: 0 };
  const intervals: Candidate['intervals'] = [];
  const options: LeaseOptions = { namespace: 'default', name: 'lease', identity, ...TIMING, ...timing };
  const elector = new LeaderElector(objectsFor(store, state), options, {
    onStartedLeading: () => intervals.push({ from: performance.now(), to: Infinity }),
    onStoppedLeading: () => (intervals.at(-1)!.to = performance.now()),
  });
  electors.push(elector);
  return { elector, state, intervals };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

describe('LeaderElector', () => {
  it('stops leading when the renew deadline passes while a renewal still hangs, and aborts it', async () => {
    const store = new LeaseStore();
    const a = candidate(store, 'a');
    a.elector.start();
    await until('a leads', () => a.elector.isLeader);
    await sleep(100);
    a.state.hung = true;
    const hungAt = performance.now();
    await until('a stops leading', () => !a.elector.isLeader);
    const stoppedAfter = performance.now() - hungAt;
    expect(stoppedAfter).toBeLessThanOrEqual(TIMING.renewDeadlineSeconds * 1000 + 30);
    expect(a.state.aborted).toBeGreaterThanOrEqual(1);
  });

  it('a standby takes over only after the hung leader has stopped: never two leaders', async () => {
    const store = new LeaseStore();
    const a = candidate(store, 'a');
    a.elector.start();
    await until('a leads', () => a.elector.isLeader);
    const b = candidate(store, 'b');
    b.elector.start();
    await sleep(2.5 * TIMING.leaseDurationSeconds * 1000);
    expect(b.elector.isLeader).toBe(false);
    a.state.hung = true;
    await until('b leads', () => b.elector.isLeader);
    expect(a.intervals).toHaveLength(1);
    expect(b.intervals).toHaveLength(1);
    expect(a.intervals[0]!.to).toBeLessThan(b.intervals[0]!.from);
  });

  it('a standby waits a lease duration from when it first saw the record, however old its renewTime', async () => {
    const store = new LeaseStore();
    const spec = { holderIdentity: 'gone', leaseDurationSeconds: TIMING.leaseDurationSeconds, renewTime: '2001-01-01T00:00:00.000000Z' };
    store.write({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'lease', namespace: 'default' }, spec });
    const b = candidate(store, 'b');
    const startedAt = performance.now();
    b.elector.start();
    await until('b leads', () => b.elector.isLeader);
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(TIMING.leaseDurationSeconds * 1000);
  });

  it('release gives the lease up so a standby leads at its next attempt', async () => {
    const store = new LeaseStore();
    const a = candidate(store, 'a');
    a.elector.start();
    await until('a leads', () => a.elector.isLeader);
    const b = candidate(store, 'b');
    b.elector.start();
    await sleep(100);
    await a.elector.release();
    expect(a.elector.isLeader).toBe(false);
    const releasedAt = performance.now();
    await until('b leads', () => b.elector.isLeader);
    expect(performance.now() - releasedAt).toBeLessThan(TIMING.leaseDurationSeconds * 1000);
  });

  it('refuses a renew deadline that is not shorter than the lease duration', () => {
    expect(() => candidate(new LeaseStore(), 'x', { renewDeadlineSeconds: 0.4 })).toThrow(/shorter than the lease duration/);
  });
});
