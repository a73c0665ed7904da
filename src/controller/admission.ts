import { tenantNamespace, type ChatTenant, type ChatTenantObject } from '../api/index.js';
import { LABEL_TENANT, MANAGED_BY } from '../render/index.js';
import type { Json } from '../kube/client.js';
import type { ReconcileContext } from './context.js';

// Checks that need the cluster, made before anything is written for a tenant: whether its namespace
// is free to take, whether another tenant already claims its namespace or a domain, and whether
// its storage class is one the platform vouches is encrypted.

export interface Refusal {
  reason: string;
  message: string;
}

const meta = (o: Json) => o['metadata'] as { name: string; uid?: string; creationTimestamp?: string; labels?: Record<string, string>; ownerReferences?: Array<{ uid: string; kind: string }> };

/**
 * A namespace may be used when it does not exist, is owned by this ChatTenant, or was left behind by
 * an earlier ChatTenant of the same name under deletionPolicy Retain (our labels, no owner): that
 * is how a retained tenant is brought back. Anything else belongs to someone else.
 */
export function namespaceRefusal(tenant: ChatTenant, namespace: Json | undefined): Refusal | undefined {
  if (!namespace) return undefined;
  const m = meta(namespace);
  const owners = m.ownerReferences ?? [];
  if (owners.some((o) => o.uid === tenant.metadata.uid)) return undefined;
  const labels = m.labels ?? {};
  const retainedOfSameName = labels['app.kubernetes.io/managed-by'] === MANAGED_BY && labels[LABEL_TENANT] === tenant.metadata.name && owners.length === 0;
  if (retainedOfSameName) return undefined;
  return {
    reason: 'NamespaceNotOwned',
    message: `metadata.name: namespace "${m.name}" already exists and is not managed by this ChatTenant; the operator will not touch it. Choose another tenant name.`,
  };
}

/** Earlier claims win: by creation time, then by name, so every operator replica decides alike. */
function claimedBefore(a: Json, b: ChatTenantObject): boolean {
  const ta = meta(a).creationTimestamp ?? '';
  const tb = b.metadata['creationTimestamp'] as string | undefined ?? '';
  return ta < tb || (ta === tb && meta(a).name < b.metadata.name);
}

export function domainRefusal(tenant: ChatTenant, others: Json[]): Refusal | undefined {
  for (const other of others) {
    if (meta(other).name === tenant.metadata.name) continue;
    const domains = (((other['spec'] as Json | undefined)?.['xmppDomains'] ?? []) as string[]);
    const shared = tenant.spec.xmppDomains.filter((d) => domains.includes(d));
    if (shared.length > 0 && claimedBefore(other, tenant as unknown as ChatTenantObject)) {
      const index = tenant.spec.xmppDomains.indexOf(shared[0]!);
      return { reason: 'DomainClaimed', message: `spec.xmppDomains[${index}]: domain "${shared[0]}" is already served by ChatTenant "${meta(other).name}".` };
    }
  }
  return undefined;
}

export function tenantRefusal(ctx: ReconcileContext, tenant: ChatTenant): Refusal | undefined {
  return namespaceRefusal(tenant, ctx.caches.namespace(tenantNamespace(tenant.metadata.name))) ?? domainRefusal(tenant, ctx.caches.tenants.list());
}

/**
 * Encrypted at rest, as far as Kubernetes can know: the platform team vouches for a StorageClass
 * either in the operator settings (allow-list) or by annotating the StorageClass itself.
 */
export function storageClassEncryption(storageClassName: string, storageClass: Json | undefined, settings: ReconcileContext['settings']): { encrypted: boolean; how: string } {
  if (settings.encryptedStorageClasses.includes(storageClassName)) return { encrypted: true, how: 'listed in the operator setting encryptedStorageClasses' };
  if (!storageClass) return { encrypted: false, how: `StorageClass "${storageClassName}" does not exist and is not in encryptedStorageClasses` };
  if ((storageClass['metadata'] as { annotations?: Record<string, string> }).annotations?.[settings.encryptedStorageClassAnnotation] === 'true') {
    return { encrypted: true, how: `StorageClass annotated ${settings.encryptedStorageClassAnnotation}=true` };
  }
  return { encrypted: false, how: `neither listed in encryptedStorageClasses nor annotated ${settings.encryptedStorageClassAnnotation}=true` };
}

export function storageEncryption(ctx: ReconcileContext, tenant: ChatTenant): { encrypted: boolean; how: string } {
  const name = tenant.spec.database.storage.storageClassName;
  return storageClassEncryption(name, ctx.caches.storageClass(name), ctx.settings);
}
