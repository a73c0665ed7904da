// bench/reconcile: how fast the operator brings N tenants to Ready on the local control plane, what it
// asks of the API server, and how that compares with the limit: a bare script server-side-applying the
// very same rendered objects with no controller logic. Prints its figures; not part of `npm test`.
//
//   npx tsx bench/reconcile.ts --tenants 10      (also 100, 1000)
//   --resync-seconds S: the periodic resync of the steady-state phase (default 60).
//   --ready-timeout-minutes M gives up waiting for Ready after M minutes (default: 30, or 3 s per tenant).
//   --cpu-prof-dir DIR writes a V8 CPU profile of the operator process there (open it in Chrome DevTools).
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { defaultSettings, validateChatTenant, chatTenantManifest, type ChatTenantSpecInput } from '../src/api/index.js';
import { defaultControlPlaneCacheDir, ensureControlPlaneBinaries, startControlPlane } from '../src/controlplane/index.js';
import { resolveMaterial } from '../src/controller/material.js';
import { writeInWaves } from '../src/controller/apply-order.js';
import { installCrd } from '../src/devenv/environment.js';
import { LOCAL_STORAGE_CLASS, markLocalStorageEncrypted } from '../src/devenv/local-storage.js';
import { KubeClient } from '../src/kube/client.js';
import { KubeObjects } from '../src/kube/objects.js';
import { Informer } from '../src/kube/informer.js';
import { CHAT_TENANT_RESOURCE } from '../src/kube/resources.js';
import { renderTenant } from '../src/render/index.js';
import { findFreePort } from '../src/controlplane/processes.js';
import { metricNames } from '../src/metrics/names.js';
import { pool } from '../src/controller/pool.js';
import { cpuSeconds, peakRssMiB } from './support/proc.js';

const { values } = parseArgs({ options: { tenants: { type: 'string', default: '10' }, concurrency: { type: 'string', default: '4' }, 'cpu-prof-dir': { type: 'string' }, 'ready-timeout-minutes': { type: 'string' }, 'resync-seconds': { type: 'string', default: '60' } } });
const N = Number(values.tenants);
// About 1.6 s per tenant on 2 cores, with room: 30 minutes up to N=600, then longer.
const READY_TIMEOUT_MS = Number(values['ready-timeout-minutes'] ?? Math.max(30, Math.ceil((N * 3) / 60))) * 60_000;
const CONCURRENCY = Number(values.concurrency);
const RESYNC_SECONDS = Number(values['resync-seconds']);
const settings = defaultSettings();

const spec = (i: number): ChatTenantSpecInput => ({
  displayName: `Bench ${i}`,
  xmppDomains: [`chat.bench-${i}.example`],
  messaging: { replicas: 2 },
  database: { provider: 'standalone', storage: { storageClassName: LOCAL_STORAGE_CLASS, size: '1Gi' } },
  backup: { target: { pvc: { size: '1Gi' } } },
});

const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

interface AuditedRequests {
  /** Every request but leader election's, by "verb resource[/subresource]". */
  byVerbAndResource: Record<string, number>;
  /** Lease renewals are counted apart: they are the price of HA, not of reconciling. */
  leaderElection: number;
}

/** From `since` (inclusive) to `until` (exclusive), in ms since the epoch. */
type Window = readonly [since: number, until: number];

/**
 * Requests of one client (its user agent, and that followed by /…) in each of some time windows, as
 * the API server's audit log saw them, in one pass over the log. A watch is counted when it starts (it
 * may still be open); every other request when it completes.
 */
async function auditedRequests<W extends readonly Window[]>(file: string, userAgent: string, windows: readonly [...W]): Promise<{ [K in keyof W]: AuditedRequests }> {
  const out = windows.map((): AuditedRequests => ({ byVerbAndResource: {}, leaderElection: 0 }));
  // A rotated log would silently drop requests from the counts.
  const rotated = readdirSync(dirname(file)).filter((f) => /^audit-.+\.log$/.test(f));
  if (rotated.length > 0) throw new Error(`the audit log was rotated (${rotated.join(', ')}): counts would be incomplete`);
  // Streamed: with 1,000 tenants the log holds hundreds of megabytes.
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    if (!line) continue;
    const e = JSON.parse(line) as { userAgent?: string; verb: string; stage: string; stageTimestamp: string; objectRef?: { resource?: string; subresource?: string } };
    if (e.stage !== (e.verb === 'watch' ? 'ResponseStarted' : 'ResponseComplete')) continue;
    if (e.userAgent !== userAgent && !e.userAgent?.startsWith(`${userAgent}/`)) continue;
    const at = Date.parse(e.stageTimestamp);
    const counts = out[windows.findIndex(([since, until]) => at >= since && at < until)];
    if (!counts) continue;
    if (e.userAgent.endsWith('/leader-election')) {
      counts.leaderElection++;
      continue;
    }
    const key = `${e.verb} ${e.objectRef?.resource ?? '?'}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ''}`;
    counts.byVerbAndResource[key] = (counts.byVerbAndResource[key] ?? 0) + 1;
  }
  return out as { [K in keyof W]: AuditedRequests };
}

