import { z } from 'zod';
import { doc, crdExtras } from './schema-helpers.js';

// Status is written only by the controller. It is described here so the CRD documents it and so
// `kubectl explain chattenant.status` is as helpful as for the spec.

export const CONDITION_TYPES = ['Ready', 'Namespace', 'Network', 'Certificates', 'Database', 'Messaging', 'Backup'] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];

export const Condition = doc(
  z.object({
    type: doc(z.string().max(316), 'Ready, or the component: Namespace, Network, Certificates, Database, Messaging, Backup.'),
    status: doc(z.enum(['True', 'False', 'Unknown']), 'Whether the condition holds.'),
    reason: doc(z.string().max(1024), 'CamelCase reason, stable for alerting.'),
    message: doc(z.string().max(32768), 'Human explanation; names the field when the spec is at fault.'),
    lastTransitionTime: doc(z.string(), 'When status last changed (RFC 3339).').meta({ format: 'date-time' }),
    observedGeneration: doc(z.number().int().min(0), 'Spec generation this condition was computed from.').optional(),
  }),
  'A condition in the style of metav1.Condition.',
);
export type Condition = z.infer<typeof Condition>;

export const SAFEGUARD_NAMES = [
  'AccessControl',
  'AutomaticLogoff',
  'EncryptionAtRest',
  'AuditControls',
  'Integrity',
  'PersonOrEntityAuthentication',
  'TransmissionSecurity',
] as const;
export type SafeguardName = (typeof SAFEGUARD_NAMES)[number];

export const Safeguard = doc(
  z.object({
    name: doc(z.enum(SAFEGUARD_NAMES), 'HIPAA technical safeguard (45 CFR 164.312).'),
    holds: doc(z.boolean(), 'Whether the safeguard holds for this tenant now.'),
    reason: doc(z.string().max(1024), 'CamelCase reason.'),
    message: doc(z.string().max(4096), 'How it is met, or why it is not.'),
  }),
  'One HIPAA technical safeguard and whether it holds.',
);
export type Safeguard = z.infer<typeof Safeguard>;

export const PHASES = ['Pending', 'Provisioning', 'Ready', 'Degraded', 'Failed', 'Deleting'] as const;
export type Phase = (typeof PHASES)[number];

export const ChatTenantStatus = doc(
  z.object({
    observedGeneration: doc(z.number().int().min(0), 'Spec generation the status describes.').optional(),
    phase: doc(z.enum(PHASES), 'Summary for printer columns; conditions carry the detail.').optional(),
    namespace: doc(z.string().max(63), 'The tenant namespace.').optional(),
    conditions: crdExtras(z.array(Condition).max(32), 'Ready plus one condition per component.', {
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
    }).optional(),
    safeguards: crdExtras(z.array(Safeguard).max(16), 'Which HIPAA technical safeguards hold, and why not where they do not.', {
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
    }).optional(),
    messaging: doc(
      z.object({
        replicas: doc(z.number().int().min(0), 'Desired ejabberd nodes.').optional(),
        readyReplicas: doc(z.number().int().min(0), 'ejabberd nodes ready to serve clients.').optional(),
      }),
      'Messaging at a glance.',
    ).optional(),
    database: doc(
      z.object({
        provider: doc(z.string().max(32), 'Database provider in use.').optional(),
        instances: doc(z.number().int().min(0), 'Desired PostgreSQL instances.').optional(),
        readyInstances: doc(z.number().int().min(0), 'PostgreSQL instances ready.').optional(),
        storageEncrypted: doc(z.boolean(), 'Whether the storage class is marked encrypted by the platform.').optional(),
      }),
      'Database at a glance.',
    ).optional(),
    backup: doc(
      z.object({
        lastScheduleTime: doc(z.string(), 'When the last backup Job was started.').meta({ format: 'date-time' }).optional(),
        lastSuccessfulTime: doc(z.string(), 'When the last backup succeeded.').meta({ format: 'date-time' }).optional(),
        lastResult: doc(z.enum(['None', 'Running', 'Succeeded', 'Failed']), 'Result of the most recent backup Job.').optional(),
        lastJobName: doc(z.string().max(253), 'Name of the most recent backup Job.').optional(),
      }),
      'Backups at a glance.',
    ).optional(),
    identity: doc(
      z.object({
        source: doc(z.enum(['Internal', 'Directory']), 'The identity source of the spec (AccessControl in safeguards names the one the running configuration uses).').optional(),
        directoryReachable: doc(z.boolean(), 'Directory tenants: whether any directory server answered at the last check.').optional(),
        directoryVerified: doc(z.boolean(), 'Directory tenants: whether every directory server completed a TLS handshake verified against the CA Secret, with its name, at the last check (no bind is made).').optional(),
        lastCheckTime: doc(z.string(), 'When the outcome of the directory check last changed (the check runs on every reconcile).').meta({ format: 'date-time' }).optional(),
        message: doc(z.string().max(4096), 'Why the directory did not verify, per server.').optional(),
      }),
      'How users sign in, and whether the directory could be trusted at the last check.',
    ).optional(),
    certificates: doc(
      z.object({
        caNotAfter: doc(z.string(), 'Expiry of the tenant CA.').meta({ format: 'date-time' }).optional(),
        messagingNotAfter: doc(z.string(), 'Expiry of the messaging server certificate.').meta({ format: 'date-time' }).optional(),
        databaseNotAfter: doc(z.string(), 'Expiry of the database server certificate.').meta({ format: 'date-time' }).optional(),
      }),
      'Certificate expiry at a glance.',
    ).optional(),
  }),
  'Observed state, written by the operator.',
);
export type ChatTenantStatus = z.infer<typeof ChatTenantStatus>;
