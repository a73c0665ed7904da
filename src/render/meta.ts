import { API_GROUP, API_GROUP_VERSION, KIND, tenantNamespace, type ChatTenant } from '../api/index.js';
import type { OwnerReference } from './types.js';

export const LABEL_TENANT = `${API_GROUP}/tenant`;
/**
 * Marks objects that hold data or keys: never pruned, kept under deletionPolicy Retain. They carry no
 * ownerReference to the ChatTenant (see objectMeta), so the garbage collector can never take them.
 */
export const ANNOTATION_RETAIN = `${API_GROUP}/retain`;
/**
 * The uid of the ChatTenant a namespace belongs to. An annotation, not an ownerReference: the garbage
 * collector deletes the dependents of a ChatTenant on its own (foreground deletion, a finalizer removed
 * by hand), and a namespace deleted takes every volume and key in it.
 */
export const ANNOTATION_TENANT_UID = `${API_GROUP}/tenant-uid`;
export const MANAGED_BY = 'chat-tenant-operator';

export type Component = 'namespace' | 'network' | 'certificates' | 'messaging' | 'database' | 'backup' | 'monitoring';

/** Labels every object of a tenant carries; the controller's informers and pruning select on them. */
export function tenantLabels(tenant: ChatTenant): Record<string, string> {
  return {
    'app.kubernetes.io/managed-by': MANAGED_BY,
    'app.kubernetes.io/part-of': 'chat-tenant',
    'app.kubernetes.io/instance': tenant.metadata.name,
    [LABEL_TENANT]: tenant.metadata.name,
  };
}

export function componentLabels(tenant: ChatTenant, component: Component, name?: string): Record<string, string> {
  return { ...tenantLabels(tenant), 'app.kubernetes.io/component': component, ...(name ? { 'app.kubernetes.io/name': name } : {}) };
}

/** Labels a workload's pods are selected by: stable, so selectors never change under a StatefulSet. */
export function selectorLabels(tenant: ChatTenant, name: string): Record<string, string> {
  return { 'app.kubernetes.io/instance': tenant.metadata.name, 'app.kubernetes.io/name': name };
}

export function tenantUid(tenant: ChatTenant): string {
  if (!tenant.metadata.uid) throw new Error(`tenant ${tenant.metadata.name} has no uid; render needs the object as stored by the API server`);
  return tenant.metadata.uid;
}

export function ownerReference(tenant: ChatTenant): OwnerReference {
  return { apiVersion: API_GROUP_VERSION, kind: KIND, name: tenant.metadata.name, uid: tenantUid(tenant), controller: true, blockOwnerDeletion: true };
}

export interface MetaOptions {
  component: Component;
  appName?: string;
  /** Data or keys: kept under deletionPolicy Retain, never pruned, and never owned by the ChatTenant. */
  retain?: boolean;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
}

/**
 * metadata for a namespaced object of the tenant. What holds no data hangs off the ChatTenant by an
 * ownerReference, so the garbage collector cleans it up even with the operator gone; what Retain
 * keeps is found by its tenant label instead, and deleted explicitly under deletionPolicy Delete.
 */
export function objectMeta(tenant: ChatTenant, name: string, options: MetaOptions) {
  const annotations = { ...(options.annotations ?? {}), ...(options.retain ? { [ANNOTATION_RETAIN]: 'true' } : {}) };
  return {
    name,
    namespace: tenantNamespace(tenant.metadata.name),
    labels: { ...componentLabels(tenant, options.component, options.appName), ...(options.labels ?? {}) },
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    ...(options.retain ? {} : { ownerReferences: [ownerReference(tenant)] }),
  };
}
