import type { KubeObject, RenderInput } from './types.js';
import { withTlsChecksum } from './tls-rollout.js';
import { renderLimitRange, renderNamespace, renderResourceQuota } from './namespace.js';
import { renderServiceAccounts } from './serviceaccounts.js';
import { renderNetworkPolicies } from './network.js';
import { renderCredentialSecrets } from './secrets.js';
import { renderTlsObjects } from './tls.js';
import { renderEjabberdConfigSecret, renderEjabberdPdb, renderEjabberdServices, renderEjabberdStatefulSet } from './ejabberd/statefulset.js';
import { renderArchivePurgeCronJob } from './ejabberd/archive-purge.js';
import { renderStandaloneConfigSecret, renderStandalonePostgres } from './postgres/standalone.js';
import { renderCloudNativePGCluster } from './postgres/cnpg.js';
import { renderSchemaStep } from './postgres/schema.js';
import { renderBackupCronJob, renderBackupPvc } from './backup.js';

/**
 * The whole desired state of one tenant, in apply order: the namespace first, then what confines it
 * (quota, limits, network policies) before anything runs in it, then credentials, then workloads.
 * Pure: the same input always gives the same list, byte for byte.
 */
export function renderTenant(input: RenderInput): KubeObject[] {
  const { tenant, material, settings } = input;
  const objects: KubeObject[] = [
    renderNamespace(tenant),
    renderResourceQuota(tenant),
    renderLimitRange(tenant),
    ...renderNetworkPolicies(tenant, settings),
    ...renderServiceAccounts(tenant),
    ...renderCredentialSecrets(tenant, material),
    ...renderTlsObjects(tenant, settings, material.certificates),
  ];
  if (tenant.spec.database.provider === 'standalone') {
    const config = renderStandaloneConfigSecret(tenant);
    objects.push(config, ...renderStandalonePostgres(tenant, settings, config));
  } else {
    objects.push(renderCloudNativePGCluster(tenant, settings));
  }
  objects.push(...renderSchemaStep(tenant, settings));
  const ejabberdConfig = renderEjabberdConfigSecret(tenant, settings, material);
  objects.push(ejabberdConfig, ...renderEjabberdServices(tenant), renderEjabberdStatefulSet(tenant, settings, ejabberdConfig), ...renderEjabberdPdb(tenant), renderArchivePurgeCronJob(tenant, settings));
  objects.push(...renderBackupPvc(tenant), renderBackupCronJob(tenant, settings));
  return withTlsChecksum(objects, material);
}

/** Stable identity of an object within a tenant: how apply, prune and tests match objects. */
export function objectKey(object: KubeObject): string {
  return `${object.apiVersion}/${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}
