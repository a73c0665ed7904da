import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_GROUP_VERSION } from '../../src/api/index.js';
import { reconcileTenant } from '../../src/controller/reconciler.js';
import { KubeClient } from '../../src/kube/client.js';
import { KubeObjects } from '../../src/kube/objects.js';
import { resourceFor } from '../../src/kube/resources.js';
import { names } from '../../src/render/index.js';
import { ANNOTATION_TLS_CHECKSUM } from '../../src/render/tls-rollout.js';
import { inspectCertificate } from '../../src/controller/certificates.js';
import { sharedControlPlane, uniqueName } from '../harness/kube.js';
import { readFile } from 'node:fs/promises';
import { condition, createTenant, getTenant, installCrdAndStorage, kubeConfig, objects, startOperator, tenantSpec, waitFor, waitForCondition, type TestOperator } from './support/operator.js';

// A tenant's life on a real control plane: created, Ready from its workloads' own status, changed,
// drifted and restored.

let op: TestOperator;

beforeAll(async () => {
  await installCrdAndStorage();
  op = await startOperator(uniqueName('lifecycle'));
});

afterAll(async () => {
  await op?.stop();
});

describe('a tenant on a real control plane', () => {
  const name = uniqueName('clinic');

  it('gets every rendered object, Pods on simulated nodes, and becomes Ready', async () => {
    await createTenant(name, tenantSpec());
    const tenant = await waitForCondition(name, 'Ready', 'True');
    const status = (tenant as { status: any }).status;
    expect(status.phase).toBe('Ready');
    expect(status.messaging).toEqual({ replicas: 2, readyReplicas: 2 });
    expect(status.database.readyInstances).toBe(1);
    expect(status.observedGeneration).toBe(1);
    const o = objects();
    for (const [apiVersion, kind, n] of [
      ['v1', 'Namespace', name],
      ['apps/v1', 'StatefulSet', names.messaging.statefulSet],
      ['apps/v1', 'StatefulSet', names.database.statefulSet],
      ['batch/v1', 'CronJob', names.backup.cronJob],
      ['networking.k8s.io/v1', 'NetworkPolicy', names.network.defaultDeny],
      ['v1', 'Secret', names.backup.keySecret],
    ] as const) {
      expect(await o.get({ apiVersion, kind, name: n, namespace: kind === 'Namespace' ? undefined : name }), `${kind}/${n}`).toBeDefined();
    }
  });

  it('names the database Service address in the database certificate (ejabberd verifies the dialled IP)', async () => {
    const o = objects();
    const service = await o.get<any>({ apiVersion: 'v1', kind: 'Service', name: names.database.service, namespace: name });
    await waitFor('certificate carries the ClusterIP', async () => {
      const secret = await o.get<any>({ apiVersion: 'v1', kind: 'Secret', name: names.database.tlsSecret, namespace: name });
      return inspectCertificate(Buffer.from(secret.data['tls.crt'], 'base64').toString()).ipAddresses.includes(service.spec.clusterIP);
    }, 30_000);
    // The pods that serve it roll with it: the template carries the certificates' checksum.
    const sts = await o.get<any>({ apiVersion: 'apps/v1', kind: 'StatefulSet', name: names.database.statefulSet, namespace: name });
    expect(sts.spec.template.metadata.annotations[ANNOTATION_TLS_CHECKSUM]).toMatch(/^[0-9a-f]{64}$/);
    await waitForCondition(name, 'Ready', 'True');
  });

  it('issues that certificate once, with the address already in it: the new database never rolls for TLS', async () => {
    // The Service is created before the certificate is issued. Otherwise the first certificate lacks
    // the address, a second one replaces it and the database StatefulSet rolls (generation 2).
    const sts = await objects().get<any>({ apiVersion: 'apps/v1', kind: 'StatefulSet', name: names.database.statefulSet, namespace: name });
    expect(sts.metadata.generation).toBe(1);
    const events = await objects().client.request<{ items: Array<{ reason: string; message: string; involvedObject: { name: string } }> }>('GET', '/api/v1/events');
    const issued = events.items.filter((e) => e.involvedObject.name === name && e.reason === 'CertificateIssued' && e.message.includes('database certificate'));
    expect(issued.map((e) => e.message)).toHaveLength(1);
  });
});

