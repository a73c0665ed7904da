// `helm lint` and `helm template` of charts/chat-tenant-operator with the real helm, default and
// non-default values, and what the rendered objects must satisfy.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import yaml from 'js-yaml';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { OperatorSettings, operatorImage } from '../../src/api/index.js';
import { CRD_FILE } from '../../src/cli/commands.js';
import { resourceFor } from '../../src/kube/resources.js';
import { placeholderMaterial, renderTenant } from '../../src/render/index.js';
import { specArbitrary, tenantName } from '../support/arbitraries.js';
import { podSpecsOf, restrictedViolations } from '../support/pod-security.js';
import { tenantFixture } from '../support/tenants.js';
import { CHART_DIR, NON_DEFAULT_VALUES, REPO_ROOT, helmLint, helmTemplate, only, type Json } from './support/chart.js';
import { LEADER_LEASE, REQUIRED_OPERATIONS } from './support/operator-contract.js';
import { grants, PRIVILEGE_VERBS, RBAC_RESOURCES, ruleValues, rulesOf } from './support/rbac.js';
import './provided-context.js';

const helm = inject('helmBinary');
const NAMESPACE = 'chat-tenant-operator';

describe('helm lint --strict', () => {
  it.each([
    ['default values', {}],
    ['non-default values', NON_DEFAULT_VALUES],
  ])('passes with %s', async (_name, values) => {
    const { code, output } = await helmLint(helm, values);
    expect(code, output).toBe(0);
  });

  it('rejects values the chart does not know (values.schema.json), so a typo is not silently ignored', async () => {
    const { code, output } = await helmLint(helm, { replicas: 3 });
    expect(code).not.toBe(0);
    expect(output).toMatch(/additional properties 'replicas' not allowed/);
  });
});

describe('the CRD in the chart', () => {
  it('is byte for byte the generated crds/ file (copy crds/*.yaml into charts/chat-tenant-operator/crds/ after `npm run crd`)', async () => {
    const generated = await readFile(path.join(REPO_ROOT, 'crds', CRD_FILE), 'utf8');
    const inChart = await readFile(path.join(CHART_DIR, 'crds', CRD_FILE), 'utf8');
    expect(inChart).toBe(generated);
  });

  it('is installed by helm (--include-crds shows it)', async () => {
    const objects = await helmTemplate(helm, {}, { includeCrds: true });
    expect(only(objects, 'CustomResourceDefinition')['metadata']['name']).toBe('chattenants.chat.tenant-operator.dev');
  });
});

