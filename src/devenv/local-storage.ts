import { KWOK_STORAGE_CLASS } from '../controlplane/index.js';
import type { KubeObjects } from '../kube/objects.js';

// On the local control plane, kwok binds a volume for every claim of its storage class; nothing is
// stored anywhere (no kubelet runs). The operator refuses storage nobody vouches is encrypted, so
// the local environment vouches for this class, which is only honest because it holds no data.

export const LOCAL_STORAGE_CLASS = KWOK_STORAGE_CLASS;

export async function markLocalStorageEncrypted(objects: KubeObjects, encryptedAnnotation: string): Promise<void> {
  await objects.mergePatch(
    { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', name: LOCAL_STORAGE_CLASS },
    { metadata: { annotations: { [encryptedAnnotation]: 'true', 'chat.tenant-operator.dev/note': 'local control plane only: volumes hold no data' } } },
  );
}
