import { tenantNamespace } from '../api/index.js';
import { LABEL_TENANT, MANAGED_BY } from '../render/index.js';
import type { Json, KubeClient } from '../kube/client.js';
import { Informer, type InformerOptions, type WatchEventType } from '../kube/informer.js';
import { CHAT_TENANT_RESOURCE, OPTIONAL_CRDS, RESOURCE_TYPES, apiVersionOf, type ResourceType } from '../kube/resources.js';

// Every read the reconciler makes comes from these caches (informers), so a steady-state resync
// costs the API server nothing. Owned kinds are watched through the operator's label only.


/** Kinds the renderer produces in a tenant namespace (and so may prune), plus Jobs (read for backups). */
export const OWNED_KINDS = ['ResourceQuota', 'LimitRange', 'ServiceAccount', 'Secret', 'ConfigMap', 'Service', 'PersistentVolumeClaim', 'NetworkPolicy', 'StatefulSet', 'CronJob', 'Job', 'PodDisruptionBudget'] as const;
export const OPTIONAL_OWNED_KINDS = { Cluster: OPTIONAL_CRDS.cloudNativePG, Certificate: OPTIONAL_CRDS.certManager } as const;

const resourceByKind = (kind: string, group?: string): ResourceType => {
  const r = RESOURCE_TYPES.find((t) => t.kind === kind && (group === undefined || t.group === group));
  if (!r) throw new Error(`unknown kind ${kind}`);
  return r;
};

export type Enqueue = (tenantName: string) => void;
export type EnqueueAll = () => void;

export class Caches {
  readonly tenants: Informer;
  readonly namespaces: Informer;
  readonly storageClasses: Informer;
  readonly crds: Map<string, Informer> = new Map();
  readonly owned: Map<string, Informer> = new Map();
  private readonly all: Informer[] = [];

  constructor(
    private readonly client: KubeClient,
    private readonly enqueue: Enqueue,
    private readonly enqueueAll: EnqueueAll,
    private readonly informerOptions: Pick<InformerOptions, 'log' | 'watchTimeoutSeconds'> = {},
  ) {
    this.tenants = this.add(new Informer(client, CHAT_TENANT_RESOURCE, informerOptions));
    this.tenants.onEvent((type, o) => {
      enqueue((o['metadata'] as Json)['name'] as string);
      // A tenant gone, or with a new spec (other domains, say), may free what another was refused for.
      if (this.specChangedOrGone(type, o)) this.enqueueNotReady();
    });
    // All namespaces, not only ours: adoption safety must see namespaces the operator does not own.
    // A namespace maps to its tenant by name too: one made by the platform carries no tenant label, and
    // annotating it for adoption must bring its tenant in.
    this.namespaces = this.add(new Informer(client, resourceByKind('Namespace'), informerOptions));
    this.namespaces.onEvent((_t, o) => {
      this.enqueueOwner(o);
      const tenant = this.tenantOfNamespace((o['metadata'] as Json)['name'] as string);
      if (tenant) enqueue(tenant);
    });
    this.storageClasses = this.add(new Informer(client, resourceByKind('StorageClass'), informerOptions));
    this.storageClasses.onEvent(() => enqueueAll());
    for (const crd of Object.values(OPTIONAL_CRDS)) {
      const informer = this.add(new Informer(client, resourceByKind('CustomResourceDefinition'), { ...informerOptions, fieldSelector: `metadata.name=${crd}` }));
      informer.onEvent(() => {
        this.startOptionalInformers();
        enqueueAll();
      });
      this.crds.set(crd, informer);
    }
    for (const kind of OWNED_KINDS) this.addOwned(resourceByKind(kind));
  }

  private add(informer: Informer): Informer {
    this.all.push(informer);
    return informer;
  }

  private addOwned(resource: ResourceType): Informer {
    const informer = new Informer(this.client, resource, { ...this.informerOptions, labelSelector: `app.kubernetes.io/managed-by=${MANAGED_BY}` });
    informer.onEvent((_t, o) => this.enqueueOwner(o));
    this.owned.set(resource.kind, informer);
    this.all.push(informer);
    return informer;
  }

