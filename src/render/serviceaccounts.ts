import type { ChatTenant } from '../api/index.js';
import { objectMeta, type Component } from './meta.js';
import { names } from './names.js';
import type { KubeObject } from './types.js';

// One ServiceAccount per workload, none with an API token mounted: no tenant pod talks to the API
// server (CloudNativePG's instances use the account CloudNativePG creates for them).

function serviceAccount(tenant: ChatTenant, name: string, component: Component): KubeObject {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: objectMeta(tenant, name, { component }), automountServiceAccountToken: false };
}

export function renderServiceAccounts(tenant: ChatTenant) {
  const accounts = [serviceAccount(tenant, names.messaging.serviceAccount, 'messaging'), serviceAccount(tenant, names.backup.serviceAccount, 'backup')];
  if (tenant.spec.database.provider === 'standalone') accounts.push(serviceAccount(tenant, names.database.serviceAccount, 'database'));
  return accounts;
}
