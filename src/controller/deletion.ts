import type { Logger } from 'pino';
import { API_GROUP_VERSION, FINALIZER, KIND, tenantNamespace, type ChatTenantObject } from '../api/index.js';
import { ANNOTATION_RETAIN, LABEL_TENANT, MANAGED_BY } from '../render/index.js';
import type { Json } from '../kube/client.js';
import { apiVersionOf } from '../kube/resources.js';
import { ownsNamespace, type ObservedNamespace } from './adoption.js';
import type { ReconcileContext, ReconcileResult } from './context.js';
import { tenantRef } from './tenant-ref.js';
import { forgetTenantMetrics } from './report.js';

// Deletion through the finalizer.
//
// What Retain keeps (the namespace, Secrets with keys and credentials, volumes, the CloudNativePG
// Cluster that owns its volumes) never hangs off the ChatTenant by an ownerReference: the garbage
// collector acts on those without asking the operator (foreground deletion, a finalizer removed by
// hand, an operator that is down). So Retain has nothing to undo but ownerReferences that an earlier
// version of the operator set; everything else of the tenant is collected by the garbage collector.
//
// Delete removes the tenant's objects explicitly, in stages: workloads, then volumes, then Secrets
// (keys last: crypto-shredding), then the namespace; each stage waits until the previous one is gone.
//
// Both read the API server, not the caches: an object created moments ago may not be cached yet.
// Nothing is touched unless the namespace belongs to this very ChatTenant (its uid): a tenant refused
// for a namespace it does not own (e.g. data retained from an earlier tenant of the same name) leaves
// that namespace alone whatever its deletionPolicy.

const WAIT_MS = 2000;

interface Meta {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion?: string;
  annotations?: Record<string, string>;
  ownerReferences?: Array<{ uid: string; kind: string }>;
}

const metaOf = (o: Json) => o['metadata'] as Meta;
const kindOf = (o: Json) => o['kind'] as string;
const refOf = (o: Json) => ({ apiVersion: o['apiVersion'] as string, kind: kindOf(o), name: metaOf(o).name, ...(metaOf(o).namespace ? { namespace: metaOf(o).namespace } : {}) });
const describe = (o: Json) => `${kindOf(o)}/${metaOf(o).name}`;
const terminating = (o: Json) => (o['metadata'] as Json)['deletionTimestamp'] !== undefined;

/** Data or keys: what Retain keeps, and what Delete removes only after the workloads. */
function isData(o: Json): boolean {
  const kind = kindOf(o);
  return kind === 'PersistentVolumeClaim' || kind === 'Secret' || metaOf(o).annotations?.[ANNOTATION_RETAIN] === 'true';
}

/**
 * The tenant's objects as the API server has them now: its namespace (only when this ChatTenant owns
 * it), every labelled object of a kind the operator writes, and every volume claim in the namespace
 * (CloudNativePG's carry its own labels, not the operator's).
 */
async function liveObjectsOf(ctx: ReconcileContext, raw: ChatTenantObject): Promise<{ namespace?: Json; objects: Json[] }> {
  const name = tenantNamespace(raw.metadata.name);
  const namespace = await ctx.objects.get<Json>({ apiVersion: 'v1', kind: 'Namespace', name });
  if (!namespace || !ownsNamespace(raw, namespace as unknown as ObservedNamespace)) return { objects: [] };
  const labelSelector = `${LABEL_TENANT}=${raw.metadata.name},app.kubernetes.io/managed-by=${MANAGED_BY}`;
  // The kinds the caches watch (optional ones once their CRD exists): every kind the operator writes.
  const kinds = [...ctx.caches.owned.values()].map((informer) => informer.resource);
  const objects: Json[] = [];
  for (const resource of kinds) {
    const all = resource.kind === 'PersistentVolumeClaim';
    const { items } = await ctx.objects.list<Json>(resource, { namespace: name, ...(all ? {} : { labelSelector }) });
    objects.push(...items.map((item) => ({ ...item, apiVersion: apiVersionOf(resource), kind: resource.kind })));
  }
  return { namespace: { ...namespace, apiVersion: 'v1', kind: 'Namespace' }, objects };
}

