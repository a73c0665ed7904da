import { API_GROUP, KIND, RESERVED_NAMESPACES, tenantNamespace, type ChatTenant, type ChatTenantObject } from '../api/index.js';
import { ANNOTATION_TENANT_UID, LABEL_TENANT, MANAGED_BY, serviceSubdomains } from '../render/index.js';
import { backupTargetConflict } from './backup-target-claim.js';

// Before the operator writes anything for a tenant it makes sure the ground is its own: the namespace
// is new or already owned by this very ChatTenant, and no other tenant serves the same XMPP domain
// or lives in the same namespace. Pure: the controller passes what it observed, this module decides.
// Adopting a namespace by accident would pour one customer's PHI into a place someone else controls.

/**
 * Annotation on an existing namespace that lets a ChatTenant adopt it: its value must be the uid of
 * that ChatTenant. An explicit, per-object act: e.g. to re-attach data retained from an earlier
 * ChatTenant of the same name, or a namespace a platform team pre-created.
 */
export const ANNOTATION_ADOPT = `${API_GROUP}/adopt`;

export interface ObservedNamespace {
  metadata: {
    name: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }>;
    deletionTimestamp?: string;
  };
}

/** What another ChatTenant holds, read defensively: its spec is another object's and may be invalid. */
type OtherTenant = Pick<ChatTenantObject, 'metadata' | 'spec'>;

export interface AdoptionRefusal {
  /** CamelCase, for the Namespace condition and an Event. */
  reason: 'ReservedNamespace' | 'NamespaceTerminating' | 'NamespaceOwnedByAnotherTenant' | 'NamespaceNotOwned' | 'NamespaceClaimed' | 'DomainClaimed' | 'BackupTargetClaimed';
  /** The field of this ChatTenant that causes the refusal. */
  field: string;
  /** Starts with the field; says what to do. */
  message: string;
}

function refusal(reason: AdoptionRefusal['reason'], field: string, message: string): AdoptionRefusal {
  return { reason, field, message: `${field}: ${message}` };
}

const isChatTenantRef = (ref: { apiVersion: string; kind: string }) => ref.kind === KIND && ref.apiVersion.startsWith(`${API_GROUP}/`);

/**
 * Whether the namespace belongs to this very ChatTenant (same uid): by its tenant-uid annotation, or
 * by the ownerReference earlier versions of the operator set.
 */
export function ownsNamespace(tenant: Pick<ChatTenant, 'metadata'>, existing: ObservedNamespace | undefined): boolean {
  const uid = tenant.metadata.uid;
  if (uid === undefined || !existing) return false;
  if (existing.metadata.annotations?.[ANNOTATION_TENANT_UID] === uid) return true;
  return (existing.metadata.ownerReferences ?? []).some((r) => isChatTenantRef(r) && r.uid === uid);
}

function namespaceRefusal(tenant: ChatTenant, namespace: string, existing: ObservedNamespace | undefined): AdoptionRefusal | undefined {
  if ((RESERVED_NAMESPACES as readonly string[]).includes(namespace) || namespace.startsWith('kube-')) {
    return refusal('ReservedNamespace', 'metadata.name', `"${namespace}" is a namespace of the cluster itself and cannot hold a tenant`);
  }
  if (!existing) return undefined;
  const uid = tenant.metadata.uid;
  const refs = existing.metadata.ownerReferences ?? [];
  if (ownsNamespace(tenant, existing)) {
    if (existing.metadata.deletionTimestamp) return refusal('NamespaceTerminating', 'metadata.name', `namespace "${namespace}" is being deleted; the tenant is created again once it is gone`);
    return undefined;
  }
  const otherOwner = refs.find((r) => isChatTenantRef(r));
  if (otherOwner) {
    return refusal('NamespaceOwnedByAnotherTenant', 'metadata.name', `namespace "${namespace}" belongs to ChatTenant "${otherOwner.name}" (uid ${otherOwner.uid}); choose another name`);
  }
  const labelledTenant = existing.metadata.labels?.[LABEL_TENANT];
  if (labelledTenant !== undefined && labelledTenant !== tenant.metadata.name) {
    return refusal('NamespaceOwnedByAnotherTenant', 'metadata.name', `namespace "${namespace}" is labelled for tenant "${labelledTenant}"; choose another name`);
  }
  if (existing.metadata.deletionTimestamp) return refusal('NamespaceTerminating', 'metadata.name', `namespace "${namespace}" is being deleted; the tenant is created once it is gone`);
  if (uid !== undefined && existing.metadata.annotations?.[ANNOTATION_ADOPT] === uid) return undefined;
  const retained = labelledTenant === tenant.metadata.name && existing.metadata.labels?.['app.kubernetes.io/managed-by'] === MANAGED_BY;
  const how = `to adopt it deliberately, annotate it ${ANNOTATION_ADOPT}=${uid ?? '<uid of this ChatTenant>'}`;
  return refusal(
    'NamespaceNotOwned',
    'metadata.name',
    retained
      ? `namespace "${namespace}" holds data retained from an earlier ChatTenant "${tenant.metadata.name}" and is not owned by this one; ${how}`
      : `namespace "${namespace}" already exists and is not owned by this ChatTenant; choose another name, or ${how}`,
  );
}

