import type { ChatTenantSpec, ImageSpec } from './spec.js';
import { DEFAULT_IMAGES, type OperatorSettings } from './settings.js';

// Values that depend on more than one field (or on operator settings) and so cannot be zod defaults.
// Renderers call these instead of repeating the fallback logic.

export function databaseInstances(spec: ChatTenantSpec): number {
  if (spec.database.instances !== undefined) return spec.database.instances;
  return spec.database.provider === 'standalone' ? 1 : 3;
}

export function backupStorageClass(spec: ChatTenantSpec): string {
  return spec.backup.target.pvc?.storageClassName ?? spec.database.storage.storageClassName;
}

export function primaryDomain(spec: ChatTenantSpec): string {
  return spec.xmppDomains[0]!;
}

interface ImageDefaults {
  readonly registry: string;
  readonly repository: string;
  readonly tag: string;
}

/** Full image reference: spec override, else operator-wide registry mirror, else the default. */
export function imageReference(image: ImageSpec | undefined, defaults: ImageDefaults, settings: OperatorSettings): string {
  const registry = image?.registry ?? settings.imageRegistry ?? defaults.registry;
  const repository = image?.repository ?? defaults.repository;
  if (image?.digest) return `${registry}/${repository}@${image.digest}`;
  return `${registry}/${repository}:${image?.tag ?? defaults.tag}`;
}

export function messagingImage(spec: ChatTenantSpec, settings: OperatorSettings): string {
  return imageReference(spec.messaging.image, DEFAULT_IMAGES.messaging, settings);
}

export function postgresImage(spec: ChatTenantSpec, settings: OperatorSettings): string {
  const defaults = spec.database.provider === 'standalone' ? DEFAULT_IMAGES.postgresStandalone : DEFAULT_IMAGES.postgresCloudNativePG;
  return imageReference(spec.database.image, defaults, settings);
}

export function operatorImage(settings: OperatorSettings): string {
  return imageReference(undefined, settings.operatorImage, settings);
}
