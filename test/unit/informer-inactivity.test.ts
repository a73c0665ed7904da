import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import type { Json, KubeClient } from '../../src/kube/client.js';
import { Informer, watchInactivityMs } from '../../src/kube/informer.js';
import { resourceFor } from '../../src/kube/resources.js';

// The informer's watch inactivity deadline on a fake clock, against a client whose watches stay open
// and bring nothing unless the test sends an event.

interface OpenWatch {
  resourceVersion: unknown;
  send: (event: Json) => void;
}

function silentClient(): { client: KubeClient; watches: OpenWatch[] } {
  const watches: OpenWatch[] = [];
  const client = {
    request: async () => ({ items: [], metadata: { resourceVersion: '10' } }),
    stream: (_path: string, query: Record<string, unknown>, signal: AbortSignal, onEvent: (event: Json) => void) =>
      new Promise<void>((_resolve, reject) => {
        watches.push({ resourceVersion: query['resourceVersion'], send: onEvent });
        signal.addEventListener('abort', () => reject(new Error('aborted')));
      }),
  } as unknown as KubeClient;
  return { client, watches };
}

let informer: Informer | undefined;
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  informer?.stop();
  vi.useRealTimers();
});

it('is somewhat longer than the server-side timeout', () => {
  expect(watchInactivityMs(60)).toBe(75_000);
  expect(watchInactivityMs(4)).toBe(9_000);
});

it('a watch that brings nothing past its deadline is resumed from the last resourceVersion, without a relist', async () => {
  const { client, watches } = silentClient();
  const request = vi.spyOn(client, 'request');
  informer = new Informer(client, resourceFor('v1', 'ConfigMap'), { watchTimeoutSeconds: 4 });
  informer.start();
  await vi.advanceTimersByTimeAsync(0);
  expect(watches).toHaveLength(1);
  await vi.advanceTimersByTimeAsync(watchInactivityMs(4) - 1);
  expect(watches).toHaveLength(1);
  await vi.advanceTimersByTimeAsync(1);
  expect(watches).toHaveLength(2);
  expect(watches[1]!.resourceVersion).toBe('10');
  expect(informer.restarts).toBe(1);
  expect(request).toHaveBeenCalledTimes(1);
});

it('every event, bookmarks included, pushes the deadline back', async () => {
  const { client, watches } = silentClient();
  informer = new Informer(client, resourceFor('v1', 'ConfigMap'), { watchTimeoutSeconds: 4 });
  informer.start();
  await vi.advanceTimersByTimeAsync(0);
  await vi.advanceTimersByTimeAsync(watchInactivityMs(4) - 1000);
  watches[0]!.send({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '12' } } });
  await vi.advanceTimersByTimeAsync(watchInactivityMs(4) - 1000);
  expect(watches).toHaveLength(1);
  await vi.advanceTimersByTimeAsync(1000);
  expect(watches).toHaveLength(2);
  expect(watches[1]!.resourceVersion).toBe('12');
});
