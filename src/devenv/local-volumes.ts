import type { Json, KubeClient } from '../kube/client.js';
import { Informer } from '../kube/informer.js';
import { KubeObjects } from '../kube/objects.js';
import { RESOURCE_TYPES } from '../kube/resources.js';
import { isConflict } from '../kube/errors.js';

// A storage provisioner for the local embedded control plane only (the role kind's
// local-path-provisioner plays): for each pending claim of LOCAL_STORAGE_CLASS it creates a
// PersistentVolume pre-bound to the claim, so StatefulSets with volumes get scheduled on the
// simulated nodes. No data is written anywhere: kwok's pods never run.

export const LOCAL_STORAGE_CLASS = 'local-encrypted';
export const LOCAL_PROVISIONER = 'chat-tenant-operator.dev/local-volumes';

export function localStorageClass(encryptedAnnotation: string): Json {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: {
      name: LOCAL_STORAGE_CLASS,
      // Only acceptable because nothing real is stored: a real platform team vouches for encryption.
      annotations: { [encryptedAnnotation]: 'true', 'chat.tenant-operator.dev/note': 'local development only; volumes hold no data' },
    },
    provisioner: LOCAL_PROVISIONER,
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'Immediate',
  };
}

export function volumeFor(claim: Json): Json {
  const meta = claim['metadata'] as { name: string; namespace: string; uid: string };
  const spec = claim['spec'] as { resources?: { requests?: { storage?: string } }; accessModes?: string[] };
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: `local-${meta.uid}`, labels: { 'chat.tenant-operator.dev/local-volume': 'true' } },
    spec: {
      capacity: { storage: spec.resources?.requests?.storage ?? '1Gi' },
      accessModes: spec.accessModes ?? ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: 'Delete',
      storageClassName: LOCAL_STORAGE_CLASS,
      claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', name: meta.name, namespace: meta.namespace, uid: meta.uid },
      hostPath: { path: `/var/lib/chat-tenant-operator-local/${meta.uid}` },
    },
  };
}

export class LocalVolumeProvisioner {
  private readonly claims: Informer;
  private readonly objects: KubeObjects;

  constructor(client: KubeClient, private readonly log: (message: string) => void = () => {}) {
    this.objects = new KubeObjects(client);
    this.claims = new Informer(client, RESOURCE_TYPES.find((r) => r.kind === 'PersistentVolumeClaim')!);
    this.claims.onEvent((type, claim) => {
      if (type === 'DELETED') return;
      const spec = claim['spec'] as { storageClassName?: string; volumeName?: string };
      const phase = (claim['status'] as { phase?: string } | undefined)?.phase;
      if (spec.storageClassName !== LOCAL_STORAGE_CLASS || spec.volumeName || phase === 'Bound') return;
      void this.objects.create(volumeFor(claim) as never).then(
        () => this.log(`provisioned a local volume for ${(claim['metadata'] as Json)['namespace']}/${(claim['metadata'] as Json)['name']}`),
        (e: unknown) => {
          if (!isConflict(e)) this.log(`could not provision a volume: ${String(e)}`);
        },
      );
    });
  }

  start(): void {
    this.claims.start();
  }

  stop(): void {
    this.claims.stop();
  }
}
