import type { ChatTenant, OperatorSettings } from '../api/index.js';
import { objectMeta } from './meta.js';
import { names, ports } from './names.js';
import type { KubeObject } from './types.js';
import type { Labels, NetworkPolicyPeer as V1NetworkPolicyPeer, NetworkPolicyPort as V1NetworkPolicyPort } from './wire.js';

// Default deny, then one policy per intended flow. Each policy names its flow so that
// `kubectl get networkpolicy -n <tenant>` reads as the flow table in docs/network.md.
// An ingress/egress rule with no peers would allow everyone, so rules are only emitted with peers.

interface NetworkPolicyRule {
  from?: V1NetworkPolicyPeer[];
  to?: V1NetworkPolicyPeer[];
  ports?: V1NetworkPolicyPort[];
}

export interface NetworkPolicySpec {
  podSelector: { matchLabels?: Labels };
  policyTypes: Array<'Ingress' | 'Egress'>;
  ingress?: NetworkPolicyRule[];
  egress?: NetworkPolicyRule[];
}

export type NetworkPolicyObject = KubeObject & { spec: NetworkPolicySpec };

/** Pod labels each role is selected by (set on the pod templates by the workload renderers). */
export const ROLE_SELECTORS = {
  messaging: { 'app.kubernetes.io/name': 'ejabberd' },
  database: { 'app.kubernetes.io/name': 'postgres' },
  backup: { 'app.kubernetes.io/name': 'postgres-backup' },
} as const;

const tcp = (port: number): V1NetworkPolicyPort => ({ protocol: 'TCP', port });
const podsOf = (role: keyof typeof ROLE_SELECTORS): V1NetworkPolicyPeer => ({ podSelector: { matchLabels: { ...ROLE_SELECTORS[role] } } });
const namespaceByName = (name: string): NonNullable<V1NetworkPolicyPeer['namespaceSelector']> => ({ matchLabels: { 'kubernetes.io/metadata.name': name } });

function policy(tenant: ChatTenant, name: string, spec: NetworkPolicySpec): NetworkPolicyObject {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: objectMeta(tenant, name, { component: 'network' }), spec };
}

export function clientPeers(tenant: ChatTenant): V1NetworkPolicyPeer[] {
  const { network } = tenant.spec;
  return [
    ...network.clientCIDRs.map((cidr) => ({ ipBlock: { cidr } })),
    ...network.clientNamespaces.map((sel) => ({ namespaceSelector: { matchLabels: { ...sel.matchLabels } } })),
  ];
}

export function renderNetworkPolicies(tenant: ChatTenant, settings: OperatorSettings): NetworkPolicyObject[] {
  const { spec } = tenant;
  const erlangPorts = [tcp(ports.epmd), tcp(ports.erlangDistribution)];
  const clientPorts = [tcp(ports.xmppClientStartTls), tcp(ports.xmppClientDirectTls), tcp(ports.https)];
  const out: NetworkPolicyObject[] = [
    policy(tenant, names.network.defaultDeny, { podSelector: {}, policyTypes: ['Ingress', 'Egress'] }),
    policy(tenant, names.network.allowDns, {
      podSelector: {},
      policyTypes: ['Egress'],
      egress: [
        {
          to: [{ namespaceSelector: namespaceByName(spec.network.dnsNamespace), podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
          ports: [{ protocol: 'UDP', port: ports.dns }, tcp(ports.dns)],
        },
      ],
    }),
    policy(tenant, names.network.messagingPeers, {
      podSelector: { matchLabels: { ...ROLE_SELECTORS.messaging } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [podsOf('messaging')], ports: erlangPorts }],
    }),
    policy(tenant, names.network.messagingEgress, {
      podSelector: { matchLabels: { ...ROLE_SELECTORS.messaging } },
      policyTypes: ['Egress'],
      egress: [
        { to: [podsOf('messaging')], ports: erlangPorts },
        { to: [podsOf('database')], ports: [tcp(ports.postgres)] },
        // Federation reaches other XMPP servers anywhere; only when the spec asks for it.
        ...(spec.messaging.federation ? [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [tcp(ports.xmppServer)] }] : []),
      ],
    }),
    policy(tenant, names.network.databaseFromApps, {
      podSelector: { matchLabels: { ...ROLE_SELECTORS.database } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [podsOf('messaging'), podsOf('backup')], ports: [tcp(ports.postgres)] }],
    }),
    policy(tenant, names.network.backupEgress, {
      podSelector: { matchLabels: { ...ROLE_SELECTORS.backup } },
      policyTypes: ['Egress'],
      egress: [
        { to: [podsOf('database')], ports: [tcp(ports.postgres)] },
        ...(spec.backup.target.s3 ? [{ to: [{ ipBlock: { cidr: spec.backup.target.s3.egressCIDR } }], ports: [tcp(s3Port(spec.backup.target.s3.endpoint))] }] : []),
      ],
    }),
    policy(tenant, names.network.monitoring, {
      podSelector: {},
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [{ namespaceSelector: namespaceByName(spec.network.monitoringNamespace) }],
          ports: [tcp(ports.ejabberdMetrics), tcp(ports.postgresExporter)],
        },
      ],
    }),
  ];
  const clients = clientPeers(tenant);
  if (clients.length > 0) {
    out.push(
      policy(tenant, names.network.messagingClients, {
        podSelector: { matchLabels: { ...ROLE_SELECTORS.messaging } },
        policyTypes: ['Ingress'],
        ingress: [{ from: clients, ports: clientPorts }],
      }),
    );
  }
  if (spec.database.provider === 'cloudnative-pg') out.push(cloudNativePGPolicy(tenant, settings));
  return out;
}

/**
 * CloudNativePG's operator polls each instance's status port, and instances replicate from each
 * other. (Instances also call the Kubernetes API; that egress is allowed by the CIDRs in settings.)
 */
function cloudNativePGPolicy(tenant: ChatTenant, settings: OperatorSettings): NetworkPolicyObject {
  return policy(tenant, names.network.databaseFromCnpg, {
    podSelector: { matchLabels: { ...ROLE_SELECTORS.database } },
    policyTypes: ['Ingress', 'Egress'],
    ingress: [
      { from: [{ namespaceSelector: namespaceByName(settings.cloudNativePGNamespace) }], ports: [tcp(ports.cnpgStatus), tcp(ports.postgres)] },
      { from: [podsOf('database')], ports: [tcp(ports.postgres), tcp(ports.cnpgStatus)] },
    ],
    egress: [
      { to: [podsOf('database')], ports: [tcp(ports.postgres), tcp(ports.cnpgStatus)] },
      ...(settings.kubernetesApiCIDRs.length > 0
        ? [{ to: settings.kubernetesApiCIDRs.map((cidr) => ({ ipBlock: { cidr } })), ports: settings.kubernetesApiPorts.map(tcp) }]
        : []),
    ],
  });
}

function s3Port(endpoint: string): number {
  const url = new URL(endpoint);
  return url.port === '' ? 443 : Number(url.port);
}
