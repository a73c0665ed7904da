import { createHash } from 'node:crypto';
import { messagingImage, tenantNamespace, type ChatTenant, type OperatorSettings } from '../../api/index.js';
import { componentLabels, objectMeta, selectorLabels } from '../meta.js';
import { names, ports } from '../names.js';
import { hardenContainers, restrictedPodSecurityContext } from '../pod-security.js';
import { DEFAULT_RESOURCES, resourceRequirements } from '../resources.js';
import { secret } from '../secrets.js';
import { tlsSecretNames } from '../tls.js';
import type { KubeObject, TenantMaterial } from '../types.js';
import type { PodTemplate } from '../wire.js';
import { renderEjabberdConfig, type EjabberdRuntime } from './config.js';

// The clustered ejabberd StatefulSet and what surrounds it: its configuration (a Secret, since it
// holds the database password), a headless Service for stable Erlang node names, the client
// Service, and a PodDisruptionBudget.

/** The official image runs as user ejabberd (uid/gid 9000) with its home in /opt/ejabberd. */
export const EJABBERD_UID = 9000;
export const EJABBERD_HOME = '/opt/ejabberd';
const TLS_DIR = '/etc/ejabberd-tls';
const DB_CA_DIR = '/etc/ejabberd-db-ca';
const UPLOAD_DIR = `${EJABBERD_HOME}/upload`;
export const EJABBERD_APP = 'ejabberd';

export function erlangNodeHost(tenant: ChatTenant, settings: OperatorSettings, ordinal: number | string): string {
  return `${names.messaging.statefulSet}-${ordinal}.${names.messaging.headlessService}.${tenantNamespace(tenant.metadata.name)}.svc.${settings.clusterDomain}`;
}

export function kubernetesEjabberdRuntime(tenant: ChatTenant, settings: OperatorSettings, material: TenantMaterial): EjabberdRuntime {
  const ns = tenantNamespace(tenant.metadata.name);
  const dbService = tenant.spec.database.provider === 'cloudnative-pg' ? names.database.cnpgReadWriteService : names.database.service;
  return {
    flavour: 'official-image',
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
    uploadDir: UPLOAD_DIR,
  };
}

/**
 * Start script: every node but the first joins the first one's cluster on start. Cluster membership
 * lives in Mnesia on an emptyDir, and all user data lives in PostgreSQL, so a node that restarts
 * simply joins again.
 */
export function ejabberdStartScript(tenant: ChatTenant, settings: OperatorSettings): string {
  const seed = `ejabberd@${erlangNodeHost(tenant, settings, 0)}`;
  return [
    '#!/bin/sh',
    'set -eu',
    'ordinal="${POD_NAME##*-}"',
    `export ERLANG_NODE_ARG="ejabberd@\${POD_NAME}.${names.messaging.headlessService}.${tenantNamespace(tenant.metadata.name)}.svc.${settings.clusterDomain}"`,
    'if [ "$ordinal" != "0" ]; then',
    `  export CTL_ON_START="join_cluster ${seed}"`,
    'fi',
    `exec ${EJABBERD_HOME}/bin/ejabberdctl foreground`,
    '',
  ].join('\n');
}

export function renderEjabberdConfigSecret(tenant: ChatTenant, settings: OperatorSettings, material: TenantMaterial) {
  return secret(tenant, names.messaging.configMap, 'messaging', {
    'ejabberd.yml': renderEjabberdConfig(tenant, kubernetesEjabberdRuntime(tenant, settings, material)),
    'start.sh': ejabberdStartScript(tenant, settings),
  });
}

function checksum(object: unknown): string {
  return createHash('sha256').update(JSON.stringify(object)).digest('hex');
}

