/**
 * Builds (first run) or finds (later runs) the local control plane binaries:
 * etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok.
 *
 *   npx tsx scripts/setup-controlplane.ts
 *
 * Environment: XDG_CACHE_HOME / HOME pick the cache (…/chat-tenant-operator/bin),
 * CHAT_TENANT_OPERATOR_CACHE_DIR overrides it, GO_BINARY points at a specific `go`.
 */
// Deliberately not the index: the setup must not load the Kubernetes client just to stat files.
import { ensureControlPlaneBinaries } from "../src/controlplane/build.js";
import { defaultControlPlaneCacheDir } from "../src/controlplane/cache-dir.js";
import { GoToolchainMissingError } from "../src/controlplane/go-tool.js";
import { ETCD_VERSION, KUBERNETES_VERSION, KWOK_VERSION } from "../src/controlplane/versions.js";

async function main(): Promise<number> {
  const started = Date.now();
  const cacheDir = process.env.CHAT_TENANT_OPERATOR_CACHE_DIR || defaultControlPlaneCacheDir(process.env);
  const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1)}s`;
  console.log(
    `control plane: Kubernetes v${KUBERNETES_VERSION}, etcd v${ETCD_VERSION}, kwok v${KWOK_VERSION}; cache ${cacheDir}`,
  );
  try {
    const binaries = await ensureControlPlaneBinaries({
      cacheDir,
      goEnv: process.env,
      ...(process.env.GO_BINARY ? { goBinary: process.env.GO_BINARY } : {}),
      log: (line) => console.log(`[${elapsed()}] ${line}`),
    });
    for (const [name, file] of Object.entries(binaries)) console.log(`  ${name.padEnd(22)} ${file}`);
    console.log(`control plane binaries ready in ${elapsed()}`);
    return 0;
  } catch (error) {
    if (error instanceof GoToolchainMissingError) console.error(`error: ${error.message}`);
    else console.error(`error: building the control plane failed after ${elapsed()}:`, error);
    return 1;
  }
}

process.exitCode = await main();
