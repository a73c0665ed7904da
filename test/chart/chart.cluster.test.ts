// The chart on the real local control plane (test/harness: etcd, kube-apiserver 1.34, controllers,
// scheduler, kwok nodes in three zones):
//  - every rendered object passes the API server's validation in a server-side dry run, ServiceMonitor and
//    PrometheusRule included (their CRDs come from the Prometheus Operator release module);
//  - a real `helm install` in a namespace that enforces Pod Security "restricted" gets its replicas
//    admitted, scheduled on different nodes, and Available;
//  - the installed RBAC is asked through SubjectAccessReviews, so the API server's own RBAC authorizer says
//    what the operator's ServiceAccount may and may not do.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { prometheusOperatorCrds } from '../../scripts/chart-tools/prometheus-operator-crds.js';
import { run } from '../../scripts/chart-tools/cache.js';
import { apiMessage, createTestNamespace, deleteNamespaceAndWait, eventually, sharedControlPlane, sharedKubeConfig, uniqueName } from '../harness/kube.js';
import { KubeClient } from '../../src/kube/client.js';
import { Applier } from './support/apply.js';
import { CHART_DIR, NON_DEFAULT_VALUES, helmTemplate, type Json } from './support/chart.js';
import { serviceAccountKubeconfig, startOperatorProcess } from './support/operator-process.js';
import { FORBIDDEN_OPERATIONS, REQUIRED_OPERATIONS, type Operation } from './support/operator-contract.js';
import './provided-context.js';

const helm = inject('helmBinary');
const kc = sharedKubeConfig();
const applier = new Applier(new KubeClient(kc, 'chart-test'));
const apiext = kc.makeApiClient(k8s.ApiextensionsV1Api);
const apps = kc.makeApiClient(k8s.AppsV1Api);
const core = kc.makeApiClient(k8s.CoreV1Api);
const authz = kc.makeApiClient(k8s.AuthorizationV1Api);

const namespaces: string[] = [];
let helmHome = '';

async function serverSideApply(object: Json, dryRun: boolean): Promise<void> {
  await applier.apply(object, { dryRun });
}

/** helm with its own config/cache directories and the control plane's kubeconfig, nothing from the caller. */
function runHelm(args: string[]) {
  return run(helm, [...args, '--kubeconfig', sharedControlPlane().kubeconfigPath], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: helmHome, HELM_CACHE_HOME: path.join(helmHome, 'cache'), HELM_CONFIG_HOME: path.join(helmHome, 'config'), HELM_DATA_HOME: path.join(helmHome, 'data') },
  });
}

beforeAll(async () => {
  helmHome = await mkdtemp(path.join(os.tmpdir(), 'cto-helm-home-'));
  // Installed for real (a dry run of a custom resource needs its CRD registered) and left in place:
  // other tests of this run may use them too, and applying them again is a no-op.
  const crds = await prometheusOperatorCrds(process.env);
  for (const text of Object.values(crds)) {
    const crd = yaml.load(text) as Json;
    await serverSideApply(crd, false);
    await eventually(`CRD ${crd['metadata']['name']} Established`, async () => {
      const live = await apiext.readCustomResourceDefinition({ name: crd['metadata']['name'] });
      return live.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
    });
  }
});

afterAll(async () => {
  await Promise.all(namespaces.map((ns) => deleteNamespaceAndWait(kc, ns).catch(() => {})));
  if (helmHome) await rm(helmHome, { recursive: true, force: true });
});

async function namespace(prefix: string, labels: Record<string, string> = {}): Promise<string> {
  const ns = await createTestNamespace(kc, prefix, labels);
  namespaces.push(ns);
  return ns;
}

