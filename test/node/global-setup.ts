/**
 * Vitest global setup of the `node` project: installs the Debian packages, builds (or finds) the
 * control plane and node binaries and images, starts a control plane with ONE real node, provides
 * its kubeconfig to the test files, and in teardown stops both and fails the run if anything of
 * the node is left on the host (processes, bridge, iptables chains, ipsets, mounts, directories,
 * kernel settings).
 *
 * Environment (read here, never in src/):
 *   KEEP_CONTROLPLANE=1                keep the control plane's and the node's directories (logs)
 *   CHAT_TENANT_OPERATOR_CACHE_DIR     where binaries and images are cached
 *   GO_BINARY                          which `go` builds missing binaries
 */
import type { TestProject } from "vitest/node";
import { defaultControlPlaneCacheDir, ensureControlPlaneBinaries, startControlPlane } from "../../src/controlplane/index.js";
import { ensureNodeBinaries } from "../../src/controlplane/node/binaries.js";
import { ensureCloudNativePG } from "../../src/controlplane/node/cloudnative-pg/build.js";
import { CLOUDNATIVE_PG_VERSION } from "../../src/controlplane/node/cloudnative-pg/version.js";
import { ensureDebianPackages } from "../../src/controlplane/node/debian-packages.js";
import { ensureFscryptTool } from "../../src/controlplane/node/encrypted-storage.js";
import { ensureOperatorImage } from "../../src/controlplane/node/images/operator-image.js";
import { primaryIPv4Address } from "../../src/controlplane/node/host-address.js";
import { ensureRealNodeImages, imageReferenceNamed } from "../../src/controlplane/node/node-images.js";
import { REAL_NODE_NAME } from "../../src/devenv/real-node-environment.js";
import { startRealNode } from "../../src/controlplane/node/node.js";
import { NODE_DEBIAN_PACKAGES } from "../../src/controlplane/node/versions.js";
import { ensureHelm } from "../../scripts/chart-tools/helm.js";
import { leftovers, snapshotHost, type HostSnapshot } from "./support/host-snapshot.js";
import "./support/provided-context.js";


export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const log = (line: string): void => console.log(`[node ${((Date.now() - started) / 1000).toFixed(1)}s] ${line}`);
  const cacheDir = process.env.CHAT_TENANT_OPERATOR_CACHE_DIR || defaultControlPlaneCacheDir(process.env);
  const goOptions = { cacheDir, goEnv: process.env, ...(process.env.GO_BINARY ? { goBinary: process.env.GO_BINARY } : {}), log };
  // go-sendxmpp: the stock XMPP client the README tells a person to chat with on the sample tenant.
  await ensureDebianPackages([...NODE_DEBIAN_PACKAGES, "go-sendxmpp"], log);
  const binaries = await ensureControlPlaneBinaries(goOptions);
  const nodeBinaries = await ensureNodeBinaries(goOptions);
  const cloudNativePG = await ensureCloudNativePG(goOptions);
  const fscryptTool = await ensureFscryptTool(cacheDir);
  // The operator runs in the cluster as production runs it: installed by its Helm chart.
  const helm = await ensureHelm(process.env, log);
  let images = await ensureRealNodeImages({ cacheDir, corednsBinary: nodeBinaries.coredns, workloadImages: true, cloudNativePG: { manager: cloudNativePG.manager, version: CLOUDNATIVE_PG_VERSION }, log });
  // The operator's image from this checkout (src/ hashed: a change costs a TypeScript build and a tar append).
  const operatorImage = await ensureOperatorImage({ cacheDir, projectDir: project.config.root, env: process.env, log });
  images = { ...images, others: [...images.others, operatorImage] };
  log("binaries and images ready");

  // Taken once this run holds the node lock: while it waits, another run's node may still be running.
  let before: HostSnapshot | undefined;
  const keepDir = process.env.KEEP_CONTROLPLANE === "1";
  const nodeIp = primaryIPv4Address();
  const controlPlane = await startControlPlane({ binaries, keepDir, log, realNode: { nodeName: REAL_NODE_NAME, nodeIp } });
  let node;
  try {
    // Another run's node (one per machine) may be finishing its tests: wait for it rather than fail.
    node = await startRealNode({ controlPlane, binaries: nodeBinaries, images, keepDir, log, lockWaitMs: 20 * 60_000, fscryptTool, onLockAcquired: () => (before = snapshotHost()) });
  } catch (error) {
    await controlPlane.stop();
    throw error;
  }
  log(`real node ${REAL_NODE_NAME} (${nodeIp}) ready; start phases: ${JSON.stringify(node.timings)}`);
  const reference = (name: string): string => imageReferenceNamed(images.others, name);

  project.provide("realNode", {
    kubeconfigPath: controlPlane.kubeconfigPath,
    apiServerPort: Number(new URL(controlPlane.kubeConfig().getCurrentCluster()!.server).port),
    helmBinary: helm,
    nodeName: REAL_NODE_NAME,
    nodeIp,
    encryptedVolumes: node.encryptedVolumes!,
    images: {
      debian: images.helper.reference,
      coredns: images.coredns.reference,
      postgres: reference("postgres"),
      ejabberd: reference("ejabberd"),
      operator: operatorImage.reference,
      cloudNativePG: reference("cloudnative-pg"),
      cloudNativePGPostgres: reference("cloudnative-pg-postgresql"),
    },
    cloudNativePGReleaseManifest: cloudNativePG.releaseManifest,
  });

  return async () => {
    const stopping = Date.now();
    // Taken before the lock goes: the next run's node may start a moment after.
    let after: HostSnapshot | undefined;
    try {
      await node.stop({ beforeLockRelease: () => (after = snapshotHost()) });
    } finally {
      await controlPlane.stop();
    }
    log(`node and control plane stopped in ${Date.now() - stopping}ms`);
    const left = leftovers(before!, after ?? snapshotHost());
    if (left.length > 0) {
      // Vitest reports an error thrown here but still exits 0 (seen with vitest 4.1): fail the run explicitly.
      console.error(`[node] FAILED: the real node left this on the host after stop:\n  ${left.join("\n  ")}`);
      process.exitCode = 1;
      return;
    }
    log("nothing of the node is left on the host (processes, bridge, iptables chains, ipsets, mounts, directories, sysctls)");
  };
}
