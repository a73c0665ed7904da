import { databaseInstances, tenantNamespace, type ChatTenant } from '../api/index.js';
import { names, POD_SECURITY_LABELS, type KubeObject, type TenantCertificates } from '../render/index.js';
import { BACKUP_COMMAND } from '../render/backup.js';
import type { Json } from '../kube/client.js';
import type { ConditionFacts, TenantFacts } from './status.js';
import { databaseStatus } from './database-status.js';

// Turns what the caches hold into the facts each condition is computed from. Pure over its inputs:
// the reconciler passes the cached objects in.

/** Desired objects of the tenant, each with its live object (undefined when missing). */
export type LiveWorld = Array<{ object: KubeObject; live: Json | undefined }>;

export interface ObservedWorld {
  namespace: Json | undefined;
  desired: LiveWorld;
  messagingStatefulSet: Json | undefined;
  databaseWorkload: Json | undefined;
  cloudNativePGInstalled: boolean;
  backupJobs: Json[];
  certificates: TenantCertificates | undefined;
  previousLastSuccessfulBackup: string | undefined;
}

const ok = (reason: string, message: string): ConditionFacts => ({ status: 'True', reason, message });
const no = (reason: string, message: string): ConditionFacts => ({ status: 'False', reason, message });
const get = (o: Json | undefined, ...path: string[]): unknown => path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Json)[k] : undefined), o);

export function namespaceFacts(ns: Json | undefined): ConditionFacts {
  if (!ns) return no('NamespaceMissing', 'The tenant namespace does not exist yet.');
  if (get(ns, 'status', 'phase') === 'Terminating') return no('NamespaceTerminating', 'The tenant namespace is being deleted.');
  const labels = (get(ns, 'metadata', 'labels') ?? {}) as Record<string, string>;
  if (labels['pod-security.kubernetes.io/enforce'] !== POD_SECURITY_LABELS['pod-security.kubernetes.io/enforce']) {
    return no('PodSecurityNotEnforced', 'The tenant namespace does not enforce Pod Security "restricted".');
  }
  return ok('NamespaceReady', 'Namespace exists and enforces Pod Security "restricted".');
}

export function networkFacts(desired: ObservedWorld['desired']): ConditionFacts {
  const policies = desired.filter((d) => d.object.kind === 'NetworkPolicy');
  const missing = policies.filter((d) => !d.live).map((d) => d.object.metadata.name);
  if (missing.length > 0) return no('NetworkPoliciesMissing', `Network policies not in place: ${missing.join(', ')}.`);
  return ok('NetworkPoliciesInPlace', `${policies.length} network policies in place, default deny first.`);
}

/** Certificate PEMs by role, as the tenant's TLS Secrets hold them now. */
export interface CertificatePems {
  ca?: string;
  messaging?: string;
  database?: string;
}

export type NotAfter = TenantFacts['certificates']['notAfter'];

/**
 * What the pods serve. `rolloutPending` names the StatefulSets whose pods do not all run with the
 * certificates the Secrets hold now: until they do, the pods serve what was reported before
 * (`previousNotAfter`), not what the Secrets hold.
 */
export interface ServedCertificates {
  pems: CertificatePems;
  rolloutPending: string[];
  previousNotAfter: NotAfter;
}

/**
 * `databaseAddresses`: ClusterIPs of the database Services, and `certifiedAddresses`: the IP SANs of the
 * operator-issued database certificate. ejabberd verifies the address it dials, so until the
 * certificate names every address the messaging server cannot reach its database: not Ready.
 */
export function certificateFacts(
  tenant: ChatTenant,
  served: ServedCertificates,
  desired: ObservedWorld['desired'],
  now: Date,
  notAfter: (pem: string) => Date,
  addresses: { databaseAddresses: string[]; certifiedAddresses: string[] } = { databaseAddresses: [], certifiedAddresses: [] },
): TenantFacts['certificates'] {
  const tlsSecrets = desired.filter((d) => d.object.kind === 'Secret' && (d.object as { type?: string }).type === 'kubernetes.io/tls');
  const certs = desired.filter((d) => d.object.kind === 'Certificate');
  const missing = [...tlsSecrets, ...certs].filter((d) => !d.live).map((d) => `${d.object.kind}/${d.object.metadata.name}`);
  const held: NotAfter = {};
  for (const role of ['ca', 'messaging', 'database'] as const) {
    const pem = served.pems[role];
    if (pem) held[role] = notAfter(pem).toISOString();
  }
  const pending = served.rolloutPending.length > 0;
  const expiry: NotAfter = pending ? { ...held, ...served.previousNotAfter } : held;
  if (missing.length > 0) return { ...no('CertificatesMissing', `Not in place yet: ${missing.join(', ')}.`), notAfter: expiry };
  const uncovered = tenant.spec.tls.mode === 'OperatorCA' ? addresses.databaseAddresses.filter((ip) => !addresses.certifiedAddresses.includes(ip)) : [];
  if (uncovered.length > 0) return { ...no('AwaitingDatabaseAddress', `The database certificate is being reissued for the database Service address(es) ${uncovered.join(', ')}.`), notAfter: expiry };
  const expired = Object.entries(expiry).filter(([, t]) => t && Date.parse(t) <= now.getTime());
  if (expired.length > 0) return { ...no('CertificateExpired', `Expired: ${expired.map(([k]) => k).join(', ')}.`), notAfter: expiry };
  if (pending) {
    return { ...no('CertificateRolloutPending', `Not all pods serve the current certificates yet (${served.rolloutPending.join(', ')} rolling out); expiry shown is what they served before.`), notAfter: expiry };
  }
  const how = tenant.spec.tls.mode === 'OperatorCA' ? 'issued by the tenant\'s own CA' : tenant.spec.tls.mode === 'CertManager' ? 'requested from cert-manager' : 'provided by the platform team';
  return { ...ok('CertificatesReady', `Certificates ${how}, served by every pod.`), notAfter: expiry };
}

