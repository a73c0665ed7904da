// On the real node, a PersistentVolumeClaim of the default class (local-path) binds, and what a
// Pod writes on it is still there for the next Pod after the first one is deleted.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as k8s from "@kubernetes/client-node";
import { createTestNamespace, deleteNamespaceAndWait, eventually } from "../harness/kube.js";
import { createPod, nodeKubeConfig, podLogs, realNode, restrictedContainer, waitForPodSucceeded } from "./support/pods.js";

const kc = nodeKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
let namespace = "";

beforeAll(async () => {
  namespace = await createTestNamespace(kc, "node-storage");
});
afterAll(async () => {
  if (namespace) await deleteNamespaceAndWait(kc, namespace, 120_000);
});

function podOnClaim(name: string, script: string): k8s.V1Pod {
  return {
    metadata: { name },
    spec: {
      restartPolicy: "Never",
      containers: [{ ...restrictedContainer("main", realNode().images.debian, ["/bin/sh", "-c", script]), volumeMounts: [{ name: "data", mountPath: "/data" }] }],
      volumes: [{ name: "data", persistentVolumeClaim: { claimName: "data" } }],
    },
  };
}

describe("storage on the real node", () => {
  it("binds a PVC through local-path and keeps its data across Pods", async () => {
    await core.createNamespacedPersistentVolumeClaim({
      namespace,
      body: { metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "64Mi" } } } },
    });
    await createPod(kc, namespace, podOnClaim("writer", "echo kept-across-pods > /data/proof && echo written"));
    await waitForPodSucceeded(kc, namespace, "writer", 120_000);
    const claim = await core.readNamespacedPersistentVolumeClaim({ name: "data", namespace });
    expect(claim.status?.phase).toBe("Bound");
    expect(claim.spec?.storageClassName).toBe("local-path");

    await core.deleteNamespacedPod({ name: "writer", namespace });
    await eventually("the writer Pod to be gone", async () => {
      try {
        await core.readNamespacedPod({ name: "writer", namespace });
        return false;
      } catch {
        return true;
      }
    });
    await createPod(kc, namespace, podOnClaim("reader", "cat /data/proof"));
    await waitForPodSucceeded(kc, namespace, "reader");
    expect(await podLogs(kc, namespace, "reader")).toContain("kept-across-pods");
  });
});
