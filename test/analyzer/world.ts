import { defaultSettings, type ChatTenant, type OperatorSettings } from '../../src/api/index.js';
import { placeholderMaterial, renderTenant, type KubeObject } from '../../src/render/index.js';

// A cluster on paper for the analyzer: the rendered objects of several tenants, one representative
// Pod per replica of each workload (labels taken from the rendered pod templates, as the StatefulSet,
// Job and CloudNativePG controllers would set them), namespaces with the labels the API server adds,
// and the neighbours a real cluster has: DNS, Prometheus, client namespaces, the CloudNativePG
// operator, and an intruder whose pods wear a tenant's labels.

export interface WorldPod {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  /** What the pod is, e.g. "alpha/messaging" or "dns": the unit expectations are written in. */
  role: string;
}

export interface Neighbour {
  namespace: string;
  namespaceLabels?: Record<string, string>;
  pod: string;
  podLabels: Record<string, string>;
  role: string;
}

export const STANDARD_NEIGHBOURS: Neighbour[] = [
  { namespace: 'kube-system', pod: 'coredns-0', podLabels: { 'k8s-app': 'kube-dns' }, role: 'dns' },
  // Another kube-system pod: DNS egress must reach only the DNS pods, not the whole namespace.
  { namespace: 'kube-system', pod: 'metrics-server-0', podLabels: { 'k8s-app': 'metrics-server' }, role: 'kube-system-other' },
  { namespace: 'monitoring', pod: 'prometheus-0', podLabels: { 'app.kubernetes.io/name': 'prometheus' }, role: 'monitoring' },
  { namespace: 'clients', namespaceLabels: { role: 'ingress' }, pod: 'ingress-nginx-0', podLabels: { 'app.kubernetes.io/name': 'ingress-nginx' }, role: 'client-namespace' },
  { namespace: 'cnpg-system', pod: 'cnpg-controller-manager-0', podLabels: { 'app.kubernetes.io/name': 'cloudnative-pg' }, role: 'cnpg-operator' },
  // Pods in a foreign namespace that carry a tenant's pod labels must gain nothing from them.
  {
    namespace: 'intruder',
    namespaceLabels: { 'app.kubernetes.io/part-of': 'chat-tenant' },
    pod: 'ejabberd-0',
    podLabels: { 'app.kubernetes.io/name': 'ejabberd', 'app.kubernetes.io/instance': 'alpha' },
    role: 'intruder',
  },
];

export interface World {
  /** Every object the analyzer reads: namespaces, pods, network policies. */
  objects: KubeObject[];
  pods: WorldPod[];
  settings: OperatorSettings;
}

const ROLE_OF_WORKLOAD: Record<string, string> = {
  ejabberd: 'messaging',
  postgres: 'database',
  'postgres-backup': 'backup',
  'ejabberd-archive-purge': 'archive-purge',
  'ejabberd-sql-schema': 'schema',
};

function roleOf(tenant: string, workload: string): string {
  const role = ROLE_OF_WORKLOAD[workload];
  if (!role) throw new Error(`no role known for workload ${workload}; extend ROLE_OF_WORKLOAD`);
  return `${tenant}/${role}`;
}

function pod(namespace: string, name: string, labels: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, labels }, spec: { containers: [{ name: 'main', image: 'registry.invalid/placeholder:1' }] } };
}

function namespace(name: string, labels: Record<string, string> = {}): KubeObject {
  // The API server sets kubernetes.io/metadata.name on every namespace; policies select by it.
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { ...labels, 'kubernetes.io/metadata.name': name } } };
}

/** Representative pods of one rendered workload; at least two per replicated role, so peer flows show. */
function workloadPods(tenant: ChatTenant, object: KubeObject): WorldPod[] {
  const spec = object['spec'] as Record<string, any>;
  const ns = object.metadata.namespace!;
  const name = tenant.metadata.name;
  const make = (podName: string, labels: Record<string, string>, workload: string): WorldPod => ({ namespace: ns, name: podName, labels, role: roleOf(name, workload) });
  if (object.kind === 'StatefulSet') {
    const labels = spec['template'].metadata.labels as Record<string, string>;
    const count = Math.min(spec['replicas'] as number, 2);
    return Array.from({ length: count }, (_, i) => make(`${object.metadata.name}-${i}`, { ...labels, 'statefulset.kubernetes.io/pod-name': `${object.metadata.name}-${i}` }, labels['app.kubernetes.io/name']!));
  }
  if (object.kind === 'CronJob') {
    const labels = spec['jobTemplate'].spec.template.metadata.labels as Record<string, string>;
    return [make(`${object.metadata.name}-29000000-abcde`, { ...labels, 'batch.kubernetes.io/job-name': `${object.metadata.name}-29000000` }, labels['app.kubernetes.io/name']!)];
  }
  if (object.kind === 'Job') {
    // A Job the operator writes itself (the SQL schema step): its pod runs under the same policies.
    const labels = spec['template'].metadata.labels as Record<string, string>;
    return [make(`${object.metadata.name}-abcde`, { ...labels, 'batch.kubernetes.io/job-name': object.metadata.name }, labels['app.kubernetes.io/name']!)];
  }
  if (object.kind === 'Cluster') {
    // CloudNativePG puts inheritedMetadata labels and its own cnpg.io labels on each instance pod.
    const labels = spec['inheritedMetadata'].labels as Record<string, string>;
    const count = Math.min(spec['instances'] as number, 2);
    return Array.from({ length: count }, (_, i) =>
      make(`${object.metadata.name}-${i + 1}`, { ...labels, 'cnpg.io/cluster': object.metadata.name, 'cnpg.io/instanceName': `${object.metadata.name}-${i + 1}`, 'cnpg.io/podRole': 'instance' }, labels['app.kubernetes.io/name']!),
    );
  }
  return [];
}

export function buildWorld(tenants: ChatTenant[], settings: OperatorSettings = defaultSettings(), neighbours: Neighbour[] = STANDARD_NEIGHBOURS): World {
  const objects: KubeObject[] = [];
  const pods: WorldPod[] = [];
  const capabilities = { cloudNativePG: true, certManager: true, prometheusOperator: false };
  for (const tenant of tenants) {
    for (const object of renderTenant({ tenant, material: placeholderMaterial(tenant), settings, capabilities })) {
      if (object.kind === 'Namespace') objects.push(namespace(object.metadata.name, object.metadata.labels));
      if (object.kind === 'NetworkPolicy') objects.push(object);
      pods.push(...workloadPods(tenant, object));
    }
  }
  const namespaces = new Map<string, Record<string, string>>();
  for (const n of neighbours) namespaces.set(n.namespace, { ...(namespaces.get(n.namespace) ?? {}), ...(n.namespaceLabels ?? {}) });
  for (const [name, labels] of namespaces) objects.push(namespace(name, labels));
  for (const n of neighbours) pods.push({ namespace: n.namespace, name: n.pod, labels: n.podLabels, role: n.role });
  objects.push(...pods.map((p) => pod(p.namespace, p.name, p.labels)));
  return { objects, pods, settings };
}
