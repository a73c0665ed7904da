// bench/reconcile: how fast the operator brings N tenants to Ready on the local control plane, what it
// asks of the API server, and how that compares with the limit: a bare script server-side-applying the
// very same rendered objects with no controller logic. Prints its figures; not part of `npm test`.
//
//   npx tsx bench/reconcile.ts --tenants 10      (also 100, 1000)
//   --cpu-prof-dir DIR writes a V8 CPU profile of the operator process there (open it in Chrome DevTools).
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { API_GROUP_VERSION, KIND, defaultSettings, validateChatTenant, chatTenantManifest, type ChatTenantSpecInput } from '../src/api/index.js';
import { defaultControlPlaneCacheDir, ensureControlPlaneBinaries, startControlPlane } from '../src/controlplane/index.js';
import { resolveMaterial } from '../src/controller/material.js';
import { installCrd } from '../src/devenv/environment.js';
import { LOCAL_STORAGE_CLASS, markLocalStorageEncrypted } from '../src/devenv/local-storage.js';
import { KubeClient } from '../src/kube/client.js';
import { KubeObjects } from '../src/kube/objects.js';
import { renderTenant } from '../src/render/index.js';
import { pool } from './support/pool.js';
import { cpuSeconds, peakRssMiB } from './support/proc.js';

const { values } = parseArgs({ options: { tenants: { type: 'string', default: '10' }, concurrency: { type: 'string', default: '4' }, 'cpu-prof-dir': { type: 'string' } } });
const N = Number(values.tenants);
const CONCURRENCY = Number(values.concurrency);
const settings = defaultSettings();

const spec = (i: number): ChatTenantSpecInput => ({
  displayName: `Bench ${i}`,
  xmppDomains: [`chat.bench-${i}.example`],
  messaging: { replicas: 2 },
  database: { provider: 'standalone', storage: { storageClassName: LOCAL_STORAGE_CLASS, size: '1Gi' } },
  backup: { target: { pvc: { size: '1Gi' } } },
});

/**
 * Writes by verb and resource, as the API server's audit log saw them, for one user agent prefix.
 * Lease renewals (leader election) are counted apart: they are the price of HA, not of reconciling.
 */
async function auditWrites(file: string, userAgentPrefix: string, since: number): Promise<{ reconcile: Record<string, number>; leaderElection: number }> {
  const reconcile: Record<string, number> = {};
  let leaderElection = 0;
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    if (!line) continue;
    const e = JSON.parse(line) as { userAgent?: string; verb: string; stage: string; stageTimestamp: string; objectRef?: { resource?: string; subresource?: string } };
    if (e.stage !== 'ResponseComplete' || !e.userAgent?.startsWith(userAgentPrefix) || Date.parse(e.stageTimestamp) < since) continue;
    if (e.userAgent.includes('/leader-election')) {
      leaderElection++;
      continue;
    }
    const key = `${e.verb} ${e.objectRef?.resource ?? '?'}${e.objectRef?.subresource ? `/${e.objectRef.subresource}` : ''}`;
    reconcile[key] = (reconcile[key] ?? 0) + 1;
  }
  return { reconcile, leaderElection };
}

