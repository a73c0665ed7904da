/**
 * The operator on the real node as production runs it: in the cluster, from its image, installed by
 * its Helm chart. Installed once per test run (`helm upgrade --install` is a no-op the second time);
 * the control plane's teardown takes it away with everything else.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import yaml from "js-yaml";
import { run } from "../../../scripts/chart-tools/cache.js";
import { CHART_DIR } from "../../chart/support/chart.js";
import { realNode } from "./pods.js";

export const OPERATOR_NAMESPACE = "chat-tenant-operator";
const RELEASE = "cto";

/** Values a platform team would set for a one-node, air-gapped cluster whose images were imported by hand. */
export function nodeChartValues(): Record<string, unknown> {
  const node = realNode();
  const [, registry, repository, tag] = /^([^/]+)\/(.+):([^:/]+)$/.exec(node.images.operator)!;
  return {
    image: { registry, repository, tag, pullPolicy: "Never" },
    // One node: a second replica could only wait Pending under the chart's hard node spread.
    replicaCount: 1,
    // Debug: every reconcile step in the operator's log, which the tests print when a tenant is not Ready.
    logLevel: "debug",
    resyncSeconds: 60,
    settings: {
      // NetworkPolicies match the API server by address: the node's, on the port it really serves.
      kubernetesApiCIDRs: [`${node.nodeIp}/32`],
      kubernetesApiPorts: [node.apiServerPort],
      // The node's messaging image is Debian's ejabberd 23.01 laid out like the official image.
      ejabberdFlavour: "debian-23.01",
    },
  };
}

async function helm(args: string[]): Promise<string> {
  const home = await mkdtemp(path.join(os.tmpdir(), "cto-node-helm-"));
  try {
    const env = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: home, HELM_CACHE_HOME: path.join(home, "cache"), HELM_CONFIG_HOME: path.join(home, "config"), HELM_DATA_HOME: path.join(home, "data") };
    const result = await run(realNode().helmBinary, [...args, "--kubeconfig", realNode().kubeconfigPath], { env });
    if (result.code !== 0) throw new Error(`helm ${args.join(" ")} exited with ${result.code}:\n${result.stderr || result.stdout}`);
    return result.stdout;
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

/** Installs (or finds installed) the operator and waits until its Deployment is available. */
export async function installOperatorChart(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "cto-node-values-"));
  try {
    const file = path.join(dir, "values.yaml");
    await writeFile(file, yaml.dump(nodeChartValues()));
    await helm(["upgrade", "--install", RELEASE, CHART_DIR, "--namespace", OPERATOR_NAMESPACE, "--create-namespace", "-f", file, "--wait", "--timeout", "180s"]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
