import type { ChatTenant, OperatorSettings } from '../api/index.js';
import { databaseDnsNames, messagingDnsNames, names, tlsSecretNames } from '../render/index.js';
import type { Json } from '../kube/client.js';
import { ANNOTATION_DESIRED_HASH } from './drift.js';
import type { LiveWorld } from './observe.js';
import { idleSessionTimeoutMinutesOf, observeCertificate, storageClassEncryption, tenantStorageClasses, type ObservedFacts, type StorageClassObject } from './safeguards.js';
import type { TenantFacts } from './status.js';
import { ownsNamespace, type ObservedNamespace } from './adoption.js';
import { distributionEncryptionOf } from './distribution-security.js';
import type { DirectoryProbe } from './directory-probe.js';
import { identityInForceOf } from './identity-facts.js';
import { EJABBERD_CONFIG_FILES as CONFIG_FILES } from '../render/index.js';

// Fills safeguards' ObservedFacts from what the reconcile saw: the live objects (or the API
// server's answer to an apply made in this reconcile), decoded where the fact lives in a Secret.

const decoded = (secret: Json | undefined, key: string): string | undefined => {
  const value = ((secret?.['data'] ?? {}) as Record<string, string>)[key];
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString('utf8');
};

const hashOf = (o: Json | undefined) => ((o?.['metadata'] as Json | undefined)?.['annotations'] as Record<string, string> | undefined)?.[ANNOTATION_DESIRED_HASH];

export interface SafeguardInputs {
  tenant: ChatTenant;
  settings: OperatorSettings;
  world: LiveWorld;
  facts: TenantFacts;
  namespace: Json | undefined;
  storageClass: (name: string) => Json | undefined;
  /** Live TLS Secrets by name (Provided and cert-manager Secrets are not labelled, so read apart). */
  tlsSecrets: ReadonlyMap<string, Json | undefined>;
  /** Directory tenants: this reconcile's TLS probe of the directory. */
  directoryProbe?: DirectoryProbe;
  now: Date;
}

export function observedFacts(input: SafeguardInputs): ObservedFacts {
  const { tenant, settings, world, facts } = input;
  const current = (kind: string, name: string) => {
    const entry = world.find((d) => d.object.kind === kind && d.object.metadata.name === name);
    return !!entry?.live && hashOf(entry.live) === hashOf(entry.object as unknown as Json);
  };
  const live = (kind: string, name: string) => world.find((d) => d.object.kind === kind && d.object.metadata.name === name)?.live;
  const storageClasses: Record<string, ReturnType<typeof storageClassEncryption>> = {};
  for (const { name } of tenantStorageClasses(tenant)) storageClasses[name] = storageClassEncryption(input.storageClass(name) as StorageClassObject | undefined, settings);
  const databaseConfigCurrent =
    tenant.spec.database.provider === 'standalone' ? current('Secret', names.database.configMap) && current('StatefulSet', names.database.statefulSet) : current('Cluster', names.database.cluster);
  const tls = tlsSecretNames(tenant);
  const key = decoded(live('Secret', names.backup.keySecret), 'key');
  const messagingConfig = live('Secret', names.messaging.configMap);
  const ejabberdYaml = decoded(messagingConfig, CONFIG_FILES.ejabberd);
  const observed: ObservedFacts = {
    observedAt: input.now.toISOString(),
    namespaceOwned: ownsNamespace(tenant, input.namespace as ObservedNamespace | undefined),
    storageClasses,
    backupKeyPresent: key !== undefined && Buffer.from(key, 'base64').length === 32,
    networkPolicies: world.filter((d) => d.object.kind === 'NetworkPolicy' && d.live).map((d) => d.object.metadata.name),
    messagingConfigCurrent: current('Secret', names.messaging.configMap) && current('StatefulSet', names.messaging.statefulSet),
    databaseConfigCurrent,
    // The operator renders ssl on, TLS 1.2+, SCRAM and a rejecting pg_hba; in force when current.
    databaseTlsEnforced: databaseConfigCurrent,
    certificates: {},
  };
  const distribution = distributionEncryptionOf({ ejabberdctlCfg: decoded(messagingConfig, CONFIG_FILES.ejabberdctl), sslDistOptions: decoded(messagingConfig, CONFIG_FILES.sslDistOptions) });
  if (distribution !== undefined) observed.distributionEncryption = distribution;
  const identity = ejabberdYaml ? identityInForceOf(ejabberdYaml) : undefined;
  if (identity) observed.identity = identity;
  if (input.directoryProbe) observed.directoryProbe = input.directoryProbe;
  const idle = ejabberdYaml ? idleSessionTimeoutMinutesOf(ejabberdYaml) : undefined;
  if (idle !== undefined) observed.idleSessionTimeoutMinutes = idle;
  const messagingCert = observeCertificate(decoded(input.tlsSecrets.get(tls.messaging), 'tls.crt'), messagingDnsNames(tenant, settings));
  const databaseCert = observeCertificate(decoded(input.tlsSecrets.get(tls.database), 'tls.crt'), databaseDnsNames(tenant, settings));
  if (messagingCert) observed.certificates.messaging = messagingCert;
  if (databaseCert) observed.certificates.database = databaseCert;
  const b = facts.backup;
  if (b.lastResult === 'Succeeded' || b.lastResult === 'Failed') {
    observed.lastBackup = { time: (b.lastResult === 'Succeeded' ? b.lastSuccessfulTime : b.lastScheduleTime) ?? input.now.toISOString(), succeeded: b.lastResult === 'Succeeded' };
  }
  return observed;
}
