/**
 * The default StorageClass of the local control plane. kwok's volume Stages provision a
 * PersistentVolume for every PVC of this class and bind both, so StatefulSets with
 * volumeClaimTemplates schedule and start. Nothing is written to disk: there is no kubelet.
 */
import * as k8s from "@kubernetes/client-node";

/** Name that kwok's pvc-provision Stage selects on; PVCs of other classes stay Pending. */
export const KWOK_STORAGE_CLASS = "kwok-volume";

export function renderKwokStorageClass(): k8s.V1StorageClass {
  return {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: {
      name: KWOK_STORAGE_CLASS,
      // Default class: PVCs that name no class get it, like on most real clusters.
      annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
    },
    provisioner: "kwok.x-k8s.io/volume",
    reclaimPolicy: "Delete",
    volumeBindingMode: "Immediate",
    allowVolumeExpansion: true,
  };
}

export async function createKwokStorageClass(kubeconfig: k8s.KubeConfig): Promise<void> {
  await kubeconfig.makeApiClient(k8s.StorageV1Api).createStorageClass({ body: renderKwokStorageClass() });
}
