// What the operator process needs from the API server, written down from its contract (the lead's
// brief for the `run` command, src/kube, src/controller). The chart's RBAC is checked against this table:
// statically in chart-template.test.ts and by the API server's authorizer in chart.cluster.test.ts.
// docs/rbac.md is the same table for people.

export const LEADER_LEASE = 'chat-tenant-operator-leader';

/** Where an operation happens: any (tenant) namespace, cluster scope, or the operator's own namespace. */
export type Scope = 'cluster' | 'tenant-namespace' | 'operator-namespace';

export interface Operation {
  group: string;
  resource: string;
  subresource?: string;
  verbs: string[];
  scope: Scope;
  name?: string;
}

/** Server-side apply (create + patch), observe (get/list/watch) and prune (delete). */
const SSA = ['get', 'list', 'watch', 'create', 'patch', 'delete'];
const READ = ['get', 'list', 'watch'];

export const REQUIRED_OPERATIONS: Operation[] = [
  { group: 'chat.tenant-operator.dev', resource: 'chattenants', verbs: [...READ, 'patch'], scope: 'cluster' },
  { group: 'chat.tenant-operator.dev', resource: 'chattenants', subresource: 'status', verbs: ['patch', 'update'], scope: 'cluster' },
  { group: 'chat.tenant-operator.dev', resource: 'chattenants', subresource: 'finalizers', verbs: ['update'], scope: 'cluster' },
  { group: '', resource: 'namespaces', verbs: SSA, scope: 'cluster' },
  ...['secrets', 'configmaps', 'services', 'serviceaccounts', 'persistentvolumeclaims', 'resourcequotas', 'limitranges'].map(
    (resource): Operation => ({ group: '', resource, verbs: SSA, scope: 'tenant-namespace' }),
  ),
  { group: 'apps', resource: 'statefulsets', verbs: SSA, scope: 'tenant-namespace' },
  { group: 'batch', resource: 'cronjobs', verbs: SSA, scope: 'tenant-namespace' },
  // Watched for backup results, created for on-demand backups, and applied for the renderer's setup Jobs.
  { group: 'batch', resource: 'jobs', verbs: SSA, scope: 'tenant-namespace' },
  { group: 'policy', resource: 'poddisruptionbudgets', verbs: SSA, scope: 'tenant-namespace' },
  { group: 'networking.k8s.io', resource: 'networkpolicies', verbs: SSA, scope: 'tenant-namespace' },
  { group: 'postgresql.cnpg.io', resource: 'clusters', verbs: SSA, scope: 'tenant-namespace' },
  { group: 'cert-manager.io', resource: 'certificates', verbs: SSA, scope: 'tenant-namespace' },
  { group: 'monitoring.coreos.com', resource: 'servicemonitors', verbs: SSA, scope: 'tenant-namespace' },
  { group: 'monitoring.coreos.com', resource: 'podmonitors', verbs: SSA, scope: 'tenant-namespace' },
  { group: '', resource: 'pods', verbs: READ, scope: 'tenant-namespace' },
  { group: '', resource: 'events', verbs: ['create', 'patch'], scope: 'tenant-namespace' },
  { group: 'events.k8s.io', resource: 'events', verbs: ['create', 'patch'], scope: 'tenant-namespace' },
  { group: 'storage.k8s.io', resource: 'storageclasses', verbs: READ, scope: 'cluster' },
  { group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions', verbs: READ, scope: 'cluster' },
  { group: 'coordination.k8s.io', resource: 'leases', verbs: ['create'], scope: 'operator-namespace' },
  { group: 'coordination.k8s.io', resource: 'leases', verbs: ['get', 'update', 'patch'], scope: 'operator-namespace', name: LEADER_LEASE },
];

/** Things the operator must never be able to do; each one would widen what a compromised operator can reach. */
export const FORBIDDEN_OPERATIONS: Operation[] = [
  { group: 'chat.tenant-operator.dev', resource: 'chattenants', verbs: ['create', 'update', 'delete'], scope: 'cluster' },
  { group: '', resource: 'secrets', verbs: ['update'], scope: 'tenant-namespace' },
  { group: '', resource: 'pods', verbs: ['create', 'delete', 'patch'], scope: 'tenant-namespace' },
  { group: '', resource: 'pods', subresource: 'exec', verbs: ['create', 'get'], scope: 'tenant-namespace' },
  { group: '', resource: 'nodes', verbs: ['get', 'list'], scope: 'cluster' },
  { group: '', resource: 'persistentvolumes', verbs: ['delete'], scope: 'cluster' },
  { group: 'storage.k8s.io', resource: 'storageclasses', verbs: ['patch', 'delete'], scope: 'cluster' },
  { group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions', verbs: ['create', 'patch', 'delete'], scope: 'cluster' },
  { group: 'rbac.authorization.k8s.io', resource: 'roles', verbs: ['create', 'escalate', 'bind'], scope: 'tenant-namespace' },
  { group: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings', verbs: ['create'], scope: 'cluster' },
  { group: '', resource: 'serviceaccounts', verbs: ['impersonate'], scope: 'tenant-namespace' },
  { group: '', resource: 'users', verbs: ['impersonate'], scope: 'cluster' },
  { group: 'admissionregistration.k8s.io', resource: 'validatingwebhookconfigurations', verbs: ['create'], scope: 'cluster' },
  { group: 'coordination.k8s.io', resource: 'leases', verbs: ['get', 'update'], scope: 'operator-namespace', name: 'some-other-lease' },
  { group: 'coordination.k8s.io', resource: 'leases', verbs: ['create'], scope: 'tenant-namespace' },
];
