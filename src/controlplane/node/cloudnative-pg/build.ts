/**
 * CloudNativePG's manager built from its Go module (as kube-router and local-path-provisioner are),
 * and its release manifest copied out of the same module, both into the binary cache:
 *   bin/cloudnative-pg-manager-v<version>
 *   bin/cloudnative-pg-v<version>.yaml
 * A warm cache returns after two stat calls, without Go.
 */
import { access, copyFile, rename } from "node:fs/promises";
import path from "node:path";
import { buildGoGroup, cachedBinaryPath } from "../../go-build.js";
import { findGoTool } from "../../go-tool.js";
import { CLOUDNATIVE_PG_MANAGER, CLOUDNATIVE_PG_RELEASE_MANIFEST, CLOUDNATIVE_PG_VERSION } from "./version.js";

export interface CloudNativePGBuild {
  /** Static (CGO off) manager binary. */
  readonly manager: string;
  /** The release's multi-document YAML, unchanged. */
  readonly releaseManifest: string;
}

export interface EnsureCloudNativePGOptions {
  readonly cacheDir: string;
  readonly goEnv: NodeJS.ProcessEnv;
  readonly goBinary?: string;
  readonly log?: (line: string) => void;
}

export function cloudNativePGPaths(cacheDir: string): CloudNativePGBuild {
  return {
    manager: cachedBinaryPath(cacheDir, CLOUDNATIVE_PG_MANAGER),
    releaseManifest: path.join(cacheDir, "bin", `cloudnative-pg-v${CLOUDNATIVE_PG_VERSION}.yaml`),
  };
}

export async function ensureCloudNativePG(options: EnsureCloudNativePGOptions): Promise<CloudNativePGBuild> {
  const log = options.log ?? (() => {});
  const paths = cloudNativePGPaths(options.cacheDir);
  const [haveManager, haveManifest] = await Promise.all([exists(paths.manager), exists(paths.releaseManifest)]);
  if (haveManager && haveManifest) return paths;
  const go = await findGoTool(options.goEnv, options.goBinary);
  const group = { id: "cloudnative-pg", components: [CLOUDNATIVE_PG_MANAGER] };
  const upstream = await buildGoGroup(group, haveManager ? [] : [CLOUDNATIVE_PG_MANAGER], go, options, log);
  const partial = `${paths.releaseManifest}.partial-${process.pid}`;
  await copyFile(path.join(upstream.Dir, CLOUDNATIVE_PG_RELEASE_MANIFEST), partial);
  await rename(partial, paths.releaseManifest);
  log(`[cloudnative-pg] release manifest -> ${paths.releaseManifest}`);
  return paths;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(() => true, () => false);
}