const writesOf = (counts: Record<string, number>) => Object.fromEntries(Object.entries(counts).filter(([k]) => WRITE_VERBS.has(k.split(' ')[0]!)));
const byVerb = (counts: Record<string, number>) => {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(counts)) out[k.split(' ')[0]!] = (out[k.split(' ')[0]!] ?? 0) + v;
  return out;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every operator process started, killed at the end whatever happened. */
const operators: ChildProcess[] = [];

interface OperatorProcess {
  readonly child: ChildProcess;
  /** Where it serves /metrics and /readyz. */
  readonly metricsPort: number;
}

/** The operator as its own process, as users run it; `nodeFlags` go to node, `flags` to `run`. */
async function startOperator(identity: string, nodeFlags: string[], flags: string[]): Promise<OperatorProcess> {
  const metricsPort = await findFreePort();
  const args = [...nodeFlags, '--import', 'tsx', 'src/cli/main.ts', 'run', '--kubeconfig', cp.kubeconfigPath, '--identity', identity, '--metrics-port', String(metricsPort), '--log-level', 'warn', ...flags];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  operators.push(child);
  return { child, metricsPort };
}

async function stopOperator({ child }: OperatorProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** Waits until the operator leads and its caches are filled (its /readyz, its leader gauge). */
async function waitForLeadership({ metricsPort: port }: OperatorProcess): Promise<void> {
  for (const started = Date.now(); Date.now() - started < 120_000; await sleep(200)) {
    try {
      const ready = (await fetch(`http://127.0.0.1:${port}/readyz`)).ok;
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      if (ready && metrics.includes(`\n${metricNames.isLeader} 1`)) return;
    } catch {
      /* not serving yet */
    }
  }
  throw new Error('the operator did not lead within 2 minutes');
}

/** Reconciles the operator has finished, from its own metrics endpoint (0 until it answers). */
async function reconcilesDone({ metricsPort }: OperatorProcess): Promise<number> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    return text.split('\n').filter((l) => l.startsWith(`${metricNames.reconcileTotal}{`)).reduce((a, l) => a + Number(l.split(' ').pop()), 0);
  } catch {
    return 0;
  }
}

/** Waits until the operator has finished `count` reconciles; returns when (ms since epoch). */
async function waitForReconciles(operator: OperatorProcess, count: number, since: number): Promise<number> {
  const limit = since + 10 * 60_000 + RESYNC_SECONDS * 2000;
  for (;;) {
    const done = await reconcilesDone(operator);
    if (done >= count) return Date.now();
    if (Date.now() > limit) throw new Error(`only ${done}/${count} reconciles after ${Math.round((Date.now() - since) / 1000)} s`);
    await sleep(1000);
  }
}

