import { chatTenantManifest, type ChatTenantObject, type ChatTenantSpecInput } from '../../src/api/index.js';
import type { ObservedNamespace } from '../../src/controller/adoption.js';
import type { StorageClassObject } from '../../src/controller/safeguards.js';
import { directoryIdentity, minimalSpec } from './tenants.js';

// The catalogue of bad inputs, each tagged with where it must be caught:
//   admission   the API server rejects it: CRD schema (types, ranges, patterns, enums, required) or
//               CEL (x-kubernetes-validations, including oldSelf rules on update). The controller's
//               zod validation rejects the same create cases again.
//   validation  only zod can tell (cron grammar, CIDR parsing): the API server admits the object
//               and the controller reports InvalidSpec naming the field.
//   controller  the spec is valid on its own; the cluster makes it bad (a namespace that exists and
//               is not ours, a storage class nobody vouches is encrypted, a domain another tenant
//               serves). Data here; the controller tests wire them to the expected condition.
// Every case names the field the rejection must name.

export type CaughtBy = 'admission' | 'validation' | 'controller';

interface CaseBase {
  id: string;
  /** What is wrong, in words. */
  description: string;
  /** Path the rejection names (a prefix of the exact path where zod and the API server differ). */
  field: string;
}

export interface CreateCase extends CaseBase {
  caughtBy: 'admission' | 'validation';
  operation: 'create';
  manifest: ChatTenantObject;
  /** The case is about metadata.name: the name must be kept as it is, not made unique by a test. */
  keepName?: boolean;
  /** Rejected by the API server only with field validation Strict (what kubectl sends by default). */
  strictFieldValidation?: boolean;
}

export interface UpdateCase extends CaseBase {
  caughtBy: 'admission';
  operation: 'update';
  before: ChatTenantObject;
  after: ChatTenantObject;
}

/** Cluster facts a controller case is observed against. */
export interface ClusterFacts {
  namespaces?: ObservedNamespace[];
  storageClasses?: StorageClassObject[];
  otherTenants?: ChatTenantObject[];
}

export interface ControllerCase extends CaseBase {
  caughtBy: 'controller';
  operation: 'reconcile';
  manifest: ChatTenantObject;
  cluster: ClusterFacts;
  /** The condition the controller must set, and its reason. */
  expect: { conditionType: 'Ready' | 'Database'; status: 'False'; reason: string };
  /** Reason of the safeguard this breaks, when it breaks one (src/controller/safeguards.ts). */
  safeguard?: { name: 'EncryptionAtRest'; reason: string };
}

export type BadInput = CreateCase | UpdateCase | ControllerCase;

const NAME = 'bad-input';
/** The uid the API server would have given the catalogue's tenant; controller cases refer to it. */
export const BAD_INPUT_UID = 'uid-bad-input';

/** Anything goes: the point of the catalogue is specs the types would not allow. */
type Loose = Record<string, unknown>;

function manifest(spec: Loose, name = NAME): ChatTenantObject {
  return chatTenantManifest(name, spec as ChatTenantSpecInput);
}

const spec = (overrides: Loose): Loose => ({ ...minimalSpec(), ...overrides });
const messaging = (m: Loose): Loose => spec({ messaging: m });
const database = (d: Loose): Loose => spec({ database: { provider: 'standalone', storage: { storageClassName: 'encrypted-ssd' }, ...d } });
const backup = (b: Loose): Loose => spec({ backup: b });
const directory = (overrides: Loose): Loose => spec({ identity: directoryIdentity(overrides) });
const s3 = (overrides: Loose): Loose => backup({ target: { s3: { endpoint: 'https://minio.hospital.example:9000', bucket: 'clinic-backups', credentialsSecret: 's3-credentials', egressCIDR: '10.20.0.0/24', ...overrides } } });

function create(id: string, caughtBy: 'admission' | 'validation', field: string, description: string, specOrManifest: Loose | ChatTenantObject, extra: Partial<CreateCase> = {}): CreateCase {
  const m = 'apiVersion' in specOrManifest ? (specOrManifest as ChatTenantObject) : manifest(specOrManifest);
  return { id, caughtBy, operation: 'create', field, description, manifest: m, ...extra };
}

