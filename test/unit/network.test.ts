import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chatTenantManifest, defaultSettings, validateChatTenant, type ChatTenant, type ChatTenantSpecInput } from '../../src/api/index.js';
import {
  LABEL_TENANT,
  ROLE_SELECTORS,
  names,
  placeholderMaterial,
  ports,
  renderNetworkPolicies,
  renderTenant,
  type KubeObject,
  type NetworkPolicyObject,
  type NetworkPolicyPeer,
} from '../../src/render/index.js';
import { specArbitrary, tenantName } from '../support/arbitraries.js';
import { minimalSpec, tenantFixture } from '../support/tenants.js';

// Structural rules of the rendered NetworkPolicies. Which connections they allow end to end is proven
// separately by an independent analyzer (test/analyzer/network-isolation.test.ts).

const settings = defaultSettings({ kubernetesApiCIDRs: ['10.96.0.1/32'] });
const capabilities = { cloudNativePG: true, certManager: true, prometheusOperator: false };

function byName(policies: NetworkPolicyObject[], name: string): NetworkPolicyObject {
  const found = policies.find((p) => p.metadata.name === name);
  if (!found) throw new Error(`no policy ${name}; have ${policies.map((p) => p.metadata.name).join(', ')}`);
  return found;
}

function peersOf(p: NetworkPolicyObject): NetworkPolicyPeer[] {
  return [...(p.spec.ingress ?? []).flatMap((r) => r.from), ...(p.spec.egress ?? []).flatMap((r) => r.to)];
}

const portsOf = (rules: Array<{ ports: Array<{ port?: number | string; protocol?: string }> }> | undefined) =>
  (rules ?? []).flatMap((r) => r.ports.map((p) => `${p.protocol}/${p.port}`)).sort();

function tenantOf(name: string, spec: ChatTenantSpecInput): ChatTenant {
  const result = validateChatTenant({ ...chatTenantManifest(name, spec), metadata: { name, uid: `uid-${name}` } });
  if (!result.ok) throw new Error(`generated spec is invalid: ${JSON.stringify(result.problems)}`);
  return result.tenant;
}

/** Labels the pods of each rendered workload will carry. */
function podLabelsOfWorkloads(objects: KubeObject[]): Array<{ workload: string; labels: Record<string, string> }> {
  const out: Array<{ workload: string; labels: Record<string, string> }> = [];
  for (const o of objects) {
    const spec = o['spec'] as Record<string, any>;
    if (o.kind === 'StatefulSet') out.push({ workload: o.metadata.name, labels: spec['template'].metadata.labels });
    if (o.kind === 'CronJob') out.push({ workload: o.metadata.name, labels: spec['jobTemplate'].spec.template.metadata.labels });
    if (o.kind === 'Job') out.push({ workload: o.metadata.name, labels: spec['template'].metadata.labels });
    if (o.kind === 'Cluster') out.push({ workload: o.metadata.name, labels: { ...spec['inheritedMetadata'].labels, 'cnpg.io/cluster': o.metadata.name } });
  }
  return out;
}

