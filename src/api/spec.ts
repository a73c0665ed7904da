import { z } from 'zod';
import { doc } from './schema-helpers.js';
import { DNS_LABEL, DNS_NAME, DNS_SUBDOMAIN, QUANTITY, XMPP_LOCALPART, cronProblem, isCidr } from './formats.js';
import { IdentitySpec } from './identity.js';

// The ChatTenant spec, defined once. The CRD in crds/ is generated from this file (npm run crd), the
// controller re-validates every object with it, and the renderer consumes its inferred type.
// Rules the CRD can state (patterns, ranges, CEL) live here as metadata; rules only zod can check
// (cron grammar, CIDR parsing) are superRefine steps and surface as an InvalidSpec condition.

const quantity = (description: string) => doc(z.string().max(32).regex(QUANTITY, 'must be a Kubernetes quantity such as 500m, 2Gi or 10'), description);

const cidr = () =>
  z
    .string()
    .max(64)
    .refine(isCidr, { error: (issue) => `"${String(issue.input)}" is not a CIDR (expected e.g. 10.20.0.0/16 or fd00::/64)` });

const objectName = (description: string) => doc(z.string().min(1).max(253).regex(DNS_SUBDOMAIN, 'must be a Kubernetes object name (lower-case DNS subdomain)'), description);

const ResourceList = z
  .object({
    cpu: quantity('CPU, e.g. 500m or 2.').optional(),
    memory: quantity('Memory, e.g. 512Mi or 2Gi.').optional(),
  })
  .strict();

export const ResourcesSpec = doc(
  z
    .object({
      requests: doc(ResourceList, 'Resources the scheduler reserves for each container.').optional(),
      limits: doc(ResourceList, 'Hard ceiling for each container.').optional(),
    })
    .strict(),
  'Compute resources of the main container; omitted values take the operator defaults.',
);
export type ResourcesSpec = z.infer<typeof ResourcesSpec>;

export const ImageSpec = doc(
  z
    .object({
      registry: doc(z.string().max(253).regex(/^[a-z0-9.-]+(:[0-9]+)?(\/[a-z0-9._-]+)*$/, 'must be a registry host[:port][/path]'), 'Registry host (and optional path) that replaces the default registry, for air-gapped mirrors, e.g. registry.hospital.local:5000/mirror.').optional(),
      repository: doc(z.string().min(1).max(253).regex(/^[a-z0-9._\/-]+$/, 'must be a repository path'), 'Repository path without the registry, e.g. processone/ejabberd.').optional(),
      tag: doc(z.string().min(1).max(128).regex(/^[A-Za-z0-9_][A-Za-z0-9._-]*$/, 'must be an image tag'), 'Image tag; pin it, do not use latest.').optional(),
      digest: doc(z.string().regex(/^sha256:[a-f0-9]{64}$/, 'must be sha256:<64 hex>'), 'Optional digest; when set it wins over the tag.').optional(),
      pullPolicy: doc(z.enum(['Always', 'IfNotPresent', 'Never']), 'Image pull policy.').default('IfNotPresent'),
    })
    .strict(),
  'Container image; each part falls back to the operator default.',
);
export type ImageSpec = z.infer<typeof ImageSpec>;

export const AdminAccount = doc(
  z
    .object({
      username: doc(z.string().min(1).max(64).regex(XMPP_LOCALPART, 'must be a lower-case XMPP localpart (a-z, 0-9, ".", "_", "-")'), 'Local part of the admin JID; the domain is the first XMPP domain unless domain is set.'),
      domain: doc(z.string().max(253).regex(DNS_NAME, 'must be a DNS name'), 'XMPP domain of the account; must be one of spec.xmppDomains.').optional(),
    })
    .strict(),
  'An administrator account. Its password is generated once into the Secret xmpp-admin-credentials.',
);
export type AdminAccount = z.infer<typeof AdminAccount>;

const ServiceSpec = doc(
  z
    .object({
      type: doc(z.enum(['ClusterIP', 'NodePort', 'LoadBalancer']), 'How clients reach the messaging service.').default('ClusterIP'),
      annotations: doc(z.record(z.string().max(317), z.string().max(4096)), 'Annotations for the client Service (e.g. an internal load balancer).').optional(),
    })
    .strict(),
  'The client-facing Service.',
);

