import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { metricLabels, metricNames } from './names.js';

// The operator's metrics, on a registry of its own (not prom-client's global one) so tests and
// several operators in one process do not share state.

export interface OperatorMetrics {
  registry: Registry;
  reconcileTotal: Counter<'result'>;
  reconcileErrorsTotal: Counter<'reason'>;
  reconcileDurationSeconds: Histogram<'result'>;
  workqueueDepth: Gauge;
  isLeader: Gauge;
  tenants: Gauge<'phase'>;
  tenantReady: Gauge<'tenant'>;
  tenantConditionStatus: Gauge<'tenant' | 'type' | 'status'>;
  messagingReplicas: Gauge<'tenant'>;
  messagingReadyReplicas: Gauge<'tenant'>;
  databaseInstances: Gauge<'tenant'>;
  databaseReadyInstances: Gauge<'tenant'>;
  backupLastSuccessTimestamp: Gauge<'tenant'>;
  backupLastFailed: Gauge<'tenant'>;
  certificateExpiryTimestamp: Gauge<'tenant' | 'certificate'>;
  safeguardHolds: Gauge<'tenant' | 'safeguard'>;
}

export function createOperatorMetrics(options: { defaultMetrics?: boolean } = {}): OperatorMetrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'chat_tenant_operator_process_' });
  const gauge = <L extends string>(key: keyof typeof metricNames, help: string) =>
    new Gauge<L>({ name: metricNames[key], help, labelNames: [...metricLabels[key]] as L[], registers: [registry] });
  return {
    registry,
    reconcileTotal: new Counter({ name: metricNames.reconcileTotal, help: 'Reconciles by result (success, error, invalid, requeue).', labelNames: ['result'], registers: [registry] }),
    reconcileErrorsTotal: new Counter({ name: metricNames.reconcileErrorsTotal, help: 'Reconcile errors by reason.', labelNames: ['reason'], registers: [registry] }),
    reconcileDurationSeconds: new Histogram({
      name: metricNames.reconcileDurationSeconds,
      help: 'Time one reconcile of one tenant takes.',
      labelNames: ['result'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    workqueueDepth: gauge('workqueueDepth', 'Tenants waiting to be reconciled.'),
    isLeader: gauge('isLeader', '1 when this replica holds the leader lease.'),
    tenants: gauge('tenants', 'Tenants by phase.'),
    tenantReady: gauge('tenantReady', '1 when the tenant is Ready.'),
    tenantConditionStatus: gauge('tenantConditionStatus', '1 for the current status of each tenant condition.'),
    messagingReplicas: gauge('messagingReplicas', 'Desired ejabberd nodes.'),
    messagingReadyReplicas: gauge('messagingReadyReplicas', 'Ready ejabberd nodes.'),
    databaseInstances: gauge('databaseInstances', 'Desired PostgreSQL instances.'),
    databaseReadyInstances: gauge('databaseReadyInstances', 'Ready PostgreSQL instances.'),
    backupLastSuccessTimestamp: gauge('backupLastSuccessTimestamp', 'Unix time of the last successful backup.'),
    backupLastFailed: gauge('backupLastFailed', '1 when the most recent backup Job failed.'),
    certificateExpiryTimestamp: gauge('certificateExpiryTimestamp', 'Unix time when each tenant certificate expires.'),
    safeguardHolds: gauge('safeguardHolds', '1 when the HIPAA technical safeguard holds for the tenant.'),
  };
}