const binaries = await ensureControlPlaneBinaries({ cacheDir: defaultControlPlaneCacheDir(process.env), goEnv: process.env, log: (l) => console.error(`[controlplane] ${l}`) });
// Nodes big enough that scheduling never limits the figures (N=1000 means about 5,000 pods).
const fakeNodes = ['a', 'b', 'c'].map((z) => ({ name: `bench-node-${z}`, zone: `zone-${z}`, cpu: '100000', memory: '100000Gi', pods: '10000' }));
let cp = await startControlPlane({ binaries, fakeNodes, auditReads: true });
try {
  const objects = new KubeObjects(new KubeClient(cp.kubeConfig(), 'bench'));
  await installCrd(objects);
  await markLocalStorageEncrypted(objects, settings.encryptedStorageClassAnnotation);

  // 1. The operator, as a separate process, already leading with its caches filled (as in a cluster,
  //    where it runs all along), from N new tenants to N Ready tenants.
  const operator = await startOperator('bench', values['cpu-prof-dir'] ? ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof-dir']] : [], []);
  await waitForLeadership(operator);
  const opStart = Date.now();
  await pool([...Array(N).keys()], 8, (i) => objects.create(chatTenantManifest(`op-${i}`, spec(i)) as never).then(() => undefined));
  // Watched, not polled: listing 1,000 tenants twice a second would load the API server being measured.
  const tenants = new Informer(objects.client, CHAT_TENANT_RESOURCE);
  tenants.start();
  await tenants.waitForSync();
  let applied = 0;
  let ready = 0;
  let appliedAt = 0;
  while (ready < N) {
    const list = tenants.list((t) => ((t['metadata'] as { name: string }).name.startsWith('op-'))) as Array<{ status?: { observedGeneration?: number; conditions?: Array<{ type: string; status: string }> } }>;
    applied = list.filter((t) => t.status?.observedGeneration === 1).length;
    if (applied === N && !appliedAt) appliedAt = Date.now();
    ready = list.filter((t) => t.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
    if (Date.now() - opStart > READY_TIMEOUT_MS) throw new Error(`only ${ready}/${N} Ready after ${READY_TIMEOUT_MS / 60_000} minutes`);
    await sleep(250);
  }
  tenants.stop();
  const readyAt = Date.now();
  const [requestsToReady] = await auditedRequests(cp.auditLogPath, 'chat-tenant-operator/bench', [[opStart, Infinity]]);
  const proc = { rssPeakMiB: peakRssMiB(operator.child.pid!), cpuSeconds: cpuSeconds([operator.child.pid!]) };
  await stopOperator(operator);

  // 2. Steady state, nothing changed: a new operator process takes over (caches filled by lists, every
  //    tenant reconciled), then its periodic resync reconciles every tenant again. Target: zero writes.
  const restartStart = Date.now();
  const resyncer = await startOperator('bench-resync', [], ['--resync-seconds', String(RESYNC_SECONDS)]);
  const restartedAt = await waitForReconciles(resyncer, N, restartStart);
  const resyncedAt = await waitForReconciles(resyncer, 2 * N, restartStart);
  await sleep(5000); // the last reconciles' requests reach the audit log
  const [restart, resync] = await auditedRequests(cp.auditLogPath, 'chat-tenant-operator/bench-resync', [[restartStart, restartedAt], [restartedAt, resyncedAt + 5000]]);
  await stopOperator(resyncer);

  // 3. The limit: the same rendered objects (same material kind), applied by a bare loop, on a fresh
  //    control plane: on the first one it would start where the operator left it, with N tenants' Pods
  //    already stored and watched (at N=1,000 that made the bare loop slower than the operator).
  await cp.stop();
  cp = await startControlPlane({ binaries, fakeNodes, auditReads: true });
  const rawTenants = [...Array(N).keys()].map((i) => {
    const result = validateChatTenant({ ...chatTenantManifest(`raw-${i}`, spec(i)), metadata: { name: `raw-${i}`, uid: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}` } });
    if (!result.ok) throw new Error('bench spec invalid');
    return result.tenant;
  });
  const rendered = await Promise.all(rawTenants.map(async (tenant) => renderTenant({ tenant, material: (await resolveMaterial(tenant, settings, new Map(), new Date())).material, settings, capabilities: { cloudNativePG: false, certManager: false, prometheusOperator: false } })));
  const raw = new KubeObjects(new KubeClient(cp.kubeConfig(), 'bench-raw'));
  const rawStart = Date.now();
  // With the operator's parallelism (tenants side by side, each in the operator's waves, a few writes
  // in flight), so that the ratio measures controller logic, not a different request pattern.
  // Ownerless: the raw tenants' uids are made up, so owner references are dropped for this loop.
  await pool(rendered, CONCURRENCY, (objs) => writeInWaves(objs, async (o) => void (await raw.apply({ ...o, metadata: { ...o.metadata, ownerReferences: undefined } } as never))));
  const rawSeconds = (Date.now() - rawStart) / 1000;
  const [rawRequests] = await auditedRequests(cp.auditLogPath, 'bench-raw', [[rawStart, Infinity]]);

  const operatorAppliedSeconds = (appliedAt - opStart) / 1000;
  const perTenant = (counts: Record<string, number>) =>
    Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, +(v / N).toFixed(1)]));
  console.log(JSON.stringify({
    tenants: N,
    objectsPerTenant: rendered[0]!.length,
    operator: {
      secondsUntilAllApplied: operatorAppliedSeconds,
      secondsUntilAllReady: (readyAt - opStart) / 1000,
      requestsPerTenantByVerb: perTenant(byVerb(requestsToReady.byVerbAndResource)),
      writesPerTenantByVerbAndResource: perTenant(writesOf(requestsToReady.byVerbAndResource)),
      peakRssMiB: proc.rssPeakMiB,
      cpuSeconds: proc.cpuSeconds,
    },
    steadyState: {
      restartReconcilingEveryTenant: { seconds: (restartedAt - restartStart) / 1000, requestsByVerb: byVerb(restart.byVerbAndResource), writes: writesOf(restart.byVerbAndResource) },
      periodicResyncOfEveryTenant: {
        periodSeconds: RESYNC_SECONDS,
        requestsByVerb: byVerb(resync.byVerbAndResource),
        writes: writesOf(resync.byVerbAndResource),
        leaseRenewals: resync.leaderElection,
      },
    },
    rawApply: { seconds: rawSeconds, requestsPerTenantByVerbAndResource: perTenant(rawRequests.byVerbAndResource) },
    ratioOperatorAppliedToRawApply: +(operatorAppliedSeconds / rawSeconds).toFixed(2),
  }, null, 2));
} finally {
  for (const child of operators) if (child.exitCode === null) child.kill('SIGKILL');
  await cp.stop();
}
