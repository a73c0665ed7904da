/**
 * Tests of the local control plane itself, against the real processes started by
 * test/harness/global-setup.ts: if these pass, the operator's integration tests run on a
 * cluster whose API server, admission, controllers, scheduler and nodes behave like a real one.
 */
import * as k8s from "@kubernetes/client-node";
import { afterAll, describe, test } from "vitest";
import { httpGet } from "../../src/controlplane/health.js";
import { FAKE_NODE_LABEL } from "../../src/controlplane/fake-nodes.js";
import { KWOK_STORAGE_CLASS } from "../../src/controlplane/fake-storage.js";
import { KUBERNETES_VERSION } from "../../src/controlplane/versions.js";
import {
  apiMessage,
  apiStatus,
  createTestNamespace,
  deleteNamespaceAndWait,
  eventually,
  sharedControlPlane,
  sharedKubeConfig,
  startPrivateControlPlane,
  tlsCredentials,
  uniqueName,
} from "../harness/kube.js";

const kc = sharedKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
const apps = kc.makeApiClient(k8s.AppsV1Api);
const batch = kc.makeApiClient(k8s.BatchV1Api);
const apiext = kc.makeApiClient(k8s.ApiextensionsV1Api);
const custom = kc.makeApiClient(k8s.CustomObjectsApi);

/** Never pulled: kwok simulates containers, so any well-formed image reference works. */
const IMAGE = "registry.invalid/chat-tenant-operator/harness:1";

/** Passes Pod Security "restricted". */
const restrictedSecurityContext: k8s.V1SecurityContext = {
  runAsNonRoot: true,
  runAsUser: 10001,
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
};

const namespacesToDelete: string[] = [];
afterAll(async () => {
  await Promise.all(namespacesToDelete.map((ns) => deleteNamespaceAndWait(kc, ns).catch(() => {})));
});

async function testNamespace(prefix: string, labels?: Record<string, string>): Promise<string> {
  const name = await createTestNamespace(kc, prefix, labels);
  namespacesToDelete.push(name);
  return name;
}

