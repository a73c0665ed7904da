import type { ChatTenantStatus, Condition, ConditionType, Phase, Safeguard } from '../api/index.js';

// Status from observation, never from "I applied it": each component's condition is computed from
// the workload's own status (StatefulSet ready replicas, the CloudNativePG Cluster, the last backup
// Job), and Ready holds only when every component does. Pure: facts and the clock come in.

export interface ConditionFacts {
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

export interface TenantFacts {
  namespace: ConditionFacts;
  network: ConditionFacts;
  certificates: ConditionFacts & { notAfter: { ca?: string; messaging?: string; database?: string } };
  database: ConditionFacts & { provider: string; instances: number; readyInstances: number; storageEncrypted?: boolean };
  messaging: ConditionFacts & { replicas: number; readyReplicas: number };
  backup: ConditionFacts & { lastScheduleTime?: string; lastSuccessfulTime?: string; lastResult: 'None' | 'Running' | 'Succeeded' | 'Failed'; lastJobName?: string };
}

const COMPONENTS: Array<[Exclude<ConditionType, 'Ready'>, keyof TenantFacts]> = [
  ['Namespace', 'namespace'],
  ['Network', 'network'],
  ['Certificates', 'certificates'],
  ['Database', 'database'],
  ['Messaging', 'messaging'],
  ['Backup', 'backup'],
];

/** Keeps lastTransitionTime when a condition's status did not change, as metav1.Condition wants. */
export function mergeCondition(previous: Condition[] | undefined, next: Omit<Condition, 'lastTransitionTime'>, now: string): Condition {
  const old = previous?.find((c) => c.type === next.type);
  const lastTransitionTime = old && old.status === next.status ? old.lastTransitionTime : now;
  return { ...next, lastTransitionTime };
}

export function readyCondition(facts: TenantFacts): ConditionFacts {
  const failing = COMPONENTS.filter(([, key]) => facts[key].status !== 'True');
  if (failing.length === 0) return { status: 'True', reason: 'AllComponentsReady', message: 'Every component is ready.' };
  const [type, key] = failing[0]!;
  return {
    status: failing.some(([, k]) => facts[k].status === 'False') ? 'False' : 'Unknown',
    reason: `${type}NotReady`,
    message: `${failing.map(([t]) => t).join(', ')} not ready; ${type}: ${facts[key].message}`,
  };
}

export function phaseOf(ready: ConditionFacts, previousPhase: Phase | undefined, deleting: boolean): Phase {
  if (deleting) return 'Deleting';
  if (ready.status === 'True') return 'Ready';
  // A tenant that was serving and no longer is, is degraded; one that never was is still provisioning.
  return previousPhase === 'Ready' || previousPhase === 'Degraded' ? 'Degraded' : 'Provisioning';
}

export interface StatusInput {
  generation: number;
  namespace: string;
  facts: TenantFacts;
  safeguards: Safeguard[];
  previous: ChatTenantStatus | undefined;
  now: Date;
  deleting?: boolean;
}

export function computeStatus(input: StatusInput): ChatTenantStatus {
  const { facts, previous, generation } = input;
  const now = input.now.toISOString();
  const ready = readyCondition(facts);
  const conditions: Condition[] = [
    mergeCondition(previous?.conditions, { type: 'Ready', ...ready, observedGeneration: generation }, now),
    ...COMPONENTS.map(([type, key]) => {
      const f = facts[key];
      return mergeCondition(previous?.conditions, { type, status: f.status, reason: f.reason, message: f.message, observedGeneration: generation }, now);
    }),
  ];
  const b = facts.backup;
  return {
    observedGeneration: generation,
    phase: phaseOf(ready, previous?.phase, input.deleting ?? false),
    namespace: input.namespace,
    conditions,
    safeguards: input.safeguards,
    messaging: { replicas: facts.messaging.replicas, readyReplicas: facts.messaging.readyReplicas },
    database: {
      provider: facts.database.provider,
      instances: facts.database.instances,
      readyInstances: facts.database.readyInstances,
      ...(facts.database.storageEncrypted !== undefined ? { storageEncrypted: facts.database.storageEncrypted } : {}),
    },
    backup: {
      lastResult: b.lastResult,
      ...(b.lastScheduleTime ? { lastScheduleTime: b.lastScheduleTime } : {}),
      ...(b.lastSuccessfulTime ? { lastSuccessfulTime: b.lastSuccessfulTime } : {}),
      ...(b.lastJobName ? { lastJobName: b.lastJobName } : {}),
    },
    certificates: {
      ...(facts.certificates.notAfter.ca ? { caNotAfter: facts.certificates.notAfter.ca } : {}),
      ...(facts.certificates.notAfter.messaging ? { messagingNotAfter: facts.certificates.notAfter.messaging } : {}),
      ...(facts.certificates.notAfter.database ? { databaseNotAfter: facts.certificates.notAfter.database } : {}),
    },
  };
}

/** Status for a spec that failed validation or was refused: Ready False with the reason, nothing else claimed. */
export function refusedStatus(reason: string, message: string, generation: number, previous: ChatTenantStatus | undefined, now: Date, namespace: string): ChatTenantStatus {
  const at = now.toISOString();
  return {
    ...(previous ?? {}),
    observedGeneration: generation,
    phase: 'Failed',
    namespace,
    conditions: [
      mergeCondition(previous?.conditions, { type: 'Ready', status: 'False', reason, message, observedGeneration: generation }, at),
      ...(previous?.conditions ?? []).filter((c) => c.type !== 'Ready'),
    ],
  };
}

/** Status equality that ignores nothing: the controller writes status only when this says they differ. */
export function sameStatus(a: ChatTenantStatus | undefined, b: ChatTenantStatus): boolean {
  return JSON.stringify(canonical(a ?? {})) === JSON.stringify(canonical(b));
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]));
  return value;
}