describe.each([
  ['default values', {} as Json],
  ['non-default values (air-gapped registry, Prometheus objects on, network policy off)', NON_DEFAULT_VALUES],
])('helm template with %s', (_name, values) => {
  let objects: Json[] = [];
  beforeAll(async () => {
    objects = await helmTemplate(helm, values, { namespace: NAMESPACE });
  });
  const deployment = () => only(objects, 'Deployment');
  const podSpec = () => deployment()['spec']['template']['spec'];
  const container = () => podSpec()['containers'][0];
  const settings = () => OperatorSettings.parse(yaml.load(only(objects, 'ConfigMap')['data']['settings.yaml']));

  it('puts every namespaced object in the release namespace and labels every object', () => {
    for (const o of objects) {
      const scoped = !['ClusterRole', 'ClusterRoleBinding'].includes(o['kind']);
      if (scoped) expect(o['metadata']['namespace'], `${o['kind']}/${o['metadata']['name']}`).toBe(NAMESPACE);
      expect(o['metadata']['labels']['app.kubernetes.io/managed-by']).toBe('Helm');
    }
  });

  it('grants no wildcard and none of escalate, bind, impersonate, nor any RBAC object', () => {
    const rules = [...rulesOf(objects, 'ClusterRole'), ...rulesOf(objects, 'Role')];
    expect(rules.length).toBeGreaterThan(10);
    const values = ruleValues(rules);
    expect(values.filter((v) => v.value.includes('*'))).toEqual([]);
    expect(values.filter((v) => v.field === 'verbs' && PRIVILEGE_VERBS.includes(v.value))).toEqual([]);
    expect(values.filter((v) => v.field === 'resources' && RBAC_RESOURCES.includes(v.value.split('/')[0]!))).toEqual([]);
    expect(values.filter((v) => v.field === 'nonResourceURLs')).toEqual([]);
  });

  it('uses update only for ChatTenant status and finalizers and the leader Lease (server-side apply needs none)', () => {
    const updates = [...rulesOf(objects, 'ClusterRole'), ...rulesOf(objects, 'Role')]
      .filter((r) => r.verbs.includes('update'))
      .flatMap((r) => r.resources ?? []);
    expect(updates.sort()).toEqual(['chattenants/finalizers', 'chattenants/status', 'leases']);
  });

  it('grants every operation of the operator contract, leases only in its own namespace and by name', () => {
    const clusterRules = rulesOf(objects, 'ClusterRole');
    const role = only(objects, 'Role');
    const missing: string[] = [];
    for (const op of REQUIRED_OPERATIONS) {
      const resource = op.subresource ? `${op.resource}/${op.subresource}` : op.resource;
      const rules = op.scope === 'operator-namespace' ? (role['rules'] as typeof clusterRules) : clusterRules;
      for (const verb of op.verbs) if (!grants(rules, op.group, resource, verb, op.name)) missing.push(`${verb} ${op.group}/${resource}`);
    }
    expect(missing).toEqual([]);
    expect(grants(clusterRules, 'coordination.k8s.io', 'leases', 'get')).toBe(false);
    expect(grants(role['rules'], 'coordination.k8s.io', 'leases', 'update', 'another-lease')).toBe(false);
    expect(role['rules'].find((r: Json) => r['verbs'].includes('update'))['resourceNames']).toEqual([LEADER_LEASE]);
  });

  it('covers, with server-side apply verbs, every kind the renderer produces for any tenant', () => {
    const kinds = new Set<string>();
    fc.assert(
      fc.property(tenantName, specArbitrary, fc.boolean(), (name, spec, prometheusOperator) => {
        const tenant = tenantFixture(name, spec);
        const rendered = renderTenant({
          tenant,
          material: placeholderMaterial(tenant),
          settings: settings().prometheusOperator === prometheusOperator ? settings() : { ...settings(), prometheusOperator },
          capabilities: { cloudNativePG: true, certManager: true, prometheusOperator: true },
        });
        for (const o of rendered) kinds.add(`${o.apiVersion} ${o.kind}`);
      }),
      { numRuns: 150 },
    );
    const rules = rulesOf(objects, 'ClusterRole');
    const uncovered = [...kinds].filter((k) => {
      const [apiVersion, kind] = k.split(' ') as [string, string];
      const r = resourceFor(apiVersion, kind);
      return !['get', 'list', 'watch', 'create', 'patch', 'delete'].every((verb) => grants(rules, r.group, r.plural, verb));
    });
    expect(kinds.size).toBeGreaterThan(8);
    expect(uncovered).toEqual([]);
  });

  it('binds the ClusterRole and the Role to the operator ServiceAccount', () => {
    const sa = only(objects, 'ServiceAccount')['metadata']['name'];
    for (const kind of ['ClusterRoleBinding', 'RoleBinding']) {
      const binding = only(objects, kind);
      expect(binding['subjects']).toEqual([{ kind: 'ServiceAccount', name: sa, namespace: NAMESPACE }]);
      expect(binding['roleRef']['name']).toBe(only(objects, kind.replace('Binding', ''))['metadata']['name']);
    }
    expect(podSpec()['serviceAccountName']).toBe(sa);
  });

  it('runs a Deployment that meets Pod Security "restricted", with a read-only root filesystem', () => {
    expect(restrictedViolations(podSpec())).toEqual([]);
    expect(podSpecsOf(deployment())).toHaveLength(1);
    expect(container()['securityContext']['readOnlyRootFilesystem']).toBe(true);
    expect(podSpec()['securityContext']['runAsUser']).toBe(10001);
  });

  it('runs the operator as the contract says: args, env from the downward API, one port, probes', () => {
    expect(container()['args']).toEqual(['run', '--settings', '/etc/chat-tenant-operator/settings.yaml', '--metrics-port', '8080', '--log-level', 'info', '--resync-seconds', String(values['resyncSeconds'] ?? 600)]);
    expect(container()['command']).toBeUndefined();
    const env = Object.fromEntries(container()['env'].map((e: Json) => [e['name'], e['valueFrom']?.['fieldRef']?.['fieldPath']]));
    expect(env).toEqual({ POD_NAME: 'metadata.name', POD_NAMESPACE: 'metadata.namespace' });
    expect(container()['ports']).toEqual([{ name: 'http-metrics', containerPort: 8080, protocol: 'TCP' }]);
    expect(container()['livenessProbe']['httpGet']).toEqual({ path: '/healthz', port: 'http-metrics' });
    expect(container()['readinessProbe']['httpGet']).toEqual({ path: '/readyz', port: 'http-metrics' });
    const mount = container()['volumeMounts'].find((m: Json) => m['mountPath'] === '/etc/chat-tenant-operator');
    const volume = podSpec()['volumes'].find((v: Json) => v['name'] === mount['name']);
    expect(volume['configMap']['name']).toBe(only(objects, 'ConfigMap')['metadata']['name']);
  });

  it('spreads replicas over nodes (hard) and zones, and keeps one through a drain (PDB)', () => {
    expect(deployment()['spec']['replicas']).toBe(values['replicaCount'] ?? 2);
    const spread = podSpec()['topologySpreadConstraints'] as Json[];
    expect(spread.map((s) => [s['topologyKey'], s['whenUnsatisfiable']])).toEqual([
      ['kubernetes.io/hostname', 'DoNotSchedule'],
      ['topology.kubernetes.io/zone', 'ScheduleAnyway'],
    ]);
    const selector = deployment()['spec']['selector']['matchLabels'];
    for (const s of spread) expect(s['labelSelector']['matchLabels']).toEqual(selector);
    const pdb = only(objects, 'PodDisruptionBudget');
    expect(pdb['spec']).toEqual({ minAvailable: 1, selector: { matchLabels: selector } });
    expect(deployment()['spec']['template']['metadata']['labels']).toMatchObject(selector);
  });

  it('writes a settings file the operator accepts (strict OperatorSettings) and whose backup image is the operator image', () => {
    const s = settings();
    expect(s.operatorNamespace).toBe(NAMESPACE);
    // Backups (`chat-tenant-operator backup`) must run exactly the image the Deployment runs.
    expect(operatorImage(s)).toBe(container()['image']);
    expect(s.encryptedStorageClasses).toEqual(values['settings']?.['encryptedStorageClasses'] ?? []);
    expect(s.prometheusOperator).toBe(values['settings']?.['prometheusOperator'] ?? false);
  });

  it('rolls the pods when the settings change (checksum annotation)', async () => {
    const other = await helmTemplate(helm, { ...values, settings: { ...(values['settings'] ?? {}), clusterDomain: 'changed.local' } }, { namespace: NAMESPACE });
    const checksum = (objs: Json[]) => only(objs, 'Deployment')['spec']['template']['metadata']['annotations']['checksum/settings'];
    expect(checksum(objects)).toMatch(/^[0-9a-f]{64}$/);
    expect(checksum(other)).not.toBe(checksum(objects));
  });

  it('exposes the metrics port through a Service that selects the operator pods', () => {
    const service = objects.find((o) => o['kind'] === 'Service')!;
    expect(service['spec']['selector']).toEqual(deployment()['spec']['selector']['matchLabels']);
    expect(service['spec']['ports']).toEqual([{ name: 'http-metrics', port: 8080, targetPort: 'http-metrics', protocol: 'TCP' }]);
  });
});

