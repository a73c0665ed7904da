// Server-side apply of arbitrary objects (CRDs, RBAC, Deployments, Prometheus Operator kinds), over the
// project's raw-JSON client. Not client-node's KubernetesObjectApi: it serializes through its typed models
// and silently drops keys it has no model field for (x-kubernetes-int-or-string in a CRD schema, say).
// REST paths come from the API server's discovery, so any installed kind works.
import { KubeClient, type Json } from '../../../src/kube/client.js';

export const FIELD_MANAGER = 'chart-test';

interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
}

export class Applier {
  private readonly discovery = new Map<string, ApiResource[]>();

  constructor(readonly client: KubeClient) {}

  private async resource(apiVersion: string, kind: string): Promise<ApiResource> {
    if (!this.discovery.has(apiVersion)) {
      const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      const list = await this.client.request<{ resources: ApiResource[] }>('GET', path);
      this.discovery.set(apiVersion, list.resources.filter((r) => !r.name.includes('/')));
    }
    const found = this.discovery.get(apiVersion)!.find((r) => r.kind === kind);
    if (!found) throw new Error(`the API server serves no ${kind} in ${apiVersion}`);
    return found;
  }

  /** Server-side apply, forced, as FIELD_MANAGER; with dryRun nothing is stored but every check runs. */
  async apply(object: Json, options: { dryRun?: boolean } = {}): Promise<Json> {
    const apiVersion = object['apiVersion'] as string;
    const metadata = object['metadata'] as { name: string; namespace?: string };
    const r = await this.resource(apiVersion, object['kind'] as string);
    const prefix = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const scope = r.namespaced ? `/namespaces/${metadata.namespace ?? 'default'}` : '';
    return this.client.request<Json>('PATCH', `${prefix}${scope}/${r.name}/${encodeURIComponent(metadata.name)}`, {
      body: object,
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager: FIELD_MANAGER, force: true, dryRun: options.dryRun ? 'All' : undefined },
    });
  }
}