describe('server-side dry run of the rendered chart', () => {
  it.each([
    ['default values', {} as Json],
    ['non-default values (air-gapped registry, ServiceMonitor and PrometheusRule on, network policy off)', NON_DEFAULT_VALUES],
    ['network policy with API server CIDRs', { settings: { kubernetesApiCIDRs: ['10.0.0.1/32', 'fd00::1/128'] } }],
  ])('the API server accepts every object with %s', async (_name, values) => {
    const ns = await namespace('chart-dry-run');
    const objects = await helmTemplate(helm, values, { namespace: ns, release: uniqueName('cto') });
    const refused: string[] = [];
    for (const object of objects) {
      try {
        await serverSideApply(object, true);
      } catch (error) {
        refused.push(`${object['kind']}/${object['metadata']['name']}: ${apiMessage(error)}`);
      }
    }
    expect(refused).toEqual([]);
    const kinds = new Set(objects.map((o) => o['kind']));
    if (values === NON_DEFAULT_VALUES) expect([...kinds]).toEqual(expect.arrayContaining(['ServiceMonitor', 'PrometheusRule']));
  });
});

describe('helm install on the control plane', () => {
  const release = uniqueName('cto');
  let ns = '';
  let serviceAccount = '';

  beforeAll(async () => {
    // The namespace enforces Pod Security "restricted": the real admission plugin checks the pods.
    ns = await namespace('chart-install', { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'latest' });
    const values = { ...NON_DEFAULT_VALUES, networkPolicy: { enabled: true } };
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'cto-install-values-'));
    try {
      const file = path.join(tmp, 'values.yaml');
      await writeFile(file, yaml.dump(values));
      const result = await runHelm(['install', release, CHART_DIR, '--namespace', ns, '-f', file]);
      expect(result.code, result.stdout + result.stderr).toBe(0);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
    serviceAccount = `${release}-chat-tenant-operator`;
  });

  afterAll(async () => {
    if (ns) await runHelm(['uninstall', release, '--namespace', ns]);
  });

  it('admits the operator pods under Pod Security "restricted", spreads them over nodes, and becomes Available', async () => {
    const name = `${release}-chat-tenant-operator`;
    const deployment = await eventually(
      `Deployment ${name} available with 3 replicas`,
      async () => {
        const d = await apps.readNamespacedDeployment({ name, namespace: ns });
        return d.status?.availableReplicas === 3 ? d : undefined;
      },
      120_000,
    ).catch(async (error: Error) => {
      // Say why: a Pod Security refusal shows up as FailedCreate on the ReplicaSet.
      const events = await core.listNamespacedEvent({ namespace: ns });
      throw new Error(`${error.message}\n${events.items.map((e) => `${e.involvedObject.kind}/${e.involvedObject.name}: ${e.reason}: ${e.message}`).join('\n')}`);
    });
    const selector = Object.entries(deployment.spec!.selector.matchLabels!).map(([k, v]) => `${k}=${v}`).join(',');
    const pods = await core.listNamespacedPod({ namespace: ns, labelSelector: selector });
    const nodes = pods.items.filter((p) => p.status?.phase === 'Running').map((p) => p.spec?.nodeName);
    expect(nodes).toHaveLength(3);
    expect(new Set(nodes).size).toBe(3);
  });

  async function allowed(op: Operation, verb: string): Promise<boolean> {
    const namespace = op.scope === 'cluster' ? undefined : op.scope === 'operator-namespace' ? ns : 'some-tenant';
    const review = await authz.createSubjectAccessReview({
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: `system:serviceaccount:${ns}:${serviceAccount}`,
          groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'],
          resourceAttributes: {
            group: op.group,
            resource: op.resource,
            verb,
            ...(op.subresource ? { subresource: op.subresource } : {}),
            ...(namespace ? { namespace } : {}),
            ...(op.name ? { name: op.name } : {}),
          },
        },
      },
    });
    return review.status?.allowed === true;
  }

  it('lets the operator ServiceAccount do every operation of its contract (API server RBAC authorizer)', async () => {
    const denied: string[] = [];
    for (const op of REQUIRED_OPERATIONS) for (const verb of op.verbs) if (!(await allowed(op, verb))) denied.push(`${verb} ${op.group}/${op.resource}${op.subresource ? `/${op.subresource}` : ''} (${op.scope})`);
    expect(denied).toEqual([]);
  });

  it('runs the operator with the chart\'s settings, arguments and ServiceAccount: it syncs, leads and reconciles a tenant without a Forbidden', async () => {
    const work = await mkdtemp(path.join(os.tmpdir(), 'cto-operator-'));
    const settingsMap = await core.readNamespacedConfigMap({ name: `${release}-chat-tenant-operator-settings`, namespace: ns });
    await writeFile(path.join(work, 'settings.yaml'), settingsMap.data!['settings.yaml']!);
    await serviceAccountKubeconfig(kc, ns, serviceAccount, path.join(work, 'kubeconfig'));
    const deployment = await apps.readNamespacedDeployment({ name: `${release}-chat-tenant-operator`, namespace: ns });
    const operator = await startOperatorProcess({
      deployment: JSON.parse(JSON.stringify(deployment)) as Json,
      settingsFile: path.join(work, 'settings.yaml'),
      kubeconfigFile: path.join(work, 'kubeconfig'),
      podName: `${release}-process-test`,
      podNamespace: ns,
    });
    const tenant = uniqueName('chart-rbac');
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    const storage = kc.makeApiClient(k8s.StorageV1Api);
    // A class the platform vouches for (the annotation of the settings); volumes stay Pending without a
    // provisioner, which does not matter here: the test is about what the operator may write.
    const storageClass = uniqueName('chart-encrypted');
    await storage.createStorageClass({
      body: { metadata: { name: storageClass, annotations: { 'chat.tenant-operator.dev/encrypted': 'true' } }, provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'WaitForFirstConsumer' },
    });
    try {
      const metrics = () => fetch(`http://127.0.0.1:${operator.metricsPort}/metrics`).then((r) => r.text());
      await eventually('/readyz 200 (every informer synced with the chart RBAC)', async () => (await fetch(`http://127.0.0.1:${operator.metricsPort}/readyz`)).status === 200, 90_000).catch((e: Error) => {
        throw new Error(`${e.message}\n${operator.output()}`);
      });
      await eventually('the leader Lease held by the process', async () => /^chat_tenant_operator_leader 1$/m.test(await metrics()), 60_000);
      await custom.createClusterCustomObject({
        group: 'chat.tenant-operator.dev',
        version: 'v1alpha1',
        plural: 'chattenants',
        body: {
          apiVersion: 'chat.tenant-operator.dev/v1alpha1',
          kind: 'ChatTenant',
          metadata: { name: tenant },
          spec: { displayName: 'Chart RBAC', xmppDomains: [`chat.${tenant}.example`], database: { provider: 'standalone', storage: { storageClassName: storageClass } } },
        },
      });
      // Its namespace, objects in it, a finalizer and a status: every write kind of the reconcile happened.
      await eventually(`tenant ${tenant} reconciled`, async () => {
        const live = (await custom.getClusterCustomObject({ group: 'chat.tenant-operator.dev', version: 'v1alpha1', plural: 'chattenants', name: tenant })) as Json;
        const secrets = await core.listNamespacedSecret({ namespace: tenant });
        return (live['metadata']['finalizers'] ?? []).length > 0 && (live['status']?.['conditions'] ?? []).length > 0 && secrets.items.length > 0;
      }, 90_000).catch((e: Error) => {
        throw new Error(`${e.message}\n${operator.output()}`);
      });
      await custom.deleteClusterCustomObject({ group: 'chat.tenant-operator.dev', version: 'v1alpha1', plural: 'chattenants', name: tenant });
      await eventually(`tenant ${tenant} finalized and gone`, async () => {
        try {
          await custom.getClusterCustomObject({ group: 'chat.tenant-operator.dev', version: 'v1alpha1', plural: 'chattenants', name: tenant });
          return false;
        } catch (error) {
          return (error as { code?: number }).code === 404;
        }
      }, 90_000);
      expect(operator.output()).not.toMatch(/forbidden|\b403\b/i);
    } finally {
      expect(await operator.stop()).toBe(0);
      namespaces.push(tenant);
      await storage.deleteStorageClass({ name: storageClass }).catch(() => {});
      await rm(work, { recursive: true, force: true });
    }
  });

  it('refuses what the operator must never do', async () => {
    const granted: string[] = [];
    for (const op of FORBIDDEN_OPERATIONS) for (const verb of op.verbs) if (await allowed(op, verb)) granted.push(`${verb} ${op.group}/${op.resource}${op.subresource ? `/${op.subresource}` : ''}${op.name ? ` ${op.name}` : ''} (${op.scope})`);
    expect(granted).toEqual([]);
  });
});