export const MessagingSpec = doc(
  z
    .object({
      replicas: doc(z.number().int().min(1).max(9), 'Number of clustered ejabberd nodes; 2 or more is highly available.').default(3),
      image: ImageSpec.prefault({}),
      resources: ResourcesSpec.optional(),
      service: ServiceSpec.prefault({}),
      idleSessionTimeoutMinutes: doc(z.number().int().min(1).max(1440), 'Idle client sessions are closed after this many minutes (HIPAA automatic logoff).').default(15),
      archiveRetentionDays: doc(z.number().int().min(1).max(3650), 'Archived messages older than this are purged daily.').default(30),
      maxUploadSizeMiB: doc(z.number().int().min(1).max(1024), 'Largest file a client may upload over HTTP upload, in MiB.').default(10),
      maxStanzaSizeKiB: doc(z.number().int().min(16).max(10240), 'Largest XMPP stanza a client may send, in KiB.').default(256),
      federation: doc(z.boolean(), 'Server-to-server federation. Off: the tenant talks to no one outside itself.').default(false),
      admins: doc(z.array(AdminAccount).max(32), 'Administrator accounts, provisioned by the operator.').default([]),
    })
    .strict(),
  'The ejabberd messaging server.',
);
export type MessagingSpec = z.infer<typeof MessagingSpec>;

export const DatabaseProvider = z.enum(['cloudnative-pg', 'standalone']);
export type DatabaseProvider = z.infer<typeof DatabaseProvider>;

export const StorageSpec = doc(
  z
    .object({
      storageClassName: doc(z.string().min(1).max(253).regex(DNS_SUBDOMAIN, 'must be a StorageClass name'), 'StorageClass of the volumes; it must be one the platform marks as encrypted. Immutable.', [
        { rule: 'self == oldSelf', message: 'storageClassName is immutable: data would have to move to a new volume' },
      ]),
      size: quantity('Size of each volume, e.g. 20Gi.').default('10Gi'),
    })
    .strict(),
  'Persistent storage.',
);

export const DatabaseSpec = doc(
  z
    .object({
      provider: doc(DatabaseProvider, 'cloudnative-pg: a CloudNativePG Cluster (HA with 2 or more instances). standalone: one PostgreSQL StatefulSet for small or dev sites. Immutable.', [
        { rule: 'self == oldSelf', message: 'provider is immutable: switching would strand the data' },
      ]).default('cloudnative-pg'),
      instances: doc(z.number().int().min(1).max(9), 'PostgreSQL instances. cloudnative-pg: 1 or more (2 or more is HA), default 3. standalone: exactly 1.').optional(),
      storage: StorageSpec,
      resources: ResourcesSpec.optional(),
      image: ImageSpec.prefault({}),
    })
    .strict()
    .superRefine((db, ctx) => {
      if (db.provider === 'standalone' && db.instances !== undefined && db.instances !== 1) {
        ctx.addIssue({ code: 'custom', path: ['instances'], message: 'the standalone provider runs exactly 1 instance; use cloudnative-pg for more' });
      }
    }),
  'The tenant\'s own PostgreSQL.',
  [{ rule: "self.provider != 'standalone' || !has(self.instances) || self.instances == 1", message: 'the standalone provider runs exactly 1 instance; use cloudnative-pg for more', fieldPath: '.instances' }],
);
export type DatabaseSpec = z.infer<typeof DatabaseSpec>;

const PvcTarget = doc(
  z
    .object({
      storageClassName: doc(z.string().max(253).regex(DNS_SUBDOMAIN, 'must be a StorageClass name'), 'StorageClass of the backup volume; defaults to the database storage class.').optional(),
      size: quantity('Size of the backup volume.').default('20Gi'),
    })
    .strict(),
  'Keep backups on a PersistentVolumeClaim in the tenant namespace.',
);

