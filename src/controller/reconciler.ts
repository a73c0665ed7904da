import { API_GROUP_VERSION, FINALIZER, KIND, tenantNamespace, validateChatTenant, type ChatTenant, type ChatTenantObject, type ChatTenantStatus } from '../api/index.js';
import { ANNOTATION_RETAIN, names, objectKey, placeholderMaterial, renderTenant, rendersKubernetesApiEgress, type ClusterCapabilities, type KubeObject, type TenantCertificates } from '../render/index.js';
import type { Json } from '../kube/client.js';
import { isConflict, isInvalid } from '../kube/errors.js';
import { OPTIONAL_CRDS } from '../kube/resources.js';
import type { ReconcileContext, ReconcileResult } from './context.js';
import { tenantRef } from './tenant-ref.js';
import { finalizeTenant } from './deletion.js';
import { needsApply, withDesiredHash } from './drift.js';
import { writeInWaves } from './apply-order.js';
import { resolveMaterial, type ObservedSecrets } from './material.js';
import { inspectCertificate } from './certificates.js';
import { backupFacts, certificateFacts, databaseFacts, messagingFacts, namespaceFacts, networkFacts, tlsRolloutPending, workloadNames, type LiveWorld, type ServedCertificates, type UnencryptedStorage } from './observe.js';
import { certificatePems, platformCertificates, readPlatformTlsSecrets, servingTlsSecrets, type TlsSecrets } from './served-tls.js';
import { ANNOTATION_TLS_CHECKSUM, tlsChecksum } from '../render/tls-rollout.js';
import { computeStatus, mergeCondition, refusedStatus, sameStatus } from './status.js';
import { adoptionRefusal, type ObservedNamespace } from './adoption.js';
import { observedFacts } from './observe-safeguards.js';
import { computeSafeguards, storageClassEncryption, tenantStorageClasses, type StorageClassObject } from './safeguards.js';
import { recordTransitions, updateTenantMetrics } from './report.js';
import { readDirectorySecrets } from './directory-secrets.js';
import { probeDirectory } from './directory-probe.js';
import { directoryOf } from '../api/index.js';

// One reconcile of one tenant, level-triggered: validate → observe → render → apply (only what
// differs) → prune → status (only when it changed). Running it again with nothing changed writes
// nothing. Errors propagate to the work queue, which retries with backoff.

/**
 * Kinds the operator renders and may therefore delete when they are no longer desired. Jobs: the
 * schema Job's name carries a hash of what it runs, so each new messaging image leaves the previous
 * one behind (Jobs of the backup CronJob belong to it and are skipped below).
 */
const PRUNABLE_KINDS = new Set(['ResourceQuota', 'LimitRange', 'ServiceAccount', 'Secret', 'ConfigMap', 'Service', 'NetworkPolicy', 'StatefulSet', 'CronJob', 'Job', 'PodDisruptionBudget', 'Cluster', 'Certificate']);

