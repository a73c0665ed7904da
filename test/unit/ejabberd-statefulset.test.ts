import { describe, expect, it } from 'vitest';
import { ChatTenantSpec, defaultSettings } from '../../src/api/index.js';
import { names, placeholderMaterial, ports, renderTenant, type KubeObject } from '../../src/render/index.js';
import { renderEjabberdConfigSecret, renderEjabberdPdb, renderEjabberdServices, renderEjabberdStatefulSet } from '../../src/render/ejabberd/statefulset.js';
import { EJABBERD_UID, MAX_CLUSTER_SIZE, POD_PATHS, clusterPeerNames } from '../../src/render/ejabberd/pod-layout.js';
import { CONFIG_FILES } from '../../src/render/ejabberd/runtime.js';
import { minimalSpec, tenantFixture } from '../support/tenants.js';
import { restrictedViolations } from '../support/pod-security.js';

const settings = defaultSettings();
type Json = Record<string, any>;

const tenant = (overrides: Parameters<typeof minimalSpec>[0] = {}) => tenantFixture('clinic', minimalSpec(overrides));
function statefulSet(t = tenant()): Json {
  return renderEjabberdStatefulSet(t, settings, renderEjabberdConfigSecret(t, settings, placeholderMaterial(t))) as Json;
}
const container = (sts: Json) => sts['spec']['template']['spec']['containers'][0] as Json;
const decode = (secret: KubeObject, key: string) => Buffer.from((secret['data'] as Record<string, string>)[key]!, 'base64').toString('utf8');