  private readonly generations = new Map<string, number>();

  /** Whether a tenant is gone, or its spec changed since this cache last saw it (generation moves only with spec). */
  private specChangedOrGone(type: WatchEventType, object: Json): boolean {
    const meta = object['metadata'] as { name: string; generation?: number };
    if (type === 'DELETED') {
      this.generations.delete(meta.name);
      return true;
    }
    const before = this.generations.get(meta.name);
    this.generations.set(meta.name, meta.generation ?? 0);
    return type === 'MODIFIED' && before !== undefined && before !== (meta.generation ?? 0);
  }

  private enqueueNotReady(): void {
    for (const t of this.tenants.list()) {
      if ((t['status'] as { phase?: string } | undefined)?.phase !== 'Ready') this.enqueue((t['metadata'] as Json)['name'] as string);
    }
  }

  private tenantOfNamespace(namespace: string): string | undefined {
    return this.tenants.list().map((t) => (t['metadata'] as Json)['name'] as string).find((name) => tenantNamespace(name) === namespace);
  }

  private enqueueOwner(object: Json): void {
    const labels = ((object['metadata'] as Json)['labels'] ?? {}) as Record<string, string>;
    const tenant = labels[LABEL_TENANT];
    if (tenant) this.enqueue(tenant);
  }

  /** CloudNativePG Clusters and cert-manager Certificates are watched once their CRDs exist. */
  private startOptionalInformers(): void {
    for (const [kind, crd] of Object.entries(OPTIONAL_OWNED_KINDS)) {
      if (this.owned.has(kind) || !this.crdInstalled(crd)) continue;
      const group = kind === 'Cluster' ? 'postgresql.cnpg.io' : 'cert-manager.io';
      this.addOwned(resourceByKind(kind, group)).start();
    }
  }

  crdInstalled(name: string): boolean {
    const crd = this.crds.get(name)?.get(name);
    if (!crd) return false;
    const conditions = ((crd['status'] as Json | undefined)?.['conditions'] ?? []) as Array<{ type: string; status: string }>;
    return conditions.some((c) => c.type === 'Established' && c.status === 'True');
  }

  start(): void {
    for (const i of this.all) i.start();
  }

  async waitForSync(): Promise<void> {
    await Promise.all(this.all.map((i) => i.waitForSync()));
    this.startOptionalInformers();
    await Promise.all([...this.owned.values()].map((i) => i.waitForSync()));
  }

  get synced(): boolean {
    return this.all.every((i) => i.hasSynced);
  }

  stop(): void {
    for (const i of this.all) i.stop();
    for (const i of this.owned.values()) i.stop();
  }

  tenant(name: string): Json | undefined {
    return this.tenants.get(name);
  }

  namespace(name: string): Json | undefined {
    return this.namespaces.get(name);
  }

  storageClass(name: string): Json | undefined {
    return this.storageClasses.get(name);
  }

  /** A managed object by kind and name, or undefined (also when its kind is not watched). */
  get(apiVersion: string, kind: string, name: string, namespace?: string): Json | undefined {
    if (kind === 'Namespace') return this.namespaces.get(name);
    const informer = this.owned.get(kind);
    if (!informer || apiVersionOf(informer.resource) !== apiVersion) return undefined;
    return informer.get(name, namespace);
  }

  /** Every watched object carrying the tenant's label, of every owned kind. */
  ownedBy(tenantName: string): Json[] {
    const mine = (o: Json) => (((o['metadata'] as Json)['labels'] ?? {}) as Record<string, string>)[LABEL_TENANT] === tenantName;
    return [...this.owned.values()].flatMap((i) => i.list(mine).map((o) => ({ ...o, apiVersion: apiVersionOf(i.resource), kind: i.resource.kind })));
  }

  /** Total informer restarts (list/watch errors survived). */
  get restarts(): number {
    return [...this.all, ...this.owned.values()].reduce((n, i) => n + i.restarts, 0);
  }
}
