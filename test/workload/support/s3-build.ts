import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

// A real S3-compatible server for the backup tests: Versity S3 Gateway (versitygw, Apache-2.0),
// built from its Go module at a pinned version with the machine's Go toolchain, once, into a cache
// outside the repository keyed by version. Its posix backend stores objects as plain files.

export const VERSITYGW_MODULE = 'github.com/versity/versitygw';
export const VERSITYGW_VERSION = 'v1.8.0';

export function s3CacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const cacheHome = env['XDG_CACHE_HOME'] || join(env['HOME'] || homedir(), '.cache');
  return join(cacheHome, 'chat-tenant-operator', 's3', `versitygw-${VERSITYGW_VERSION}`);
}

function findGo(env: NodeJS.ProcessEnv): string {
  for (const candidate of [env['GO_BINARY'], 'go', '/usr/local/go/bin/go'].filter((c): c is string => !!c)) {
    if (spawnSync(candidate, ['version'], { encoding: 'utf8' }).status === 0) return candidate;
  }
  throw new Error(`Go is needed once to build versitygw ${VERSITYGW_VERSION} for the S3 backup tests; install Go (https://go.dev/doc/install) or set GO_BINARY`);
}

/** Path of the versitygw binary; builds it (a few minutes, once) when the cache does not have it. */
export function ensureVersityGw(log: (line: string) => void = (l) => process.stderr.write(`${l}\n`), env: NodeJS.ProcessEnv = process.env): string {
  const dir = s3CacheDir(env);
  const binary = join(dir, 'versitygw');
  try {
    accessSync(binary, constants.X_OK);
    return binary;
  } catch {
    /* build below */
  }
  const go = findGo(env);
  mkdirSync(dir, { recursive: true });
  const staging = mkdtempSync(join(dir, '.build-'));
  log(`[setup] building ${VERSITYGW_MODULE}/cmd/versitygw@${VERSITYGW_VERSION} into ${dir} (once; takes a few minutes)`);
  try {
    const result = spawnSync(go, ['install', '-trimpath', `${VERSITYGW_MODULE}/cmd/versitygw@${VERSITYGW_VERSION}`], {
      env: { ...env, GOBIN: staging, CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    if (result.status !== 0) throw new Error(`building versitygw failed:\n${(result.stderr || '').split('\n').slice(-30).join('\n')}`);
    // Rename is atomic: a concurrent run sees either no binary or a whole one.
    renameSync(join(staging, 'versitygw'), binary);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return binary;
}