export const BAD_INPUTS: BadInput[] = [
  // ---- wrong types ------------------------------------------------------------------------------
  create('replicas-as-string', 'admission', 'spec.messaging.replicas', 'replicas is a string', messaging({ replicas: '3' })),
  create('replicas-fraction', 'admission', 'spec.messaging.replicas', 'replicas is not an integer', messaging({ replicas: 2.5 })),
  create('federation-as-string', 'admission', 'spec.messaging.federation', 'federation is "yes", not a boolean', messaging({ federation: 'yes' })),
  create('domains-as-string', 'admission', 'spec.xmppDomains', 'xmppDomains is a string, not a list', spec({ xmppDomains: 'chat.clinic.example' })),
  create('admins-as-object', 'admission', 'spec.messaging.admins', 'admins is an object, not a list', messaging({ admins: { username: 'root' } })),
  // ---- missing required fields --------------------------------------------------------------------
  create('display-name-missing', 'admission', 'spec.displayName', 'no displayName', (() => { const s = spec({}); delete s['displayName']; return s; })()),
  create('database-missing', 'admission', 'spec.database', 'no database section', (() => { const s = spec({}); delete s['database']; return s; })()),
  create('storage-class-field-missing', 'admission', 'spec.database.storage.storageClassName', 'no storage class', spec({ database: { provider: 'standalone', storage: {} } })),
  // ---- out-of-range values ------------------------------------------------------------------------
  create('replicas-zero', 'admission', 'spec.messaging.replicas', 'zero ejabberd nodes', messaging({ replicas: 0 })),
  create('replicas-too-many', 'admission', 'spec.messaging.replicas', 'more than 9 ejabberd nodes', messaging({ replicas: 10 })),
  create('idle-timeout-zero', 'admission', 'spec.messaging.idleSessionTimeoutMinutes', 'idle sessions closed after 0 minutes', messaging({ idleSessionTimeoutMinutes: 0 })),
  create('idle-timeout-too-long', 'admission', 'spec.messaging.idleSessionTimeoutMinutes', 'automatic logoff after more than a day', messaging({ idleSessionTimeoutMinutes: 2000 })),
  create('archive-retention-too-long', 'admission', 'spec.messaging.archiveRetentionDays', 'archive kept longer than 10 years', messaging({ archiveRetentionDays: 5000 })),
  create('upload-size-zero', 'admission', 'spec.messaging.maxUploadSizeMiB', 'uploads of at most 0 MiB', messaging({ maxUploadSizeMiB: 0 })),
  create('cnpg-instances-too-many', 'admission', 'spec.database.instances', 'ten PostgreSQL instances', database({ provider: 'cloudnative-pg', instances: 10 })),
  create('retention-count-zero', 'admission', 'spec.backup.retention.count', 'keep zero backups', backup({ retention: { count: 0 } })),
  create('renew-before-too-short', 'admission', 'spec.tls.renewBeforeDays', 'renew certificates 5 days before expiry', spec({ tls: { renewBeforeDays: 5 } })),
  // ---- formats and enums --------------------------------------------------------------------------
  create('no-domains', 'admission', 'spec.xmppDomains', 'an empty domain list', spec({ xmppDomains: [] })),
  create('domain-upper-case', 'admission', 'spec.xmppDomains', 'a domain with capitals', spec({ xmppDomains: ['Chat.Clinic.Example'] })),
  create('domain-single-label', 'admission', 'spec.xmppDomains', 'a domain with one label', spec({ xmppDomains: ['localhost'] })),
  create('duplicate-domains', 'admission', 'spec.xmppDomains', 'the same domain twice', spec({ xmppDomains: ['chat.clinic.example', 'chat.clinic.example'] })),
  create('display-name-empty', 'admission', 'spec.displayName', 'an empty display name', spec({ displayName: '' })),
  create('admin-upper-case', 'admission', 'spec.messaging.admins', 'an admin username with capitals', messaging({ admins: [{ username: 'Root' }] })),
  create('admin-domain-not-served', 'admission', 'spec.messaging.admins', 'an admin on a domain the tenant does not serve', messaging({ admins: [{ username: 'root', domain: 'chat.elsewhere.example' }] })),
  create('service-type-external-name', 'admission', 'spec.messaging.service.type', 'a service type the operator does not offer', messaging({ service: { type: 'ExternalName' } })),
  create('pull-policy-unknown', 'admission', 'spec.messaging.image.pullPolicy', 'an image pull policy that does not exist', messaging({ image: { pullPolicy: 'Sometimes' } })),
  create('image-digest-malformed', 'admission', 'spec.messaging.image.digest', 'a digest that is not sha256:<64 hex>', messaging({ image: { digest: 'sha256:1234' } })),
  create('provider-unknown', 'admission', 'spec.database.provider', 'a database provider that does not exist', database({ provider: 'mysql' })),
  create('storage-class-bad-name', 'admission', 'spec.database.storage.storageClassName', 'a storage class name that is no object name', database({ storage: { storageClassName: 'Fast_SSD' } })),
  create('storage-size-not-quantity', 'admission', 'spec.database.storage.size', 'a size that is no quantity', database({ storage: { storageClassName: 'encrypted-ssd', size: '10 GB' } })),
  create('standalone-two-instances', 'admission', 'spec.database.instances', 'two instances of the standalone provider', database({ provider: 'standalone', instances: 2 })),
  create('s3-plain-http', 'admission', 'spec.backup.target.s3.endpoint', 'an S3 endpoint over plain http', s3({ endpoint: 'http://minio.hospital.example:9000' })),
  create('s3-bucket-bad-name', 'admission', 'spec.backup.target.s3.bucket', 'an S3 bucket name with capitals and underscore', s3({ bucket: 'Clinic_Backups' })),
  create('s3-prefix-empty', 'admission', 'spec.backup.target.s3.prefix', 'an empty S3 prefix: backups at the bucket root, where every other prefix lies', s3({ prefix: '' })),
  create('s3-prefix-only-slashes', 'admission', 'spec.backup.target.s3.prefix', 'an S3 prefix of slashes only, which the runner reads as empty', s3({ prefix: '//' })),
  create('s3-region-empty', 'admission', 'spec.backup.target.s3.region', 'an empty S3 region', s3({ region: '' })),
  create('backup-two-targets', 'admission', 'spec.backup.target', 'both pvc and s3 as backup target', backup({ target: { pvc: {}, s3: { endpoint: 'https://s3.example', bucket: 'b-1', credentialsSecret: 's', egressCIDR: '10.0.0.0/24' } } })),
  create('retention-empty', 'admission', 'spec.backup.retention', 'a retention with neither count nor days', backup({ retention: {} })),
  create('time-zone-malformed', 'admission', 'spec.backup.timeZone', 'a time zone that is no IANA name', backup({ timeZone: 'UTC+1' })),
  create('cert-manager-without-issuer', 'admission', 'spec.tls.issuerRef', 'mode CertManager without an issuer', spec({ tls: { mode: 'CertManager' } })),
  create('provided-without-secrets', 'admission', 'spec.tls.secrets', 'mode Provided without secrets', spec({ tls: { mode: 'Provided' } })),
  create('client-selector-empty', 'admission', 'spec.network.clientNamespaces[0].matchLabels', 'a client namespace selector without labels (every namespace)', spec({ network: { clientNamespaces: [{ matchLabels: {} }] } })),
  create('monitoring-namespace-malformed', 'admission', 'spec.network.monitoringNamespace', 'a monitoring namespace that is no namespace name', spec({ network: { monitoringNamespace: 'Monitoring!' } })),
  create('quota-not-quantity', 'admission', 'spec.quota', 'a quota value that is no quantity', spec({ quota: { 'requests.cpu': 'lots' } })),
  create('deletion-policy-unknown', 'admission', 'spec.deletionPolicy', 'a deletion policy that does not exist', spec({ deletionPolicy: 'Purge' })),
  create('directory-starttls', 'admission', 'spec.identity.directory.encryption', 'StartTLS, which ejabberd 23.01 turns into a plaintext bind', directory({ encryption: 'StartTLS' })),
  create('directory-plain', 'admission', 'spec.identity.directory.encryption', 'plain LDAP', directory({ encryption: 'None' })),
  create('directory-url-as-server', 'admission', 'spec.identity.directory.servers[0]', 'an ldap:// URL as a server (scheme belongs to encryption)', directory({ servers: ['ldap://dc1.hospital.example'] })),
  create('directory-without-ca', 'admission', 'spec.identity.directory.caSecret', 'a directory without the CA that verifies it', (() => { const s = directory({}); delete ((s['identity'] as Loose)['directory'] as Loose)['caSecret']; return s; })()),
  create('directory-without-bind-secret', 'admission', 'spec.identity.directory.bindSecret', 'a directory without the bind Secret', (() => { const s = directory({}); delete ((s['identity'] as Loose)['directory'] as Loose)['bindSecret']; return s; })()),
  create('directory-filter-empty', 'admission', 'spec.identity.directory.accessFilter', 'an empty access filter (the whole directory)', directory({ accessFilter: '' })),
  create('directory-filter-match-all', 'admission', 'spec.identity.directory.accessFilter', 'an access filter that matches every entry', directory({ accessFilter: '(objectClass=*)' })),
  create('directory-filter-unparenthesised', 'admission', 'spec.identity.directory.accessFilter', 'an access filter without parentheses', directory({ accessFilter: 'memberOf=CN=Chat,DC=h,DC=example' })),
  create('directory-missing', 'admission', 'spec.identity.directory', 'source Directory without a directory', spec({ identity: { source: 'Directory' } })),
  create('directory-without-source', 'admission', 'spec.identity.directory', 'a directory while source stays Internal', spec({ identity: { directory: (directoryIdentity() as Loose)['directory'] } })),
  create('directory-cache-too-long', 'admission', 'spec.identity.directory.cacheSeconds', 'leavers trusted for an hour', directory({ cacheSeconds: 3600 })),
  create('directory-no-cidrs', 'admission', 'spec.identity.directory.cidrs', 'no directory address for the egress policy', directory({ cidrs: [] })),
  create('unknown-field', 'admission', 'spec.colour', 'a field the schema does not have', spec({ colour: 'blue' }), { strictFieldValidation: true }),
  // ---- names: the tenant name becomes the namespace ------------------------------------------------
  create('name-too-long', 'admission', 'metadata.name', 'a name longer than a namespace may be (64 characters)', manifest(spec({}), `t${'a'.repeat(63)}`), { keepName: true }),
  create('name-with-dots', 'admission', 'metadata.name', 'a name with dots, which no namespace may have', manifest(spec({}), 'clinic.example'), { keepName: true }),
  create('name-kube-system', 'admission', 'metadata.name', 'a tenant named after kube-system', manifest(spec({}), 'kube-system'), { keepName: true }),
  create('name-default', 'admission', 'metadata.name', 'a tenant named after the default namespace', manifest(spec({}), 'default'), { keepName: true }),
  create('name-kube-prefix', 'admission', 'metadata.name', 'a tenant named kube-*', manifest(spec({}), 'kube-clinic'), { keepName: true }),
  // ---- only zod can tell ----------------------------------------------------------------------------
  create('cron-six-fields', 'validation', 'spec.backup.schedule', 'a cron schedule with seconds', backup({ schedule: '0 0 2 * * *' })),
  create('cron-hour-24', 'validation', 'spec.backup.schedule', 'a cron schedule at hour 24', backup({ schedule: '0 24 * * *' })),
  create('cron-words', 'validation', 'spec.backup.schedule', 'a schedule in words', backup({ schedule: 'every night' })),
  create('cron-time-zone-prefix', 'validation', 'spec.backup.schedule', 'a time zone inside the schedule', backup({ schedule: 'CRON_TZ=Europe/Berlin 0 2 * * *' })),
  create('cron-backwards-range', 'validation', 'spec.backup.schedule', 'a range that runs backwards', backup({ schedule: '0 5-1 * * *' })),
  create('client-cidr-prefix-too-long', 'validation', 'spec.network.clientCIDRs[0]', 'an IPv4 CIDR with prefix 33', spec({ network: { clientCIDRs: ['10.0.0.0/33'] } })),
  create('client-cidr-without-prefix', 'validation', 'spec.network.clientCIDRs[1]', 'an address without a prefix', spec({ network: { clientCIDRs: ['10.0.0.0/8', '192.0.2.10'] } })),
  create('directory-cidr-bad', 'validation', 'spec.identity.directory.cidrs[0]', 'a directory CIDR with prefix 33', directory({ cidrs: ['10.0.0.0/33'] })),
  create('s3-cidr-bad-octet', 'validation', 'spec.backup.target.s3.egressCIDR', 'an S3 CIDR with an octet above 255', s3({ egressCIDR: '300.1.1.0/24' })),
  // ---- immutable fields, on update ---------------------------------------------------------------------
  {
    id: 'storage-class-changed',
    caughtBy: 'admission',
    operation: 'update',
    field: 'spec.database.storage.storageClassName',
    description: 'the storage class changed after creation (data would have to move)',
    before: manifest(database({ storage: { storageClassName: 'encrypted-ssd' } })),
    after: manifest(database({ storage: { storageClassName: 'cheap-hdd' } })),
  },
  {
    id: 'provider-changed',
    caughtBy: 'admission',
    operation: 'update',
    field: 'spec.database.provider',
    description: 'the database provider changed after creation (the data would be stranded)',
    before: manifest(database({ provider: 'standalone' })),
    after: manifest(database({ provider: 'cloudnative-pg' })),
  },
  // ---- only the cluster can tell ---------------------------------------------------------------------------
  {
    id: 'namespace-exists-foreign',
    caughtBy: 'controller',
    operation: 'reconcile',
    field: 'metadata.name',
    description: 'a namespace of the tenant name exists and belongs to someone else',
    manifest: manifest(spec({})),
    cluster: { namespaces: [{ metadata: { name: NAME, uid: 'ns-1', labels: { team: 'payments' } } }] },
    expect: { conditionType: 'Ready', status: 'False', reason: 'NamespaceNotOwned' },
  },
  {
    id: 'namespace-owned-by-another-tenant',
    caughtBy: 'controller',
    operation: 'reconcile',
    field: 'metadata.name',
    description: 'the namespace carries an owner reference to another ChatTenant',
    manifest: manifest(spec({})),
    cluster: { namespaces: [{ metadata: { name: NAME, uid: 'ns-2', ownerReferences: [{ apiVersion: 'chat.tenant-operator.dev/v1alpha1', kind: 'ChatTenant', name: 'someone-else', uid: 'uid-someone-else', controller: true }] } }] },
    expect: { conditionType: 'Ready', status: 'False', reason: 'NamespaceOwnedByAnotherTenant' },
  },
  {
    id: 'namespace-retained-without-adopt',
    caughtBy: 'controller',
    operation: 'reconcile',
    field: 'metadata.name',
    description: 'a namespace left by an earlier ChatTenant of the same name (Retain), not deliberately adopted',
    manifest: manifest(spec({})),
    cluster: { namespaces: [{ metadata: { name: NAME, uid: 'ns-3', labels: { 'chat.tenant-operator.dev/tenant': NAME, 'app.kubernetes.io/managed-by': 'chat-tenant-operator' } } }] },
    expect: { conditionType: 'Ready', status: 'False', reason: 'NamespaceNotOwned' },
  },
  {
    id: 'domain-claimed-earlier',
    caughtBy: 'controller',
    operation: 'reconcile',
    field: 'spec.xmppDomains[0]',
    description: 'another ChatTenant, created earlier, serves the same XMPP domain',
    manifest: { ...manifest(spec({ xmppDomains: ['chat.shared.example'] })), metadata: { name: NAME, creationTimestamp: '2026-02-01T00:00:00Z' } },
    cluster: { otherTenants: [{ ...manifest(spec({ xmppDomains: ['chat.shared.example'] }), 'first-clinic'), metadata: { name: 'first-clinic', uid: 'uid-first', creationTimestamp: '2026-01-01T00:00:00Z' } }] },
    expect: { conditionType: 'Ready', status: 'False', reason: 'DomainClaimed' },
  },
  {
    id: 'domain-subdomain-claimed-earlier',
    caughtBy: 'controller',
    operation: 'reconcile',
    field: 'spec.xmppDomains[1]',
    description: "a domain that is an earlier tenant's conference subdomain",
    manifest: { ...manifest(spec({ xmppDomains: ['chat.mine.example', 'conference.chat.shared.example'] })), metadata: { name: NAME, creationTimestamp: '2026-02-01T00:00:00Z' } },
    cluster: { otherTenants: [{ ...manifest(spec({ xmppDomains: ['chat.shared.example'] }), 'first-clinic'), metadata: { name: 'first-clinic', uid: 'uid-first', creationTimestamp: '2026-01-01T00:00:00Z' } }] },
    expect: { conditionType: 'Ready', status: 'False', reason: 'DomainClaimed' },
  },
  {
    id: 'backup-target-claimed-earlier',
    caughtBy: 'controller',
    operation: 'reconcile',
    field: 'spec.backup.target.s3.prefix',
    description: 'an S3 backup prefix inside the prefix of another ChatTenant, created earlier, in the same bucket',
    manifest: { ...manifest(s3({ prefix: 'shared/bad-input' })), metadata: { name: NAME, creationTimestamp: '2026-02-01T00:00:00Z' } },
    cluster: { otherTenants: [{ ...manifest({ ...s3({ prefix: 'shared' }), xmppDomains: ['chat.first-clinic.example'] }, 'first-clinic'), metadata: { name: 'first-clinic', uid: 'uid-first', creationTimestamp: '2026-01-01T00:00:00Z' } }] },
    expect: { conditionType: 'Ready', status: 'False', reason: 'BackupTargetClaimed' },
  },
  {
    id: 'storage-class-not-marked-encrypted',
    caughtBy: 'controller',
    operation: 'reconcile',
    field: 'spec.database.storage.storageClassName',
    description: 'a storage class that is neither allow-listed nor annotated encrypted',
    manifest: manifest(database({ storage: { storageClassName: 'standard' } })),
    cluster: { storageClasses: [{ metadata: { name: 'standard' }, provisioner: 'csi.example' }] },
    expect: { conditionType: 'Database', status: 'False', reason: 'StorageNotEncrypted' },
    safeguard: { name: 'EncryptionAtRest', reason: 'StorageClassNotEncrypted' },
  },
  {
    id: 'storage-class-annotated-unencrypted',
    caughtBy: 'controller',
    operation: 'reconcile',
    field: 'spec.database.storage.storageClassName',
    description: 'a storage class annotated as not encrypted',
    manifest: manifest(database({ storage: { storageClassName: 'legacy' } })),
    cluster: { storageClasses: [{ metadata: { name: 'legacy', annotations: { 'chat.tenant-operator.dev/encrypted': 'false' } }, provisioner: 'csi.example' }] },
    expect: { conditionType: 'Database', status: 'False', reason: 'StorageNotEncrypted' },
    safeguard: { name: 'EncryptionAtRest', reason: 'StorageClassNotEncrypted' },
  },
  {
    id: 'storage-class-not-found',
    caughtBy: 'controller',
    operation: 'reconcile',
    field: 'spec.database.storage.storageClassName',
    description: 'a storage class that does not exist',
    manifest: manifest(database({ storage: { storageClassName: 'does-not-exist' } })),
    cluster: { storageClasses: [] },
    expect: { conditionType: 'Database', status: 'False', reason: 'StorageNotEncrypted' },
    safeguard: { name: 'EncryptionAtRest', reason: 'StorageClassNotFound' },
  },
  {
    id: 'backup-storage-class-not-encrypted',
    caughtBy: 'controller',
    operation: 'reconcile',
    field: 'spec.backup.target.pvc.storageClassName',
    description: 'encrypted database storage, but the backup volume on an unmarked class',
    manifest: manifest(spec({ backup: { target: { pvc: { storageClassName: 'archive-hdd' } } } })),
    cluster: { storageClasses: [{ metadata: { name: 'encrypted-ssd', annotations: { 'chat.tenant-operator.dev/encrypted': 'true' } } }, { metadata: { name: 'archive-hdd' } }] },
    expect: { conditionType: 'Database', status: 'False', reason: 'StorageNotEncrypted' },
    safeguard: { name: 'EncryptionAtRest', reason: 'StorageClassNotEncrypted' },
  },
];

export const createCases = (caughtBy: 'admission' | 'validation'): CreateCase[] => BAD_INPUTS.filter((c): c is CreateCase => c.operation === 'create' && c.caughtBy === caughtBy);
export const updateCases = (): UpdateCase[] => BAD_INPUTS.filter((c): c is UpdateCase => c.operation === 'update');
export const controllerCases = (): ControllerCase[] => BAD_INPUTS.filter((c): c is ControllerCase => c.caughtBy === 'controller');