describe('structural rules, over generated specs', () => {
  it('default deny selects every pod in both directions; no rule is without peers; no namespace selector is empty or admits a tenant namespace', () => {
    fc.assert(
      fc.property(tenantName, specArbitrary, (name, spec) => {
        const policies = renderNetworkPolicies(tenantOf(name, spec), settings);
        const deny = byName(policies, names.network.defaultDeny);
        expect(deny.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
        expect(new Set(policies.map((p) => p.metadata.name)).size).toBe(policies.length);
        expect(Object.values(names.network)).toEqual(expect.arrayContaining(policies.map((p) => p.metadata.name)));
        for (const p of policies) {
          for (const rule of p.spec.ingress ?? []) expect(rule.from.length, `${p.metadata.name} ingress`).toBeGreaterThan(0);
          for (const rule of p.spec.egress ?? []) expect(rule.to.length, `${p.metadata.name} egress`).toBeGreaterThan(0);
          for (const rule of [...(p.spec.ingress ?? []), ...(p.spec.egress ?? [])]) expect(rule.ports.length, `${p.metadata.name} ports`).toBeGreaterThan(0);
          for (const peer of peersOf(p)) {
            expect(peer.ipBlock !== undefined || peer.podSelector !== undefined || peer.namespaceSelector !== undefined).toBe(true);
            if (peer.namespaceSelector) {
              expect(Object.keys(peer.namespaceSelector.matchLabels ?? {}).length, `${p.metadata.name} namespace selector`).toBeGreaterThan(0);
              expect(peer.namespaceSelector.matchExpressions).toContainEqual({ key: LABEL_TENANT, operator: 'DoesNotExist' });
            }
            if (peer.podSelector) expect(Object.keys(peer.podSelector.matchLabels ?? {}).length).toBeGreaterThan(0);
          }
          // Only default deny and DNS apply to every pod; every other policy names its role.
          if (p.metadata.name !== names.network.defaultDeny && p.metadata.name !== names.network.allowDns) {
            expect(Object.keys(p.spec.podSelector.matchLabels ?? {}).length).toBeGreaterThan(0);
          }
        }
      }),
      { numRuns: 80 },
    );
  });

  it('every role selector matches the pods of exactly one rendered workload, and every workload has a role', () => {
    fc.assert(
      fc.property(tenantName, specArbitrary, (name, spec) => {
        const tenant = tenantOf(name, spec);
        const pods = podLabelsOfWorkloads(renderTenant({ tenant, material: placeholderMaterial(tenant), settings, capabilities }));
        for (const [role, selector] of Object.entries(ROLE_SELECTORS)) {
          const matching = pods.filter((p) => Object.entries(selector).every(([k, v]) => p.labels[k] === v));
          expect(matching.length, `role ${role}`).toBe(1);
        }
        for (const pod of pods) {
          expect(Object.values(ROLE_SELECTORS).some((s) => Object.entries(s).every(([k, v]) => pod.labels[k] === v)), pod.workload).toBe(true);
        }
      }),
      { numRuns: 40 },
    );
  });
});

describe('the flows', () => {
  it('DNS goes only to the cluster DNS pods in the DNS namespace, UDP and TCP 53', () => {
    const dns = byName(renderNetworkPolicies(tenantFixture('clinic', minimalSpec({ network: { dnsNamespace: 'dns-system' } })), settings), names.network.allowDns);
    expect(dns.spec.egress).toEqual([
      {
        to: [
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'dns-system' }, matchExpressions: [{ key: LABEL_TENANT, operator: 'DoesNotExist' }] },
            podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
          },
        ],
        ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
      },
    ]);
  });

  it('ejabberd nodes, and the archive purge client, reach nodes on the pinned distribution port only (no epmd)', () => {
    const tenant = tenantFixture();
    const policies = renderNetworkPolicies(tenant, settings);
    const peers = byName(policies, names.network.messagingPeers);
    expect(portsOf(peers.spec.ingress)).toEqual([`TCP/${ports.erlangDistribution}`]);
    expect(peers.spec.ingress![0]!.from).toEqual([{ podSelector: { matchLabels: ROLE_SELECTORS.messaging } }]);
    expect(portsOf(byName(policies, names.network.messagingFromArchivePurge).spec.ingress)).toEqual([`TCP/${ports.erlangDistribution}`]);
    expect(byName(policies, names.network.archivePurgeEgress).spec.egress).toEqual([{ to: [{ podSelector: { matchLabels: ROLE_SELECTORS.messaging } }], ports: [{ protocol: 'TCP', port: ports.erlangDistribution }] }]);
    expect(JSON.stringify(policies)).not.toContain(`"port":${ports.epmd}`);
    const sts = renderTenant({ tenant, material: placeholderMaterial(tenant), settings, capabilities }).find((o) => o.kind === 'StatefulSet' && o.metadata.name === names.messaging.statefulSet)!;
    const env = (sts['spec'] as any).template.spec.containers[0].env as Array<{ name: string; value?: string }>;
    expect(env.find((e) => e.name === 'ERL_DIST_PORT')?.value).toBe(String(ports.erlangDistribution));
  });

  it('without client sources there is no client policy; with them, exactly those sources on the client ports', () => {
    const closed = renderNetworkPolicies(tenantFixture(), settings);
    expect(closed.map((p) => p.metadata.name)).not.toContain(names.network.messagingClients);
    const open = renderNetworkPolicies(tenantFixture('clinic', minimalSpec({ network: { clientCIDRs: ['192.0.2.0/24'], clientNamespaces: [{ matchLabels: { role: 'ingress' } }] } })), settings);
    const clients = byName(open, names.network.messagingClients);
    expect(clients.spec.podSelector).toEqual({ matchLabels: ROLE_SELECTORS.messaging });
    expect(clients.spec.ingress).toEqual([
      {
        from: [{ ipBlock: { cidr: '192.0.2.0/24' } }, { namespaceSelector: { matchLabels: { role: 'ingress' }, matchExpressions: [{ key: LABEL_TENANT, operator: 'DoesNotExist' }] } }],
        ports: [{ protocol: 'TCP', port: 5222 }, { protocol: 'TCP', port: 5223 }, { protocol: 'TCP', port: 5443 }],
      },
    ]);
  });

  it('a client namespace selector without labels is dropped, never widened to every namespace', () => {
    // Validation rejects such a selector; the renderer does not rely on it.
    const valid = tenantFixture();
    const careless = { ...valid, spec: { ...valid.spec, network: { ...valid.spec.network, clientNamespaces: [{ matchLabels: {} }] } } };
    const policies = renderNetworkPolicies(careless, settings);
    expect(policies.map((p) => p.metadata.name)).not.toContain(names.network.messagingClients);
  });

  it('monitoring scrapes ejabberd on its metrics port and PostgreSQL on the exporter port, nothing else', () => {
    const policies = renderNetworkPolicies(tenantFixture('clinic', minimalSpec({ network: { monitoringNamespace: 'observability' } })), settings);
    const msg = byName(policies, names.network.monitoringMessaging);
    const db = byName(policies, names.network.monitoringDatabase);
    expect(msg.spec.podSelector.matchLabels).toEqual(ROLE_SELECTORS.messaging);
    expect(db.spec.podSelector.matchLabels).toEqual(ROLE_SELECTORS.database);
    expect(portsOf(msg.spec.ingress)).toEqual([`TCP/${ports.ejabberdMetrics}`]);
    expect(portsOf(db.spec.ingress)).toEqual([`TCP/${ports.postgresExporter}`]);
    expect(msg.spec.ingress![0]!.from[0]!.namespaceSelector!.matchLabels).toEqual({ 'kubernetes.io/metadata.name': 'observability' });
  });

  it('federation off: port 5269 appears nowhere; on: egress and ingress on 5269 only', () => {
    const off = renderNetworkPolicies(tenantFixture(), settings);
    expect(JSON.stringify(off)).not.toContain(String(ports.xmppServer));
    const on = renderNetworkPolicies(tenantFixture('clinic', minimalSpec({ messaging: { federation: true } })), settings);
    expect(portsOf(byName(on, names.network.messagingFederation).spec.ingress)).toEqual(['TCP/5269']);
    const egress = byName(on, names.network.messagingEgress).spec.egress!;
    expect(egress.find((r) => r.to.some((p) => p.ipBlock))).toEqual({ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }, { ipBlock: { cidr: '::/0' } }], ports: [{ protocol: 'TCP', port: 5269 }] });
  });

  it('the backup job reaches PostgreSQL, and with an S3 target only the store CIDR on the endpoint port', () => {
    const pvc = byName(renderNetworkPolicies(tenantFixture(), settings), names.network.backupEgress);
    expect(pvc.spec.egress).toEqual([{ to: [{ podSelector: { matchLabels: ROLE_SELECTORS.database } }], ports: [{ protocol: 'TCP', port: 5432 }] }]);
    const s3 = (endpoint: string) =>
      byName(
        renderNetworkPolicies(tenantFixture('clinic', minimalSpec({ backup: { target: { s3: { endpoint, bucket: 'backups', credentialsSecret: 's3', egressCIDR: '10.50.0.0/24' } } } })), settings),
        names.network.backupEgress,
      ).spec.egress![1];
    expect(s3('https://minio.hospital.local:9000')).toEqual({ to: [{ ipBlock: { cidr: '10.50.0.0/24' } }], ports: [{ protocol: 'TCP', port: 9000 }] });
    expect(s3('https://s3.hospital.local/path')).toEqual({ to: [{ ipBlock: { cidr: '10.50.0.0/24' } }], ports: [{ protocol: 'TCP', port: 443 }] });
  });

  it('CloudNativePG: its operator namespace reaches 8000 and 5432, instances reach each other and the Kubernetes API CIDRs', () => {
    const cnpg = tenantFixture('clinic', minimalSpec({ database: { provider: 'cloudnative-pg', storage: { storageClassName: 'enc' } } }));
    const p = byName(renderNetworkPolicies(cnpg, settings), names.network.databaseFromCnpg);
    expect(p.spec.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(p.spec.ingress![0]!.from[0]!.namespaceSelector!.matchLabels).toEqual({ 'kubernetes.io/metadata.name': 'cnpg-system' });
    expect(portsOf([p.spec.ingress![0]!])).toEqual(['TCP/5432', 'TCP/8000']);
    expect(p.spec.egress).toContainEqual({ to: [{ ipBlock: { cidr: '10.96.0.1/32' } }], ports: [{ protocol: 'TCP', port: 443 }, { protocol: 'TCP', port: 6443 }] });
    const withoutApi = byName(renderNetworkPolicies(cnpg, defaultSettings()), names.network.databaseFromCnpg);
    expect(withoutApi.spec.egress!.some((r) => r.to.some((peer) => peer.ipBlock))).toBe(false);
    // The standalone provider has no CloudNativePG policy at all.
    expect(renderNetworkPolicies(tenantFixture(), settings).map((x) => x.metadata.name)).not.toContain(names.network.databaseFromCnpg);
  });
});
