/**
 * Builds (first run) or finds (later runs) the S3-compatible server the backup tests use:
 * versitygw, from its Go module at a pinned version, cached under
 * ${XDG_CACHE_HOME:-$HOME/.cache}/chat-tenant-operator/s3/.
 *
 *   npx tsx scripts/setup-s3-server.ts
 */
import { VERSITYGW_VERSION, ensureVersityGw } from '../test/workload/support/s3-build.js';

const started = Date.now();
try {
  const binary = ensureVersityGw((line) => console.log(line));
  console.log(`versitygw ${VERSITYGW_VERSION}: ${binary} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
} catch (error) {
  console.error(`error: ${(error as Error).message}`);
  process.exitCode = 1;
}