const decode = (secret: Json): Record<string, string> =>
  Object.fromEntries(Object.entries((secret['data'] ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));

/**
 * The tenant's Secrets, decoded. A Secret the cache does not (yet) hold is read from the API server
 * before anything is generated for it: the cache may lag behind this operator's own last write, and
 * generating on a stale cache would overwrite a password or key that already exists.
 */
async function observeSecrets(ctx: ReconcileContext, namespace: string, wanted: readonly string[]): Promise<ObservedSecrets> {
  const out = new Map<string, Record<string, string>>();
  for (const s of ctx.caches.owned.get('Secret')?.list((o) => (o['metadata'] as Json)['namespace'] === namespace) ?? []) {
    out.set((s['metadata'] as Json)['name'] as string, decode(s));
  }
  for (const name of wanted) {
    if (out.has(name) || !ctx.caches.namespace(namespace)) continue;
    const live = await ctx.objects.get<Json>({ apiVersion: 'v1', kind: 'Secret', name, namespace });
    if (live) out.set(name, decode(live));
  }
  return out;
}

export function capabilitiesOf(ctx: ReconcileContext): ClusterCapabilities {
  return {
    cloudNativePG: ctx.caches.crdInstalled(OPTIONAL_CRDS.cloudNativePG),
    certManager: ctx.caches.crdInstalled(OPTIONAL_CRDS.certManager),
    prometheusOperator: ctx.caches.crdInstalled(OPTIONAL_CRDS.prometheusOperator),
  };
}

/** Drops objects whose kind the cluster cannot hold; the component's condition says why. */
function installable(objects: KubeObject[], capabilities: ClusterCapabilities): KubeObject[] {
  return objects.filter((o) => {
    if (o.apiVersion.startsWith('postgresql.cnpg.io/')) return capabilities.cloudNativePG;
    if (o.apiVersion.startsWith('cert-manager.io/')) return capabilities.certManager;
    if (o.apiVersion.startsWith('monitoring.coreos.com/')) return capabilities.prometheusOperator;
    return true;
  });
}

async function writeStatus(ctx: ReconcileContext, raw: ChatTenantObject, status: ChatTenantStatus): Promise<boolean> {
  if (sameStatus(raw.status, status)) return false;
  await ctx.objects.mergePatch({ apiVersion: API_GROUP_VERSION, kind: KIND, name: raw.metadata.name }, { status }, 'status');
  return true;
}

async function ensureFinalizer(ctx: ReconcileContext, raw: ChatTenantObject): Promise<void> {
  const finalizers = raw.metadata.finalizers ?? [];
  if (finalizers.includes(FINALIZER)) return;
  // resourceVersion makes the merge patch conditional: a concurrent change of finalizers is a 409, retried.
  await ctx.objects.mergePatch({ apiVersion: API_GROUP_VERSION, kind: KIND, name: raw.metadata.name }, { metadata: { finalizers: [...finalizers, FINALIZER], resourceVersion: raw.metadata.resourceVersion } });
}

export async function reconcileTenant(ctx: ReconcileContext, name: string): Promise<ReconcileResult> {
  const raw = ctx.caches.tenant(name) as ChatTenantObject | undefined;
  if (!raw) return {};
  const log = ctx.log.child({ tenant: name });
  const now = ctx.clock();
  const generation = raw.metadata.generation ?? 0;
  const namespace = tenantNamespace(name);
  if (raw.metadata.deletionTimestamp) return finalizeTenant(ctx, raw, log);

  const validation = validateChatTenant(raw);
  if (!validation.ok) {
    const message = validation.problems.map((p) => `${p.path}: ${p.message}`).join('; ');
    return refuse(ctx, raw, 'InvalidSpec', message, log, { problems: validation.problems });
  }
  const tenant: ChatTenant = validation.tenant;

  const tenants = ctx.caches.tenants.list() as unknown as ChatTenantObject[];
  const refusal = adoptionRefusal(tenant, ctx.caches.namespace(namespace) as ObservedNamespace | undefined, tenants);
  if (refusal) return refuse(ctx, raw, refusal.reason, refusal.message, log);

  // PHI must not land on storage nobody vouches is encrypted: nothing is created until it is.
  const unencrypted = tenantStorageClasses(tenant)
    .map(({ name: className, field }) => ({ field, name: className, decision: storageClassEncryption(ctx.caches.storageClass(className) as StorageClassObject | undefined, ctx.settings) }))
    .filter((c) => !c.decision.encrypted)
    .map((c) => ({ field: c.field, name: c.name, how: c.decision.how }));
  if (unencrypted.length > 0) return refuseUnencryptedStorage(ctx, raw, tenant, unencrypted, log);

  await ensureFinalizer(ctx, raw);

  const capabilities = capabilitiesOf(ctx);
  const placeholder = renderTenant({ tenant, material: placeholderMaterial(tenant), settings: ctx.settings, capabilities });
  const secretNames = placeholder.filter((o) => o.kind === 'Secret').map((o) => o.metadata.name);
  const observedSecrets = await observeSecrets(ctx, namespace, secretNames);

  let writes = 0;
  // The API server's answer to an apply is the freshest view of that object: status is judged on it,
  // not on a cache that may not have seen the write yet.
  const applied = new Map<string, Json>();
  const liveOf = (object: KubeObject) => applied.get(objectKey(object)) ?? ctx.caches.get(object.apiVersion, object.kind, object.metadata.name, object.metadata.namespace);
  const applyIfNeeded = async (object: KubeObject): Promise<void> => {
    const live = liveOf(object);
    if (!needsApply(object, live)) return;
    try {
      // A Secret that does not exist yet is created, not applied: if another writer created it in
      // the meantime, the create fails (409) and the next reconcile reads its values instead.
      const answer =
        object.kind === 'Secret' && !live && !observedSecrets.has(object.metadata.name) ? await ctx.objects.create<Json>(object) : await ctx.objects.apply<Json>(object);
      applied.set(objectKey(object), answer);
      writes++;
    } catch (error) {
      if (isInvalid(error)) {
        // The API server refused the object (immutable field, admission): retrying the same object will not help.
        const message = `${object.kind}/${object.metadata.name} was rejected: ${(error as Error).message}`;
        await ctx.events.record(tenantRef(raw), 'Warning', 'ApplyRejected', message);
        throw Object.assign(new Error(message), { reason: 'ApplyRejected' });
      }
      throw error;
    }
  };

  // The database certificate must name the database Service's ClusterIP, which exists only once the
  // Service does. Creating the Namespace and that Service before the certificate is issued gives a new
  // tenant one certificate with the address in it, not one without and a second with it (a Secret
  // rewrite and a roll of the new database). Neither object depends on secret material.
  let serviceIPs = databaseServiceIPs(ctx, tenant);
  if (serviceIPs.length === 0) {
    const first = placeholder.filter((o) => o.kind === 'Namespace' || isDatabaseService(o)).map(withDesiredHash);
    const namespaceObject = first.find((o) => o.kind === 'Namespace')!;
    if (!liveOf(namespaceObject)) {
      const taken = await createNamespace(ctx, tenant, namespaceObject, tenants);
      if ('refusal' in taken) return refuse(ctx, raw, taken.refusal.reason, taken.refusal.message, log);
      applied.set(objectKey(namespaceObject), taken.live);
    }
    for (const object of first) await applyIfNeeded(object);
    serviceIPs = databaseServiceIPsIn(first.map((object) => ({ object, live: liveOf(object) })));
  }
  // The namespace exists by now: the hospital can create its directory Secrets there, and until it has
  // the tenant waits (a condition naming the field) with its running pods left as they are.
  const directorySecrets = await readDirectorySecrets(ctx, tenant);
  if (!directorySecrets.ok) return refuse(ctx, raw, 'DirectorySecretMissing', directorySecrets.message, log, { field: directorySecrets.field });
  const resolved = await resolveMaterial(tenant, ctx.settings, observedSecrets, now, ctx.random, serviceIPs);
  const platformTls = await readPlatformTlsSecrets(ctx, tenant);
  const fromPlatform = platformCertificates(tenant, platformTls);
  const material = {
    ...resolved.material,
    ...(fromPlatform ? { platformCertificates: fromPlatform } : {}),
    ...(directorySecrets.bind ? { directoryBind: directorySecrets.bind } : {}),
  };
  const desired = installable(renderTenant({ tenant, material, settings: ctx.settings, capabilities }), capabilities).map(withDesiredHash);
  await writeInWaves(desired, applyIfNeeded);
  if (resolved.generated.length > 0) await ctx.events.record(tenantRef(raw), 'Normal', 'SecretsGenerated', `Generated ${resolved.generated.length} secret value(s): ${resolved.generated.join(', ')}.`);
  for (const issued of resolved.issued) await ctx.events.record(tenantRef(raw), 'Normal', 'CertificateIssued', `Issued the ${issued.name} certificate (${issued.reason}).`);

  const pruned = await prune(ctx, name, desired);

  const world = desired.map((object) => ({ object, live: liveOf(object) }));
  const facts = {
    namespace: namespaceFacts(ctx.caches.namespace(namespace)),
    network: networkFacts(world),
    certificates: certificateFacts(tenant, servedCertificates(tenant, resolved.material.certificates, platformTls, world, tlsChecksum(material), raw.status), world, now, (pem) => inspectCertificate(pem).notAfter, {
      databaseAddresses: databaseServiceIPsIn(world),
      certifiedAddresses: resolved.material.certificates ? inspectCertificate(resolved.material.certificates.database.certPem).ipAddresses : [],
    }),
    database: databaseFacts(tenant, {
      databaseWorkload:
        tenant.spec.database.provider === 'cloudnative-pg'
          ? ctx.caches.get('postgresql.cnpg.io/v1', 'Cluster', workloadNames.cluster, namespace)
          : ctx.caches.get('apps/v1', 'StatefulSet', workloadNames.database, namespace),
      cloudNativePGInstalled: capabilities.cloudNativePG,
      unencrypted,
      kubernetesApiEgress: rendersKubernetesApiEgress(ctx.settings),
    }),
    messaging: messagingFacts(tenant, ctx.caches.get('apps/v1', 'StatefulSet', workloadNames.messaging, namespace)),
    backup: backupFacts(
      tenant,
      ctx.caches.get('batch/v1', 'CronJob', workloadNames.cronJob, namespace),
      ctx.caches.owned.get('Job')?.list((j) => (j['metadata'] as Json)['namespace'] === namespace) ?? [],
      raw.status?.backup?.lastSuccessfulTime,
    ),
  };
  const tlsSecrets = servingTlsSecrets(tenant, world, platformTls);
  const directory = directoryOf(tenant.spec.identity);
  const directoryProbe = directory && directorySecrets.caPem ? await probeDirectory(directory.servers, directory.port, directorySecrets.caPem) : undefined;
  const safeguards = computeSafeguards(
    tenant,
    observedFacts({ tenant, settings: ctx.settings, world, facts, namespace: ctx.caches.namespace(namespace), storageClass: (n) => ctx.caches.storageClass(n), tlsSecrets, now, ...(directoryProbe ? { directoryProbe } : {}) }),
    ctx.settings,
  );
  const status = {
    ...computeStatus({ generation, namespace, facts, safeguards, previous: raw.status, now }),
    identity: identityStatus(tenant.spec.identity.source, directoryProbe, raw.status?.identity, now),
  };
  const statusWritten = await writeStatus(ctx, raw, status);
  if (statusWritten) await recordTransitions(ctx, raw, status);
  updateTenantMetrics(ctx, name, status);
  if (writes + pruned > 0 || statusWritten) log.info({ applied: writes, pruned, phase: status.phase }, 'reconciled');
  return { requeueAfterMs: status.phase === 'Ready' ? ctx.resyncMs : ctx.notReadyRequeueMs };
}

/**
 * status.identity. The check time only moves when the outcome changes, so a resync with the same
 * outcome writes no status.
 */
function identityStatus(source: 'Internal' | 'Directory', probe: Awaited<ReturnType<typeof probeDirectory>> | undefined, previous: ChatTenantStatus['identity'], now: Date): NonNullable<ChatTenantStatus['identity']> {
  if (!probe) return { source };
  const same = previous?.directoryReachable === probe.reachable && previous?.directoryVerified === probe.verified && (previous?.message ?? '') === probe.message;
  return {
    source,
    directoryReachable: probe.reachable,
    directoryVerified: probe.verified,
    lastCheckTime: same && previous?.lastCheckTime ? previous.lastCheckTime : now.toISOString(),
    ...(probe.message ? { message: probe.message } : {}),
  };
}

/**
 * A refusal: Ready False with the reason, an Event and a log line when that is news, and a retry at
 * the resync period (what the tenant waits for may change without any event of its own).
 */
async function refuse(ctx: ReconcileContext, raw: ChatTenantObject, reason: string, message: string, log: ReconcileContext['log'], fields: Record<string, unknown> = {}): Promise<ReconcileResult> {
  const status = refusedStatus(reason, message, raw.metadata.generation ?? 0, raw.status, ctx.clock(), tenantNamespace(raw.metadata.name));
  if (await writeStatus(ctx, raw, status)) {
    await ctx.events.record(tenantRef(raw), 'Warning', reason, message);
    log.warn({ reason, ...fields }, message);
  }
  updateTenantMetrics(ctx, raw.metadata.name, status);
  return { requeueAfterMs: ctx.resyncMs };
}

/**
 * Creates the tenant's namespace, which the cache says does not exist. A create, not an apply: apply
 * with force would silently take over a namespace someone made a moment ago that the cache has not
 * seen. When it exists after all, ownership is judged again on the live object.
 */
async function createNamespace(
  ctx: ReconcileContext,
  tenant: ChatTenant,
  object: KubeObject,
  tenants: ChatTenantObject[],
): Promise<{ live: Json } | { refusal: NonNullable<ReturnType<typeof adoptionRefusal>> }> {
  try {
    return { live: await ctx.objects.create<Json>(object) };
  } catch (error) {
    if (!isConflict(error)) throw error;
  }
  const live = await ctx.objects.get<Json>({ apiVersion: 'v1', kind: 'Namespace', name: object.metadata.name });
  if (!live) throw Object.assign(new Error(`namespace ${object.metadata.name} existed a moment ago and is gone; retrying`), { reason: 'NamespaceChanged' });
  const refusal = adoptionRefusal(tenant, live as unknown as ObservedNamespace, tenants);
  return refusal ? { refusal } : { live };
}

const databaseServiceNames = (tenant: ChatTenant) =>
  tenant.spec.database.provider === 'cloudnative-pg' ? [`${names.database.cluster}-rw`, `${names.database.cluster}-r`, `${names.database.cluster}-ro`] : [names.database.service];
const clusterIPOf = (service: Json | undefined) => ((service?.['spec'] as Json | undefined)?.['clusterIP'] as string | undefined);
const realIP = (ip: string | undefined): ip is string => !!ip && ip !== 'None';

/** ClusterIPs of the database Services that exist (the database certificate must name them). */
function databaseServiceIPs(ctx: ReconcileContext, tenant: ChatTenant): string[] {
  const namespace = tenantNamespace(tenant.metadata.name);
  return databaseServiceNames(tenant).map((s) => clusterIPOf(ctx.caches.get('v1', 'Service', s, namespace))).filter(realIP);
}

/** A database Service the operator renders (the standalone provider's; CloudNativePG makes its own). */
const isDatabaseService = (object: KubeObject) => object.kind === 'Service' && object.metadata.labels?.['app.kubernetes.io/component'] === 'database';

/** The same, from this reconcile's view (apply answers included); CloudNativePG's Services are not rendered. */
function databaseServiceIPsIn(world: Array<{ object: KubeObject; live: Json | undefined }>): string[] {
  return world
    .filter((d) => isDatabaseService(d.object))
    .map((d) => clusterIPOf(d.live))
    .filter(realIP);
}

/**
 * Unencrypted storage stops the tenant before anything exists: Ready and Database say why (naming
 * the field), and the EncryptionAtRest safeguard does not hold. Nothing is written but status.
 */
async function refuseUnencryptedStorage(
  ctx: ReconcileContext,
  raw: ChatTenantObject,
  tenant: ChatTenant,
  unencrypted: UnencryptedStorage[],
  log: ReconcileContext['log'],
): Promise<ReconcileResult> {
  const now = ctx.clock();
  const generation = raw.metadata.generation ?? 0;
  const namespace = tenantNamespace(tenant.metadata.name);
  const database = databaseFacts(tenant, { databaseWorkload: undefined, cloudNativePGInstalled: capabilitiesOf(ctx).cloudNativePG, unencrypted, kubernetesApiEgress: rendersKubernetesApiEgress(ctx.settings) });
  const base = refusedStatus(database.reason, database.message, generation, raw.status, now, namespace);
  const storageClasses = Object.fromEntries(
    tenantStorageClasses(tenant).map(({ name }) => [name, storageClassEncryption(ctx.caches.storageClass(name) as StorageClassObject | undefined, ctx.settings)]),
  );
  const status = {
    ...base,
    conditions: [
      ...(base.conditions ?? []).filter((c) => c.type !== 'Database'),
      mergeCondition(raw.status?.conditions, { type: 'Database', status: 'False', reason: database.reason, message: database.message, observedGeneration: generation }, now.toISOString()),
    ],
    safeguards: computeSafeguards(tenant, { observedAt: now.toISOString(), storageClasses, certificates: {} }, ctx.settings),
    database: { provider: database.provider, instances: database.instances, readyInstances: 0, storageEncrypted: false },
  };
  if (await writeStatus(ctx, raw, status)) {
    await ctx.events.record(tenantRef(raw), 'Warning', database.reason, database.message);
    log.warn({ reason: database.reason }, database.message);
  }
  updateTenantMetrics(ctx, tenant.metadata.name, status);
  return { requeueAfterMs: ctx.resyncMs };
}

function servedCertificates(
  tenant: ChatTenant,
  issued: TenantCertificates | undefined,
  platform: TlsSecrets,
  world: LiveWorld,
  checksum: string | undefined,
  previous: ChatTenantStatus | undefined,
): ServedCertificates {
  const before = previous?.certificates ?? {};
  return {
    pems: certificatePems(tenant, issued, platform),
    rolloutPending: tlsRolloutPending(world, checksum, ANNOTATION_TLS_CHECKSUM),
    previousNotAfter: {
      ...(before.caNotAfter ? { ca: before.caNotAfter } : {}),
      ...(before.messagingNotAfter ? { messaging: before.messagingNotAfter } : {}),
      ...(before.databaseNotAfter ? { database: before.databaseNotAfter } : {}),
    },
  };
}

/** Deletes what carries the tenant's label but is no longer desired; never data, keys or volumes. */
async function prune(ctx: ReconcileContext, tenantName: string, desired: KubeObject[]): Promise<number> {
  const wanted = new Set(desired.map(objectKey));
  let pruned = 0;
  for (const live of ctx.caches.ownedBy(tenantName)) {
    const meta = live['metadata'] as { name: string; namespace?: string; uid: string; annotations?: Record<string, string>; ownerReferences?: Array<{ kind: string }> };
    const kind = live['kind'] as string;
    if (!PRUNABLE_KINDS.has(kind)) continue;
    if (meta.annotations?.[ANNOTATION_RETAIN] === 'true') continue;
    // Objects some other controller made (e.g. a Job of a CronJob) belong to it.
    if (meta.ownerReferences?.some((o) => o.kind !== KIND)) continue;
    const key = objectKey({ apiVersion: live['apiVersion'] as string, kind, metadata: { name: meta.name, ...(meta.namespace ? { namespace: meta.namespace } : {}) } });
    if (wanted.has(key)) continue;
    await ctx.objects.delete({ apiVersion: live['apiVersion'] as string, kind, name: meta.name, ...(meta.namespace ? { namespace: meta.namespace } : {}) }, { uid: meta.uid });
    pruned++;
  }
  return pruned;
}
