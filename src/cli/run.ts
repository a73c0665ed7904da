import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { KubeConfig } from '@kubernetes/client-node';
import yaml from 'js-yaml';
import { API_GROUP_VERSION, KIND, OperatorSettings, type ChatTenantStatus } from '../api/index.js';
import { defaultControlPlaneCacheDir } from '../controlplane/index.js';
import { Operator } from '../controller/operator.js';
import { realNodeUnsupportedReason, readHostFacts } from '../controlplane/node/host-support.js';
import { NodeLockedError } from '../controlplane/node/index.js';
import { chatAccessText, prepareChatAccess } from '../devenv/chat-access.js';
import { SAMPLE_DOMAIN, sampleTenant, type SamplePlacement } from '../devenv/sample-tenant.js';
import { startEmbeddedEnvironment } from '../devenv/environment.js';
import { startRealNodeEnvironment } from '../devenv/real-node-environment.js';
import { KubeClient } from '../kube/client.js';
import { KubeObjects } from '../kube/objects.js';
import { createLogger } from '../log.js';
import type { Io } from './commands.js';
import { chooseCluster } from './cluster.js';

// `run`: the operator. Where the cluster is comes from, in order: --kubeconfig, $KUBECONFIG, the
// in-cluster service account, ~/.kube/config; with none of those (or --embedded) it starts a local
// control plane, installs the CRD and applies a sample tenant, so a person can watch it work. Where
// the machine allows it (root, Linux with overlayfs and ext4 encryption, apt), the local control
// plane gets a real node: the sample tenant's Pods really run, and once it is Ready `run` prints how
// to chat on it. Otherwise (or with --simulated) kwok simulates the nodes, and one line says why.

export const RUN_SUMMARY = 'run [--kubeconfig F] [--settings F] [--embedded] [--simulated] [--metrics-port N] [--resync-seconds S]   run the operator';

/** The repository (or installed package) root: the operator image for the real node is built from it. */
const PROJECT_DIR = fileURLToPath(new URL('../../', import.meta.url));

/** A local environment `run` started, whichever kind. */
interface LocalEnvironment {
  kubeconfigPath: string;
  kubeConfig: KubeConfig;
  settings: OperatorSettings;
  placement?: SamplePlacement;
  realNode: boolean;
  stop(): Promise<void>;
}

