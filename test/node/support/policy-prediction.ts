/**
 * What the NetworkPolicies of the running cluster allow, by np-guard's netpol-analyzer (the one the
 * analyzer project proves isolation with): the cluster's own Namespaces and NetworkPolicies, read
 * back from the API server, and the very Pods the packets are sent between, with their real labels.
 * Pods go in without their ownerReferences, so the analyzer speaks of each Pod, not of its workload.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import * as k8s from "@kubernetes/client-node";
import { ensureNetpolAnalyzer } from "../../../scripts/netpol-analyzer.js";
import { toYamlDocuments } from "../../../src/cli/output.js";
import { resourceFor } from "../../../src/kube/resources.js";
import { connectionItems, ipNode, parseAnalyzerJson, type AnalyzerConnection } from "../../analyzer/connectivity.js";
import { kubeObjects } from "./tenants.js";

export interface PodRef {
  namespace: string;
  name: string;
}

/** Whether an analyzer node ("ns/name[Pod]") is this Pod. */
const isPod = (node: string, pod: PodRef): boolean => node.replace(/\[[^\]]*\]$/, "") === `${pod.namespace}/${pod.name}`;

/** Whether an analyzer connection string ("All Connections", "TCP 5222-5223,UDP 53") admits a TCP port. */
export function admitsTcpPort(conn: string, port: number): boolean {
  return connectionItems(conn).some((item) => {
    if (item === "ALL") return true;
    const m = /^TCP\/(\d+)(?:-(\d+))?$/.exec(item);
    return m !== null && port >= Number(m[1]) && port <= Number(m[2] ?? m[1]);
  });
}

export class PolicyPrediction {
  constructor(private readonly connections: readonly AnalyzerConnection[]) {}

  /** Whether the policies let `from` open a TCP connection to the Pod `to` on `port`. */
  podToPod(from: PodRef, to: PodRef, port: number): boolean {
    return this.connections.some((c) => isPod(c.src, from) && isPod(c.dst, to) && admitsTcpPort(c.conn, port));
  }

  /** Whether the policies let `from` open a TCP connection to an address outside the Pod network. */
  podToAddress(from: PodRef, ip: string, port: number): boolean {
    const address = ipNode(ip)!;
    return this.connections.some((c) => {
      if (!isPod(c.src, from)) return false;
      const range = ipNode(c.dst);
      return range !== undefined && range.v6 === address.v6 && range.low <= address.low && address.high <= range.high && admitsTcpPort(c.conn, port);
    });
  }
}


/** Runs the analyzer on the cluster's Namespaces and NetworkPolicies and on `pods` as they are now. */
export async function predictFromCluster(kc: k8s.KubeConfig, pods: readonly PodRef[]): Promise<PolicyPrediction> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const namespaces = (await core.listNamespace()).items.map((n) => ({ apiVersion: "v1", kind: "Namespace", metadata: { name: n.metadata!.name, labels: n.metadata!.labels ?? {} } }));
  // Wire JSON (`from`, not client-node's renamed `_from`), in every namespace.
  const { items } = await kubeObjects().list<{ metadata: { name: string; namespace: string }; spec: unknown }>(resourceFor("networking.k8s.io/v1", "NetworkPolicy"));
  const policies = items.map((p) => ({ apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: { name: p.metadata.name, namespace: p.metadata.namespace }, spec: p.spec }));
  const podObjects = await Promise.all(
    pods.map(async ({ namespace, name }) => {
      const pod = await core.readNamespacedPod({ namespace, name });
      const containers = pod.spec!.containers.map((c) => ({ name: c.name, image: c.image }));
      return { apiVersion: "v1", kind: "Pod", metadata: { name, namespace, labels: pod.metadata!.labels ?? {} }, spec: { containers } };
    }),
  );
  const dir = await mkdtemp(path.join(tmpdir(), "netpol-node-"));
  try {
    await writeFile(path.join(dir, "cluster.yaml"), toYamlDocuments([...namespaces, ...policies, ...podObjects]));
    const analyzer = await ensureNetpolAnalyzer({ env: process.env });
    // As in test/analyzer: any diagnostic means an object was skipped, and the prediction would be vacuous.
    const { stdout, stderr } = await promisify(execFile)(analyzer, ["list", "--dirpath", dir, "--output", "json"], { maxBuffer: 64 * 1024 * 1024 });
    if (stderr !== "") throw new Error(`netpol-analyzer diagnostics:\n${stderr}`);
    return new PolicyPrediction(parseAnalyzerJson(stdout));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
