/**
 * Builds helm (pinned v3 release, see scripts/chart-tools/helm.ts) into the cache, or finds it there.
 *
 *   npx tsx scripts/setup-helm.ts
 *
 * Environment: XDG_CACHE_HOME / HOME pick the cache (…/chat-tenant-operator/bin), CHAT_TENANT_OPERATOR_CACHE_DIR
 * overrides it, GO_BINARY points at a specific `go`, HELM_BINARY skips the build and uses that helm.
 */
import { ensureHelm, GoMissingError } from './chart-tools/helm.js';

try {
  const helm = await ensureHelm(process.env, (line) => console.log(line));
  console.log(helm);
} catch (error) {
  console.error(error instanceof GoMissingError ? `error: ${error.message}` : error);
  process.exitCode = 1;
}
