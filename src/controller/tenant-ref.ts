import { API_GROUP_VERSION, KIND, type ChatTenantObject } from '../api/index.js';
import type { InvolvedObject } from '../kube/events.js';

/** The ChatTenant as the object an Event is about. */
export function tenantRef(raw: ChatTenantObject): InvolvedObject {
  return { apiVersion: API_GROUP_VERSION, kind: KIND, name: raw.metadata.name, ...(raw.metadata.uid ? { uid: raw.metadata.uid } : {}) };
}