/** Domains a tenant's server answers for, including the service subdomains its certificate covers. */
function servedNames(domains: readonly string[]): Set<string> {
  return new Set(domains.flatMap((d) => [d, ...serviceSubdomains(d)]));
}

function domainsOf(other: OtherTenant): string[] {
  const domains = (other.spec as { xmppDomains?: unknown } | undefined)?.xmppDomains;
  return Array.isArray(domains) ? domains.filter((d): d is string => typeof d === 'string') : [];
}

/**
 * First created wins: by creationTimestamp, then by name, so every reconcile of every tenant agrees
 * on the winner. A missing timestamp counts as "created last".
 */
function createdBefore(a: OtherTenant | ChatTenant, b: OtherTenant | ChatTenant): boolean {
  const time = (t: OtherTenant | ChatTenant) => {
    const ts = t.metadata['creationTimestamp'];
    const parsed = typeof ts === 'string' ? Date.parse(ts) : Number.NaN;
    return Number.isNaN(parsed) ? Number.POSITIVE_INFINITY : parsed;
  };
  const ta = time(a);
  const tb = time(b);
  return ta !== tb ? ta < tb : a.metadata.name < b.metadata.name;
}

/**
 * Why the operator must not set this tenant up, or undefined when it may. Checks, in order: the
 * namespace (reserved, another owner, someone else's), a namespace another ChatTenant claims first,
 * XMPP domains another ChatTenant claims first, and an S3 backup location that overlaps one another
 * ChatTenant claims first (backup-target-claim.ts).
 */
export function adoptionRefusal(
  tenant: ChatTenant,
  existingNamespace: ObservedNamespace | undefined,
  otherTenants: readonly OtherTenant[],
  namespaceOf: (tenantName: string) => string = tenantNamespace,
): AdoptionRefusal | undefined {
  const namespace = namespaceOf(tenant.metadata.name);
  const byNamespace = namespaceRefusal(tenant, namespace, existingNamespace);
  if (byNamespace) return byNamespace;
  // The informer may still list this tenant, or an earlier object of the same name: never a rival.
  const rivals = otherTenants.filter((o) => o.metadata.name !== tenant.metadata.name && (tenant.metadata.uid === undefined || o.metadata.uid !== tenant.metadata.uid));
  const earlier = rivals.filter((o) => createdBefore(o, tenant));
  const namespaceRival = earlier.find((o) => namespaceOf(o.metadata.name) === namespace);
  if (namespaceRival) return refusal('NamespaceClaimed', 'metadata.name', `namespace "${namespace}" is already claimed by ChatTenant "${namespaceRival.metadata.name}" (created earlier)`);
  for (const rival of earlier) {
    const theirs = domainsOf(rival);
    const theirsServed = servedNames(theirs);
    for (const [i, domain] of tenant.spec.xmppDomains.entries()) {
      const field = `spec.xmppDomains[${i}]`;
      const who = `ChatTenant "${rival.metadata.name}" (created earlier)`;
      if (theirs.includes(domain)) return refusal('DomainClaimed', field, `domain "${domain}" is already served by ${who}; one XMPP domain belongs to one tenant`);
      if (theirsServed.has(domain)) return refusal('DomainClaimed', field, `domain "${domain}" is a service subdomain (conference, pubsub) of a domain ${who} serves`);
      const needed = [...servedNames([domain])].find((name) => theirs.includes(name));
      if (needed) return refusal('DomainClaimed', field, `domain "${domain}" needs its service subdomain "${needed}", which ${who} serves`);
    }
  }
  const backupTarget = backupTargetConflict(tenant, earlier);
  if (backupTarget) return { reason: 'BackupTargetClaimed', ...backupTarget };
  return undefined;
}