// Independent tests in their own namespaces: run concurrently so the CronJob's wait for
// the next minute boundary overlaps the rest.
describe.concurrent("local control plane", () => {
  test("/version reports the pinned release and /readyz is ok", async ({ expect }) => {
    const version = await kc.makeApiClient(k8s.VersionApi).getCode();
    expect(version.gitVersion).toBe(`v${KUBERNETES_VERSION}`);
    expect(version.major).toBe(KUBERNETES_VERSION.split(".")[0]);
    expect(version.minor).toBe(KUBERNETES_VERSION.split(".")[1]);

    const readyz = await httpGet(`${sharedControlPlane().server}/readyz?verbose`, tlsCredentials(kc));
    expect(readyz.status).toBe(200);
    expect(readyz.body).toContain("readyz check passed");
    expect(readyz.body).toContain("[+]etcd ok");
  });

  test("three simulated nodes are Ready, one per zone", async ({ expect }) => {
    const nodes = await core.listNode({ labelSelector: `${FAKE_NODE_LABEL}=true` });
    const ready = nodes.items.filter((n) => n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"));
    expect(ready).toHaveLength(3);
    const zones = new Set(ready.map((n) => n.metadata?.labels?.["topology.kubernetes.io/zone"]));
    expect(zones).toEqual(new Set(["zone-a", "zone-b", "zone-c"]));
  });

  test("a CRD validates its custom resources with OpenAPI schema and CEL", async ({ expect }) => {
    const group = `${uniqueName("g")}.harness.chat-tenant-operator.dev`;
    const crdName = `widgets.${group}`;
    await apiext.createCustomResourceDefinition({
      body: {
        metadata: { name: crdName },
        spec: {
          group,
          scope: "Cluster",
          names: { plural: "widgets", singular: "widget", kind: "Widget", listKind: "WidgetList" },
          versions: [
            {
              name: "v1",
              served: true,
              storage: true,
              schema: {
                openAPIV3Schema: {
                  type: "object",
                  properties: {
                    spec: {
                      type: "object",
                      required: ["size"],
                      properties: {
                        size: { type: "integer", minimum: 1, maximum: 10 },
                        minReplicas: { type: "integer" },
                        maxReplicas: { type: "integer" },
                      },
                      // client-node's model name; it is sent as x-kubernetes-validations.
                      x_kubernetes_validations: [
                        { rule: "self.minReplicas <= self.maxReplicas", message: "minReplicas must not exceed maxReplicas" },
                      ],
                    },
                  },
                },
              },
            },
          ],
        },
      },
    });
    try {
      await eventually(`CRD ${crdName} Established`, async () => {
        const crd = await apiext.readCustomResourceDefinition({ name: crdName });
        return crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True");
      });
      const widget = (name: string, spec: Record<string, unknown>) => ({
        apiVersion: `${group}/v1`,
        kind: "Widget",
        metadata: { name },
        spec,
      });
      const create = (body: object) => custom.createClusterCustomObject({ group, version: "v1", plural: "widgets", body });

      // Established can precede the REST endpoint by a moment, so the first create may 404.
      await eventually("valid Widget accepted", () => create(widget("valid", { size: 3, minReplicas: 1, maxReplicas: 2 })));
      const stored = (await custom.getClusterCustomObject({ group, version: "v1", plural: "widgets", name: "valid" })) as {
        spec: { size: number };
      };
      expect(stored.spec.size).toBe(3);

      const schemaError = await create(widget("too-big", { size: 11, minReplicas: 1, maxReplicas: 2 })).catch((e: unknown) => e);
      expect(apiStatus(schemaError)).toBe(422);
      expect(apiMessage(schemaError)).toContain("spec.size");

      const celError = await create(widget("inverted", { size: 1, minReplicas: 3, maxReplicas: 2 })).catch((e: unknown) => e);
      expect(apiStatus(celError)).toBe(422);
      expect(apiMessage(celError)).toContain("minReplicas must not exceed maxReplicas");
    } finally {
      await apiext.deleteCustomResourceDefinition({ name: crdName });
    }
  });

  test("a StatefulSet with volume claims gets bound volumes, Pods spread over zones, Running and Ready", async ({
    expect,
  }) => {
    const namespace = await testNamespace("sts");
    const labels = { app: "harness-web" };
    await apps.createNamespacedStatefulSet({
      namespace,
      body: {
        metadata: { name: "web" },
        spec: {
          serviceName: "web",
          replicas: 3,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              affinity: {
                podAntiAffinity: {
                  requiredDuringSchedulingIgnoredDuringExecution: [
                    { labelSelector: { matchLabels: labels }, topologyKey: "topology.kubernetes.io/zone" },
                  ],
                },
              },
              containers: [
                {
                  name: "web",
                  image: IMAGE,
                  resources: { requests: { cpu: "100m", memory: "64Mi" } },
                  volumeMounts: [{ name: "data", mountPath: "/data" }],
                },
              ],
            },
          },
          // No storageClassName: the default class (kwok-volume) must provision and bind these.
          volumeClaimTemplates: [
            {
              metadata: { name: "data" },
              spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
            },
          ],
        },
      },
    });

    const sts = await eventually(
      "StatefulSet web readyReplicas == 3",
      async () => {
        const s = await apps.readNamespacedStatefulSet({ name: "web", namespace });
        return s.status?.readyReplicas === 3 ? s : undefined;
      },
      90_000,
    );
    expect(sts.status?.replicas).toBe(3);

    const pods = await core.listNamespacedPod({ namespace, labelSelector: "app=harness-web" });
    expect(pods.items).toHaveLength(3);
    for (const pod of pods.items) {
      expect(pod.status?.phase).toBe("Running");
      expect(pod.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
    }
    const claims = await core.listNamespacedPersistentVolumeClaim({ namespace });
    expect(claims.items.map((c) => [c.metadata?.name, c.spec?.storageClassName, c.status?.phase]).sort()).toEqual([
      ["data-web-0", KWOK_STORAGE_CLASS, "Bound"],
      ["data-web-1", KWOK_STORAGE_CLASS, "Bound"],
      ["data-web-2", KWOK_STORAGE_CLASS, "Bound"],
    ]);

    const nodes = await core.listNode({ labelSelector: `${FAKE_NODE_LABEL}=true` });
    const zoneOf = new Map(nodes.items.map((n) => [n.metadata?.name, n.metadata?.labels?.["topology.kubernetes.io/zone"]]));
    const zones = new Set(pods.items.map((p) => zoneOf.get(p.spec?.nodeName)));
    // Required zone anti-affinity: only possible with one Pod in each of the three zones.
    expect(zones).toEqual(new Set(["zone-a", "zone-b", "zone-c"]));
  });

  test("a CronJob runs a Job to completion; deleting it garbage-collects Jobs and Pods; the namespace then deletes", async ({
    expect,
  }) => {
    const namespace = await testNamespace("cron");
    const cronJob = await batch.createNamespacedCronJob({
      namespace,
      body: {
        metadata: { name: "tick" },
        spec: {
          // The shortest schedule cron has: the first run starts at the next minute boundary.
          schedule: "* * * * *",
          concurrencyPolicy: "Forbid",
          jobTemplate: {
            spec: {
              backoffLimit: 0,
              template: {
                spec: { restartPolicy: "Never", containers: [{ name: "tick", image: IMAGE }] },
              },
            },
          },
        },
      },
    });

    // kwok's pod-complete Stage moves Running Pods owned by a Job to Succeeded.
    const job = await eventually(
      "a Job created by the CronJob to complete",
      async () => {
        const jobs = await batch.listNamespacedJob({ namespace });
        return jobs.items.find(
          (j) =>
            j.metadata?.ownerReferences?.some((o) => o.kind === "CronJob" && o.uid === cronJob.metadata?.uid) &&
            j.status?.conditions?.some((c) => c.type === "Complete" && c.status === "True"),
        );
      },
      100_000,
    );
    const jobName = job.metadata!.name!;
    const jobPods = await core.listNamespacedPod({ namespace, labelSelector: `batch.kubernetes.io/job-name=${jobName}` });
    expect(jobPods.items.length).toBeGreaterThanOrEqual(1);
    expect(jobPods.items.map((p) => p.status?.phase)).toContain("Succeeded");

    await batch.deleteNamespacedCronJob({ name: "tick", namespace, propagationPolicy: "Background" });
    await eventually("the garbage collector to delete the CronJob's Jobs and their Pods", async () => {
      const [jobs, pods] = await Promise.all([
        batch.listNamespacedJob({ namespace }),
        core.listNamespacedPod({ namespace }),
      ]);
      return jobs.items.length === 0 && pods.items.length === 0;
    });

    await deleteNamespaceAndWait(kc, namespace);
    const gone = await core.readNamespace({ name: namespace }).catch((e: unknown) => e);
    expect(apiStatus(gone)).toBe(404);
  });

  test("Pod Security 'restricted' rejects a non-compliant Pod and admits a compliant one", async ({ expect }) => {
    const namespace = await testNamespace("pss", {
      "pod-security.kubernetes.io/enforce": "restricted",
      "pod-security.kubernetes.io/enforce-version": "latest",
    });
    const pod = (name: string, securityContext?: k8s.V1SecurityContext): k8s.V1Pod => ({
      metadata: { name },
      spec: { containers: [{ name: "app", image: IMAGE, ...(securityContext ? { securityContext } : {}) }] },
    });

    const rejected = await core
      .createNamespacedPod({ namespace, body: pod("privileged", { privileged: true }) })
      .catch((e: unknown) => e);
    expect(apiStatus(rejected)).toBe(403);
    expect(apiMessage(rejected)).toContain('violates PodSecurity "restricted:latest"');
    expect(apiMessage(rejected)).toContain("privileged");

    const admitted = await core.createNamespacedPod({ namespace, body: pod("restricted", restrictedSecurityContext) });
    expect(admitted.metadata?.uid).toBeTruthy();
  });

  test("the API server restarts on the same port with its data, and the controllers carry on", async ({ expect }) => {
    // Private: stopping the shared API server would break the tests running next to this one.
    const controlPlane = await startPrivateControlPlane();
    try {
      const privateKc = controlPlane.kubeConfig();
      const privateCore = privateKc.makeApiClient(k8s.CoreV1Api);
      const privateApps = privateKc.makeApiClient(k8s.AppsV1Api);
      await privateCore.createNamespacedConfigMap({
        namespace: "default",
        body: { metadata: { name: "survives-restart" }, data: { answer: "42" } },
      });

      await controlPlane.stopApiServer();
      const whileDown = await privateCore.readNamespace({ name: "default" }).catch((e: unknown) => e);
      expect(whileDown).toBeInstanceOf(Error);
      expect(apiStatus(whileDown)).toBeUndefined(); // no HTTP answer at all: nothing listens

      await controlPlane.startApiServer();
      const configMap = await privateCore.readNamespacedConfigMap({ name: "survives-restart", namespace: "default" });
      expect(configMap.data?.answer).toBe("42");

      // Controller-manager, scheduler and kwok reconnected: a new Deployment becomes ready.
      const labels = { app: "after-restart" };
      await privateApps.createNamespacedDeployment({
        namespace: "default",
        body: {
          metadata: { name: "after-restart" },
          spec: {
            replicas: 2,
            selector: { matchLabels: labels },
            template: { metadata: { labels }, spec: { containers: [{ name: "app", image: IMAGE }] } },
          },
        },
      });
      await eventually(
        "Deployment after-restart to have 2 ready replicas",
        async () =>
          (await privateApps.readNamespacedDeployment({ name: "after-restart", namespace: "default" })).status
            ?.readyReplicas === 2,
        90_000,
      );
    } finally {
      await controlPlane.stop();
    }
  });
});
