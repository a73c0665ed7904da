import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { defaultSettings, type ChatTenant } from '../../src/api/index.js';
import { toYamlDocuments } from '../../src/cli/output.js';
import { minimalSpec, tenantFixture } from '../support/tenants.js';
import { connectionItems, ipNode, parseAnalyzerJson, rolePaths, splitPath, type NamedCidr } from './connectivity.js';
import { evaluatePodConnections, probesFor, type Probe } from './evaluator.js';
import { buildWorld, type World } from './world.js';
import './provided-context.js';

// PROOF of tenant isolation by an independent analyzer: np-guard's netpol-analyzer reads the rendered
// NetworkPolicies, the namespaces and representative pods, and lists every connection they allow.
// The expected paths below are written by hand from docs/network.md, not derived from the renderer.

const run = promisify(execFile);
const workDirs: string[] = [];
afterAll(async () => {
  await Promise.all(workDirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function analyze(world: World): Promise<{ stdout: string; stderr: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'netpol-world-'));
  workDirs.push(dir);
  await writeFile(path.join(dir, 'world.yaml'), toYamlDocuments(world.objects));
  // Not --fail: in v1.4.2 it prints "Error getting resourceInfos from dir path: <nil>" and lists
  // nothing for valid input. Errors still exit non-zero (execFile rejects); warnings land on stderr,
  // and any of those fails the proof too, since a skipped object would make the proof vacuous.
  const result = await run(inject('netpolAnalyzer'), ['list', '--dirpath', dir, '--output', 'json'], { maxBuffer: 64 * 1024 * 1024 });
  expect(result.stderr, 'analyzer diagnostics').toBe('');
  return result;
}

const tenantOfRole = (role: string): string | undefined => (role.includes('/') ? role.split('/')[0] : undefined);

/** Paths that start or end at a tenant pod; what neighbours may do among themselves is not ours. */
async function tenantPaths(world: World, cidrs: NamedCidr[]): Promise<string[]> {
  const { stdout } = await analyze(world);
  return [...rolePaths(parseAnalyzerJson(stdout), world.pods, cidrs, (pod) => tenantOfRole(pod.role) !== undefined)].sort();
}

const CLIENT = ['TCP/5222', 'TCP/5223', 'TCP/5443'];
const ERLANG = ['TCP/9100'];
const DNS = ['UDP/53', 'TCP/53'];
const expand = (rows: Array<[string, string, string[]]>): string[] => rows.flatMap(([from, to, items]) => items.map((i) => `${from} -> ${to} : ${i}`)).sort();

/** Every way into a tenant from outside it that the design allows, by source role and port. */
const OUTSIDE_SOURCES: Record<string, { to: string; items: string[] }[]> = {
  'client-namespace': [{ to: 'messaging', items: CLIENT }],
  'ip:alpha-clients': [{ to: 'messaging', items: CLIENT }],
  intruder: [{ to: 'messaging', items: CLIENT }],
  monitoring: [
    { to: 'messaging', items: ['TCP/5281'] },
    { to: 'database', items: ['TCP/9187'] },
  ],
  'cnpg-operator': [{ to: 'database', items: ['TCP/5432', 'TCP/8000'] }],
  'ip:elsewhere': [{ to: 'messaging', items: ['TCP/5269'] }],
};

function checkIsolation(paths: string[]): void {
  const crossTenant = paths.filter((p) => {
    const { from, to } = splitPath(p);
    const a = tenantOfRole(from);
    const b = tenantOfRole(to);
    return a !== undefined && b !== undefined && a !== b;
  });
  expect(crossTenant, 'paths between two tenants').toEqual([]);
  const fromOutside = paths.filter((p) => {
    const { from, to, item } = splitPath(p);
    if (tenantOfRole(from) !== undefined || tenantOfRole(to) === undefined) return false;
    const role = to.split('/')[1]!;
    return !(OUTSIDE_SOURCES[from] ?? []).some((allowed) => allowed.to === role && allowed.items.includes(item));
  });
  expect(fromOutside, 'paths into a tenant from outside that the design does not allow').toEqual([]);
}

describe('two tenants side by side: standalone with client CIDRs, CloudNativePG with S3 backups', () => {
  const alpha = tenantFixture(
    'alpha',
    minimalSpec({ xmppDomains: ['chat.alpha.example'], network: { clientCIDRs: ['203.0.113.0/24'], clientNamespaces: [{ matchLabels: { role: 'ingress' } }] } }),
  );
  const beta = tenantFixture(
    'beta',
    minimalSpec({
      xmppDomains: ['chat.beta.example'],
      database: { provider: 'cloudnative-pg', storage: { storageClassName: 'encrypted-ssd' } },
      backup: { target: { s3: { endpoint: 'https://minio.backup.example:9000', bucket: 'beta-backups', credentialsSecret: 's3-credentials', egressCIDR: '198.51.100.0/24' } } },
      network: { clientNamespaces: [{ matchLabels: { role: 'ingress' } }] },
    }),
  );
  const settings = defaultSettings({ kubernetesApiCIDRs: ['10.96.0.1/32'] });
  const cidrs: NamedCidr[] = [
    { name: 'alpha-clients', cidr: '203.0.113.0/24' },
    { name: 'beta-s3', cidr: '198.51.100.0/24' },
    { name: 'kube-api', cidr: '10.96.0.1/32' },
  ];

  const intended = expand([
    // alpha: standalone PostgreSQL, PVC backups, clients from a CIDR and from the ingress namespace.
    ['alpha/messaging', 'alpha/messaging', ERLANG],
    ['alpha/messaging', 'alpha/database', ['TCP/5432']],
    ['alpha/backup', 'alpha/database', ['TCP/5432']],
    // The schema Job loads ejabberd's tables into the tenant database before ejabberd starts.
    ['alpha/schema', 'alpha/database', ['TCP/5432']],
    ['alpha/schema', 'dns', DNS],
    ['alpha/archive-purge', 'alpha/messaging', ERLANG],
    ['alpha/archive-purge', 'dns', DNS],
    ['alpha/messaging', 'dns', DNS],
    ['alpha/database', 'dns', DNS],
    ['alpha/backup', 'dns', DNS],
    ['monitoring', 'alpha/messaging', ['TCP/5281']],
    ['monitoring', 'alpha/database', ['TCP/9187']],
    ['client-namespace', 'alpha/messaging', CLIENT],
    ['ip:alpha-clients', 'alpha/messaging', CLIENT],
    // beta: CloudNativePG instances, S3 backups, clients from the ingress namespace only.
    ['beta/messaging', 'beta/messaging', ERLANG],
    ['beta/messaging', 'beta/database', ['TCP/5432']],
    ['beta/backup', 'beta/database', ['TCP/5432']],
    // The schema Job loads ejabberd's tables into the tenant database before ejabberd starts.
    ['beta/schema', 'beta/database', ['TCP/5432']],
    ['beta/schema', 'dns', DNS],
    ['beta/archive-purge', 'beta/messaging', ERLANG],
    ['beta/archive-purge', 'dns', DNS],
    ['beta/messaging', 'dns', DNS],
    ['beta/database', 'dns', DNS],
    ['beta/backup', 'dns', DNS],
    ['monitoring', 'beta/messaging', ['TCP/5281']],
    ['monitoring', 'beta/database', ['TCP/9187']],
    ['client-namespace', 'beta/messaging', CLIENT],
    ['cnpg-operator', 'beta/database', ['TCP/5432', 'TCP/8000']],
    ['beta/database', 'beta/database', ['TCP/5432', 'TCP/8000']],
    ['beta/database', 'ip:kube-api', ['TCP/443', 'TCP/6443']],
    ['beta/backup', 'ip:beta-s3', ['TCP/9000']],
  ]);

  let paths: string[];
  it('the analyzer lists connections for the rendered world', async () => {
    paths = await tenantPaths(buildWorld([alpha, beta], settings), cidrs);
    expect(paths.length).toBeGreaterThan(0);
  });

  it('no path crosses tenants, and nothing from outside gets in but clients, monitoring and the CloudNativePG operator', () => {
    checkIsolation(paths);
  });

  it('within each tenant exactly the intended paths exist: none missing, none extra', () => {
    expect({ missing: intended.filter((p) => !paths.includes(p)), unexpected: paths.filter((p) => !intended.includes(p)) }).toEqual({ missing: [], unexpected: [] });
  });
});

describe('careless selectors and federation', () => {
  // gamma's client selector matches every namespace of the chat platform (its neighbour tenant's
  // too), and its monitoring namespace is the neighbour tenant's namespace: neither may open a path
  // between the tenants. delta federates: port 5269 to and from addresses, nothing else.
  const gamma: ChatTenant = tenantFixture(
    'gamma',
    minimalSpec({ xmppDomains: ['chat.gamma.example'], network: { clientNamespaces: [{ matchLabels: { 'app.kubernetes.io/part-of': 'chat-tenant' } }], monitoringNamespace: 'delta' } }),
  );
  const delta: ChatTenant = tenantFixture('delta', minimalSpec({ xmppDomains: ['chat.delta.example'], messaging: { replicas: 2, federation: true } }));

  const intended = expand([
    ['gamma/messaging', 'gamma/messaging', ERLANG],
    ['gamma/messaging', 'gamma/database', ['TCP/5432']],
    ['gamma/backup', 'gamma/database', ['TCP/5432']],
    // The schema Job loads ejabberd's tables into the tenant database before ejabberd starts.
    ['gamma/schema', 'gamma/database', ['TCP/5432']],
    ['gamma/schema', 'dns', DNS],
    ['gamma/archive-purge', 'gamma/messaging', ERLANG],
    ['gamma/archive-purge', 'dns', DNS],
    ['gamma/messaging', 'dns', DNS],
    ['gamma/database', 'dns', DNS],
    ['gamma/backup', 'dns', DNS],
    // The intruder namespace carries the selected label and is no tenant: it is a client by the spec.
    ['intruder', 'gamma/messaging', CLIENT],
    ['delta/messaging', 'delta/messaging', ERLANG],
    ['delta/messaging', 'delta/database', ['TCP/5432']],
    ['delta/backup', 'delta/database', ['TCP/5432']],
    // The schema Job loads ejabberd's tables into the tenant database before ejabberd starts.
    ['delta/schema', 'delta/database', ['TCP/5432']],
    ['delta/schema', 'dns', DNS],
    ['delta/archive-purge', 'delta/messaging', ERLANG],
    ['delta/archive-purge', 'dns', DNS],
    ['delta/messaging', 'dns', DNS],
    ['delta/database', 'dns', DNS],
    ['delta/backup', 'dns', DNS],
    ['monitoring', 'delta/messaging', ['TCP/5281']],
    ['monitoring', 'delta/database', ['TCP/9187']],
    ['delta/messaging', 'ip:elsewhere', ['TCP/5269']],
    ['ip:elsewhere', 'delta/messaging', ['TCP/5269']],
  ]);

  let paths: string[];
  it('the analyzer lists connections for the rendered world', async () => {
    paths = await tenantPaths(buildWorld([gamma, delta], defaultSettings()), []);
    expect(paths.length).toBeGreaterThan(0);
  });

  it('no path crosses tenants, and nothing from outside gets in but what the design allows', () => {
    checkIsolation(paths);
  });

  it('exactly the intended paths exist', () => {
    expect({ missing: intended.filter((p) => !paths.includes(p)), unexpected: paths.filter((p) => !intended.includes(p)) }).toEqual({ missing: [], unexpected: [] });
  });
});

describe('defence in depth: a neighbour whose egress was opened by hand', () => {
  it("still cannot reach a tenant whose client and monitoring selectors match the neighbour's namespace", async () => {
    const gamma = tenantFixture(
      'gamma',
      minimalSpec({ xmppDomains: ['chat.gamma.example'], network: { clientNamespaces: [{ matchLabels: { 'app.kubernetes.io/part-of': 'chat-tenant' } }], monitoringNamespace: 'delta' } }),
    );
    const delta = tenantFixture('delta', minimalSpec({ xmppDomains: ['chat.delta.example'] }));
    const world = buildWorld([gamma, delta]);
    // Someone added this in delta by hand: every pod may connect anywhere.
    world.objects.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'allow-all-egress', namespace: 'delta' },
      spec: { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: {} }] }] },
    });
    const paths = await tenantPaths(world, []);
    // delta's pods now reach outside (the hand-made policy works), but never gamma.
    expect(paths).toContain('delta/messaging -> monitoring : ALL');
    checkIsolation(paths);
  });
});