const S3Target = doc(
  z
    .object({
      endpoint: doc(z.string().max(2048).regex(/^https:\/\/[^\s/]+(\/[^\s]*)?$/, 'must be an https:// URL'), 'S3-compatible endpoint (https only), e.g. an on-prem MinIO.'),
      bucket: doc(z.string().min(3).max(63).regex(/^[a-z0-9][a-z0-9.-]+[a-z0-9]$/, 'must be an S3 bucket name'), 'Bucket name.'),
      // An empty prefix (or only slashes) would put this tenant's backups at the bucket's root, the
      // one place every other tenant's prefix lies inside.
      prefix: doc(
        z.string().min(1).max(512).regex(/^\/*[A-Za-z0-9!_.*'()-][A-Za-z0-9!_.*'()\/-]*$/, 'must be a safe, non-empty object key prefix (not only slashes)'),
        'Object key prefix; defaults to the tenant name. Must not overlap another tenant\'s prefix in the same bucket.',
      ).optional(),
      region: doc(z.string().min(1).max(64), 'Region name the store expects.').default('us-east-1'),
      credentialsSecret: doc(objectName('Name of a Secret in the tenant namespace with keys AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.'), 'Secret holding the access key.'),
      caSecret: objectName('Optional Secret with key ca.crt to verify the endpoint\'s certificate (private CAs).').optional(),
      egressCIDR: doc(cidr(), 'CIDR of the store, allowed by the backup job\'s egress network policy.'),
    })
    .strict(),
  'Keep backups in an S3-compatible object store.',
);

export const BackupSpec = doc(
  z
    .object({
      schedule: doc(
        z.string().min(1).max(128).superRefine((schedule, ctx) => {
          const problem = cronProblem(schedule);
          if (problem) ctx.addIssue({ code: 'custom', message: `invalid cron schedule: ${problem}` });
        }),
        'Cron schedule (5 fields, UTC unless timeZone is set).',
      ).default('0 2 * * *'),
      timeZone: doc(z.string().max(64).regex(/^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)*$/, 'must be an IANA time zone name'), 'IANA time zone of the schedule, e.g. Europe/Berlin.').optional(),
      suspend: doc(z.boolean(), 'Pause scheduled backups without deleting any.').default(false),
      retention: doc(
        z
          .object({
            count: doc(z.number().int().min(1).max(1000), 'Keep at most this many backups.').optional(),
            days: doc(z.number().int().min(1).max(3650), 'Delete backups older than this many days.').optional(),
          })
          .strict()
          .refine((r) => r.count !== undefined || r.days !== undefined, { message: 'set count, days, or both' }),
        'Which backups to keep. With both set, a backup is kept while it is within both limits.',
        [{ rule: 'has(self.count) || has(self.days)', message: 'set count, days, or both' }],
      ).prefault({ count: 7 }),
      target: doc(
        z
          .object({ pvc: PvcTarget.optional(), s3: S3Target.optional() })
          .strict()
          .refine((t) => (t.pvc === undefined) !== (t.s3 === undefined), { message: 'set exactly one of pvc or s3' }),
        'Where backups go: exactly one of pvc or s3.',
        [{ rule: 'has(self.pvc) != has(self.s3)', message: 'set exactly one of pvc or s3' }],
      ).prefault({ pvc: {} }),
    })
    .strict(),
  'Encrypted logical backups of the database.',
);
export type BackupSpec = z.infer<typeof BackupSpec>;

export const TlsSpec = doc(
  z
    .object({
      mode: doc(z.enum(['OperatorCA', 'CertManager', 'Provided']), 'OperatorCA: the operator runs a CA for this tenant alone. CertManager: certificates from issuerRef. Provided: Secrets you manage.').default('OperatorCA'),
      issuerRef: doc(
        z
          .object({
            name: objectName('Issuer name.'),
            kind: doc(z.enum(['Issuer', 'ClusterIssuer']), 'Issuer kind.').default('ClusterIssuer'),
            group: doc(z.string().max(253), 'API group of the issuer.').default('cert-manager.io'),
          })
          .strict(),
        'cert-manager issuer, required with mode CertManager.',
      ).optional(),
      secrets: doc(
        z
          .object({
            messaging: objectName('kubernetes.io/tls Secret (tls.crt, tls.key, ca.crt) for the XMPP domains.'),
            database: objectName('kubernetes.io/tls Secret (tls.crt, tls.key, ca.crt) for the database service names.'),
          })
          .strict(),
        'Secrets in the tenant namespace, required with mode Provided.',
      ).optional(),
      renewBeforeDays: doc(z.number().int().min(7).max(180), 'Operator-managed certificates are renewed this many days before they expire.').default(30),
    })
    .strict()
    .superRefine((tls, ctx) => {
      if (tls.mode === 'CertManager' && !tls.issuerRef) ctx.addIssue({ code: 'custom', path: ['issuerRef'], message: 'mode CertManager needs issuerRef' });
      if (tls.mode === 'Provided' && !tls.secrets) ctx.addIssue({ code: 'custom', path: ['secrets'], message: 'mode Provided needs secrets' });
    }),
  'Certificates for the messaging server and the database.',
  [
    // has() guards: the API server also checks these rules against the schema default ({}), before
    // nested defaults such as mode are filled in.
    { rule: "!has(self.mode) || self.mode != 'CertManager' || has(self.issuerRef)", message: 'mode CertManager needs issuerRef', fieldPath: '.issuerRef' },
    { rule: "!has(self.mode) || self.mode != 'Provided' || has(self.secrets)", message: 'mode Provided needs secrets', fieldPath: '.secrets' },
  ],
);
export type TlsSpec = z.infer<typeof TlsSpec>;

const LabelSelector = doc(
  z
    .object({
      // An empty selector would select every namespace, other tenants' included.
      matchLabels: doc(
        z.record(z.string().max(317), z.string().max(63)).refine((labels) => Object.keys(labels).length > 0, { message: 'must name at least one label: an empty selector matches every namespace' }),
        'Labels the namespace must carry; at least one.',
        [{ rule: 'size(self) > 0', message: 'must name at least one label: an empty selector matches every namespace' }],
      ),
    })
    .strict(),
  'A namespace label selector.',
);

export const NetworkSpec = doc(
  z
    .object({
      clientCIDRs: doc(z.array(cidr()).max(64), 'IP ranges allowed to open client connections (XMPP, WebSocket, BOSH). Empty: only the namespaces in clientNamespaces.').default([]),
      clientNamespaces: doc(z.array(LabelSelector).max(16), 'Namespaces (by labels) whose pods may connect as clients, e.g. an ingress controller.').default([]),
      monitoringNamespace: doc(z.string().max(63).regex(DNS_LABEL, 'must be a namespace name'), 'Namespace of the Prometheus that may scrape the metrics ports.').default('monitoring'),
      dnsNamespace: doc(z.string().max(63).regex(DNS_LABEL, 'must be a namespace name'), 'Namespace of the cluster DNS that pods may query.').default('kube-system'),
    })
    .strict(),
  'Who may talk to the tenant. Everything else is denied.',
);
export type NetworkSpec = z.infer<typeof NetworkSpec>;

export const QuotaSpec = doc(
  z.record(z.string().max(128).regex(/^[a-z0-9A-Z./-]+$/, 'must be a resource name'), z.string().max(32).regex(QUANTITY, 'must be a quantity')),
  'ResourceQuota hard limits that override the computed ones, e.g. {"requests.cpu": "8"}.',
);

export const LimitRangeSpec = doc(
  z
    .object({
      defaultRequest: doc(ResourceList, 'Default requests of containers that set none.').optional(),
      default: doc(ResourceList, 'Default limits of containers that set none.').optional(),
      max: doc(ResourceList, 'Largest limits a container may set.').optional(),
    })
    .strict(),
  'LimitRange overrides for the tenant namespace.',
);

export const ChatTenantSpec = doc(
  z
    .object({
      displayName: doc(z.string().min(1).max(128), 'Human name of the customer, shown in reports.'),
      xmppDomains: doc(
        z
          .array(z.string().max(253).regex(DNS_NAME, 'must be a lower-case DNS name such as chat.hospital.example'))
          .min(1)
          .max(16)
          .superRefine((domains, ctx) => {
            domains.forEach((d, i) => {
              if (domains.indexOf(d) !== i) ctx.addIssue({ code: 'custom', path: [i], message: `domain "${d}" is listed twice` });
            });
          }),
        'XMPP domains the tenant serves. The first one is the primary domain.',
        [{ rule: 'self.all(d, self.exists_one(e, e == d))', message: 'xmppDomains must not repeat a domain' }],
      ),
      messaging: MessagingSpec.prefault({}),
      identity: IdentitySpec.prefault({}),
      database: DatabaseSpec,
      backup: BackupSpec.prefault({}),
      tls: TlsSpec.prefault({}),
      network: NetworkSpec.prefault({}),
      quota: QuotaSpec.optional(),
      limitRange: LimitRangeSpec.optional(),
      deletionPolicy: doc(z.enum(['Retain', 'Delete']), 'Retain (default) keeps volumes, backups and keys when the tenant is deleted. Delete removes everything, keys last.').default('Retain'),
    })
    .strict()
    .superRefine((spec, ctx) => {
      spec.messaging.admins.forEach((a, i) => {
        if (a.domain !== undefined && !spec.xmppDomains.includes(a.domain)) {
          ctx.addIssue({ code: 'custom', path: ['messaging', 'admins', i, 'domain'], message: `domain "${a.domain}" is not one of spec.xmppDomains` });
        }
      });
    }),
  'Desired state of one tenant\'s isolated chat stack.',
  [{ rule: '!has(self.messaging) || !has(self.messaging.admins) || self.messaging.admins.all(a, !has(a.domain) || a.domain in self.xmppDomains)', message: 'every admin domain must be one of xmppDomains', fieldPath: '.messaging.admins' }],
);
export type ChatTenantSpec = z.infer<typeof ChatTenantSpec>;
export type ChatTenantSpecInput = z.input<typeof ChatTenantSpec>;
