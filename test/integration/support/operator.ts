import { Writable } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import { chatTenantCrd } from '../../../src/api/crd.js';
import { API_GROUP_VERSION, KIND, defaultSettings, type ChatTenantSpecInput, type ChatTenantStatus, type OperatorSettings } from '../../../src/api/index.js';
import { KubeClient, type Json } from '../../../src/kube/client.js';
import { KubeObjects } from '../../../src/kube/objects.js';
import { Operator } from '../../../src/controller/operator.js';
import { createLogger } from '../../../src/log.js';
import { LOCAL_STORAGE_CLASS, markLocalStorageEncrypted } from '../../../src/devenv/local-storage.js';
import { sharedKubeConfig } from '../../harness/kube.js';

// Test-side helpers around a real operator process-in-process on the shared control plane.

export const kubeConfig = (): k8s.KubeConfig => sharedKubeConfig();
export const objects = (): KubeObjects => new KubeObjects(new KubeClient(kubeConfig()));

export async function installCrdAndStorage(settings: OperatorSettings = defaultSettings()): Promise<void> {
  const o = objects();
  await o.apply(chatTenantCrd() as never);
  await waitFor('CRD established', async () => {
    const crd = await o.get<Json>({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: 'chattenants.chat.tenant-operator.dev' });
    return ((crd?.['status'] as Json | undefined)?.['conditions'] as Array<{ type: string; status: string }> | undefined)?.some((c) => c.type === 'Established' && c.status === 'True') ?? false;
  });
  await markLocalStorageEncrypted(o, settings.encryptedStorageClassAnnotation);
}


export interface TestOperator {
  operator: Operator;
  logs: () => string;
  stop: () => Promise<void>;
}

export async function startOperator(identity = 'test-operator', extra: Partial<ConstructorParameters<typeof Operator>[0]> = {}): Promise<TestOperator> {
  let captured = '';
  const destination = new Writable({
    write(chunk, _enc, done) {
      captured += chunk.toString();
      done();
    },
  });
  const operator = new Operator({
    kubeConfig: kubeConfig(),
    settings: defaultSettings(),
    log: createLogger({ level: 'debug', destination }),
    identity,
    leaseNamespace: 'default',
    leaseDurationSeconds: 4,
    renewDeadlineSeconds: 3,
    retryPeriodSeconds: 1,
    resyncMs: 60_000,
    notReadyRequeueMs: 2_000,
    ...extra,
  });
  await operator.start();
  return { operator, logs: () => captured, stop: () => operator.stop() };
}

export function tenantSpec(overrides: Partial<ChatTenantSpecInput> = {}): ChatTenantSpecInput {
  return {
    displayName: 'Integration Clinic',
    xmppDomains: [`chat.${Math.random().toString(36).slice(2, 8)}.example`],
    messaging: { replicas: 2 },
    database: { provider: 'standalone', storage: { storageClassName: LOCAL_STORAGE_CLASS, size: '1Gi' } },
    backup: { target: { pvc: { size: '1Gi' } } },
    ...overrides,
  };
}

export async function createTenant(name: string, spec: ChatTenantSpecInput): Promise<Json> {
  return objects().create({ apiVersion: API_GROUP_VERSION, kind: KIND, metadata: { name }, spec } as never);
}

export async function getTenant(name: string): Promise<(Json & { status?: ChatTenantStatus; metadata: Json }) | undefined> {
  return objects().get({ apiVersion: API_GROUP_VERSION, kind: KIND, name });
}

export const condition = (t: { status?: ChatTenantStatus } | undefined, type: string) => t?.status?.conditions?.find((c) => c.type === type);

export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 120_000, intervalMs = 500): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (e) {
      lastError = e;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}

export async function waitForCondition(name: string, type: string, status: 'True' | 'False', timeoutMs = 150_000): Promise<Json> {
  let last: Awaited<ReturnType<typeof getTenant>>;
  try {
    await waitFor(`${name} ${type}=${status}`, async () => {
      last = await getTenant(name);
      return condition(last, type)?.status === status;
    }, timeoutMs);
  } catch (e) {
    throw new Error(`${(e as Error).message}; last status: ${JSON.stringify(last!?.status?.conditions)}`);
  }
  return last! as Json;
}