const binaries = await ensureControlPlaneBinaries({ cacheDir: defaultControlPlaneCacheDir(process.env), goEnv: process.env, log: (l) => console.error(`[controlplane] ${l}`) });
// Nodes big enough that scheduling never limits the figures (N=1000 means about 5,000 pods).
const fakeNodes = ['a', 'b', 'c'].map((z) => ({ name: `bench-node-${z}`, zone: `zone-${z}`, cpu: '100000', memory: '100000Gi', pods: '10000' }));
const cp = await startControlPlane({ binaries, fakeNodes });
try {
  const objects = new KubeObjects(new KubeClient(cp.kubeConfig(), 'bench'));
  await installCrd(objects);
  await markLocalStorageEncrypted(objects, settings.encryptedStorageClassAnnotation);

  // 1. The operator, as a separate process, from N new tenants to N Ready tenants.
  const opStart = Date.now();
  const child = spawn(process.execPath, [...(values['cpu-prof-dir'] ? ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof-dir']] : []), '--import', 'tsx', 'src/cli/main.ts', 'run', '--kubeconfig', cp.kubeconfigPath, '--identity', 'bench', '--metrics-port', '0', '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
  await pool([...Array(N).keys()], 8, (i) => objects.create(chatTenantManifest(`op-${i}`, spec(i)) as never).then(() => undefined));
  let applied = 0;
  let ready = 0;
  let appliedAt = 0;
  while (ready < N) {
    const list = (await objects.client.request<{ items: Array<{ metadata: { name: string }; status?: { observedGeneration?: number; conditions?: Array<{ type: string; status: string }> } }> }>('GET', `/apis/${API_GROUP_VERSION}/chattenants`)).items.filter((t) => t.metadata.name.startsWith('op-'));
    applied = list.filter((t) => t.status?.observedGeneration === 1).length;
    if (applied === N && !appliedAt) appliedAt = Date.now();
    ready = list.filter((t) => t.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
    if (Date.now() - opStart > 30 * 60_000) throw new Error(`only ${ready}/${N} Ready after 30 minutes`);
    await new Promise((r) => setTimeout(r, 500));
  }
  const readyAt = Date.now();
  const writesToReady = await auditWrites(cp.auditLogPath, 'chat-tenant-operator/bench', opStart);
  // 2. Steady state: a quiet minute covers the informers' resync; the target is zero writes.
  const quietStart = Date.now();
  await new Promise((r) => setTimeout(r, 60_000));
  const steadyWrites = await auditWrites(cp.auditLogPath, 'chat-tenant-operator/bench', quietStart);
  const proc = { rssPeakMiB: peakRssMiB(child.pid!), cpuSeconds: cpuSeconds([child.pid!]) };
  child.kill('SIGTERM');

  // 3. The limit: the same rendered objects (same material kind, fresh tenants), applied by a bare loop.
  const rawTenants = [...Array(N).keys()].map((i) => {
    const result = validateChatTenant({ ...chatTenantManifest(`raw-${i}`, spec(i)), metadata: { name: `raw-${i}`, uid: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}` } });
    if (!result.ok) throw new Error('bench spec invalid');
    return result.tenant;
  });
  const rendered = await Promise.all(rawTenants.map(async (tenant) => renderTenant({ tenant, material: (await resolveMaterial(tenant, settings, new Map(), new Date())).material, settings, capabilities: { cloudNativePG: false, certManager: false, prometheusOperator: false } })));
  const raw = new KubeObjects(new KubeClient(cp.kubeConfig(), 'bench-raw'));
  const rawStart = Date.now();
  // Ownerless: the raw tenants' uids are made up, so owner references are dropped for this loop.
  await pool(rendered, CONCURRENCY, async (objs) => {
    for (const o of objs) await raw.apply({ ...o, metadata: { ...o.metadata, ownerReferences: undefined } } as never);
  });
  const rawSeconds = (Date.now() - rawStart) / 1000;
  const rawWrites = await auditWrites(cp.auditLogPath, 'bench-raw', rawStart);

  const operatorAppliedSeconds = (appliedAt - opStart) / 1000;
  const perTenant = (w: { reconcile: Record<string, number> }) =>
    Object.fromEntries(Object.entries(w.reconcile).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, +(v / N).toFixed(1)]));
  console.log(JSON.stringify({
    tenants: N,
    objectsPerTenant: rendered[0]!.length,
    operator: {
      secondsUntilAllApplied: operatorAppliedSeconds,
      secondsUntilAllReady: (readyAt - opStart) / 1000,
      writesPerTenantByVerbAndResource: perTenant(writesToReady),
      steadyStateReconcileWritesInOneMinute: Object.values(steadyWrites.reconcile).reduce((a, b) => a + b, 0),
      steadyStateLeaseRenewalsInOneMinute: steadyWrites.leaderElection,
      peakRssMiB: proc.rssPeakMiB,
      cpuSeconds: proc.cpuSeconds,
    },
    rawApply: { seconds: rawSeconds, writesPerTenantByVerbAndResource: perTenant(rawWrites) },
    ratioOperatorAppliedToRawApply: +(operatorAppliedSeconds / rawSeconds).toFixed(2),
  }, null, 2));
} finally {
  await cp.stop();
}
