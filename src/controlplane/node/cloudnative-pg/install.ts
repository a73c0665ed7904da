/**
 * Installs CloudNativePG on the node the way its users do: the release manifest, applied
 * server-side (its CRDs are too large for client-side apply's annotation), then waits for the
 * operator to serve its webhooks. Applying again is a no-op, so every test file may ask for it.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import * as k8s from "@kubernetes/client-node";
import { readFile } from "node:fs/promises";
import { waitUntil } from "../../processes.js";
import { applyAddonObjects } from "../apply.js";
import { CLOUDNATIVE_PG_DEPLOYMENT, CLOUDNATIVE_PG_NAMESPACE, cloudNativePGObjects } from "./manifest.js";

export interface InstallCloudNativePGOptions {
  readonly releaseManifest: string;
  /** The operator image imported into the node (images/cloudnative-pg-images.ts). */
  readonly operatorImage: string;
  readonly timeoutMs?: number;
}

export async function installCloudNativePG(kc: KubeConfig, options: InstallCloudNativePGOptions): Promise<void> {
  const objects = cloudNativePGObjects(await readFile(options.releaseManifest, "utf8"), options.operatorImage);
  await applyAddonObjects(kc, objects);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  await waitUntil(
    "the CloudNativePG operator to be available",
    async () => {
      const deployment = await apps.readNamespacedDeployment({ name: CLOUDNATIVE_PG_DEPLOYMENT, namespace: CLOUDNATIVE_PG_NAMESPACE });
      return (deployment.status?.availableReplicas ?? 0) > 0 && deployment.status?.updatedReplicas === deployment.spec?.replicas;
    },
    { timeoutMs: options.timeoutMs ?? 180_000 },
  );
}