describe('the proof can fail', () => {
  it('an ingress rule and an egress rule with empty namespace selectors show up as paths between tenants', async () => {
    const alpha = tenantFixture('alpha', minimalSpec({ xmppDomains: ['chat.alpha.example'] }));
    const beta = tenantFixture('beta', minimalSpec({ xmppDomains: ['chat.beta.example'] }));
    const world = buildWorld([alpha, beta]);
    // The classic mistake, made on both sides: a peer that is an empty namespace selector.
    const oops = (namespace: string, spec: Record<string, unknown>) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'oops', namespace }, spec });
    world.objects.push(
      oops('alpha', { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ namespaceSelector: {} }] }] }),
      oops('beta', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: {} }] }] }),
    );
    const paths = await tenantPaths(world, []);
    expect(paths).toContain('beta/messaging -> alpha/database : ALL');
    expect(paths).toContain('intruder -> alpha/database : ALL');
    expect(() => checkIsolation(paths)).toThrow();
  });
});

/** The analyzer's pod-to-pod connections, expanded to the probes ("All Connections": every probe). */
function analyzerPodConnections(stdout: string, probes: readonly Probe[]): Set<string> {
  const out = new Set<string>();
  const probeItems = probes.map((p) => `${p.protocol}/${p.port}`);
  for (const c of parseAnalyzerJson(stdout)) {
    if (ipNode(c.src) || ipNode(c.dst)) continue;
    const strip = (n: string) => n.replace(/\[[^\]]*\]$/, '');
    const items = connectionItems(c.conn);
    for (const item of items.includes('ALL') ? probeItems : items.filter((i) => probeItems.includes(i))) out.add(`${strip(c.src)} -> ${strip(c.dst)} : ${item}`);
  }
  return out;
}

