/**
 * Test-side helpers for the real node: its kubeconfig, Pods that run and are waited for, and
 * commands run in them (exec goes API server -> kubelet -> containerd, so it tests that path too).
 */
import { execFileSync } from "node:child_process";
import * as k8s from "@kubernetes/client-node";
import { NODE_LAYOUT, nodePaths } from "../../../src/controlplane/node/layout.js";
import { inject } from "vitest";
import { execInContainer, type ExecResult } from "../../../src/kube/exec.js";
import { eventually } from "../../harness/kube.js";
import "./provided-context.js";

export function realNode() {
  return inject("realNode");
}

export function nodeKubeConfig(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(realNode().kubeconfigPath);
  return kc;
}

/** A container spec that passes Pod Security "restricted", as the operator's Pods must. */
export function restrictedContainer(name: string, image: string, command: string[], uid = 65534): k8s.V1Container {
  return {
    name,
    image,
    imagePullPolicy: "Never",
    command,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: uid,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    },
  };
}

export async function createPod(kc: k8s.KubeConfig, namespace: string, pod: k8s.V1Pod): Promise<k8s.V1Pod> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  return core.createNamespacedPod({ namespace, body: { ...pod, spec: { terminationGracePeriodSeconds: 1, ...pod.spec! } } });
}

/** Waits until the Pod is Ready and returns it (with its IP). */
export async function waitForPodReady(kc: k8s.KubeConfig, namespace: string, name: string, timeoutMs = 90_000): Promise<k8s.V1Pod> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  return eventually(
    `Pod ${namespace}/${name} Ready`,
    async () => {
      const pod = await core.readNamespacedPod({ name, namespace });
      const ready = pod.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";
      if (pod.status?.phase === "Failed") throw new Error(`Pod ${name} failed: ${JSON.stringify(pod.status)}`);
      return ready ? pod : false;
    },
    timeoutMs,
  );
}

export async function waitForPodSucceeded(kc: k8s.KubeConfig, namespace: string, name: string, timeoutMs = 90_000): Promise<void> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await eventually(
    `Pod ${namespace}/${name} Succeeded`,
    async () => {
      const pod = await core.readNamespacedPod({ name, namespace });
      if (pod.status?.phase === "Failed") throw new Error(`Pod ${name} failed: ${JSON.stringify(pod.status?.containerStatuses)}`);
      return pod.status?.phase === "Succeeded";
    },
    timeoutMs,
  );
}

export async function podLogs(kc: k8s.KubeConfig, namespace: string, name: string): Promise<string> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  return core.readNamespacedPodLog({ name, namespace });
}

export type { ExecResult } from "../../../src/kube/exec.js";

/** Runs a command in a container; `stdin`, when given, is what the command reads (secrets go this way, not in argv). */
export function execInPod(kc: k8s.KubeConfig, namespace: string, pod: string, container: string, command: string[], stdin?: string): Promise<ExecResult> {
  return execInContainer(kc, { namespace, pod, container }, command, stdin);
}

/**
 * Gives an image in the node's containerd a second name, as pushing the same build under a new tag
 * to a registry would (the node has no registry; Pods use imagePullPolicy Never). A Pod template
 * naming the new tag is a new revision that runs the same bits.
 */
export function tagNodeImage(reference: string, newTag: string): string {
  const target = `${reference.replace(/:[^:/]+$/, "")}:${newTag}`;
  const socket = nodePaths(NODE_LAYOUT).containerdSocket;
  execFileSync("ctr", ["--address", socket, "--namespace", "k8s.io", "images", "tag", "--force", reference, target], { encoding: "utf8" });
  return target;
}
