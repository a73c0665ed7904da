/**
 * Vitest global setup for the `integration` project: builds (or finds) the control plane
 * binaries, starts ONE control plane for the whole run, provides its kubeconfig to the test
 * files, and stops it in teardown, whatever the tests did.
 *
 * Environment (read here, never in src/):
 *   KEEP_CONTROLPLANE=1                keep the temporary directory (logs, etcd data) after the run
 *   CHAT_TENANT_OPERATOR_CACHE_DIR     where binaries are cached (default ${XDG_CACHE_HOME:-~/.cache}/chat-tenant-operator)
 *   GO_BINARY                          which `go` builds missing binaries
 */
import type { TestProject } from "vitest/node";
import {
  defaultControlPlaneCacheDir,
  ensureControlPlaneBinaries,
  startControlPlane,
  type ControlPlane,
} from "../../src/controlplane/index.js";
import "./provided-context.js";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = (line: string): void => console.log(`[controlplane] ${line}`);
  const binaries = await ensureControlPlaneBinaries({
    cacheDir: process.env.CHAT_TENANT_OPERATOR_CACHE_DIR || defaultControlPlaneCacheDir(process.env),
    goEnv: process.env,
    ...(process.env.GO_BINARY ? { goBinary: process.env.GO_BINARY } : {}),
    log,
  });
  const keepDir = process.env.KEEP_CONTROLPLANE === "1";
  const controlPlane: ControlPlane = await startControlPlane({ binaries, keepDir, log });
  project.provide("controlPlane", {
    kubeconfigPath: controlPlane.kubeconfigPath,
    server: controlPlane.server,
    auditLogPath: controlPlane.auditLogPath,
    dir: controlPlane.dir,
    binaries,
    keepDirs: keepDir,
  });
  return async () => {
    await controlPlane.stop();
  };
}
