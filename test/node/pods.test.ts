// On the real node, a Pod from a locally built image really runs: its process prints, the kubelet
// serves its logs and exec through the API server, and it has an address from the CNI bridge.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestNamespace, deleteNamespaceAndWait } from "../harness/kube.js";
import { NODE_POD_CIDR } from "../../src/controlplane/node/component-config.js";
import { createPod, execInPod, nodeKubeConfig, podLogs, realNode, restrictedContainer, waitForPodReady } from "./support/pods.js";

const kc = nodeKubeConfig();
let namespace = "";

beforeAll(async () => {
  namespace = await createTestNamespace(kc, "node-pods");
});
afterAll(async () => {
  if (namespace) await deleteNamespaceAndWait(kc, namespace, 120_000);
});

describe("a Pod on the real node", () => {
  it("runs from a locally built image, with logs and exec through the API server", async () => {
    const { images, nodeName } = realNode();
    await createPod(kc, namespace, {
      metadata: { name: "hello" },
      spec: { containers: [restrictedContainer("main", images.debian, ["/bin/sh", "-c", "echo hello from $(hostname); exec sleep 3600"])] },
    });
    const pod = await waitForPodReady(kc, namespace, "hello");
    expect(pod.spec?.nodeName).toBe(nodeName);
    const prefix = NODE_POD_CIDR.split(".").slice(0, 3).join(".");
    expect(pod.status?.podIP?.startsWith(`${prefix}.`)).toBe(true);
    expect(await podLogs(kc, namespace, "hello")).toContain("hello from hello");

    const exec = await execInPod(kc, namespace, "hello", "main", ["/bin/sh", "-c", "id -u; cat /proc/1/cmdline | tr '\\0' ' '"]);
    expect(exec.status).toBe("Success");
    expect(exec.stdout).toContain("65534");
    expect(exec.stdout).toContain("sleep 3600");
  });
});