async function removeFinalizer(ctx: ReconcileContext, raw: ChatTenantObject): Promise<void> {
  const finalizers = (raw.metadata.finalizers ?? []).filter((f) => f !== FINALIZER);
  await ctx.objects.mergePatch({ apiVersion: API_GROUP_VERSION, kind: KIND, name: raw.metadata.name }, { metadata: { finalizers, resourceVersion: raw.metadata.resourceVersion } });
}

export async function finalizeTenant(ctx: ReconcileContext, raw: ChatTenantObject, log: Logger): Promise<ReconcileResult> {
  if (!(raw.metadata.finalizers ?? []).includes(FINALIZER)) return {};
  const name = raw.metadata.name;
  const policy = (raw.spec as { deletionPolicy?: string } | undefined)?.deletionPolicy === 'Delete' ? 'Delete' : 'Retain';
  const live = await liveObjectsOf(ctx, raw);
  if (policy === 'Retain') {
    const kept = [...(live.namespace ? [live.namespace] : []), ...live.objects.filter(isData)];
    await detach(ctx, kept, raw.metadata.uid!);
    if (kept.length > 0) {
      await ctx.events.record(
        tenantRef(raw),
        'Normal',
        'DataRetained',
        `deletionPolicy Retain: kept ${kept.length} object(s) in namespace ${tenantNamespace(name)} (volumes, secrets and keys, backups): ${kept.map(describe).join(', ')}.`,
      );
    }
    log.info({ kept: kept.length }, 'retained tenant data; removing finalizer');
    await removeFinalizer(ctx, raw);
    forgetTenantMetrics(ctx, name);
    return {};
  }
  const stages: Array<[string, (o: Json) => boolean]> = [
    ['workloads', (o) => !isData(o)],
    ['volumes', (o) => isData(o) && kindOf(o) !== 'Secret'],
    ['secrets and keys', (o) => kindOf(o) === 'Secret'],
  ];
  for (const [stage, inStage] of stages) {
    const remaining = live.objects.filter(inStage);
    if (remaining.length === 0) continue;
    // Already terminating (a volume still mounted, say) is only waited for: nothing to ask again.
    for (const o of remaining.filter((o) => !terminating(o))) await ctx.objects.delete(refOf(o), { uid: metaOf(o).uid, propagationPolicy: 'Background' });
    log.info({ stage, objects: remaining.length }, 'deleting tenant objects');
    return { requeueAfterMs: WAIT_MS };
  }
  if (live.namespace) {
    // A second DELETE of a terminating namespace is refused (409); it is only waited for.
    if (!terminating(live.namespace)) await ctx.objects.delete(refOf(live.namespace), { uid: metaOf(live.namespace).uid, propagationPolicy: 'Background' });
    log.info({ stage: 'namespace' }, 'deleting tenant objects');
    return { requeueAfterMs: WAIT_MS };
  }
  await ctx.events.record(tenantRef(raw), 'Normal', 'TenantDeleted', `deletionPolicy Delete: removed every object of the tenant, keys last.`);
  await removeFinalizer(ctx, raw);
  forgetTenantMetrics(ctx, name);
  return {};
}

/**
 * Drops ownerReferences to the deleted ChatTenant from what Retain keeps. Objects written by this
 * version carry none; earlier versions set them, and the operator's own apply removes them on the next
 * reconcile, but a tenant deleted before that must not lose them to the garbage collector. The
 * resourceVersion makes each patch conditional: a concurrent change is a 409, and the reconcile retries.
 */
async function detach(ctx: ReconcileContext, kept: Json[], uid: string): Promise<void> {
  for (const o of kept) {
    const refs = metaOf(o).ownerReferences ?? [];
    if (!refs.some((r) => r.uid === uid)) continue;
    await ctx.objects.mergePatch(refOf(o), { metadata: { ownerReferences: refs.filter((r) => r.uid !== uid), resourceVersion: metaOf(o).resourceVersion } });
  }
}
