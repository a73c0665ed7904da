import { directoryOf, type ChatTenant, type OperatorSettings } from '../api/index.js';
import { BACKUP_APP } from './backup.js';
import { EJABBERD_APP } from './ejabberd/statefulset.js';
import { ARCHIVE_PURGE_APP } from './ejabberd/archive-purge.js';
import { SCHEMA_APP } from './postgres/schema.js';
import { LABEL_TENANT, objectMeta } from './meta.js';
import { names, ports } from './names.js';
import { POSTGRES_APP } from './postgres/standalone.js';
import type { KubeObject } from './types.js';
import type { Labels, NetworkPolicyPort } from './wire.js';

// Default deny, then one policy per intended flow. Each policy is named after its flow, so that
// `kubectl get networkpolicy -n <tenant>` reads like the flow table in docs/network.md.
//
// Two rules keep a tenant closed even when the spec is careless:
//  - a rule is only emitted with at least one peer: a rule without peers admits everyone;
//  - every peer outside the tenant's namespace is a namespace selector that also requires the
//    namespace NOT to carry the tenant label, so no other tenant's namespace can ever be a peer,
//    whatever labels a client selector or the monitoring namespace name happen to match.

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Labels;
  matchExpressions?: LabelSelectorRequirement[];
}

export interface NetworkPolicyPeer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}

export interface NetworkPolicyIngressRule {
  from: NetworkPolicyPeer[];
  ports: NetworkPolicyPort[];
}

export interface NetworkPolicyEgressRule {
  to: NetworkPolicyPeer[];
  ports: NetworkPolicyPort[];
}

export interface NetworkPolicySpec {
  podSelector: LabelSelector;
  policyTypes: Array<'Ingress' | 'Egress'>;
  ingress?: NetworkPolicyIngressRule[];
  egress?: NetworkPolicyEgressRule[];
}

export type NetworkPolicyObject = KubeObject & { kind: 'NetworkPolicy'; spec: NetworkPolicySpec };

/** Pod labels each role is selected by; the workload renderers put them on their pod templates. */
export const ROLE_SELECTORS = {
  messaging: { 'app.kubernetes.io/name': EJABBERD_APP },
  database: { 'app.kubernetes.io/name': POSTGRES_APP },
  backup: { 'app.kubernetes.io/name': BACKUP_APP },
  archivePurge: { 'app.kubernetes.io/name': ARCHIVE_PURGE_APP },
  schema: { 'app.kubernetes.io/name': SCHEMA_APP },
} as const;
export type Role = keyof typeof ROLE_SELECTORS;

/** The cluster DNS pods; CoreDNS keeps this label for compatibility with kube-dns. */
export const CLUSTER_DNS_POD_LABELS = { 'k8s-app': 'kube-dns' } as const;

/** Every address, for federation: other XMPP servers may be anywhere. */
const ANYWHERE = ['0.0.0.0/0', '::/0'];

export const CLIENT_PORTS = [ports.xmppClientStartTls, ports.xmppClientDirectTls, ports.https] as const;
// Nodes run Erlang distribution without epmd (ERL_DIST_PORT, see ejabberd/ctl-config.ts): every node
// listens on the one pinned port and dials its peers there, so epmd's 4369 stays closed.

const tcp = (...numbers: readonly number[]): NetworkPolicyPort[] => numbers.map((port) => ({ protocol: 'TCP', port }));
const selectRole = (role: Role): LabelSelector => ({ matchLabels: { ...ROLE_SELECTORS[role] } });
const podsOf = (role: Role): NetworkPolicyPeer => ({ podSelector: selectRole(role) });

/** Never a tenant's namespace: the tenant label is on every tenant namespace (see renderNamespace). */
const NOT_A_TENANT: LabelSelectorRequirement = { key: LABEL_TENANT, operator: 'DoesNotExist' };

function namespacesLabelled(matchLabels: Labels): LabelSelector {
  return { matchLabels: { ...matchLabels }, matchExpressions: [{ ...NOT_A_TENANT }] };
}

const namespaceNamed = (name: string): LabelSelector => namespacesLabelled({ 'kubernetes.io/metadata.name': name });

function policy(tenant: ChatTenant, name: string, spec: NetworkPolicySpec): NetworkPolicyObject {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: objectMeta(tenant, name, { component: 'network' }), spec };
}

function ingressPolicy(tenant: ChatTenant, name: string, role: Role, rules: NetworkPolicyIngressRule[]): NetworkPolicyObject {
  return policy(tenant, name, { podSelector: selectRole(role), policyTypes: ['Ingress'], ingress: rules });
}

function egressPolicy(tenant: ChatTenant, name: string, role: Role, rules: NetworkPolicyEgressRule[]): NetworkPolicyObject {
  return policy(tenant, name, { podSelector: selectRole(role), policyTypes: ['Egress'], egress: rules });
}

/**
 * Who may open client connections: the client CIDRs and the client namespaces. A namespace selector
 * without labels would select every namespace, so such an entry is dropped rather than widened.
 */
export function clientPeers(tenant: ChatTenant): NetworkPolicyPeer[] {
  const { network } = tenant.spec;
  return [
    ...network.clientCIDRs.map((cidr) => ({ ipBlock: { cidr } })),
    ...network.clientNamespaces.filter((sel) => Object.keys(sel.matchLabels).length > 0).map((sel) => ({ namespaceSelector: namespacesLabelled(sel.matchLabels) })),
  ];
}

