import { CONDITION_TYPES, PHASES, SAFEGUARD_NAMES, type ChatTenantObject, type ChatTenantStatus } from '../api/index.js';
import type { ReconcileContext } from './context.js';
import { tenantRef } from './tenant-ref.js';

// What the outside sees of a reconcile besides status: Events on transitions (not on every loop)
// and the per-tenant metrics SiteOps alert on.

const condition = (s: ChatTenantStatus | undefined, type: string) => s?.conditions?.find((c) => c.type === type);

/** One Event per condition whose status changed, Normal when it became True, Warning otherwise. */
export async function recordTransitions(ctx: ReconcileContext, raw: ChatTenantObject, next: ChatTenantStatus): Promise<void> {
  for (const type of CONDITION_TYPES) {
    const before = condition(raw.status, type);
    const after = condition(next, type);
    if (!after || before?.status === after.status) continue;
    if (!before && after.status !== 'True' && type !== 'Ready') continue; // first observation of a component: the Ready event says enough
    const eventType = after.status === 'True' ? 'Normal' : 'Warning';
    const reason = type === 'Ready' ? (after.status === 'True' ? 'TenantReady' : after.reason) : after.reason;
    await ctx.events.record(tenantRef(raw), eventType, reason, `${type}: ${after.message}`);
  }
}

export function updateTenantMetrics(ctx: ReconcileContext, tenant: string, status: ChatTenantStatus): void {
  const m = ctx.metrics;
  const ready = condition(status, 'Ready')?.status === 'True';
  m.tenantReady.set({ tenant }, ready ? 1 : 0);
  for (const type of CONDITION_TYPES) {
    const c = condition(status, type);
    for (const s of ['True', 'False', 'Unknown'] as const) m.tenantConditionStatus.set({ tenant, type, status: s }, c?.status === s ? 1 : 0);
  }
  if (status.messaging?.replicas !== undefined) m.messagingReplicas.set({ tenant }, status.messaging.replicas);
  if (status.messaging?.readyReplicas !== undefined) m.messagingReadyReplicas.set({ tenant }, status.messaging.readyReplicas);
  if (status.database?.instances !== undefined) m.databaseInstances.set({ tenant }, status.database.instances);
  if (status.database?.readyInstances !== undefined) m.databaseReadyInstances.set({ tenant }, status.database.readyInstances);
  if (status.backup?.lastSuccessfulTime) m.backupLastSuccessTimestamp.set({ tenant }, Date.parse(status.backup.lastSuccessfulTime) / 1000);
  if (status.backup?.lastResult) m.backupLastFailed.set({ tenant }, status.backup.lastResult === 'Failed' ? 1 : 0);
  const certs = status.certificates ?? {};
  for (const [certificate, at] of [['ca', certs.caNotAfter], ['messaging', certs.messagingNotAfter], ['database', certs.databaseNotAfter]] as const) {
    if (at) m.certificateExpiryTimestamp.set({ tenant, certificate }, Date.parse(at) / 1000);
  }
  for (const name of SAFEGUARD_NAMES) {
    const s = status.safeguards?.find((g) => g.name === name);
    if (s) m.safeguardHolds.set({ tenant, safeguard: name }, s.holds ? 1 : 0);
  }
}

/** Removes every series of a tenant that no longer exists, so alerts do not fire for ghosts. */
export function forgetTenantMetrics(ctx: ReconcileContext, tenant: string): void {
  const m = ctx.metrics;
  for (const g of [m.tenantReady, m.messagingReplicas, m.messagingReadyReplicas, m.databaseInstances, m.databaseReadyInstances, m.backupLastSuccessTimestamp, m.backupLastFailed]) g.remove({ tenant });
  for (const type of CONDITION_TYPES) for (const s of ['True', 'False', 'Unknown']) m.tenantConditionStatus.remove({ tenant, type, status: s });
  for (const certificate of ['ca', 'messaging', 'database']) m.certificateExpiryTimestamp.remove({ tenant, certificate });
  for (const safeguard of SAFEGUARD_NAMES) m.safeguardHolds.remove({ tenant, safeguard });
}

/** Tenants by phase, recomputed from the cache (cheap; called after each reconcile). */
export function updatePhaseCounts(ctx: ReconcileContext): void {
  const counts = Object.fromEntries(PHASES.map((p) => [p, 0])) as Record<string, number>;
  for (const t of ctx.caches.tenants.list()) {
    const phase = ((t['status'] as ChatTenantStatus | undefined)?.phase ?? 'Pending') as string;
    counts[phase] = (counts[phase] ?? 0) + 1;
  }
  for (const [phase, n] of Object.entries(counts)) ctx.metrics.tenants.set({ phase }, n);
}
