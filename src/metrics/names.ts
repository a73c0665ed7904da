// Metric names are an interface: alert rules (charts/), runbooks (docs/runbooks/) and dashboards
// depend on them, and test/integration checks that every name the rules use is exported.

export const METRIC_PREFIX = 'chat_tenant_operator';

export const metricNames = {
  reconcileTotal: `${METRIC_PREFIX}_reconcile_total`,
  reconcileErrorsTotal: `${METRIC_PREFIX}_reconcile_errors_total`,
  reconcileDurationSeconds: `${METRIC_PREFIX}_reconcile_duration_seconds`,
  workqueueDepth: `${METRIC_PREFIX}_workqueue_depth`,
  isLeader: `${METRIC_PREFIX}_leader`,
  tenants: `${METRIC_PREFIX}_tenants`,
  tenantReady: `${METRIC_PREFIX}_tenant_ready`,
  tenantConditionStatus: `${METRIC_PREFIX}_tenant_condition`,
  messagingReplicas: `${METRIC_PREFIX}_messaging_replicas`,
  messagingReadyReplicas: `${METRIC_PREFIX}_messaging_ready_replicas`,
  databaseInstances: `${METRIC_PREFIX}_database_instances`,
  databaseReadyInstances: `${METRIC_PREFIX}_database_ready_instances`,
  backupLastSuccessTimestamp: `${METRIC_PREFIX}_backup_last_success_timestamp_seconds`,
  backupLastFailed: `${METRIC_PREFIX}_backup_last_failed`,
  certificateExpiryTimestamp: `${METRIC_PREFIX}_certificate_expiry_timestamp_seconds`,
  safeguardHolds: `${METRIC_PREFIX}_safeguard_holds`,
} as const;

/** Labels of each metric, so producers and alert rules agree. */
export const metricLabels = {
  reconcileTotal: ['result'],
  reconcileErrorsTotal: ['reason'],
  reconcileDurationSeconds: ['result'],
  workqueueDepth: [],
  isLeader: [],
  tenants: ['phase'],
  tenantReady: ['tenant'],
  tenantConditionStatus: ['tenant', 'type', 'status'],
  messagingReplicas: ['tenant'],
  messagingReadyReplicas: ['tenant'],
  databaseInstances: ['tenant'],
  databaseReadyInstances: ['tenant'],
  backupLastSuccessTimestamp: ['tenant'],
  backupLastFailed: ['tenant'],
  certificateExpiryTimestamp: ['tenant', 'certificate'],
  safeguardHolds: ['tenant', 'safeguard'],
} as const satisfies Record<keyof typeof metricNames, readonly string[]>;
