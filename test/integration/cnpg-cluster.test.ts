import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultSettings } from '../../src/api/index.js';
import { databaseStatus } from '../../src/controller/database-status.js';
import { KubeClient, type Json } from '../../src/kube/client.js';
import { KubeObjects } from '../../src/kube/objects.js';
import { CNPG_VERSION, renderCloudNativePGCluster } from '../../src/render/postgres/cnpg.js';
import { minimalSpec, tenantFixture } from '../support/tenants.js';
import { apiMessage, createTestNamespace, deleteNamespaceAndWait, eventually, sharedKubeConfig } from '../harness/kube.js';

// The CloudNativePG Cluster the renderer produces, judged by CloudNativePG's own CRD schema (the
// file its release ships, read from its Go module at the pinned version, never committed here) on
// the real API server; and a Cluster status written as CloudNativePG would, mapped by
// databaseStatus.

const CNPG_MODULE = 'github.com/cloudnative-pg/cloudnative-pg';
const CRD_FILE = 'config/crd/bases/postgresql.cnpg.io_clusters.yaml';
const CRD_NAME = 'clusters.postgresql.cnpg.io';

const kc = sharedKubeConfig();
const objects = new KubeObjects(new KubeClient(kc, 'cnpg-test'));
const settings = defaultSettings();
let namespace: string;
let installedHere = false;

async function cloudNativePGClusterCrd(): Promise<Json> {
  let go = 'go';
  for (const candidate of [process.env['GO_BINARY'], 'go', '/usr/local/go/bin/go'].filter((c): c is string => !!c)) {
    try {
      await promisify(execFile)(candidate, ['version']);
      go = candidate;
      break;
    } catch {
      /* next */
    }
  }
  const { stdout } = await promisify(execFile)(go, ['mod', 'download', '-json', `${CNPG_MODULE}@${CNPG_VERSION}`], { cwd: '/', maxBuffer: 16 * 1024 * 1024 });
  const dir = (JSON.parse(stdout) as { Dir?: string }).Dir;
  if (!dir) throw new Error(`go mod download gave no directory for ${CNPG_MODULE}@${CNPG_VERSION}: ${stdout}`);
  return yaml.load(await readFile(join(dir, CRD_FILE), 'utf8')) as Json;
}

function tenantFor(ns: string, instances = 3) {
  return tenantFixture(ns, minimalSpec({ database: { provider: 'cloudnative-pg', instances, storage: { storageClassName: 'encrypted-ssd' } } }));
}

beforeAll(async () => {
  const crd = await cloudNativePGClusterCrd();
  if (!(await objects.get({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: CRD_NAME }))) {
    await objects.create(crd as never);
    installedHere = true;
  }
  await eventually('the CloudNativePG Cluster CRD to be established', async () => {
    const live = await objects.get<Json>({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: CRD_NAME });
    const conditions = ((live?.['status'] as Json | undefined)?.['conditions'] ?? []) as Array<{ type: string; status: string }>;
    return conditions.some((c) => c.type === 'Established' && c.status === 'True');
  });
  namespace = await createTestNamespace(kc, 'cnpg');
}, 600_000);

afterAll(async () => {
  if (namespace) await deleteNamespaceAndWait(kc, namespace);
  // Other test files expect a cluster without CloudNativePG.
  if (installedHere) await objects.delete({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: CRD_NAME });
});

describe(`CloudNativePG ${CNPG_VERSION} accepts the rendered Cluster`, () => {
  it('server-side dry run of the rendered Cluster passes the CRD schema and its CEL rules', async () => {
    for (const instances of [1, 3]) {
      const cluster = renderCloudNativePGCluster(tenantFor(namespace, instances), settings);
      const answer = await objects.apply<Json>(cluster, { dryRun: true }).catch((error: unknown) => {
        throw new Error(`the API server rejected the Cluster (${instances} instances): ${apiMessage(error)}`);
      });
      // Nothing the renderer set was pruned as unknown by the schema (defaults may be added).
      const sent = cluster['spec'] as Json;
      const kept = answer['spec'] as Json;
      expect((kept['postgresql'] as Json)['pg_hba']).toEqual((sent['postgresql'] as Json)['pg_hba']);
      expect((kept['postgresql'] as Json)['parameters']).toEqual((sent['postgresql'] as Json)['parameters']);
      for (const field of ['certificates', 'bootstrap', 'storage', 'affinity', 'inheritedMetadata', 'monitoring', 'superuserSecret']) expect(kept[field], field).toMatchObject(sent[field] as Json);
      expect(kept['enablePDB']).toBe(instances > 1);
    }
  });

  it('the same schema refuses a broken Cluster (the check above can fail)', async () => {
    const cluster = renderCloudNativePGCluster(tenantFor(namespace), settings);
    const broken = { ...cluster, spec: { ...(cluster['spec'] as Json), affinity: { podAntiAffinityType: 'sometimes' }, instances: 0 } };
    await expect(objects.apply(broken, { dryRun: true })).rejects.toSatisfy((error: unknown) => /podAntiAffinityType|instances/.test(apiMessage(error)));
  });

  it('maps a Cluster status written as CloudNativePG writes it', async () => {
    const rendered = renderCloudNativePGCluster(tenantFor(namespace), settings);
    // No owner: the ChatTenant does not exist here, and the garbage collector would remove the Cluster.
    const { ownerReferences: _owners, ...metadata } = rendered.metadata;
    await objects.apply({ ...rendered, metadata });
    const writeStatus = async (status: Json) => {
      await objects.mergePatch({ apiVersion: rendered.apiVersion, kind: 'Cluster', name: rendered.metadata.name, namespace }, { status }, 'status');
      return objects.get<Json>({ apiVersion: rendered.apiVersion, kind: 'Cluster', name: rendered.metadata.name, namespace });
    };
    const now = new Date().toISOString();
    const observe = (cluster: Json | undefined) => databaseStatus({ provider: 'cloudnative-pg', cloudNativePGInstalled: true, cluster, desiredInstances: 3 });

    const creating = await writeStatus({ instances: 3, readyInstances: 1, phase: 'Creating a new replica', conditions: [{ type: 'Ready', status: 'False', reason: 'ClusterIsNotReady', message: 'Cluster Is Not Ready', lastTransitionTime: now }] });
    expect(observe(creating)).toMatchObject({ ready: false, readyInstances: 1, reason: 'CreatingReplica' });

    const healthy = await writeStatus({ instances: 3, readyInstances: 3, phase: 'Cluster in healthy state', conditions: [{ type: 'Ready', status: 'True', reason: 'ClusterIsReady', message: 'Cluster is Ready', lastTransitionTime: now }] });
    expect(observe(healthy)).toMatchObject({ ready: true, readyInstances: 3, instances: 3, reason: 'DatabaseReady' });

    const failingOver = await writeStatus({ readyInstances: 2, phase: 'Failing over', phaseReason: 'Failing over from postgres-1 to postgres-2', conditions: [{ type: 'Ready', status: 'False', reason: 'ClusterIsNotReady', message: 'Cluster Is Not Ready', lastTransitionTime: now }] });
    expect(observe(failingOver)).toMatchObject({ ready: false, readyInstances: 2, reason: 'FailingOver' });
    expect(observe(failingOver).message).toContain('postgres-1 to postgres-2');
  });
});
