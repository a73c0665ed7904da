/**
 * Simulated Nodes for the local control plane. kwok manages every Node that carries its
 * annotation: it marks them Ready, keeps their Leases fresh and drives their Pods' lifecycle.
 *
 * The default set spreads three nodes over three zones, so pod anti-affinity and topology
 * spread constraints have something real to act on.
 */
import * as k8s from "@kubernetes/client-node";
import { KWOK_NODE_ANNOTATION, KWOK_NODE_ANNOTATION_VALUE } from "./component-args.js";
import { waitUntil } from "./processes.js";

export interface FakeNodeSpec {
  readonly name: string;
  readonly zone: string;
  readonly cpu: string;
  readonly memory: string;
  readonly pods: string;
}

/** Label on every node we create, to find them again (and only them). */
export const FAKE_NODE_LABEL = "chat-tenant-operator.dev/fake-node";
export const FAKE_NODE_REGION = "local";

export const DEFAULT_FAKE_NODES: readonly FakeNodeSpec[] = ["a", "b", "c"].map((zone) => ({
  name: `kwok-node-${zone}`,
  zone: `zone-${zone}`,
  cpu: "32",
  memory: "128Gi",
  pods: "110",
}));

export function renderFakeNode(spec: FakeNodeSpec): k8s.V1Node {
  const resources = { cpu: spec.cpu, memory: spec.memory, pods: spec.pods };
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: spec.name,
      annotations: {
        [KWOK_NODE_ANNOTATION]: KWOK_NODE_ANNOTATION_VALUE,
        // Keep the node-lifecycle controller's object TTL cache out of the way.
        "node.alpha.kubernetes.io/ttl": "0",
      },
      labels: {
        [FAKE_NODE_LABEL]: "true",
        type: "kwok",
        "kubernetes.io/hostname": spec.name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/role": "agent",
        "node-role.kubernetes.io/agent": "",
        "topology.kubernetes.io/zone": spec.zone,
        "topology.kubernetes.io/region": FAKE_NODE_REGION,
      },
    },
    // No taint: every workload of the tests should land on these nodes without tolerations.
    spec: {},
    status: { allocatable: resources, capacity: resources },
  };
}

export async function createFakeNodes(kubeconfig: k8s.KubeConfig, specs: readonly FakeNodeSpec[]): Promise<void> {
  const core = kubeconfig.makeApiClient(k8s.CoreV1Api);
  for (const spec of specs) await core.createNode({ body: renderFakeNode(spec) });
}

export async function waitForFakeNodesReady(
  kubeconfig: k8s.KubeConfig,
  specs: readonly FakeNodeSpec[],
  timeoutMs: number,
): Promise<void> {
  const core = kubeconfig.makeApiClient(k8s.CoreV1Api);
  const wanted = new Set(specs.map((s) => s.name));
  await waitUntil(
    `fake nodes ${[...wanted].join(", ")} to be Ready`,
    async () => {
      const nodes = await core.listNode({ labelSelector: `${FAKE_NODE_LABEL}=true` });
      const ready = nodes.items.filter(
        (n) =>
          wanted.has(n.metadata?.name ?? "") &&
          n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") &&
          // The node-lifecycle controller removes its not-ready taint shortly after Ready.
          !(n.spec?.taints ?? []).some((t) => t.key === "node.kubernetes.io/not-ready"),
      );
      return ready.length === wanted.size;
    },
    { timeoutMs, intervalMs: 500 },
  );
}
