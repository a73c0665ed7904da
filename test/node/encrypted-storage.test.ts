// On the real node, the StorageClass encrypted-local-path keeps volumes encrypted at rest: what a
// Pod writes there reads back through the volume, but the raw device (the loop file under the ext4
// file system) never holds it in clear. A control file in the same file system, outside the
// encrypted directory, shows that the raw check would see plaintext if it were there.
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as k8s from "@kubernetes/client-node";
import { createTestNamespace, deleteNamespaceAndWait } from "../harness/kube.js";
import { ENCRYPTED_STORAGE_CLASS, ENCRYPTED_STORAGE_CLASS_ANNOTATION } from "../../src/controlplane/node/addons.js";
import { createPod, nodeKubeConfig, podLogs, realNode, restrictedContainer, waitForPodSucceeded } from "./support/pods.js";

const kc = nodeKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
let namespace = "";

beforeAll(async () => {
  namespace = await createTestNamespace(kc, "node-encrypted");
});
afterAll(async () => {
  if (namespace) await deleteNamespaceAndWait(kc, namespace, 120_000);
});

function rawDeviceContains(marker: string): boolean {
  const { backingFile, mountPoint } = realNode().encryptedVolumes;
  // Flush this file system's dirty pages to the loop device, hence to the backing file.
  execFileSync("sync", ["-f", mountPoint]);
  return readFileSync(backingFile).includes(marker);
}

describe("the encrypted StorageClass", () => {
  it("is marked encrypted for the operator", async () => {
    const storage = kc.makeApiClient(k8s.StorageV1Api);
    const sc = await storage.readStorageClass({ name: ENCRYPTED_STORAGE_CLASS });
    expect(sc.metadata?.annotations?.[ENCRYPTED_STORAGE_CLASS_ANNOTATION]).toBe("true");
  });

  it("stores a Pod's data encrypted on the raw device", async () => {
    const marker = `PLAINTEXT-MARKER-${randomBytes(8).toString("hex")}`;
    await core.createNamespacedPersistentVolumeClaim({
      namespace,
      body: {
        metadata: { name: "secret" },
        spec: { storageClassName: ENCRYPTED_STORAGE_CLASS, accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "16Mi" } } },
      },
    });
    const pod = (name: string, script: string): k8s.V1Pod => ({
      metadata: { name },
      spec: {
        restartPolicy: "Never",
        containers: [{ ...restrictedContainer("main", realNode().images.debian, ["/bin/sh", "-c", script]), volumeMounts: [{ name: "data", mountPath: "/data" }] }],
        volumes: [{ name: "data", persistentVolumeClaim: { claimName: "secret" } }],
      },
    });
    // Many copies, so the marker would be found in clear even across block boundaries.
    await createPod(kc, namespace, pod("writer", `for i in $(seq 200); do echo ${marker}; done > /data/record && sync`));
    await waitForPodSucceeded(kc, namespace, "writer", 120_000);
    await createPod(kc, namespace, pod("reader", "head -n 1 /data/record"));
    await waitForPodSucceeded(kc, namespace, "reader");
    expect(await podLogs(kc, namespace, "reader")).toContain(marker);
    expect(rawDeviceContains(marker)).toBe(false);

    const control = `${realNode().encryptedVolumes.mountPoint}/control-${randomBytes(4).toString("hex")}`;
    const controlMarker = `CONTROL-MARKER-${randomBytes(8).toString("hex")}`;
    writeFileSync(control, `${controlMarker}\n`.repeat(200));
    try {
      expect(rawDeviceContains(controlMarker)).toBe(true);
    } finally {
      rmSync(control, { force: true });
    }
  });
});
