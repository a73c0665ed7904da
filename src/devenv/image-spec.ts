import type { ImageSpec } from '../api/index.js';

/**
 * A tenant's image field for an image reference "registry/repository:tag", as the local real node
 * names the images it imports (localhost/chat-tenant-operator/<name>:<tag>). They exist in the
 * node's containerd only, so a pull must never be tried.
 */
export function localImageSpec(reference: string): ImageSpec {
  const match = /^([^/]+)\/(.+):([^:/]+)$/.exec(reference);
  if (!match) throw new Error(`not a registry/repository:tag image reference: ${reference}`);
  return { registry: match[1]!, repository: match[2]!, tag: match[3]!, pullPolicy: 'Never' };
}