describe('second opinion: our own evaluator agrees with the analyzer on every pod-to-pod connection', () => {
  const worlds: Array<[string, () => World]> = [
    [
      'standalone and CloudNativePG tenants',
      () =>
        buildWorld(
          [
            tenantFixture('alpha', minimalSpec({ xmppDomains: ['chat.alpha.example'], network: { clientCIDRs: ['203.0.113.0/24'], clientNamespaces: [{ matchLabels: { role: 'ingress' } }] } })),
            tenantFixture('beta', minimalSpec({ xmppDomains: ['chat.beta.example'], database: { provider: 'cloudnative-pg', storage: { storageClassName: 'encrypted-ssd' } } })),
          ],
          defaultSettings({ kubernetesApiCIDRs: ['10.96.0.1/32'] }),
        ),
    ],
    [
      'careless selectors, federation and a neighbour with open egress',
      () => {
        const world = buildWorld([
          tenantFixture('gamma', minimalSpec({ xmppDomains: ['chat.gamma.example'], network: { clientNamespaces: [{ matchLabels: { 'app.kubernetes.io/part-of': 'chat-tenant' } }], monitoringNamespace: 'delta' } })),
          tenantFixture('delta', minimalSpec({ xmppDomains: ['chat.delta.example'], messaging: { federation: true } })),
        ]);
        world.objects.push({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'allow-all-egress', namespace: 'delta' }, spec: { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: {} }] }] } });
        return world;
      },
    ],
  ];

  it.each(worlds)('%s', async (_name, make) => {
    const world = make();
    const probes = probesFor(world.objects);
    const { stdout } = await analyze(world);
    const fromAnalyzer = analyzerPodConnections(stdout, probes);
    const fromEvaluator = evaluatePodConnections(world.objects, world.pods, probes);
    expect(fromEvaluator.size).toBeGreaterThan(0);
    expect({ onlyAnalyzer: [...fromAnalyzer].filter((c) => !fromEvaluator.has(c)).slice(0, 20), onlyEvaluator: [...fromEvaluator].filter((c) => !fromAnalyzer.has(c)).slice(0, 20) }).toEqual({
      onlyAnalyzer: [],
      onlyEvaluator: [],
    });
  });
});
