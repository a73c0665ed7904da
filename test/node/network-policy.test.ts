// On the real node, NetworkPolicies are enforced (kube-router's firewall): a default-deny policy
// really blocks Pod-to-Pod traffic, and an allow policy opens it again for the Pods it names only.
// All traffic stays on this machine: Pod addresses of the node's own bridge.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as k8s from "@kubernetes/client-node";
import { createTestNamespace, deleteNamespaceAndWait, eventually } from "../harness/kube.js";
import { createPod, execInPod, nodeKubeConfig, realNode, restrictedContainer, waitForPodReady } from "./support/pods.js";

const kc = nodeKubeConfig();
const networking = kc.makeApiClient(k8s.NetworkingV1Api);
let namespace = "";
let serverIp = "";
const PORT = 1053;

beforeAll(async () => {
  namespace = await createTestNamespace(kc, "node-netpol");
  const { images } = realNode();
  // CoreDNS without a Corefile answers every query (`whoami`) on the port it is given: a TCP server.
  await createPod(kc, namespace, {
    metadata: { name: "server", labels: { app: "server" } },
    spec: { containers: [restrictedContainer("main", images.coredns, ["/coredns", `-dns.port=${PORT}`])] },
  });
  for (const [name, role] of [["allowed", "client"], ["other", "stranger"]] as const) {
    await createPod(kc, namespace, {
      metadata: { name, labels: { role } },
      spec: { containers: [restrictedContainer("main", images.debian, ["sleep", "3600"])] },
    });
  }
  serverIp = (await waitForPodReady(kc, namespace, "server")).status!.podIP!;
  await waitForPodReady(kc, namespace, "allowed");
  await waitForPodReady(kc, namespace, "other");
});
afterAll(async () => {
  if (namespace) await deleteNamespaceAndWait(kc, namespace, 120_000);
});

async function canConnect(client: string): Promise<boolean> {
  const result = await execInPod(kc, namespace, client, "main", [
    "bash", "-c", `timeout 2 bash -c 'exec 3<>/dev/tcp/${serverIp}/${PORT}' 2> /dev/null && echo open || echo closed`,
  ]);
  if (!/open|closed/.test(result.stdout)) throw new Error(`probe from ${client} said: ${result.stdout} ${result.stderr}`);
  return result.stdout.includes("open");
}

describe("NetworkPolicy on the real node", () => {
  it("blocks Pod-to-Pod traffic under default deny and opens it for an allow policy", async () => {
    expect(await canConnect("allowed")).toBe(true);
    expect(await canConnect("other")).toBe(true);

    await networking.createNamespacedNetworkPolicy({
      namespace,
      body: { metadata: { name: "default-deny" }, spec: { podSelector: {}, policyTypes: ["Ingress"] } },
    });
    await eventually("default deny to block the allowed client", async () => !(await canConnect("allowed")), 60_000, 1_000);
    expect(await canConnect("other")).toBe(false);

    await networking.createNamespacedNetworkPolicy({
      namespace,
      body: {
        metadata: { name: "allow-clients" },
        spec: {
          podSelector: { matchLabels: { app: "server" } },
          policyTypes: ["Ingress"],
          ingress: [{ _from: [{ podSelector: { matchLabels: { role: "client" } } }], ports: [{ protocol: "TCP", port: PORT }] }],
        },
      },
    });
    await eventually("the allow policy to open the server to the client", () => canConnect("allowed"), 60_000, 1_000);
    expect(await canConnect("other")).toBe(false);
  });
});