describe('ejabberd StatefulSet', () => {
  it('keeps NET_BIND_SERVICE in the bounding set of every container that runs the Erlang VM, and adds nothing else anywhere', () => {
    // The official image's beam.smp carries cap_net_bind_service=+ep: with ALL dropped, exec is refused.
    const t = tenant();
    const templates = renderTenant({ tenant: t, material: placeholderMaterial(t), settings, capabilities: { cloudNativePG: false, certManager: false, prometheusOperator: false } }).flatMap((o) => {
      const spec = o['spec'] as Json | undefined;
      if (o.kind === 'StatefulSet' || o.kind === 'Job') return [{ owner: o.metadata.name, pod: spec!['template']['spec'] as Json }];
      if (o.kind === 'CronJob') return [{ owner: o.metadata.name, pod: spec!['jobTemplate']['spec']['template']['spec'] as Json }];
      return [];
    });
    const runsErlang = (c: Json) => c['name'] === 'ejabberd' || c['name'] === 'purge';
    const erlang: string[] = [];
    for (const { owner, pod } of templates) {
      for (const c of [...(pod['initContainers'] ?? []), ...pod['containers']] as Json[]) {
        const caps = c['securityContext']['capabilities'];
        expect(caps.drop, `${owner}/${c['name']}`).toEqual(['ALL']);
        if (runsErlang(c)) erlang.push(`${owner}/${c['name']}`);
        expect(caps.add ?? [], `${owner}/${c['name']}`).toEqual(runsErlang(c) ? ['NET_BIND_SERVICE'] : []);
      }
      expect(restrictedViolations(pod), owner).toEqual([]);
    }
    expect(erlang.sort()).toEqual([`${names.messaging.statefulSet}/ejabberd`, `${names.messaging.archivePurgeCronJob}/purge`].sort());
  });

  it('runs spec.messaging.replicas nodes one after the other, named through the headless Service', () => {
    const sts = statefulSet(tenant({ messaging: { replicas: 4 } }));
    expect(sts['spec']).toMatchObject({ replicas: 4, serviceName: names.messaging.headlessService, podManagementPolicy: 'OrderedReady', updateStrategy: { type: 'RollingUpdate' } });
    const env = container(sts)['env'] as Array<{ name: string; value?: string }>;
    expect(env.find((e) => e.name === 'ERLANG_NODE_ARG')?.value).toBe('ejabberd@$(POD_NAME).ejabberd-headless.clinic.svc.cluster.local');
    // $(POD_NAME) only expands when POD_NAME is declared before it.
    expect(env.findIndex((e) => e.name === 'POD_NAME')).toBeLessThan(env.findIndex((e) => e.name === 'ERLANG_NODE_ARG'));
    expect(env.find((e) => e.name === 'HOME')?.value).toBe(POD_PATHS.home);
    expect(env.find((e) => e.name === 'ERL_DIST_PORT')?.value).toBe(String(ports.erlangDistribution));
  });

  it('starts through the node script and leaves the cluster in preStop', () => {
    const c = container(statefulSet());
    const script = `${POD_PATHS.configDir}/${CONFIG_FILES.nodeScript}`;
    expect(c['command']).toEqual(['/bin/sh', script, 'start']);
    expect(c['lifecycle']).toEqual({ preStop: { exec: { command: ['/bin/sh', script, 'leave'] } } });
  });

  it('is ready only once the node script says so, and alive while the client listener accepts', () => {
    const c = container(statefulSet());
    const marker = ['/bin/sh', '-c', `test -f ${POD_PATHS.home}/ready`];
    expect(c['readinessProbe']['exec']['command']).toEqual(marker);
    expect(c['startupProbe']['exec']['command']).toEqual(marker);
    expect(c['startupProbe']['periodSeconds'] * c['startupProbe']['failureThreshold']).toBeGreaterThanOrEqual(600);
    expect(c['livenessProbe']).toMatchObject({ tcpSocket: { port: ports.xmppClientStartTls } });
  });

  it('runs as the image\'s ejabberd user with a read-only root filesystem and writes only to emptyDirs', () => {
    const sts = statefulSet();
    const pod = sts['spec']['template']['spec'];
    expect(restrictedViolations(pod)).toEqual([]);
    expect(pod['securityContext']).toMatchObject({ runAsUser: EJABBERD_UID, runAsGroup: EJABBERD_UID, fsGroup: EJABBERD_UID, runAsNonRoot: true });
    const c = container(sts);
    expect(c['securityContext']).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    const volumes = new Map<string, Json>(pod['volumes'].map((v: Json) => [v['name'], v]));
    for (const mount of c['volumeMounts'] as Json[]) {
      const volume = volumes.get(mount['name'])!;
      if (volume['secret']) expect(mount['readOnly'], mount['name']).toBe(true);
      else expect(volume['emptyDir'], mount['name']).toBeDefined();
    }
    expect(c['volumeMounts'].map((m: Json) => m['mountPath'])).toEqual(expect.arrayContaining([POD_PATHS.configDir, POD_PATHS.spoolDir, POD_PATHS.logsDir, POD_PATHS.home, '/tmp']));
    // The cookie copy lives in memory, never on a node's disk.
    expect(volumes.get('runtime')!['emptyDir']).toMatchObject({ medium: 'Memory' });
    expect(pod['automountServiceAccountToken']).toBe(false);
  });

  it('mounts the cookie, the admin credentials, the TLS pair and the database CA from their Secrets, never as environment', () => {
    const sts = statefulSet(tenant({ messaging: { admins: [{ username: 'alice' }] } }));
    const pod = sts['spec']['template']['spec'];
    const secretNames = pod['volumes'].filter((v: Json) => v['secret']).map((v: Json) => v['secret']['secretName']);
    expect(secretNames).toEqual(expect.arrayContaining([names.messaging.configMap, names.messaging.cookieSecret, names.messaging.adminSecret, names.messaging.tlsSecret, names.database.tlsSecret]));
    const dbCa = pod['volumes'].find((v: Json) => v['name'] === 'database-ca');
    expect(dbCa['secret']['items']).toEqual([{ key: 'ca.crt', path: 'ca.crt' }]);
    expect(JSON.stringify(container(sts)['env'])).not.toMatch(/secretKeyRef/);
  });

  it('takes resources from the spec and spreads nodes over hosts and zones', () => {
    const sts = statefulSet(tenant({ messaging: { resources: { limits: { memory: '3Gi' } } } }));
    expect(container(sts)['resources']).toEqual({ requests: { cpu: '250m', memory: '512Mi' }, limits: { cpu: '2', memory: '3Gi' } });
    const pod = sts['spec']['template']['spec'];
    const selector = sts['spec']['selector']['matchLabels'];
    expect(pod['affinity']['podAntiAffinity']['preferredDuringSchedulingIgnoredDuringExecution'][0]['podAffinityTerm']).toEqual({ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: selector } });
    expect(pod['topologySpreadConstraints'].map((t: Json) => t['topologyKey'])).toEqual(['topology.kubernetes.io/zone', 'kubernetes.io/hostname']);
  });

  it('rolls the pods when the configuration changes, and not when the tenant only scales', () => {
    const checksum = (sts: Json) => sts['spec']['template']['metadata']['annotations']['chat.tenant-operator.dev/config-checksum'];
    expect(checksum(statefulSet(tenant({ messaging: { idleSessionTimeoutMinutes: 5 } })))).not.toBe(checksum(statefulSet(tenant({ messaging: { idleSessionTimeoutMinutes: 6 } }))));
    const two = statefulSet(tenant({ messaging: { replicas: 2 } }));
    const five = statefulSet(tenant({ messaging: { replicas: 5 } }));
    expect(two['spec']['template']).toEqual(five['spec']['template']);
  });

  it('lets a node try every ordinal the spec admits as a peer', () => {
    const maxAdmitted = messagingReplicasMax();
    expect(MAX_CLUSTER_SIZE).toBe(maxAdmitted);
    const t = tenant();
    const peers = clusterPeerNames(t, settings);
    expect(peers).toHaveLength(MAX_CLUSTER_SIZE);
    expect(peers[0]).toBe('ejabberd@ejabberd-0.ejabberd-headless.clinic.svc.cluster.local');
    const script = decode(renderEjabberdConfigSecret(t, settings, placeholderMaterial(t)), CONFIG_FILES.nodeScript);
    expect(script).toContain(`PEERS='${peers.join(' ')}'`);
  });
});

