import { z } from 'zod';
import { DNS_SUBDOMAIN } from './formats.js';

// Operator-wide settings: what the platform team decides once for every tenant (Helm values, flags).
// Validated with zod like the spec, so a bad setting stops the operator at start with a clear error
// instead of producing bad tenants.

export const DEFAULT_IMAGES = {
  // Official ejabberd Community Server image; runs as the non-root user `ejabberd` (uid 9000).
  // 26.07: the release the ejabberd docs describe as current; see docs/messaging.md for what differs
  // from Debian's 23.01, against which the workload tests run.
  messaging: { registry: 'ghcr.io', repository: 'processone/ejabberd', tag: '26.07' },
  // Official PostgreSQL image for the standalone provider (Debian based; user postgres is uid 999).
  // Major 17 here means the backup runner needs pg_dump 17 or newer: the operator image must ship
  // postgresql-client-17 (PGDG), Debian bookworm's own client is 15.
  postgresStandalone: { registry: 'docker.io', repository: 'library/postgres', tag: '17.6' },
  // CloudNativePG operand image for the cloudnative-pg provider (user postgres is uid 26); same major.
  postgresCloudNativePG: { registry: 'ghcr.io', repository: 'cloudnative-pg/postgresql', tag: '17.6' },
  // The operator's own image runs backups (`chat-tenant-operator backup`).
  operator: { registry: 'ghcr.io', repository: 'chat-tenant-operator/chat-tenant-operator', tag: '0.1.0' },
} as const;

export const OperatorSettings = z
  .object({
    /** Replaces the registry of every default image (air-gapped sites mirror images). */
    imageRegistry: z.string().max(253).optional(),
    /** StorageClasses the platform team vouches are encrypted at rest. */
    encryptedStorageClasses: z.array(z.string().regex(DNS_SUBDOMAIN)).default([]),
    /** Annotation on a StorageClass that marks it encrypted, as an alternative to the allow-list. */
    encryptedStorageClassAnnotation: z.string().default('chat.tenant-operator.dev/encrypted'),
    /** Namespace the operator runs in: its metrics are scraped there, and backups pull its image. */
    operatorNamespace: z.string().default('chat-tenant-operator'),
    /** Namespace of the CloudNativePG operator, allowed to reach the tenant's instances. */
    cloudNativePGNamespace: z.string().default('cnpg-system'),
    /**
     * Where the Kubernetes API server is, for egress of CloudNativePG instances (their instance manager
     * watches its Cluster). NetworkPolicies cannot select the API server by label, only by address.
     */
    kubernetesApiCIDRs: z.array(z.string()).default([]),
    kubernetesApiPorts: z.array(z.number().int().min(1).max(65535)).default([443, 6443]),
    clusterDomain: z.string().default('cluster.local'),
    operatorImage: z
      .object({ registry: z.string(), repository: z.string(), tag: z.string() })
      .default({ ...DEFAULT_IMAGES.operator }),
    /**
     * Which ejabberd the messaging images run, for the option names that differ between releases:
     * "official-image" is ghcr.io/processone/ejabberd 25.10 or newer (the default image);
     * "debian-23.01" is Debian bookworm's ejabberd package laid out like the official image (what the
     * local real node builds, since these machines reach no container registry).
     */
    ejabberdFlavour: z.enum(['official-image', 'debian-23.01']).default('official-image'),
    /** Whether to render Prometheus Operator objects (ServiceMonitor, PodMonitor) for each tenant. */
    prometheusOperator: z.boolean().default(false),
  })
  .strict();
export type OperatorSettings = z.infer<typeof OperatorSettings>;

export function defaultSettings(overrides: z.input<typeof OperatorSettings> = {}): OperatorSettings {
  return OperatorSettings.parse(overrides);
}
