import type { Json, KubeClient } from './client.js';
import { isNotFound } from './errors.js';
import { collectionPath, objectPath, resourceFor, type ResourceType } from './resources.js';

// Typed-enough verbs over wire JSON objects. Writes use server-side apply with one field manager:
// the operator states the fields it owns, and the API server merges; no read-modify-write.

export const FIELD_MANAGER = 'chat-tenant-operator';

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

export interface KubeObjectLike {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

/** A caller that must not wait past its own deadline (leader election) aborts the request with this. */
export interface Cancellable {
  signal?: AbortSignal;
}

export class KubeObjects {
  constructor(readonly client: KubeClient) {}

  async get<T = Json>(ref: ObjectRef, options: Cancellable = {}): Promise<T | undefined> {
    try {
      const path = objectPath(resourceFor(ref.apiVersion, ref.kind), ref.name, ref.namespace);
      return await this.client.request<T>('GET', path, { signal: options.signal });
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  async list<T = Json>(r: ResourceType, options: { namespace?: string; labelSelector?: string; fieldSelector?: string } = {}): Promise<{ items: T[]; resourceVersion: string }> {
    const answer = await this.client.request<{ items: T[]; metadata: { resourceVersion: string } }>('GET', collectionPath(r, options.namespace), {
      query: { labelSelector: options.labelSelector, fieldSelector: options.fieldSelector },
    });
    return { items: answer.items ?? [], resourceVersion: answer.metadata?.resourceVersion ?? '' };
  }

  /** Server-side apply; force takes over fields another manager set (drift is corrected, not argued). */
  async apply<T = Json>(object: KubeObjectLike, options: { dryRun?: boolean } = {}): Promise<T> {
    const r = resourceFor(object.apiVersion, object.kind);
    return this.client.request<T>('PATCH', objectPath(r, object.metadata.name, object.metadata.namespace), {
      body: object,
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager: FIELD_MANAGER, force: true, dryRun: options.dryRun ? 'All' : undefined },
    });
  }

  async applyStatus<T = Json>(object: KubeObjectLike): Promise<T> {
    const r = resourceFor(object.apiVersion, object.kind);
    return this.client.request<T>('PATCH', `${objectPath(r, object.metadata.name, object.metadata.namespace)}/status`, {
      body: object,
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager: FIELD_MANAGER, force: true },
    });
  }

  async mergePatch<T = Json>(ref: ObjectRef, patch: unknown, subresource?: 'status'): Promise<T> {
    const r = resourceFor(ref.apiVersion, ref.kind);
    const path = objectPath(r, ref.name, ref.namespace) + (subresource ? `/${subresource}` : '');
    return this.client.request<T>('PATCH', path, { body: patch, contentType: 'application/merge-patch+json', query: { fieldManager: FIELD_MANAGER } });
  }

  async jsonPatch<T = Json>(ref: ObjectRef, operations: unknown[]): Promise<T> {
    const r = resourceFor(ref.apiVersion, ref.kind);
    return this.client.request<T>('PATCH', objectPath(r, ref.name, ref.namespace), { body: operations, contentType: 'application/json-patch+json', query: { fieldManager: FIELD_MANAGER } });
  }

  async create<T = Json>(object: KubeObjectLike, options: Cancellable = {}): Promise<T> {
    const r = resourceFor(object.apiVersion, object.kind);
    const path = collectionPath(r, object.metadata.namespace);
    return this.client.request<T>('POST', path, { body: object, query: { fieldManager: FIELD_MANAGER }, signal: options.signal });
  }

  async replace<T = Json>(object: KubeObjectLike, options: Cancellable = {}): Promise<T> {
    const r = resourceFor(object.apiVersion, object.kind);
    const path = objectPath(r, object.metadata.name, object.metadata.namespace);
    return this.client.request<T>('PUT', path, { body: object, query: { fieldManager: FIELD_MANAGER }, signal: options.signal });
  }

  /** Deletes if present; `uid` makes sure only the object we looked at is deleted. Returns false if absent. */
  async delete(ref: ObjectRef, options: { uid?: string; propagationPolicy?: 'Foreground' | 'Background' | 'Orphan' } = {}): Promise<boolean> {
    const r = resourceFor(ref.apiVersion, ref.kind);
    const body: Json = { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: options.propagationPolicy ?? 'Background' };
    if (options.uid) body['preconditions'] = { uid: options.uid };
    try {
      await this.client.request('DELETE', objectPath(r, ref.name, ref.namespace), { body });
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }
}
