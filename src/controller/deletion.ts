import type { Logger } from 'pino';
import { API_GROUP_VERSION, FINALIZER, KIND, tenantNamespace, type ChatTenantObject } from '../api/index.js';
import { ANNOTATION_RETAIN } from '../render/index.js';
import type { Json } from '../kube/client.js';
import type { ReconcileContext, ReconcileResult } from './context.js';
import { tenantRef } from './tenant-ref.js';
import { forgetTenantMetrics } from './report.js';

// Deletion through the finalizer. Retain (default): the namespace, volumes, Secrets (keys,
// credentials) and backup volume are detached from the ChatTenant so garbage collection cannot
// take them; everything else is collected. Delete: workloads first, then volumes, then Secrets
// (keys last: crypto-shredding), then the namespace. Nothing outside the tenant namespace and its
// own labelled objects is ever touched.

const WAIT_MS = 2000;

interface Meta {
  name: string;
  namespace?: string;
  uid: string;
  annotations?: Record<string, string>;
  ownerReferences?: Array<{ uid: string; kind: string }>;
}

const metaOf = (o: Json) => o['metadata'] as Meta;
const refOf = (o: Json) => ({ apiVersion: o['apiVersion'] as string, kind: o['kind'] as string, name: metaOf(o).name, ...(metaOf(o).namespace ? { namespace: metaOf(o).namespace } : {}) });

function isData(o: Json): boolean {
  const kind = o['kind'] as string;
  return kind === 'PersistentVolumeClaim' || kind === 'Secret' || metaOf(o).annotations?.[ANNOTATION_RETAIN] === 'true';
}

async function removeFinalizer(ctx: ReconcileContext, raw: ChatTenantObject): Promise<void> {
  const finalizers = (raw.metadata.finalizers ?? []).filter((f) => f !== FINALIZER);
  await ctx.objects.mergePatch({ apiVersion: API_GROUP_VERSION, kind: KIND, name: raw.metadata.name }, { metadata: { finalizers, resourceVersion: raw.metadata.resourceVersion } });
}

export async function finalizeTenant(ctx: ReconcileContext, raw: ChatTenantObject, log: Logger): Promise<ReconcileResult> {
  if (!(raw.metadata.finalizers ?? []).includes(FINALIZER)) return {};
  const name = raw.metadata.name;
  const uid = raw.metadata.uid!;
  const policy = (raw.spec as { deletionPolicy?: string } | undefined)?.deletionPolicy === 'Delete' ? 'Delete' : 'Retain';
  const namespace = ctx.caches.namespace(tenantNamespace(name));
  const owned = [...ctx.caches.ownedBy(name), ...(namespace ? [{ ...namespace, apiVersion: 'v1', kind: 'Namespace' }] : [])].filter((o) =>
    (metaOf(o).ownerReferences ?? []).some((r) => r.uid === uid) || o['kind'] === 'PersistentVolumeClaim' || o['kind'] === 'Job',
  );
  if (policy === 'Retain') {
    const kept: string[] = [];
    for (const o of owned) {
      const keep = o['kind'] === 'Namespace' || isData(o);
      if (!keep) continue;
      const refs = metaOf(o).ownerReferences ?? [];
      if (refs.some((r) => r.uid === uid)) {
        await ctx.objects.mergePatch(refOf(o), { metadata: { ownerReferences: refs.filter((r) => r.uid !== uid) } });
      }
      kept.push(`${o['kind']}/${metaOf(o).name}`);
    }
    await ctx.events.record(tenantRef(raw), 'Normal', 'DataRetained', `deletionPolicy Retain: kept and detached ${kept.length} object(s) in namespace ${tenantNamespace(name)} (volumes, secrets and keys, backups): ${kept.join(', ')}.`);
    log.info({ kept: kept.length }, 'retained tenant data; removing finalizer');
    await removeFinalizer(ctx, raw);
    forgetTenantMetrics(ctx, name);
    return {};
  }
  // Delete, in stages; each stage waits for the caches to show the previous one gone.
  const stages: Array<[string, (o: Json) => boolean]> = [
    ['workloads', (o) => !isData(o) && o['kind'] !== 'Namespace'],
    ['volumes', (o) => o['kind'] === 'PersistentVolumeClaim' || (isData(o) && o['kind'] !== 'Secret')],
    ['secrets and keys', (o) => o['kind'] === 'Secret'],
    ['namespace', (o) => o['kind'] === 'Namespace'],
  ];
  for (const [stage, inStage] of stages) {
    const remaining = owned.filter(inStage);
    if (remaining.length === 0) continue;
    for (const o of remaining) await ctx.objects.delete(refOf(o), { uid: metaOf(o).uid, propagationPolicy: 'Background' });
    log.info({ stage, objects: remaining.length }, 'deleting tenant objects');
    return { requeueAfterMs: WAIT_MS };
  }
  await ctx.events.record(tenantRef(raw), 'Normal', 'TenantDeleted', `deletionPolicy Delete: removed every object of the tenant, keys last.`);
  await removeFinalizer(ctx, raw);
  forgetTenantMetrics(ctx, name);
  return {};
}
