// Where each kind the operator manages lives in the REST API. A static table: the operator only
// touches these kinds, and a table keeps RBAC, informers and prune in agreement.

export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

import { API_GROUP, API_VERSION, KIND, PLURAL } from '../api/group.js';

const t = (group: string, version: string, kind: string, plural: string, namespaced = true): ResourceType => ({ group, version, kind, plural, namespaced });

export const CHAT_TENANT_RESOURCE: ResourceType = t(API_GROUP, API_VERSION, KIND, PLURAL, false);

export const RESOURCE_TYPES: readonly ResourceType[] = [
  CHAT_TENANT_RESOURCE,
  t('', 'v1', 'Namespace', 'namespaces', false),
  t('', 'v1', 'ResourceQuota', 'resourcequotas'),
  t('', 'v1', 'LimitRange', 'limitranges'),
  t('', 'v1', 'ServiceAccount', 'serviceaccounts'),
  t('', 'v1', 'Secret', 'secrets'),
  t('', 'v1', 'ConfigMap', 'configmaps'),
  t('', 'v1', 'Service', 'services'),
  t('', 'v1', 'PersistentVolumeClaim', 'persistentvolumeclaims'),
  t('networking.k8s.io', 'v1', 'NetworkPolicy', 'networkpolicies'),
  t('apps', 'v1', 'StatefulSet', 'statefulsets'),
  t('batch', 'v1', 'CronJob', 'cronjobs'),
  t('batch', 'v1', 'Job', 'jobs'),
  t('policy', 'v1', 'PodDisruptionBudget', 'poddisruptionbudgets'),
  t('postgresql.cnpg.io', 'v1', 'Cluster', 'clusters'),
  t('cert-manager.io', 'v1', 'Certificate', 'certificates'),
  t('monitoring.coreos.com', 'v1', 'PodMonitor', 'podmonitors'),
  t('monitoring.coreos.com', 'v1', 'ServiceMonitor', 'servicemonitors'),
  t('storage.k8s.io', 'v1', 'StorageClass', 'storageclasses', false),
  t('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition', 'customresourcedefinitions', false),
  t('coordination.k8s.io', 'v1', 'Lease', 'leases'),
  t('', 'v1', 'Event', 'events'),
  t('', 'v1', 'Pod', 'pods'),
  t('', 'v1', 'PersistentVolume', 'persistentvolumes', false),
];

export function apiVersionOf(r: ResourceType): string {
  return r.group === '' ? r.version : `${r.group}/${r.version}`;
}

export function resourceFor(apiVersion: string, kind: string): ResourceType {
  const found = RESOURCE_TYPES.find((r) => apiVersionOf(r) === apiVersion && r.kind === kind);
  if (!found) throw new Error(`no REST mapping for ${apiVersion} ${kind}`);
  return found;
}

/** Collection path, e.g. /apis/apps/v1/namespaces/t1/statefulsets or /api/v1/namespaces. */
export function collectionPath(r: ResourceType, namespace?: string): string {
  const prefix = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  return r.namespaced && namespace ? `${prefix}/namespaces/${namespace}/${r.plural}` : `${prefix}/${r.plural}`;
}

export function objectPath(r: ResourceType, name: string, namespace?: string): string {
  return `${collectionPath(r, namespace)}/${encodeURIComponent(name)}`;
}

/** CRD names whose presence turns optional kinds on. */
export const OPTIONAL_CRDS = {
  cloudNativePG: 'clusters.postgresql.cnpg.io',
  certManager: 'certificates.cert-manager.io',
  prometheusOperator: 'podmonitors.monitoring.coreos.com',
} as const;
