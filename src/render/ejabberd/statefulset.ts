import { createHash } from 'node:crypto';
import { directoryOf, messagingImage, type ChatTenant, type OperatorSettings } from '../../api/index.js';
import { componentLabels, objectMeta, selectorLabels } from '../meta.js';
import { names, ports } from '../names.js';
import { hardenContainers, restrictedPodSecurityContext } from '../pod-security.js';
import { DEFAULT_RESOURCES, resourceRequirements } from '../resources.js';
import { secret, type SecretObject } from '../secrets.js';
import { tlsSecretNames } from '../tls.js';
import type { KubeObject, TenantMaterial } from '../types.js';
import type { PodTemplate, Volume } from '../wire.js';
import { renderEjabberdConfigFiles } from './config-files.js';
import { DIRECTORY_CA_DIR } from './directory.js';
import { DB_CA_DIR, EJABBERD_UID, ERLANG_VM_SECURITY_CONTEXT, POD_PATHS, TLS_DIR, erlangNodeNameTemplate, kubernetesEjabberdRuntime, messagingTlsVolume } from './pod-layout.js';
import { CONFIG_FILES, readyFile } from './runtime.js';

export { EJABBERD_UID, erlangNodeHost, kubernetesEjabberdRuntime } from './pod-layout.js';

// The clustered ejabberd StatefulSet and what surrounds it: its configuration (a Secret, since
// ejabberd.yml holds the database password), a headless Service for stable Erlang node names, the
// client Service, and a PodDisruptionBudget.

export const EJABBERD_APP = 'ejabberd';

/** The node script in the running container: `kubectl exec ejabberd-0 -- /bin/sh <it> ctl list_cluster`. */
export const NODE_SCRIPT = `${POD_PATHS.configDir}/${CONFIG_FILES.nodeScript}`;

export function renderEjabberdConfigSecret(tenant: ChatTenant, settings: OperatorSettings, material: TenantMaterial): SecretObject {
  return secret(tenant, names.messaging.configMap, 'messaging', renderEjabberdConfigFiles(tenant, kubernetesEjabberdRuntime(tenant, settings, material)));
}

function checksum(object: unknown): string {
  return createHash('sha256').update(JSON.stringify(object)).digest('hex');
}

/** Secret volumes are group-readable through fsGroup, never world-readable. */
const secretVolume = (name: string, secretName: string, items?: Array<{ key: string; path: string }>): Volume => ({
  name,
  secret: { secretName, defaultMode: 0o440, ...(items ? { items } : {}) },
});

