import { afterAll, beforeAll, expect, it } from 'vitest';
import { API_GROUP_VERSION, KIND } from '../../src/api/index.js';
import { defaultControlPlaneCacheDir, ensureControlPlaneBinaries, startControlPlane, type ControlPlane } from '../../src/controlplane/index.js';
import { installCrd } from '../../src/devenv/environment.js';
import { markLocalStorageEncrypted } from '../../src/devenv/local-storage.js';
import { KubeClient } from '../../src/kube/client.js';
import { KubeObjects } from '../../src/kube/objects.js';
import { defaultSettings } from '../../src/api/index.js';
import { names } from '../../src/render/index.js';
import { tenantSpec, waitFor } from './support/operator.js';
import { startOperatorProcess, type OperatorProcess } from './support/operator-process.js';

// A control plane of its own: this test stops and restarts the API server under a running operator,
// which the shared one must not see.

let cp: ControlPlane;
let op: OperatorProcess | undefined;
let objects: KubeObjects;

beforeAll(async () => {
  const binaries = await ensureControlPlaneBinaries({ cacheDir: process.env['CHAT_TENANT_OPERATOR_CACHE_DIR'] || defaultControlPlaneCacheDir(process.env), goEnv: process.env });
  cp = await startControlPlane({ binaries });
  const client = new KubeClient(cp.kubeConfig(), 'test');
  objects = new KubeObjects(client);
  await installCrd(objects);
  await markLocalStorageEncrypted(objects, defaultSettings().encryptedStorageClassAnnotation);
});

afterAll(async () => {
  await op?.kill();
  await cp?.stop();
});

const ready = async (name: string) => {
  const t = await objects.get<any>({ apiVersion: API_GROUP_VERSION, kind: KIND, name });
  return t?.status?.conditions?.find((c: any) => c.type === 'Ready')?.status === 'True';
};

it('recovers after the API server restarts and keeps reconciling', async () => {
  try {
    await scenario();
  } catch (error) {
    const tail = op?.output().split('\n').slice(-15).join('\n');
    throw new Error(`${(error as Error).message}\noperator output (last lines):\n${tail}`);
  }
});

async function scenario(): Promise<void> {
  // A 60s lease (renew deadline 39s) outlasts the restart even on a loaded machine; a
  // replica that cannot renew in time exits by design, and that is tested elsewhere.
  op = startOperatorProcess('restart-a', 'restart-lease', ['--lease-duration', '60'], cp.kubeconfigPath);
  await objects.create({ apiVersion: API_GROUP_VERSION, kind: KIND, metadata: { name: 'before-restart' }, spec: tenantSpec() } as never);
  await waitFor('first tenant Ready', () => ready('before-restart'), 120_000);
  if (!op) throw new Error('operator not started');
  await cp.restartApiServer();
  // A change and a new tenant after the restart prove the watches came back.
  await waitFor('API server answers', async () => !!(await objects.get({ apiVersion: API_GROUP_VERSION, kind: KIND, name: 'before-restart' })), 60_000);
  await objects.mergePatch({ apiVersion: API_GROUP_VERSION, kind: KIND, name: 'before-restart' }, { spec: { backup: { schedule: '45 3 * * *' } } });
  await objects.create({ apiVersion: API_GROUP_VERSION, kind: KIND, metadata: { name: 'after-restart' }, spec: tenantSpec() } as never);
  await waitFor('change applied after restart', async () => {
    const cron = await objects.get<any>({ apiVersion: 'batch/v1', kind: 'CronJob', name: names.backup.cronJob, namespace: 'before-restart' });
    return cron?.spec?.schedule === '45 3 * * *';
  }, 90_000);
  // The operator's part for a tenant created after the restart: its objects and a status. (Whether its
  // Pods then turn Ready is kwok's part, whose own watches recover on their own schedule.)
  await waitFor('tenant created after restart reconciled', async () => {
    const t = await objects.get<any>({ apiVersion: API_GROUP_VERSION, kind: KIND, name: 'after-restart' });
    const sts = await objects.get({ apiVersion: 'apps/v1', kind: 'StatefulSet', name: names.messaging.statefulSet, namespace: 'after-restart' });
    return t?.status?.observedGeneration === 1 && (t.status.conditions ?? []).length > 0 && !!sts;
  }, 120_000);
  expect(op!.child.exitCode).toBeNull();
  expect(op!.output()).toMatch(/list\/watch failed; restarting|watch expired/);
}
