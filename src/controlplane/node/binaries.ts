/**
 * The real node's Go-built binaries (kubelet, kube-proxy, CoreDNS, kube-router,
 * local-path-provisioner): built once into the same cache as the control plane's, found there
 * afterwards with a few stat calls.
 */
import { access } from "node:fs/promises";
import { constants } from "node:fs";
import path from "node:path";
import { buildGoGroup, cachedBinaryPath, type GoBuildGroup } from "../go-build.js";
import { findGoTool } from "../go-tool.js";
import type { GoComponent } from "../versions.js";
import { NODE_COMPONENTS, type NodeComponentName } from "./versions.js";

export type NodeBinaries = Readonly<Record<NodeComponentName, string>>;

export interface EnsureNodeBinariesOptions {
  readonly cacheDir: string;
  readonly goEnv: NodeJS.ProcessEnv;
  readonly goBinary?: string;
  readonly log?: (line: string) => void;
}

/**
 * The wrapper id differs from the control plane's ("kubernetes"): both may be built at the same
 * time by different runs, and each wrapper's tools.go lists only its own main packages.
 */
const NODE_BUILD_GROUPS: readonly GoBuildGroup[] = [
  { id: "kubernetes-node", components: [NODE_COMPONENTS.kubelet, NODE_COMPONENTS["kube-proxy"]] },
  { id: "coredns", components: [NODE_COMPONENTS.coredns] },
  { id: "kube-router", components: [NODE_COMPONENTS["kube-router"]] },
  { id: "local-path-provisioner", components: [NODE_COMPONENTS["local-path-provisioner"]] },
];

export function nodeBinaryPaths(cacheDir: string): NodeBinaries {
  const entries = Object.entries(NODE_COMPONENTS).map(([name, c]) => [name, cachedBinaryPath(cacheDir, c)]);
  return Object.fromEntries(entries) as Record<NodeComponentName, string>;
}

export async function ensureNodeBinaries(options: EnsureNodeBinariesOptions): Promise<NodeBinaries> {
  const log = options.log ?? (() => {});
  const paths = nodeBinaryPaths(options.cacheDir);
  const plans: { group: GoBuildGroup; missing: GoComponent[] }[] = [];
  for (const group of NODE_BUILD_GROUPS) {
    const missing: GoComponent[] = [];
    for (const c of group.components) if (!(await isExecutable(cachedBinaryPath(options.cacheDir, c)))) missing.push(c);
    if (missing.length > 0) plans.push({ group, missing });
  }
  if (plans.length === 0) {
    log(`node binaries found in ${path.join(options.cacheDir, "bin")}`);
    return paths;
  }
  const go = await findGoTool(options.goEnv, options.goBinary);
  for (const { group, missing } of plans) await buildGoGroup(group, missing, go, options, log);
  return paths;
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