function loadSettings(file: string | undefined): OperatorSettings {
  if (!file) return OperatorSettings.parse({});
  const parsed = OperatorSettings.safeParse(yaml.load(readFileSync(file, 'utf8')) ?? {});
  if (!parsed.success) throw new Error(`settings file ${file} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

/** A flag that must be a whole number of seconds above zero; a clear error otherwise. */
function positiveSeconds(flag: string, value: string): number {
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds <= 0) throw new Error(`${flag} must be a whole number of seconds above 0, not "${value}"`);
  return seconds;
}

/** Prints the sample tenant's phase as it changes, so the local run shows progress to a person. */
function followTenant(objects: KubeObjects, name: string, io: Io, onFirstReady: () => void): () => void {
  let last = '';
  let wasReady = false;
  const timer = setInterval(() => {
    void objects.get<{ status?: ChatTenantStatus }>({ apiVersion: API_GROUP_VERSION, kind: KIND, name }).then((t) => {
      const ready = t?.status?.conditions?.find((c) => c.type === 'Ready');
      if (ready?.status === 'True' && !wasReady) {
        wasReady = true;
        onFirstReady();
      }
      const line = `tenant ${name}: phase=${t?.status?.phase ?? 'Pending'} Ready=${ready?.status ?? 'Unknown'} (${ready?.reason ?? '-'}) messaging=${t?.status?.messaging?.readyReplicas ?? 0}/${t?.status?.messaging?.replicas ?? '?'} database=${t?.status?.database?.readyInstances ?? 0}/${t?.status?.database?.instances ?? '?'}`;
      if (line !== last) io.err(`${line}\n`);
      last = line;
    }, () => {});
  }, 1000);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * The local control plane: with a real node where the machine allows it, simulated nodes otherwise,
 * saying which and why.
 */
async function startLocalEnvironment(options: { cacheDir: string; env: NodeJS.ProcessEnv; settings: OperatorSettings; simulated: boolean; io: Io }): Promise<LocalEnvironment> {
  const { io, env, cacheDir, settings } = options;
  const log = (line: string) => io.err(`[controlplane] ${line}\n`);
  const unsupported = options.simulated ? 'asked for with --simulated' : realNodeUnsupportedReason(readHostFacts());
  if (!unsupported) {
    io.err('No cluster configured: starting a local control plane with a real node (containerd, kubelet, CNI, CoreDNS, kube-router, encrypted local volumes). The first run builds it from Go modules and Debian packages and takes a while.\n');
    try {
      const real = await startRealNodeEnvironment({ cacheDir, goEnv: env, projectDir: PROJECT_DIR, settings, log });
      return { kubeconfigPath: real.controlPlane.kubeconfigPath, kubeConfig: real.kubeConfig, settings: real.settings, placement: real.placement, realNode: true, stop: real.stop };
    } catch (error) {
      if (!(error instanceof NodeLockedError)) throw error;
      io.err(`Simulated nodes instead: ${error.message}\n`);
    }
  } else {
    io.err(`No cluster configured: starting a local control plane with simulated nodes (kwok), not a real node: ${unsupported}.\n`);
  }
  const simulated = await startEmbeddedEnvironment({ cacheDir, goEnv: env, settings, log });
  return { kubeconfigPath: simulated.controlPlane.kubeconfigPath, kubeConfig: simulated.kubeConfig, settings, realNode: false, stop: simulated.stop };
}

export async function runCommand(io: Io, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      kubeconfig: { type: 'string' },
      settings: { type: 'string' },
      embedded: { type: 'boolean', default: false },
      simulated: { type: 'boolean', default: false },
      'no-sample': { type: 'boolean', default: false },
      'metrics-port': { type: 'string', default: '8080' },
      'metrics-host': { type: 'string', default: '0.0.0.0' },
      identity: { type: 'string' },
      'lease-namespace': { type: 'string' },
      'lease-name': { type: 'string', default: 'chat-tenant-operator-leader' },
      'lease-duration': { type: 'string', default: '15' },
      'resync-seconds': { type: 'string', default: '600' },
      'log-level': { type: 'string', default: env['LOG_LEVEL'] ?? 'info' },
    },
  });
  const log = createLogger({ level: values['log-level'] });
  const settings = loadSettings(values.settings);
  // How often a Ready tenant is reconciled again with nothing changed: drift nobody announced is found
  // within this period.
  const resyncMs = positiveSeconds('--resync-seconds', values['resync-seconds']) * 1000;
  // The renew deadline (two thirds of it, at least 1 s) must end before the lease does: at least 2 s.
  const leaseDurationSeconds = positiveSeconds('--lease-duration', values['lease-duration']);
  if (leaseDurationSeconds < 2) throw new Error(`--lease-duration must be at least 2 seconds, not "${values['lease-duration']}"`);
  let local: LocalEnvironment | undefined;
  let cluster = values.embedded ? undefined : chooseCluster(values.kubeconfig, env);
  if (!cluster) {
    const cacheDir = env['CHAT_TENANT_OPERATOR_CACHE_DIR'] || defaultControlPlaneCacheDir(env);
    local = await startLocalEnvironment({ cacheDir, env, settings, simulated: values.simulated, io });
    cluster = { kubeConfig: local.kubeConfig, source: `embedded control plane${local.realNode ? ' with a real node' : ''} (kubeconfig ${local.kubeconfigPath})` };
  }
  const operatorSettings = local?.settings ?? settings;
  const identity = values.identity ?? env['POD_NAME'] ?? `${hostname()}-${process.pid}`;
  let stopping = false;
  const operator = new Operator({
    kubeConfig: cluster.kubeConfig,
    settings: operatorSettings,
    log,
    identity,
    leaseNamespace: values['lease-namespace'] ?? env['POD_NAMESPACE'] ?? 'default',
    leaseName: values['lease-name'],
    leaseDurationSeconds,
    renewDeadlineSeconds: Math.max(1, Math.floor(leaseDurationSeconds * 0.66)),
    retryPeriodSeconds: Math.max(1, Math.floor(leaseDurationSeconds / 7)),
    metricsHost: values['metrics-host'],
    metricsPort: Number(values['metrics-port']),
    resyncMs,
    // A replica that lost its lease stops: the Deployment restarts it as a standby.
    onLostLeadership: () => {
      if (!stopping) {
        log.error('lost the leader lease; exiting');
        process.exit(1);
      }
    },
  });
  log.info({ cluster: cluster.source, identity }, 'starting');
  await operator.start();
  let unfollow: () => void = () => {};
  const chatDir = join(tmpdir(), 'chat-tenant-operator-sample-clinic');
  if (local && !values['no-sample']) {
    const environment = local;
    const objects = new KubeObjects(new KubeClient(cluster.kubeConfig, 'chat-tenant-operator/devenv'));
    const tenant = sampleTenant(environment.placement);
    await objects.apply(tenant as never);
    // On a real node, a Ready tenant is one a person can chat on: accounts, the CA and how to connect.
    const onReady = environment.realNode
      ? () => {
          void prepareChatAccess(cluster.kubeConfig, tenant.metadata.name, SAMPLE_DOMAIN, chatDir).then(
            (access) => io.err(`\n${chatAccessText(access)}\n`),
            (error: Error) => io.err(`could not prepare the sample accounts: ${error.message}\n`),
          );
        }
      : () => {};
    unfollow = followTenant(objects, tenant.metadata.name, io, onReady);
    io.err(
      `\nApplied the sample tenant "${tenant.metadata.name}". Watch it with:\n  export KUBECONFIG=${environment.kubeconfigPath}\n  kubectl get chattenants -w\n  kubectl describe chattenant ${tenant.metadata.name}\nMetrics: http://127.0.0.1:${operator.metricsPort}/metrics   Stop with Ctrl-C.\n\n`,
    );
  }
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'shutting down: releasing the lease');
      unfollow();
      void operator
        .stop()
        .then(() => local?.stop())
        // The sample accounts' passwords die with the tenant they belong to.
        .then(() => rm(chatDir, { recursive: true, force: true }))
        .finally(() => {
          resolve();
          // Everything is stopped and the lease released; a connection still draining must not
          // hold the process past the pod's grace period.
          setTimeout(() => process.exit(0), 2000).unref();
        });
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
  return 0;
}
