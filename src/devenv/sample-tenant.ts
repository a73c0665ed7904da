import { chatTenantManifest, type ChatTenantObject } from '../api/index.js';
import { LOCAL_STORAGE_CLASS } from './local-storage.js';

/** The tenant the local run applies: small, standalone database, on the local "encrypted" class. */
export function sampleTenant(): ChatTenantObject {
  return chatTenantManifest('sample-clinic', {
    displayName: 'Sample Clinic (local)',
    xmppDomains: ['chat.sample-clinic.example'],
    messaging: { replicas: 2, admins: [{ username: 'admin' }] },
    database: { provider: 'standalone', storage: { storageClassName: LOCAL_STORAGE_CLASS, size: '1Gi' } },
    backup: { schedule: '0 2 * * *', target: { pvc: { size: '1Gi' } } },
    network: { clientCIDRs: ['10.0.0.0/8'] },
  });
}