export function renderEjabberdStatefulSet(tenant: ChatTenant, settings: OperatorSettings, configSecret: KubeObject): KubeObject {
  const m = tenant.spec.messaging;
  const selector = selectorLabels(tenant, EJABBERD_APP);
  const tls = tlsSecretNames(tenant);
  const isReady = ['/bin/sh', '-c', `test -f ${readyFile(POD_PATHS)}`];
  const directory = directoryOf(tenant.spec.identity);
  const template: PodTemplate = {
    metadata: {
      labels: { ...componentLabels(tenant, 'messaging', EJABBERD_APP), ...selector },
      // Secret volumes are refreshed in place, but ejabberd reads its files at start: roll the pods.
      annotations: { 'chat.tenant-operator.dev/config-checksum': checksum(configSecret['data']) },
    },
    spec: {
      serviceAccountName: names.messaging.serviceAccount,
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      securityContext: restrictedPodSecurityContext(EJABBERD_UID),
      // Enough for preStop (leave the cluster) and a graceful stop that closes every client stream.
      terminationGracePeriodSeconds: 60,
      containers: hardenContainers([
        {
          name: 'ejabberd',
          image: messagingImage(tenant.spec, settings),
          imagePullPolicy: m.image.pullPolicy,
          command: ['/bin/sh', NODE_SCRIPT, 'start'],
          securityContext: ERLANG_VM_SECURITY_CONTEXT,
          env: [
            { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            // Stable name through the headless Service; probes and `kubectl exec ejabberdctl` use it too.
            { name: 'ERLANG_NODE_ARG', value: erlangNodeNameTemplate(tenant, settings) },
            { name: 'HOME', value: POD_PATHS.home },
            // Also in ejabberdctl.cfg; here too so that anything in the container sees the same port.
            { name: 'ERL_DIST_PORT', value: String(ports.erlangDistribution) },
          ],
          ports: [
            { name: 'xmpp-starttls', containerPort: ports.xmppClientStartTls },
            { name: 'xmpp-tls', containerPort: ports.xmppClientDirectTls },
            { name: 'https', containerPort: ports.https },
            { name: 'erlang-dist', containerPort: ports.erlangDistribution },
            ...(m.federation ? [{ name: 'xmpp-s2s', containerPort: ports.xmppServer }] : []),
          ],
          resources: resourceRequirements(m.resources, DEFAULT_RESOURCES.messaging),
          // Ready means: ejabberd runs, the node has joined its cluster and the admins exist. The
          // startup probe allows for a first start that waits for the database.
          startupProbe: { exec: { command: isReady }, periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 150 },
          readinessProbe: { exec: { command: isReady }, periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 2 },
          // Alive means the client listener accepts connections (cheap: no Erlang VM per probe).
          livenessProbe: { tcpSocket: { port: ports.xmppClientStartTls }, periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 3 },
          lifecycle: { preStop: { exec: { command: ['/bin/sh', NODE_SCRIPT, 'leave'] } } },
          volumeMounts: [
            { name: 'config', mountPath: POD_PATHS.configDir, readOnly: true },
            { name: 'cookie', mountPath: POD_PATHS.cookieFile.replace(/\/[^/]+$/, ''), readOnly: true },
            { name: 'admins', mountPath: POD_PATHS.adminSecretDir, readOnly: true },
            { name: 'tls', mountPath: TLS_DIR, readOnly: true },
            { name: 'database-ca', mountPath: DB_CA_DIR, readOnly: true },
            ...(directory ? [{ name: 'directory-ca', mountPath: DIRECTORY_CA_DIR, readOnly: true }] : []),
            { name: 'mnesia', mountPath: POD_PATHS.spoolDir },
            { name: 'logs', mountPath: POD_PATHS.logsDir },
            { name: 'runtime', mountPath: POD_PATHS.home },
            { name: 'tmp', mountPath: '/tmp' },
          ],
        },
      ]),
      volumes: [
        secretVolume('config', names.messaging.configMap),
        secretVolume('cookie', names.messaging.cookieSecret, [{ key: 'cookie', path: 'cookie' }]),
        secretVolume('admins', names.messaging.adminSecret),
        messagingTlsVolume(tls.messaging),
        secretVolume('database-ca', tls.database, [{ key: 'ca.crt', path: 'ca.crt' }]),
        // The hospital's CA, straight from its Secret; the bind password reaches the pod in ejabberd.yml (see directory.ts).
        ...(directory ? [secretVolume('directory-ca', directory.caSecret.name, [{ key: directory.caSecret.key, path: 'ca.crt' }])] : []),
        // Mnesia holds cluster membership and volatile tables only; it is rebuilt on join.
        { name: 'mnesia', emptyDir: { sizeLimit: '1Gi' } },
        { name: 'logs', emptyDir: { sizeLimit: '256Mi' } },
        // Holds the copy of the Erlang cookie: memory-backed, never on a node's disk.
        { name: 'runtime', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } },
        { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
      ],
      affinity: {
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: selector } } }],
        },
      },
      topologySpreadConstraints: [
        { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: selector } },
        { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: selector } },
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
      // One at a time: a node joins only once its predecessor is ready, so two fresh nodes never
      // found two separate clusters.
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
      // Peers must resolve each other before they are ready, or no node could ever join.
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
      // Keep the client's address (no SNAT): ejabberd's login audit lines record it.
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
