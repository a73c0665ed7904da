// On the real node, cluster DNS (CoreDNS as kube-dns) answers Service names inside Pods, and the
// `kubernetes` Service leads to the API server (the node-mode endpoint reconciler at work).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as k8s from "@kubernetes/client-node";
import { createTestNamespace, deleteNamespaceAndWait, eventually } from "../harness/kube.js";
import { createPod, execInPod, nodeKubeConfig, realNode, restrictedContainer, waitForPodReady } from "./support/pods.js";

const kc = nodeKubeConfig();
const core = kc.makeApiClient(k8s.CoreV1Api);
let namespace = "";

beforeAll(async () => {
  namespace = await createTestNamespace(kc, "node-dns");
});
afterAll(async () => {
  if (namespace) await deleteNamespaceAndWait(kc, namespace, 120_000);
});

describe("cluster DNS on the real node", () => {
  it("resolves Service names in a Pod", async () => {
    const service = await core.createNamespacedService({
      namespace,
      body: { metadata: { name: "answer" }, spec: { selector: { app: "nothing" }, ports: [{ port: 80, targetPort: 8080 }] } },
    });
    await createPod(kc, namespace, {
      metadata: { name: "client" },
      spec: { containers: [restrictedContainer("main", realNode().images.debian, ["sleep", "3600"])] },
    });
    await waitForPodReady(kc, namespace, "client");

    const lookup = (name: string) => execInPod(kc, namespace, "client", "main", ["getent", "hosts", name]);
    // The short name through the Pod's search path, and the fully qualified one.
    const short = await eventually("the short Service name to resolve", async () => {
      const r = await lookup("answer");
      return r.status === "Success" ? r : false;
    });
    expect(short.stdout).toContain(service.spec!.clusterIP!);
    expect((await lookup(`answer.${namespace}.svc.cluster.local`)).stdout).toContain(service.spec!.clusterIP!);
    expect((await lookup("kubernetes.default.svc.cluster.local")).stdout).toContain("10.0.0.1");
    // A name that does not exist does not resolve (and nothing is asked outside the cluster).
    expect((await lookup(`missing.${namespace}.svc.cluster.local`)).status).not.toBe("Success");
  });

  it("routes the kubernetes Service to the API server", async () => {
    const result = await execInPod(kc, namespace, "client", "main", [
      "bash", "-c", "timeout 5 bash -c 'exec 3<>/dev/tcp/10.0.0.1/443' && echo open",
    ]);
    expect(result.stdout).toContain("open");
  });
});
