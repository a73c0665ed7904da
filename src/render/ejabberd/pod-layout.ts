import { tenantNamespace, type ChatTenant, type OperatorSettings } from '../../api/index.js';
import { names, ports } from '../names.js';
import type { TenantMaterial } from '../types.js';
import type { Volume } from '../wire.js';
import { DIRECTORY_CA_FILE } from './directory.js';
import type { EjabberdPaths, EjabberdRuntime } from './runtime.js';

// How an ejabberd node is laid out inside the official image (ghcr.io/processone/ejabberd):
//  - it runs as user ejabberd, uid and gid 9000; the image's HOME is /opt/ejabberd;
//  - `ejabberdctl` on PATH is a wrapper that defaults CONFIG_DIR to /opt/ejabberd/conf, honours
//    ERLANG_NODE_ARG, and writes $HOME/.erlang.cookie from ERLANG_COOKIE only if the file is missing;
//  - the release itself lives in /opt/ejabberd-<version>, which nothing here touches.
// The root filesystem is read-only: everything ejabberd writes goes to an emptyDir below.

export const EJABBERD_UID = 9000;

/**
 * Every container that runs the Erlang VM (the server, and ejabberdctl as a client). The official
 * image's beam.smp carries a file capability (cap_net_bind_service=+ep); with every capability
 * dropped from the bounding set the kernel refuses to exec it (ejabberd#4494). NET_BIND_SERVICE is
 * the one capability Pod Security "restricted" lets a container add back.
 */
export const ERLANG_VM_SECURITY_CONTEXT = { capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } };
export const EJABBERD_IMAGE_HOME = '/opt/ejabberd';

/** Mount points; the config Secret replaces the image's conf directory, so every ejabberdctl finds it. */
export const POD_PATHS: EjabberdPaths = {
  ejabberdctl: 'ejabberdctl',
  configDir: `${EJABBERD_IMAGE_HOME}/conf`,
  spoolDir: `${EJABBERD_IMAGE_HOME}/database`,
  logsDir: `${EJABBERD_IMAGE_HOME}/logs`,
  // A writable HOME of its own (the image's HOME is read-only here): cookie copy, readiness marker.
  home: '/run/ejabberd',
  cookieFile: '/etc/ejabberd-cookie/cookie',
  adminSecretDir: '/etc/ejabberd-admins',
};

/** The messaging certificate: XMPP listeners and TLS distribution (with the tenant CA, ca.crt). */
export const TLS_DIR = '/etc/ejabberd-tls';

/**
 * The messaging certificate's Secret, mounted at TLS_DIR by every container that runs an Erlang VM:
 * the server and the ejabberdctl clients all need it (and the CA) to speak TLS distribution.
 */
export function messagingTlsVolume(secretName: string): Volume {
  return { name: 'tls', secret: { secretName, defaultMode: 0o440, items: ['tls.crt', 'tls.key', 'ca.crt'].map((key) => ({ key, path: key })) } };
}
export const DB_CA_DIR = '/etc/ejabberd-db-ca';

/** The highest replica count the spec admits: every ordinal below it is a potential peer. */
export const MAX_CLUSTER_SIZE = 9;

export function erlangNodeHost(tenant: ChatTenant, settings: OperatorSettings, ordinal: number | string): string {
  return `${names.messaging.statefulSet}-${ordinal}.${names.messaging.headlessService}.${tenantNamespace(tenant.metadata.name)}.svc.${settings.clusterDomain}`;
}

/** The node name of a pod, built by Kubernetes from the pod's own name ($(POD_NAME) expansion). */
export function erlangNodeNameTemplate(tenant: ChatTenant, settings: OperatorSettings): string {
  return `ejabberd@$(POD_NAME).${names.messaging.headlessService}.${tenantNamespace(tenant.metadata.name)}.svc.${settings.clusterDomain}`;
}

/**
 * Every node name the StatefulSet can ever have. Listing them all (not just spec.replicas) keeps the
 * script, and so the pod template, unchanged when the tenant scales: scaling adds or removes pods
 * without restarting the others.
 */
export function clusterPeerNames(tenant: ChatTenant, settings: OperatorSettings): string[] {
  return Array.from({ length: MAX_CLUSTER_SIZE }, (_, i) => `ejabberd@${erlangNodeHost(tenant, settings, i)}`);
}

export function kubernetesEjabberdRuntime(tenant: ChatTenant, settings: OperatorSettings, material: TenantMaterial): EjabberdRuntime {
  const ns = tenantNamespace(tenant.metadata.name);
  const dbService = tenant.spec.database.provider === 'cloudnative-pg' ? names.database.cnpgReadWriteService : names.database.service;
  return {
    flavour: settings.ejabberdFlavour,
    bindAddress: '::',
    ports: { c2sStartTls: ports.xmppClientStartTls, c2sDirectTls: ports.xmppClientDirectTls, https: ports.https, s2s: ports.xmppServer },
    tls: { certFile: `${TLS_DIR}/tls.crt`, keyFile: `${TLS_DIR}/tls.key`, caFile: `${TLS_DIR}/ca.crt` },
    sql: {
      server: `${dbService}.${ns}.svc.${settings.clusterDomain}`,
      port: ports.postgres,
      database: names.database.appDatabase,
      username: names.database.appUser,
      password: material.databaseAppPassword,
      caFile: `${DB_CA_DIR}/ca.crt`,
    },
    distribution: { port: ports.erlangDistribution, tls: { certFile: `${TLS_DIR}/tls.crt`, keyFile: `${TLS_DIR}/tls.key`, caFile: `${TLS_DIR}/ca.crt` } },
    clusterPeers: clusterPeerNames(tenant, settings),
    paths: POD_PATHS,
    ...(material.directoryBind ? { directory: { caFile: DIRECTORY_CA_FILE, bindDN: material.directoryBind.bindDN, bindPassword: material.directoryBind.password } } : {}),
  };
}