describe('image references', () => {
  it('default: the public registry and the chart appVersion', async () => {
    const objects = await helmTemplate(helm);
    expect(only(objects, 'Deployment')['spec']['template']['spec']['containers'][0]['image']).toBe('ghcr.io/chat-tenant-operator/chat-tenant-operator:0.1.0');
    const settings = OperatorSettings.parse(yaml.load(only(objects, 'ConfigMap')['data']['settings.yaml']));
    expect(settings.imageRegistry).toBeUndefined();
  });

  it('air-gapped: every image reference, the operator and (through settings) every tenant image, uses the mirror', async () => {
    const objects = await helmTemplate(helm, NON_DEFAULT_VALUES);
    const images = objects.flatMap((o) => podSpecsOf(o)).flatMap((p) => [...(p['initContainers'] ?? []), ...p['containers']].map((c: Json) => c['image'] as string));
    expect(images).toEqual(['registry.stmary.local:5000/mirror/chat-tenant-operator/chat-tenant-operator:0.1.1']);
    const settings = OperatorSettings.parse(yaml.load(only(objects, 'ConfigMap')['data']['settings.yaml']));
    expect(settings.imageRegistry).toBe('registry.stmary.local:5000/mirror');
    // What the operator will put into tenant pods: render a tenant with these settings.
    const tenant = tenantFixture('mirror-check');
    const tenantImages = renderTenant({ tenant, material: placeholderMaterial(tenant), settings, capabilities: { cloudNativePG: true, certManager: true, prometheusOperator: true } })
      .flatMap((o) => podSpecsOf(o as Json))
      .flatMap((p) => [...(p['initContainers'] ?? []), ...p['containers']].map((c: Json) => c['image'] as string));
    expect(tenantImages.length).toBeGreaterThan(1);
    expect(tenantImages.filter((i) => !i.startsWith('registry.stmary.local:5000/mirror/'))).toEqual([]);
    expect(only(objects, 'Deployment')['spec']['template']['spec']['imagePullSecrets']).toEqual([{ name: 'mirror-pull' }]);
  });
});

