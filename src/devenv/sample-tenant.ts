import { chatTenantManifest, type ChatTenantObject } from '../api/index.js';
import { localImageSpec } from './image-spec.js';
import { LOCAL_STORAGE_CLASS } from './local-storage.js';

/** Where the sample tenant runs: a storage class, and (on a real node) the images imported into it. */
export interface SamplePlacement {
  storageClassName: string;
  images?: { messaging: string; database: string };
}

export const SAMPLE_TENANT = 'sample-clinic';
export const SAMPLE_DOMAIN = 'chat.sample-clinic.example';

/** The tenant the local run applies: small, standalone database; simulated nodes by default. */
export function sampleTenant(placement: SamplePlacement = { storageClassName: LOCAL_STORAGE_CLASS }): ChatTenantObject {
  const { images } = placement;
  return chatTenantManifest(SAMPLE_TENANT, {
    displayName: 'Sample Clinic (local)',
    xmppDomains: [SAMPLE_DOMAIN],
    messaging: { replicas: 2, admins: [{ username: 'admin' }], ...(images ? { image: localImageSpec(images.messaging) } : {}) },
    database: { provider: 'standalone', storage: { storageClassName: placement.storageClassName, size: '1Gi' }, ...(images ? { image: localImageSpec(images.database) } : {}) },
    backup: { schedule: '0 2 * * *', target: { pvc: { size: '1Gi' } } },
    network: { clientCIDRs: ['10.0.0.0/8'] },
  });
}