export function renderEjabberdStatefulSet(tenant: ChatTenant, settings: OperatorSettings, configSecret: KubeObject): KubeObject {
  const m = tenant.spec.messaging;
  const selector = selectorLabels(tenant, EJABBERD_APP);
  const tls = tlsSecretNames(tenant);
  const template: PodTemplate = {
    metadata: {
      labels: { ...componentLabels(tenant, 'messaging', EJABBERD_APP), ...selector },
      // Rolls the pods when the configuration changes (a subPath mount is not refreshed in place).
      annotations: { 'chat.tenant-operator.dev/config-checksum': checksum(configSecret['data']) },
    },
    spec: {
      serviceAccountName: names.messaging.serviceAccount,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      securityContext: restrictedPodSecurityContext(EJABBERD_UID),
      terminationGracePeriodSeconds: 60,
      containers: hardenContainers([
        {
          name: 'ejabberd',
          image: messagingImage(tenant.spec, settings),
          imagePullPolicy: m.image.pullPolicy,
          command: ['/bin/sh', `${EJABBERD_HOME}/conf-generated/start.sh`],
          env: [
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            { name: 'ERLANG_COOKIE', valueFrom: { secretKeyRef: { name: names.messaging.cookieSecret, key: 'cookie' } } },
            // A fixed distribution port, so the network policy can allow exactly it.
            { name: 'ERL_DIST_PORT', value: String(ports.erlangDistribution) },
            { name: 'EJABBERD_CONFIG_PATH', value: `${EJABBERD_HOME}/conf-generated/ejabberd.yml` },
          ],
          ports: [
            { name: 'xmpp-starttls', containerPort: ports.xmppClientStartTls },
            { name: 'xmpp-tls', containerPort: ports.xmppClientDirectTls },
            { name: 'https', containerPort: ports.https },
            { name: 'erlang-dist', containerPort: ports.erlangDistribution },
            ...(m.federation ? [{ name: 'xmpp-s2s', containerPort: ports.xmppServer }] : []),
          ],
          resources: resourceRequirements(m.resources, DEFAULT_RESOURCES.messaging),
          startupProbe: { exec: { command: [`${EJABBERD_HOME}/bin/ejabberdctl`, 'status'] }, periodSeconds: 10, timeoutSeconds: 10, failureThreshold: 30 },
          readinessProbe: { tcpSocket: { port: ports.xmppClientStartTls }, periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3 },
          livenessProbe: { exec: { command: [`${EJABBERD_HOME}/bin/ejabberdctl`, 'status'] }, periodSeconds: 30, timeoutSeconds: 15, failureThreshold: 4 },
          lifecycle: { preStop: { exec: { command: [`${EJABBERD_HOME}/bin/ejabberdctl`, 'leave_cluster', '$(ERLANG_NODE_ARG)'] } } },
          volumeMounts: [
            { name: 'config', mountPath: `${EJABBERD_HOME}/conf-generated`, readOnly: true },
            { name: 'tls', mountPath: TLS_DIR, readOnly: true },
            { name: 'database-ca', mountPath: DB_CA_DIR, readOnly: true },
            { name: 'mnesia', mountPath: `${EJABBERD_HOME}/database` },
            { name: 'logs', mountPath: `${EJABBERD_HOME}/logs` },
            { name: 'upload', mountPath: UPLOAD_DIR },
            { name: 'tmp', mountPath: '/tmp' },
          ],
        },
      ]),
      volumes: [
        { name: 'config', secret: { secretName: names.messaging.configMap, defaultMode: 0o440 } },
        { name: 'tls', secret: { secretName: tls.messaging, defaultMode: 0o440 } },
        { name: 'database-ca', secret: { secretName: tls.database, defaultMode: 0o440, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { name: 'mnesia', emptyDir: {} },
        { name: 'logs', emptyDir: {} },
        { name: 'upload', emptyDir: {} },
        { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
      ],
      affinity: {
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: selector } } },
          ],
        },
      },
      topologySpreadConstraints: [
        { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: selector } },
      ],
    },
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: objectMeta(tenant, names.messaging.statefulSet, { component: 'messaging', appName: EJABBERD_APP }),
    spec: {
      serviceName: names.messaging.headlessService,
      replicas: m.replicas,
      podManagementPolicy: 'OrderedReady',
      selector: { matchLabels: selector },
      updateStrategy: { type: 'RollingUpdate' },
      template,
    },
  };
}

export function renderEjabberdServices(tenant: ChatTenant): KubeObject[] {
  const selector = selectorLabels(tenant, EJABBERD_APP);
  const m = tenant.spec.messaging;
  const headless: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: objectMeta(tenant, names.messaging.headlessService, { component: 'messaging', appName: EJABBERD_APP }),
    spec: {
      clusterIP: 'None',
      // Peers must resolve each other before they are ready, or the cluster cannot form.
      publishNotReadyAddresses: true,
      selector,
      ports: [{ name: 'erlang-dist', port: ports.erlangDistribution, targetPort: ports.erlangDistribution, protocol: 'TCP' }],
    },
  };
  const client: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: objectMeta(tenant, names.messaging.clientService, { component: 'messaging', appName: EJABBERD_APP, ...(m.service.annotations ? { annotations: m.service.annotations } : {}) }),
    spec: {
      type: m.service.type,
      selector,
      // No plaintext port: 5222 requires STARTTLS before authentication, 5223 and 5443 are TLS.
      ports: [
        { name: 'xmpp-starttls', port: ports.xmppClientStartTls, targetPort: ports.xmppClientStartTls, protocol: 'TCP' },
        { name: 'xmpp-tls', port: ports.xmppClientDirectTls, targetPort: ports.xmppClientDirectTls, protocol: 'TCP' },
        { name: 'https', port: ports.https, targetPort: ports.https, protocol: 'TCP' },
      ],
      ...(m.service.type === 'ClusterIP' ? {} : { externalTrafficPolicy: 'Local' }),
      ...(m.service.type === 'LoadBalancer' && tenant.spec.network.clientCIDRs.length > 0 ? { loadBalancerSourceRanges: tenant.spec.network.clientCIDRs } : {}),
    },
  };
  return [headless, client];
}

export function renderEjabberdPdb(tenant: ChatTenant): KubeObject[] {
  if (tenant.spec.messaging.replicas < 2) return [];
  return [
    {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: objectMeta(tenant, names.messaging.pdb, { component: 'messaging', appName: EJABBERD_APP }),
      spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(tenant, EJABBERD_APP) } },
    },
  ];
}