describe('changes, drift and no-op resyncs', () => {
  const name = uniqueName('drift');

  beforeAll(async () => {
    await createTenant(name, tenantSpec({ network: { clientCIDRs: ['10.10.0.0/16'] } }));
    await waitForCondition(name, 'Ready', 'True');
  });

  it('applies a spec change (replicas, schedule, allowed CIDRs) and status follows the generation', async () => {
    const o = objects();
    await o.mergePatch({ apiVersion: API_GROUP_VERSION, kind: 'ChatTenant', name }, { spec: { messaging: { replicas: 3 }, backup: { schedule: '15 4 * * *' }, network: { clientCIDRs: ['10.20.0.0/16', '10.30.0.0/16'] } } });
    await waitFor('generation 2 observed and Ready', async () => {
      const t = await getTenant(name);
      return t?.status?.observedGeneration === 2 && condition(t, 'Ready')?.status === 'True' && t.status.messaging?.readyReplicas === 3;
    });
    const sts = await o.get<any>({ apiVersion: 'apps/v1', kind: 'StatefulSet', name: names.messaging.statefulSet, namespace: name });
    expect(sts.spec.replicas).toBe(3);
    const cron = await o.get<any>({ apiVersion: 'batch/v1', kind: 'CronJob', name: names.backup.cronJob, namespace: name });
    expect(cron.spec.schedule).toBe('15 4 * * *');
    const policy = await o.get<any>({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', name: names.network.messagingClients, namespace: name });
    const cidrs = policy.spec.ingress.flatMap((r: any) => r.from.map((p: any) => p.ipBlock?.cidr)).filter(Boolean);
    expect(cidrs).toEqual(['10.20.0.0/16', '10.30.0.0/16']);
    expect(condition(await getTenant(name), 'Ready')?.observedGeneration).toBe(2);
  });

  it('restores a deleted NetworkPolicy, a hand-scaled StatefulSet and a relabelled Secret', async () => {
    const o = objects();
    const secretBefore = await o.get<any>({ apiVersion: 'v1', kind: 'Secret', name: names.database.appSecret, namespace: name });
    await o.delete({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', name: names.network.defaultDeny, namespace: name });
    await o.mergePatch({ apiVersion: 'apps/v1', kind: 'StatefulSet', name: names.messaging.statefulSet, namespace: name }, { spec: { replicas: 1 } });
    await o.mergePatch({ apiVersion: 'v1', kind: 'Secret', name: names.database.appSecret, namespace: name }, { metadata: { labels: { 'app.kubernetes.io/component': 'tampered' } } });
    await waitFor('drift restored', async () => {
      const policy = await o.get({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', name: names.network.defaultDeny, namespace: name });
      const sts = await o.get<any>({ apiVersion: 'apps/v1', kind: 'StatefulSet', name: names.messaging.statefulSet, namespace: name });
      const secret = await o.get<any>({ apiVersion: 'v1', kind: 'Secret', name: names.database.appSecret, namespace: name });
      return !!policy && sts.spec.replicas === 3 && secret.metadata.labels['app.kubernetes.io/component'] === 'database';
    }, 60_000);
    const secretAfter = await o.get<any>({ apiVersion: 'v1', kind: 'Secret', name: names.database.appSecret, namespace: name });
    expect(secretAfter.data).toEqual(secretBefore.data);
  });

  it('writes nothing when a resync finds nothing changed', async () => {
    await waitForCondition(name, 'Ready', 'True');
    await op.operator.idle();
    await new Promise((r) => setTimeout(r, 3000)); // let events of the last writes settle
    await op.operator.idle();
    // A client of its own, so that only these two reconciles are counted, not the running
    // operator's work on other tenants.
    const client = new KubeClient(kubeConfig(), 'resync-probe');
    const tenantBefore = await getTenant(name);
    const ctx = { ...op.operator.context(), objects: new KubeObjects(client) };
    await reconcileTenant(ctx, name);
    await reconcileTenant(ctx, name);
    const writes = ['POST', 'PUT', 'PATCH', 'DELETE'].map((v) => client.stats.requests[v] ?? 0);
    expect(writes).toEqual([0, 0, 0, 0]);
    // And as the API server saw it: its audit log records every write with the client's user agent.
    const audit = await readFile(sharedControlPlane().auditLogPath, 'utf8');
    const probeWrites = audit.split('\n').filter((l) => l.includes('"userAgent":"resync-probe"'));
    expect(probeWrites).toEqual([]);
    expect(audit).toMatch(/"userAgent":"chat-tenant-operator\//); // the log does see the operator's writes
    expect((await getTenant(name))?.metadata['resourceVersion']).toBe(tenantBefore?.metadata['resourceVersion']);
  });
});

describe('a new operator process over existing tenants', () => {
  it('writes nothing for a Ready tenant when its caches were filled by a list, not by watch events', async () => {
    // Regression: listed items carry no apiVersion/kind, and every object looked changed, so a new
    // leader (or one after an API server restart) re-applied everything on every reconcile.
    const name = uniqueName('relist');
    await createTenant(name, tenantSpec());
    await waitForCondition(name, 'Ready', 'True');
    await op.operator.idle();
    await new Promise((r) => setTimeout(r, 3000));
    const fresh = await startOperator(uniqueName('fresh'), { leaseName: uniqueName('fresh-lease') });
    try {
      await waitFor('fresh operator leads with synced caches', async () => fresh.operator.isLeader && fresh.operator.ready, 60_000);
      // Two operators run here (the file's own and the fresh one): let both settle, then make sure the
      // fresh cache holds the tenant as stored, so a status difference can only come from the reconcile.
      await fresh.operator.idle();
      await op.operator.idle();
      await waitFor('fresh cache current', async () => {
        const live = await getTenant(name);
        return (fresh.operator.context().caches.tenant(name)?.['metadata'] as any)?.resourceVersion === live?.metadata['resourceVersion'];
      }, 30_000);
      const client = new KubeClient(kubeConfig(), 'relist-probe');
      const writes: string[] = [];
      const request = client.request.bind(client);
      client.request = (async (method: string, path: string, options?: any) => {
        if (method !== 'GET') writes.push(`${method} ${path} ${JSON.stringify(options?.body ?? {}).slice(0, 300)}`);
        return request(method, path, options);
      }) as typeof client.request;
      const ctx = { ...fresh.operator.context(), objects: new KubeObjects(client) };
      await reconcileTenant(ctx, name);
      await reconcileTenant(ctx, name);
      expect(writes).toEqual([]);
    } finally {
      await fresh.stop();
    }
  });
});

describe('a new leader taking over Ready tenants', () => {
  it('writes no status and no Event: it reconciles only once every cache is filled', async () => {
    // Regression: reconciles started as soon as the tenants were listed, before StorageClasses were.
    // The annotated class read as missing, Ready went False (StorageNotEncrypted), then True again.
    const names = ['a', 'b', 'c', 'd', 'e'].map((p) => uniqueName(`${p}-takeover`));
    for (const n of names) await createTenant(n, tenantSpec());
    for (const n of names) await waitForCondition(n, 'Ready', 'True');
    await op.operator.idle();
    await new Promise((r) => setTimeout(r, 3000)); // the last status writes reach every watcher
    await op.operator.idle();
    const versions = async () => Object.fromEntries(await Promise.all(names.map(async (n) => [n, (await getTenant(n))?.metadata['resourceVersion']] as const)));
    const before = await versions();
    const since = new Date(Date.now() - 1000).toISOString();
    await op.stop(); // the file's operator steps down; the next one is a new process's worth of state
    const next = await startOperator(uniqueName('takeover'));
    try {
      await waitFor('new leader reconciling with synced caches', async () => next.operator.isLeader && next.operator.ready, 60_000);
      await next.operator.idle();
      expect(await versions()).toEqual(before);
      const events = await objects().client.request<{ items: Array<{ reason: string; firstTimestamp?: string; involvedObject: { name: string } }> }>('GET', '/api/v1/events');
      expect(events.items.filter((e) => names.includes(e.involvedObject.name) && (e.firstTimestamp ?? '') >= since.slice(0, 19)).map((e) => `${e.involvedObject.name} ${e.reason}`)).toEqual([]);
    } finally {
      op = next; // afterAll stops it
    }
  });
});

describe('secrets stay in Secrets', () => {
  it('never appear in the operator logs, Events, the tenant status or any non-Secret object', async () => {
    const name = uniqueName('leak');
    await createTenant(name, tenantSpec({ messaging: { replicas: 1, admins: [{ username: 'root' }] } }));
    await waitForCondition(name, 'Ready', 'True');
    const o = objects();
    const secrets = (await o.list<any>(resourceFor('v1', 'Secret'), { namespace: name })).items;
    // Every credential and key value (certificates are public and may be shown).
    const values = secrets
      .flatMap((s) => Object.entries((s.data ?? {}) as Record<string, string>).filter(([k]) => !k.endsWith('.crt')).map(([, v]) => Buffer.from(v, 'base64').toString('utf8')))
      .flatMap((v) => (v.includes('PRIVATE KEY') ? v.split('\n').filter((l) => l.length > 40) : [v]))
      .filter((v) => v.length >= 16 && !v.startsWith('#'));
    expect(values.length).toBeGreaterThan(5);
    const nonSecrets: unknown[] = [];
    for (const [apiVersion, kind] of [['apps/v1', 'StatefulSet'], ['batch/v1', 'CronJob'], ['v1', 'Service'], ['networking.k8s.io/v1', 'NetworkPolicy'], ['v1', 'ConfigMap'], ['v1', 'Pod']] as const) {
      nonSecrets.push(...(await o.list(resourceFor(apiVersion, kind), { namespace: name })).items);
    }
    const events = (await o.list(resourceFor('v1', 'Event'), { namespace: 'default' })).items;
    const haystacks = { logs: op.logs(), events: JSON.stringify(events), status: JSON.stringify((await getTenant(name))?.status), objects: JSON.stringify(nonSecrets) };
    for (const [where, text] of Object.entries(haystacks)) {
      for (const v of values) expect(text.includes(v), `a secret value appears in ${where}`).toBe(false);
    }
    // The rendered ejabberd.yml holds the database password, so it lives in a Secret, not a ConfigMap.
    expect(JSON.stringify(nonSecrets)).not.toContain('sql_password');
  });
});
