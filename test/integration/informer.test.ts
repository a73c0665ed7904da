/**
 * The informer against the real API server: what a handler sees in the cache when it is called.
 * The work queue runs a reconcile synchronously up to its first await, so a handler that enqueues
 * a key is, in effect, a read of the cache at the moment of the event.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { KubeClient, type Json } from '../../src/kube/client.js';
import { Informer, keyOf, type WatchEventType } from '../../src/kube/informer.js';
import { KubeObjects } from '../../src/kube/objects.js';
import { resourceFor } from '../../src/kube/resources.js';
import { createTestNamespace, deleteNamespaceAndWait, eventually, sharedControlPlane, sharedKubeConfig, uniqueName } from '../harness/kube.js';
import { startApiServerProxy } from './support/api-server-proxy.js';

const kc = sharedKubeConfig();
const objects = new KubeObjects(new KubeClient(kc, 'informer-test'));
let namespace: string;

beforeAll(async () => {
  namespace = await createTestNamespace(kc, 'informer');
});

afterAll(async () => {
  await deleteNamespaceAndWait(kc, namespace);
});

interface Seen {
  type: WatchEventType;
  key: string;
  /** resourceVersion of the object in the cache when the handler ran, or undefined if it was not there. */
  cachedVersion: string | undefined;
  eventVersion: string;
}

function recordingInformer(label: string): { informer: Informer; seen: Seen[] } {
  const informer = new Informer(new KubeClient(kc, 'informer-test'), resourceFor('v1', 'ConfigMap'), { labelSelector: `informer-test=${label}` });
  const seen: Seen[] = [];
  informer.onEvent((type, object) => {
    const meta = object['metadata'] as { name: string; namespace: string; resourceVersion: string };
    const cached = informer.get(meta.name, meta.namespace);
    seen.push({ type, key: keyOf(object), cachedVersion: (cached?.['metadata'] as Json | undefined)?.['resourceVersion'] as string | undefined, eventVersion: meta.resourceVersion });
  });
  return { informer, seen };
}

const configMap = (name: string, label: string, value: string) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace, labels: { 'informer-test': label } },
  data: { value },
});

test('a handler called for an object found by the list sees that object in the cache', async () => {
  // The initial list and every relist after an error share one path; before the fix, it called
  // handlers before filling the cache, and a tenant created while the API server restarted was
  // looked up, not found, and never reconciled.
  const label = uniqueName('list');
  await objects.create(configMap('listed', label, 'a') as never);
  const { informer, seen } = recordingInformer(label);
  informer.start();
  try {
    await informer.waitForSync();
    expect(seen).toEqual([{ type: 'ADDED', key: `${namespace}/listed`, cachedVersion: seen[0]?.eventVersion, eventVersion: expect.any(String) }]);
  } finally {
    informer.stop();
  }
});

test('a handler called for a watch event sees the object as the event has it, and a deleted one gone', async () => {
  const label = uniqueName('watch');
  const { informer, seen } = recordingInformer(label);
  informer.start();
  try {
    await informer.waitForSync();
    await objects.create(configMap('watched', label, 'a') as never);
    await objects.mergePatch({ apiVersion: 'v1', kind: 'ConfigMap', name: 'watched', namespace }, { data: { value: 'b' } });
    await objects.delete({ apiVersion: 'v1', kind: 'ConfigMap', name: 'watched', namespace });
    await eventually('three watch events', async () => seen.length >= 3, 30_000, 100);
    expect(seen.map((s) => s.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    expect(seen[0]!.cachedVersion).toBe(seen[0]!.eventVersion);
    expect(seen[1]!.cachedVersion).toBe(seen[1]!.eventVersion);
    expect(seen[2]!.cachedVersion).toBeUndefined();
  } finally {
    informer.stop();
  }
});

test('a watch that goes silent (connection open, nothing arriving) is restarted and sees a later change', async () => {
  // Issue 14, "a silently dropped watch goes stale": a NAT or load balancer that forgets a connection
  // leaves it open and empty, and the server's own timeout never reaches the client. The proxy plays
  // that part for the watch that is open when it is told to; new connections go through.
  const label = uniqueName('silent');
  const proxy = await startApiServerProxy(sharedControlPlane().server);
  const watchTimeoutSeconds = 4;
  const client = new KubeClient(proxy.kubeConfig(kc), 'informer-test');
  const informer = new Informer(client, resourceFor('v1', 'ConfigMap'), { labelSelector: `informer-test=${label}`, watchTimeoutSeconds });
  try {
    informer.start();
    await informer.waitForSync();
    await new Promise((r) => setTimeout(r, 500)); // the watch request is open
    proxy.silenceOpenConnections();
    const silencedAt = Date.now();
    await objects.create(configMap('after-silence', label, 'a') as never);
    const seen = async () => informer.get('after-silence', namespace) !== undefined;
    await eventually('the informer to see a ConfigMap created after its watch went silent', seen, 30_000, 100);
    // The deadline is somewhat longer than the server-side timeout; a restarted watch delivers at once.
    expect(Date.now() - silencedAt).toBeLessThan((watchTimeoutSeconds + 5) * 1000 + 3000);
  } finally {
    informer.stop();
    await proxy.close();
  }
});