/** The largest replica count the spec validates. */
function messagingReplicasMax(): number {
  let n = 1;
  while (ChatTenantSpec.safeParse({ ...minimalSpec({ messaging: { replicas: n + 1 } }) }).success) n++;
  return n;
}

describe('ejabberd Services and PodDisruptionBudget', () => {
  it('the headless Service publishes not-ready pods on the distribution port, so nodes can join before they are ready', () => {
    const [headless] = renderEjabberdServices(tenant()) as Json[];
    expect(headless!['spec']).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true, ports: [{ name: 'erlang-dist', port: ports.erlangDistribution }] });
  });

  it('the client Service has the spec\'s type and TLS-capable ports only, and keeps client addresses outside the cluster', () => {
    const [, clusterIp] = renderEjabberdServices(tenant()) as Json[];
    expect(clusterIp!['spec']['type']).toBe('ClusterIP');
    expect(clusterIp!['spec']['ports'].map((p: Json) => p['port'])).toEqual([5222, 5223, 5443]);
    expect(clusterIp!['spec']).not.toHaveProperty('externalTrafficPolicy');
    const [, lb] = renderEjabberdServices(tenant({ messaging: { service: { type: 'LoadBalancer', annotations: { 'x/internal': 'true' } } }, network: { clientCIDRs: ['10.1.0.0/16'] } })) as Json[];
    expect(lb!['spec']).toMatchObject({ type: 'LoadBalancer', externalTrafficPolicy: 'Local', loadBalancerSourceRanges: ['10.1.0.0/16'] });
    expect(lb!['metadata']['annotations']).toEqual({ 'x/internal': 'true' });
  });

  it('a PodDisruptionBudget of one pod at a time from two replicas on', () => {
    expect(renderEjabberdPdb(tenant({ messaging: { replicas: 1 } }))).toEqual([]);
    const [pdb] = renderEjabberdPdb(tenant({ messaging: { replicas: 3 } })) as Json[];
    expect(pdb!['spec']).toEqual({ maxUnavailable: 1, selector: { matchLabels: statefulSet()['spec']['selector']['matchLabels'] } });
  });

  it('the tenant renders the config Secret, both Services, the StatefulSet, the PDB and the archive purge', () => {
    const t = tenant({ messaging: { replicas: 2 } });
    const objects = renderTenant({ tenant: t, material: placeholderMaterial(t), settings, capabilities: { cloudNativePG: true, certManager: true, prometheusOperator: false } });
    const mine = objects.filter((o) => o.metadata.labels?.['app.kubernetes.io/component'] === 'messaging').map((o) => `${o.kind}/${o.metadata.name}`);
    expect(mine).toEqual(
      expect.arrayContaining([
        `Secret/${names.messaging.configMap}`,
        `Service/${names.messaging.headlessService}`,
        `Service/${names.messaging.clientService}`,
        `StatefulSet/${names.messaging.statefulSet}`,
        `PodDisruptionBudget/${names.messaging.pdb}`,
        `CronJob/${names.messaging.archivePurgeCronJob}`,
      ]),
    );
  });
});