export function renderNetworkPolicies(tenant: ChatTenant, settings: OperatorSettings): NetworkPolicyObject[] {
  const { spec } = tenant;
  const federation = spec.messaging.federation;
  const out: NetworkPolicyObject[] = [
    policy(tenant, names.network.defaultDeny, { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }),
    policy(tenant, names.network.allowDns, {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [
        {
          to: [{ namespaceSelector: namespaceNamed(spec.network.dnsNamespace), podSelector: { matchLabels: { ...CLUSTER_DNS_POD_LABELS } } }],
          ports: [{ protocol: 'UDP', port: ports.dns }, ...tcp(ports.dns)],
        },
      ],
    }),
    ingressPolicy(tenant, names.network.messagingPeers, 'messaging', [{ from: [podsOf('messaging')], ports: tcp(ports.erlangDistribution) }]),
    // The archive purge job is an ejabberdctl client: it dials a node's distribution port, nothing else.
    ingressPolicy(tenant, names.network.messagingFromArchivePurge, 'messaging', [{ from: [podsOf('archivePurge')], ports: tcp(ports.erlangDistribution) }]),
    egressPolicy(tenant, names.network.archivePurgeEgress, 'archivePurge', [{ to: [podsOf('messaging')], ports: tcp(ports.erlangDistribution) }]),
    egressPolicy(tenant, names.network.messagingEgress, 'messaging', [
      { to: [podsOf('messaging')], ports: tcp(ports.erlangDistribution) },
      { to: [podsOf('database')], ports: tcp(ports.postgres) },
      ...(federation ? [{ to: ANYWHERE.map((cidr) => ({ ipBlock: { cidr } })), ports: tcp(ports.xmppServer) }] : []),
      ...directoryEgress(tenant),
    ]),
    ingressPolicy(tenant, names.network.monitoringMessaging, 'messaging', [{ from: [{ namespaceSelector: namespaceNamed(spec.network.monitoringNamespace) }], ports: tcp(ports.ejabberdMetrics) }]),
    // The schema Job loads ejabberd's tables before ejabberd first starts: it needs the database too.
    ingressPolicy(tenant, names.network.databaseFromApps, 'database', [{ from: [podsOf('messaging'), podsOf('backup'), podsOf('schema')], ports: tcp(ports.postgres) }]),
    egressPolicy(tenant, names.network.schemaEgress, 'schema', [{ to: [podsOf('database')], ports: tcp(ports.postgres) }]),
    ingressPolicy(tenant, names.network.monitoringDatabase, 'database', [{ from: [{ namespaceSelector: namespaceNamed(spec.network.monitoringNamespace) }], ports: tcp(ports.postgresExporter) }]),
    egressPolicy(tenant, names.network.backupEgress, 'backup', [
      { to: [podsOf('database')], ports: tcp(ports.postgres) },
      ...(spec.backup.target.s3 ? [{ to: [{ ipBlock: { cidr: spec.backup.target.s3.egressCIDR } }], ports: tcp(s3Port(spec.backup.target.s3.endpoint)) }] : []),
    ]),
  ];
  const clients = clientPeers(tenant);
  // No client sources: no client policy at all (default deny holds), never a rule without peers.
  if (clients.length > 0) out.push(ingressPolicy(tenant, names.network.messagingClients, 'messaging', [{ from: clients, ports: tcp(...CLIENT_PORTS) }]));
  if (federation) {
    out.push(ingressPolicy(tenant, names.network.messagingFederation, 'messaging', [{ from: ANYWHERE.map((cidr) => ({ ipBlock: { cidr } })), ports: tcp(ports.xmppServer) }]));
  }
  if (spec.database.provider === 'cloudnative-pg') out.push(cloudNativePGPolicy(tenant, settings));
  return out;
}

/** Sign-in against the hospital directory: its addresses, on its one port (LDAPS), nothing else. */
function directoryEgress(tenant: ChatTenant): NetworkPolicyEgressRule[] {
  const directory = directoryOf(tenant.spec.identity);
  return directory ? [{ to: directory.cidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: tcp(directory.port) }] : [];
}

/** Whether the database policy opens egress to the Kubernetes API (only with kubernetesApiCIDRs set). */
export function rendersKubernetesApiEgress(settings: OperatorSettings): boolean {
  return settings.kubernetesApiCIDRs.length > 0;
}

/**
 * CloudNativePG's operator polls each instance's status port and connects to PostgreSQL; instances
 * replicate from each other; and each instance manager watches its Cluster through the Kubernetes
 * API, which a NetworkPolicy can only select by address (settings.kubernetesApiCIDRs). Without
 * those CIDRs the instances cannot reach the API server and the Cluster will not become ready.
 */
function cloudNativePGPolicy(tenant: ChatTenant, settings: OperatorSettings): NetworkPolicyObject {
  const instancePorts = tcp(ports.postgres, ports.cnpgStatus);
  return policy(tenant, names.network.databaseFromCnpg, {
    podSelector: selectRole('database'),
    policyTypes: ['Ingress', 'Egress'],
    ingress: [
      { from: [{ namespaceSelector: namespaceNamed(settings.cloudNativePGNamespace) }], ports: instancePorts },
      { from: [podsOf('database')], ports: instancePorts },
    ],
    egress: [
      { to: [podsOf('database')], ports: instancePorts },
      ...(rendersKubernetesApiEgress(settings) ? [{ to: settings.kubernetesApiCIDRs.map((cidr) => ({ ipBlock: { cidr } })), ports: tcp(...settings.kubernetesApiPorts) }] : []),
    ],
  });
}

/** The TCP port of an https:// S3 endpoint (spec validation admits https only). */
export function s3Port(endpoint: string): number {
  const url = new URL(endpoint);
  return url.port === '' ? 443 : Number(url.port);
}