describe('optional objects', () => {
  it('default: NetworkPolicy on; ServiceMonitor and PrometheusRule off', async () => {
    const kinds = (await helmTemplate(helm)).map((o) => o['kind']);
    expect(kinds).toContain('NetworkPolicy');
    expect(kinds).not.toContain('ServiceMonitor');
    expect(kinds).not.toContain('PrometheusRule');
  });

  it('non-default: ServiceMonitor and PrometheusRule with their labels; no NetworkPolicy', async () => {
    const objects = await helmTemplate(helm, NON_DEFAULT_VALUES);
    expect(objects.map((o) => o['kind'])).not.toContain('NetworkPolicy');
    const monitor = only(objects, 'ServiceMonitor');
    const service = objects.find((o) => o['kind'] === 'Service')!;
    expect(monitor['metadata']['labels']['release']).toBe('kube-prometheus-stack');
    expect(service['metadata']['labels']).toMatchObject(monitor['spec']['selector']['matchLabels']);
    expect(monitor['spec']['endpoints'][0]['port']).toBe(service['spec']['ports'][0]['name']);
    // The alert rules select job="chat-tenant-operator": the Service label the job name is taken from.
    expect(service['metadata']['labels'][monitor['spec']['jobLabel']]).toBe('chat-tenant-operator');
    expect(only(objects, 'PrometheusRule')['metadata']['labels']['release']).toBe('kube-prometheus-stack');
  });

  it('the operator NetworkPolicy admits only the monitoring namespace on 8080 and lets out only DNS and the API server', async () => {
    const policy = only(await helmTemplate(helm, { settings: { kubernetesApiCIDRs: ['10.0.0.10/32'] } }), 'NetworkPolicy');
    expect(policy['spec']['policyTypes']).toEqual(['Ingress', 'Egress']);
    expect(policy['spec']['ingress']).toEqual([
      { from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }], ports: [{ protocol: 'TCP', port: 8080 }] },
    ]);
    const egress = policy['spec']['egress'] as Json[];
    expect(egress).toHaveLength(2);
    expect(egress[0]!['to']).toEqual([{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }]);
    expect(egress[0]!['ports']).toEqual([{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }]);
    expect(egress[1]).toEqual({ to: [{ ipBlock: { cidr: '10.0.0.10/32' } }], ports: [{ protocol: 'TCP', port: 443 }, { protocol: 'TCP', port: 6443 }] });
  });

  it('lets the operator reach the directories it checks only where they are listed, on their ports only', async () => {
    const policy = only(await helmTemplate(helm, { networkPolicy: { directoryEgress: { cidrs: ['10.20.0.10/32', '10.20.0.11/32'], ports: [636] } } }), 'NetworkPolicy');
    const egress = policy['spec']['egress'] as Json[];
    expect(egress).toHaveLength(3);
    expect(egress[2]).toEqual({ to: [{ ipBlock: { cidr: '10.20.0.10/32' } }, { ipBlock: { cidr: '10.20.0.11/32' } }], ports: [{ protocol: 'TCP', port: 636 }] });
    // Addresses without ports would open every port to them: refused at install.
    const lint = await helmLint(helm, { networkPolicy: { directoryEgress: { cidrs: ['10.20.0.10/32'] } } });
    expect(lint.code, lint.output).not.toBe(0);
  });

  it('a single replica gets no PodDisruptionBudget (it could never be evicted)', async () => {
    const kinds = (await helmTemplate(helm, { replicaCount: 1 })).map((o) => o['kind']);
    expect(kinds).not.toContain('PodDisruptionBudget');
  });
});