/**
 * StatefulSets whose pods do not all run the template that carries `checksum`: the live template has
 * another checksum, or the controller has not rolled every pod to it (current and update revisions
 * differ, or it has not observed the latest generation). Scaling up with an unchanged template is
 * not a rollout.
 */
export function tlsRolloutPending(world: LiveWorld, checksum: string | undefined, annotation: string): string[] {
  if (!checksum) return [];
  return world
    .filter((d) => d.object.kind === 'StatefulSet')
    .filter(({ live }) => {
      const liveChecksum = (get(live, 'spec', 'template', 'metadata', 'annotations') as Record<string, string> | undefined)?.[annotation];
      const generation = Number(get(live, 'metadata', 'generation') ?? 0);
      const observed = Number(get(live, 'status', 'observedGeneration') ?? -1);
      const current = get(live, 'status', 'currentRevision');
      const update = get(live, 'status', 'updateRevision');
      return !live || liveChecksum !== checksum || observed < generation || !current || current !== update;
    })
    .map((d) => `StatefulSet/${d.object.metadata.name}`);
}

function statefulSetReady(sts: Json | undefined, want: number): { ready: number; upToDate: boolean } {
  const ready = Number(get(sts, 'status', 'readyReplicas') ?? 0);
  const generation = Number(get(sts, 'metadata', 'generation') ?? 0);
  const observed = Number(get(sts, 'status', 'observedGeneration') ?? -1);
  const updated = Number(get(sts, 'status', 'updatedReplicas') ?? 0);
  return { ready, upToDate: observed >= generation && updated >= want };
}

export function messagingFacts(tenant: ChatTenant, sts: Json | undefined): TenantFacts['messaging'] {
  const replicas = tenant.spec.messaging.replicas;
  if (!sts) return { ...no('StatefulSetMissing', 'The ejabberd StatefulSet does not exist yet.'), replicas, readyReplicas: 0 };
  const { ready, upToDate } = statefulSetReady(sts, replicas);
  if (ready >= replicas && upToDate) return { ...ok('MessagingReady', `${ready}/${replicas} ejabberd nodes ready.`), replicas, readyReplicas: ready };
  if (!upToDate) return { ...no('RollingUpdate', `Rolling out: ${ready}/${replicas} ejabberd nodes ready.`), replicas, readyReplicas: ready };
  return { ...no('ReplicasNotReady', `${ready}/${replicas} ejabberd nodes ready.`), replicas, readyReplicas: ready };
}

/** Storage classes of the tenant that are not vouched encrypted, with the field that names each. */
export interface UnencryptedStorage {
  field: string;
  name: string;
  how: string;
}

/**
 * `kubernetesApiEgress`: whether the operator setting kubernetesApiCIDRs lets the tenant's NetworkPolicy
 * open egress to the API server, without which CloudNativePG's instance managers cannot run.
 */
