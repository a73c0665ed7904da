import { describe, expect, it } from 'vitest';
import { WorkQueue } from '../../src/controller/queue.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('WorkQueue', () => {
  it('never runs one key twice at the same time, and reruns it once if it was added meanwhile', async () => {
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    const queue = new WorkQueue(
      async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        runs++;
        await sleep(20);
        running--;
      },
      { concurrency: 4, baseDelayMs: 5, maxDelayMs: 100 },
    );
    queue.add('a');
    await sleep(5);
    for (let i = 0; i < 10; i++) queue.add('a');
    await sleep(100);
    await queue.idle();
    expect(maxRunning).toBe(1);
    expect(runs).toBe(2);
  });

  it('started paused, runs nothing until start(), then each held key once', async () => {
    const runs: string[] = [];
    const queue = new WorkQueue(async (key) => void runs.push(key), { concurrency: 4, baseDelayMs: 5, maxDelayMs: 100, startPaused: true });
    queue.add('a');
    queue.add('b');
    queue.add('a');
    await sleep(30);
    expect(runs).toEqual([]);
    queue.start();
    await queue.idle();
    expect(runs).toEqual(['a', 'b']);
  });

  it('dedupes keys that are waiting', async () => {
    const seen: string[] = [];
    const q2 = new WorkQueue(async (k) => {
      seen.push(k);
      await sleep(10);
    }, { concurrency: 1, baseDelayMs: 5, maxDelayMs: 100 });
    q2.add('x');
    q2.add('y');
    q2.add('y');
    q2.add('z');
    q2.add('y');
    await sleep(80);
    expect(seen).toEqual(['x', 'y', 'z']);
  });

  it('runs at most `concurrency` keys in parallel', async () => {
    let running = 0;
    let maxRunning = 0;
    const queue = new WorkQueue(async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await sleep(15);
      running--;
    }, { concurrency: 3, baseDelayMs: 5, maxDelayMs: 100 });
    for (let i = 0; i < 12; i++) queue.add(`k${i}`);
    await sleep(5);
    await queue.idle();
    await sleep(80);
    expect(maxRunning).toBe(3);
  });

  it('retries a failing key with exponential backoff and resets after success', async () => {
    const times: number[] = [];
    let failuresLeft = 3;
    const errors: number[] = [];
    const queue = new WorkQueue(
      async () => {
        times.push(Date.now());
        if (failuresLeft-- > 0) throw new Error('transient');
      },
      { concurrency: 1, baseDelayMs: 20, maxDelayMs: 1000 },
      (_k, _e, retryIn) => errors.push(retryIn),
    );
    queue.add('t');
    await sleep(400);
    expect(errors).toEqual([20, 40, 80]);
    expect(times).toHaveLength(4);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(gaps[0]!).toBeGreaterThanOrEqual(18);
    expect(gaps[2]!).toBeGreaterThanOrEqual(75);
    expect(queue.backoffFor('t')).toBe(20);
  });

  it('requeues after the delay a worker asks for', async () => {
    let runs = 0;
    const queue = new WorkQueue(async () => {
      runs++;
      return runs < 3 ? { requeueAfterMs: 15 } : undefined;
    }, { concurrency: 1, baseDelayMs: 5, maxDelayMs: 100 });
    queue.add('r');
    await sleep(120);
    expect(runs).toBe(3);
  });

  it('a delayed add sooner than a pending one wins: a backoff is not lost behind a resync', async () => {
    const runs: number[] = [];
    const started = Date.now();
    let fail = true;
    const queue = new WorkQueue(
      async () => {
        runs.push(Date.now() - started);
        if (fail) {
          fail = false;
          throw new Error('transient');
        }
      },
      { concurrency: 1, baseDelayMs: 20, maxDelayMs: 100 },
    );
    queue.addAfter('t', 10_000); // a Ready tenant's periodic resync is pending
    queue.add('t'); // then a watch event; its reconcile fails and backs off 20 ms
    await sleep(150);
    queue.stop();
    expect(runs.length).toBe(2);
    expect(runs[1]).toBeLessThan(1_000);
  });

  it('a later delayed add does not push back an earlier one', async () => {
    const runs: number[] = [];
    const started = Date.now();
    const queue = new WorkQueue(async () => void runs.push(Date.now() - started), { concurrency: 1, baseDelayMs: 5, maxDelayMs: 100 });
    queue.addAfter('t', 30);
    queue.addAfter('t', 10_000);
    await sleep(120);
    queue.stop();
    expect(runs.length).toBe(1);
    expect(runs[0]).toBeLessThan(1_000);
  });
});
