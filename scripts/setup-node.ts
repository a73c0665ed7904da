/**
 * Prepares everything the real node needs, so the first `npx vitest run --project node` starts in
 * seconds: the Debian packages (as root), the control plane's and the node's binaries, and the
 * images (pause, Debian, CoreDNS, PostgreSQL, ejabberd, CloudNativePG's operator built from its Go
 * module and its PostgreSQL operand, the operator from this checkout).
 *
 *   npx tsx scripts/setup-node.ts
 *
 * Environment: as scripts/setup-controlplane.ts (CHAT_TENANT_OPERATOR_CACHE_DIR, GO_BINARY).
 */
import { ensureControlPlaneBinaries } from "../src/controlplane/build.js";
import { defaultControlPlaneCacheDir } from "../src/controlplane/cache-dir.js";
import { ensureNodeBinaries } from "../src/controlplane/node/binaries.js";
import { ensureCloudNativePG } from "../src/controlplane/node/cloudnative-pg/build.js";
import { CLOUDNATIVE_PG_VERSION } from "../src/controlplane/node/cloudnative-pg/version.js";
import { ensureDebianPackages } from "../src/controlplane/node/debian-packages.js";
import { ensureFscryptTool } from "../src/controlplane/node/encrypted-storage.js";
import { ensureOperatorImage } from "../src/controlplane/node/images/operator-image.js";
import { ensureRealNodeImages } from "../src/controlplane/node/node-images.js";
import { NODE_DEBIAN_PACKAGES } from "../src/controlplane/node/versions.js";

const started = Date.now();
const log = (line: string): void => console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${line}`);
const cacheDir = process.env.CHAT_TENANT_OPERATOR_CACHE_DIR || defaultControlPlaneCacheDir(process.env);
const goOptions = { cacheDir, goEnv: process.env, ...(process.env.GO_BINARY ? { goBinary: process.env.GO_BINARY } : {}), log };
await ensureDebianPackages(NODE_DEBIAN_PACKAGES, log);
await ensureControlPlaneBinaries(goOptions);
const binaries = await ensureNodeBinaries(goOptions);
const cloudNativePG = await ensureCloudNativePG(goOptions);
await ensureFscryptTool(cacheDir);
const images = await ensureRealNodeImages({
  cacheDir,
  corednsBinary: binaries.coredns,
  workloadImages: true,
  cloudNativePG: { manager: cloudNativePG.manager, version: CLOUDNATIVE_PG_VERSION },
  log,
});
const operator = await ensureOperatorImage({ cacheDir, projectDir: process.cwd(), env: process.env, log });
for (const image of [images.pause, images.helper, images.coredns, ...images.others, operator]) log(`${image.reference}  ${image.archive}`);
log("real node ready to start");
