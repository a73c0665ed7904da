import type { KubeConfig } from '@kubernetes/client-node';
import { chatTenantCrd } from '../api/crd.js';
import { CRD_NAME, type OperatorSettings } from '../api/index.js';
import { ensureControlPlaneBinaries, startControlPlane, type ControlPlane } from '../controlplane/index.js';
import type { Json } from '../kube/client.js';
import { KubeClient } from '../kube/client.js';
import { KubeObjects } from '../kube/objects.js';
import { markLocalStorageEncrypted } from './local-storage.js';

// The local embedded environment of `run` when no cluster is configured: a real control plane built
// from Go modules, the CRD, a storage class with a provisioner for it. Everything a person needs
// to watch the operator work, without a cluster.

export interface EmbeddedEnvironment {
  controlPlane: ControlPlane;
  kubeConfig: KubeConfig;
  stop(): Promise<void>;
}

export async function installCrd(objects: KubeObjects): Promise<void> {
  await objects.apply(chatTenantCrd() as never);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const crd = await objects.get<Json>({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: CRD_NAME });
    const conditions = ((crd?.['status'] as Json | undefined)?.['conditions'] ?? []) as Array<{ type: string; status: string }>;
    if (conditions.some((c) => c.type === 'Established' && c.status === 'True')) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`CRD ${CRD_NAME} was not established within 30s`);
}

export async function startEmbeddedEnvironment(options: { cacheDir: string; goEnv: NodeJS.ProcessEnv; settings: OperatorSettings; log: (line: string) => void }): Promise<EmbeddedEnvironment> {
  const binaries = await ensureControlPlaneBinaries({ cacheDir: options.cacheDir, goEnv: options.goEnv, log: options.log });
  const controlPlane = await startControlPlane({ binaries, log: options.log });
  try {
    const kubeConfig = controlPlane.kubeConfig();
    const client = new KubeClient(kubeConfig, 'chat-tenant-operator/devenv');
    const objects = new KubeObjects(client);
    await installCrd(objects);
    await markLocalStorageEncrypted(objects, options.settings.encryptedStorageClassAnnotation);
    return { controlPlane, kubeConfig, stop: () => controlPlane.stop() };
  } catch (error) {
    await controlPlane.stop();
    throw error;
  }
}