export function databaseFacts(
  tenant: ChatTenant,
  world: Pick<ObservedWorld, 'databaseWorkload' | 'cloudNativePGInstalled'> & { unencrypted: UnencryptedStorage[]; kubernetesApiEgress: boolean },
): TenantFacts['database'] {
  const provider = tenant.spec.database.provider;
  const instances = databaseInstances(tenant.spec);
  const base = { provider, instances, storageEncrypted: world.unencrypted.length === 0 };
  if (world.unencrypted.length > 0) {
    const which = world.unencrypted.map((u) => `${u.field}: StorageClass "${u.name}" is not vouched encrypted (${u.how})`).join('; ');
    return { ...base, readyInstances: 0, ...no('StorageNotEncrypted', `${which}. PHI may not be stored on it: list the class in the operator setting encryptedStorageClasses or annotate it as encrypted.`) };
  }
  // Judged by database-status.ts from the workload's own status (CloudNativePG's phase and Ready
  // condition, or the StatefulSet's rollout), so a reason names what is actually going on.
  const judged = databaseStatus(
    provider === 'cloudnative-pg'
      ? { provider, cloudNativePGInstalled: world.cloudNativePGInstalled, cluster: world.databaseWorkload, desiredInstances: instances }
      : { provider, statefulSet: world.databaseWorkload },
  );
  if (judged.ready) return { ...base, readyInstances: judged.readyInstances, ...ok(judged.reason, judged.message) };
  // The likeliest cause of a Cluster that never comes up, named where SiteOps look first.
  const hint =
    provider === 'cloudnative-pg' && world.cloudNativePGInstalled && !world.kubernetesApiEgress
      ? ' The operator setting kubernetesApiCIDRs is empty, so the NetworkPolicy gives the PostgreSQL instances no egress to the Kubernetes API, which CloudNativePG\'s instance manager needs: set it to the API server\'s addresses (see docs/network.md).'
      : '';
  return { ...base, readyInstances: judged.readyInstances, ...no(judged.reason, judged.message + hint) };
}

function jobFinished(job: Json): { type: 'Complete' | 'Failed'; time: string } | undefined {
  const conditions = (get(job, 'status', 'conditions') ?? []) as Array<{ type: string; status: string; lastTransitionTime?: string }>;
  for (const c of conditions) {
    if ((c.type === 'Complete' || c.type === 'Failed') && c.status === 'True') {
      return { type: c.type, time: String(get(job, 'status', 'completionTime') ?? c.lastTransitionTime ?? '') };
    }
  }
  return undefined;
}

/** A Job that runs a backup: restore and verify Jobs carry the same labels, made from the same template. */
function runsBackup(job: Json): boolean {
  const containers = (get(job, 'spec', 'template', 'spec', 'containers') ?? []) as Array<{ args?: string[] }>;
  return containers[0]?.args?.[0] === BACKUP_COMMAND;
}

export function backupFacts(tenant: ChatTenant, cronJobLive: Json | undefined, jobs: Json[], previousLastSuccessful: string | undefined): TenantFacts['backup'] {
  const mine = jobs.filter((j) => ((get(j, 'metadata', 'labels') ?? {}) as Record<string, string>)['app.kubernetes.io/component'] === 'backup' && runsBackup(j));
  const byTime = [...mine].sort((a, b) => String(get(a, 'metadata', 'creationTimestamp')).localeCompare(String(get(b, 'metadata', 'creationTimestamp'))) || String(get(a, 'metadata', 'name')).localeCompare(String(get(b, 'metadata', 'name'))));
  const successes = byTime.map(jobFinished).filter((f): f is NonNullable<typeof f> => f?.type === 'Complete').map((f) => f.time);
  const lastSuccessfulTime = [previousLastSuccessful, ...successes].filter((t): t is string => !!t).sort().at(-1);
  const last = byTime.at(-1);
  const base = { ...(lastSuccessfulTime ? { lastSuccessfulTime } : {}) };
  if (!cronJobLive) return { ...no('CronJobMissing', 'The backup CronJob does not exist yet.'), lastResult: 'None', ...base };
  if (!last) {
    const schedule = tenant.spec.backup.suspend ? 'suspended' : `scheduled "${tenant.spec.backup.schedule}"`;
    return { ...ok('NoBackupYet', `Backups ${schedule}; none has run yet.`), lastResult: 'None', ...base };
  }
  const lastJobName = String(get(last, 'metadata', 'name'));
  const lastScheduleTime = String(get(last, 'status', 'startTime') ?? get(last, 'metadata', 'creationTimestamp'));
  const finished = jobFinished(last);
  const common = { ...base, lastJobName, lastScheduleTime };
  if (!finished) return { ...ok('BackupRunning', `Backup ${lastJobName} is running.`), lastResult: 'Running', ...common };
  if (finished.type === 'Failed') return { ...no('BackupFailed', `The last backup (${lastJobName}) failed; see its logs: kubectl -n ${tenantNamespace(tenant.metadata.name)} logs job/${lastJobName}.`), lastResult: 'Failed', ...common };
  return { ...ok('BackupSucceeded', `The last backup (${lastJobName}) succeeded.`), lastResult: 'Succeeded', ...common };
}

/** Names the reconciler needs to find workloads in the caches. */
export const workloadNames = { messaging: names.messaging.statefulSet, database: names.database.statefulSet, cluster: names.database.cluster, cronJob: names.backup.cronJob };
