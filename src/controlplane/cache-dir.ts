/**
 * Where built control plane binaries live: outside the repository, shared by every checkout.
 * Takes the environment as a parameter because only entry points (src/cli, scripts) read it.
 */
import os from "node:os";
import path from "node:path";

export function defaultControlPlaneCacheDir(env: NodeJS.ProcessEnv): string {
  const cacheHome = env.XDG_CACHE_HOME || path.join(env.HOME || os.homedir(), ".cache");
  return path.join(cacheHome, "chat-tenant-operator");
}
