import { databaseInstances, tenantNamespace, type ChatTenant } from '../api/index.js';
import { ANNOTATION_TENANT_UID, componentLabels, objectMeta, tenantUid } from './meta.js';
import { names } from './names.js';
import { DEFAULT_RESOURCES } from './resources.js';
import type { KubeObject } from './types.js';

// The namespace is the tenant's boundary: Pod Security "restricted" enforced, a quota sized from the
// spec (so a runaway tenant cannot starve the others), and defaults for containers that set none.

export const POD_SECURITY_LABELS = {
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/enforce-version': 'latest',
  'pod-security.kubernetes.io/audit': 'restricted',
  'pod-security.kubernetes.io/warn': 'restricted',
} as const;

export function renderNamespace(tenant: ChatTenant): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: tenantNamespace(tenant.metadata.name),
      labels: { ...componentLabels(tenant, 'namespace'), ...POD_SECURITY_LABELS },
      // No ownerReference: the namespace holds everything Retain keeps (see ANNOTATION_TENANT_UID).
      annotations: { 'chat.tenant-operator.dev/display-name': tenant.spec.displayName, [ANNOTATION_TENANT_UID]: tenantUid(tenant) },
    },
  };
}

/** Adds quantities of the same unit family by converting to a base number (cores or bytes). */
export function parseQuantity(q: string): number {
  const m = /^([0-9.]+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/.exec(q);
  if (!m) throw new Error(`cannot size quota from quantity "${q}"`);
  const factors: Record<string, number> = {
    '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
    Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
  };
  return Number(m[1]) * factors[m[2] ?? '']!;
}

function cpu(cores: number): string {
  return `${Math.ceil(cores * 1000)}m`;
}

function memory(bytes: number): string {
  return `${Math.ceil(bytes / 2 ** 20)}Mi`;
}

/**
 * Quota = what the tenant's workloads ask for, with headroom for a rolling update (one extra pod of
 * each workload) and for backup and purge jobs. Spec overrides replace computed values key by key.
 */
export function computedQuota(tenant: ChatTenant): Record<string, string> {
  const { spec } = tenant;
  const m = spec.messaging.resources;
  const d = spec.database.resources;
  const msg = DEFAULT_RESOURCES.messaging;
  const db = DEFAULT_RESOURCES.database;
  const jobs = DEFAULT_RESOURCES.backup;
  const purge = DEFAULT_RESOURCES.purge;
  const msgPods = spec.messaging.replicas + 1;
  const dbPods = databaseInstances(spec) + 1;
  const sum = (parts: Array<[number, string]>) => parts.reduce((acc, [n, q]) => acc + n * parseQuantity(q), 0);
  const storageVolumes = databaseInstances(spec) * parseQuantity(spec.database.storage.size) + (spec.backup.target.pvc ? parseQuantity(spec.backup.target.pvc.size) : 0);
  return {
    'requests.cpu': cpu(sum([[msgPods, m?.requests?.cpu ?? msg.requests.cpu], [dbPods, d?.requests?.cpu ?? db.requests.cpu], [1, jobs.requests.cpu], [1, purge.requests.cpu]])),
    'requests.memory': memory(sum([[msgPods, m?.requests?.memory ?? msg.requests.memory], [dbPods, d?.requests?.memory ?? db.requests.memory], [1, jobs.requests.memory], [1, purge.requests.memory]])),
    'limits.cpu': cpu(sum([[msgPods, m?.limits?.cpu ?? msg.limits.cpu], [dbPods, d?.limits?.cpu ?? db.limits.cpu], [1, jobs.limits.cpu], [1, purge.limits.cpu]])),
    'limits.memory': memory(sum([[msgPods, m?.limits?.memory ?? msg.limits.memory], [dbPods, d?.limits?.memory ?? db.limits.memory], [1, jobs.limits.memory], [1, purge.limits.memory]])),
    'requests.storage': memory(storageVolumes * 2),
    persistentvolumeclaims: String(databaseInstances(spec) * 2 + 2),
    pods: String(msgPods + dbPods + 6),
    // A tenant never needs to expose node ports beyond its one client service.
    'services.nodeports': spec.messaging.service.type === 'ClusterIP' ? '0' : '3',
    'services.loadbalancers': spec.messaging.service.type === 'LoadBalancer' ? '1' : '0',
  };
}

export function renderResourceQuota(tenant: ChatTenant): KubeObject {
  const hard = { ...computedQuota(tenant), ...(tenant.spec.quota ?? {}) };
  return {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: objectMeta(tenant, names.namespace.quota, { component: 'namespace' }),
    spec: { hard: Object.fromEntries(Object.entries(hard).sort(([a], [b]) => a.localeCompare(b))) },
  };
}

export function renderLimitRange(tenant: ChatTenant): KubeObject {
  const o = tenant.spec.limitRange;
  const defaults = DEFAULT_RESOURCES.purge;
  const item: Record<string, unknown> = {
    type: 'Container',
    defaultRequest: { cpu: o?.defaultRequest?.cpu ?? defaults.requests.cpu, memory: o?.defaultRequest?.memory ?? defaults.requests.memory },
    default: { cpu: o?.default?.cpu ?? defaults.limits.cpu, memory: o?.default?.memory ?? defaults.limits.memory },
    ...(o?.max ? { max: { ...o.max } } : {}),
  };
  return {
    apiVersion: 'v1',
    kind: 'LimitRange',
    metadata: objectMeta(tenant, names.namespace.limitRange, { component: 'namespace' }),
    spec: { limits: [item] },
  };
}
