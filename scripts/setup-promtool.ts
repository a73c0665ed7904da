/**
 * Finds promtool, or extracts it from Debian's `prometheus` package into the cache (see
 * scripts/chart-tools/promtool.ts for why the package is not installed).
 *
 *   npx tsx scripts/setup-promtool.ts
 *
 * Environment: PROMTOOL_BINARY uses that promtool; XDG_CACHE_HOME / CHAT_TENANT_OPERATOR_CACHE_DIR pick the cache.
 */
import { ensurePromtool, PromtoolUnavailableError } from './chart-tools/promtool.js';

try {
  const promtool = await ensurePromtool(process.env, (line) => console.log(line));
  console.log(promtool);
} catch (error) {
  console.error(error instanceof PromtoolUnavailableError ? `error: ${error.message}` : error);
  process.exitCode = 1;
}
