/**
 * Builds (first run) or finds (later runs) the independent NetworkPolicy analyzer that proves tenant
 * isolation in test/analyzer: np-guard's netpol-analyzer (`k8snetpolicy`), from its Go module.
 *
 *   npx tsx scripts/netpol-analyzer.ts          # prints the path of the binary
 *
 * The wrapper module in scripts/netpol-analyzer/ pins the version and every dependency by checksum
 * (go.sum), so the Go checksum database is not needed and a tampered download fails the build.
 * The binary is cached by version and by the hash of the pinned module files, outside the repository:
 * ${CHAT_TENANT_OPERATOR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/chat-tenant-operator}/netpol-analyzer/.
 * GO_BINARY points at a specific `go`.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { defaultControlPlaneCacheDir } from '../src/controlplane/cache-dir.js';
import { findGoTool, runGo } from '../src/controlplane/go-tool.js';

export const NETPOL_ANALYZER_MODULE = 'github.com/np-guard/netpol-analyzer';
export const NETPOL_ANALYZER_VERSION = 'v1.4.2';
const COMMAND_PACKAGE = `${NETPOL_ANALYZER_MODULE}/cmd/netpolicy`;
const MODULE_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'netpol-analyzer');
const MODULE_FILES = ['go.mod', 'go.sum', 'tools.go'];

export interface EnsureAnalyzerOptions {
  /** Environment of the caller; decides the cache directory and is passed on to `go`. */
  env: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** Short hash of the pinned module files: a changed pin builds into a new directory. */
async function pinHash(): Promise<string> {
  const hash = createHash('sha256');
  for (const name of MODULE_FILES) hash.update(name).update(await readFile(path.join(MODULE_DIR, name)));
  return hash.digest('hex').slice(0, 12);
}

export async function analyzerPath(env: NodeJS.ProcessEnv): Promise<string> {
  const cacheRoot = env['CHAT_TENANT_OPERATOR_CACHE_DIR'] || defaultControlPlaneCacheDir(env);
  return path.join(cacheRoot, 'netpol-analyzer', `${NETPOL_ANALYZER_VERSION}-${await pinHash()}`, 'k8snetpolicy');
}

/** Returns the analyzer binary, building it when the cache does not hold this exact version yet. */
export async function ensureNetpolAnalyzer(options: EnsureAnalyzerOptions): Promise<string> {
  const target = await analyzerPath(options.env);
  if (await exists(target)) return target;
  const log = options.log ?? (() => {});
  const go = await findGoTool(options.env, options.env['GO_BINARY']);
  // A private work directory per build; the finished binary is renamed into place, so a concurrent
  // run sees either no binary or a complete one.
  const work = `${path.dirname(target)}.build-${process.pid}-${Date.now()}`;
  const moduleDir = path.join(work, 'module');
  await mkdir(moduleDir, { recursive: true });
  try {
    for (const name of MODULE_FILES) await copyFile(path.join(MODULE_DIR, name), path.join(moduleDir, name));
    const env: NodeJS.ProcessEnv = {
      ...options.env,
      CGO_ENABLED: '0',
      GOTOOLCHAIN: 'local',
      // readonly: go.sum is complete and must not change; a missing or different checksum fails.
      GOFLAGS: `${options.env['GOFLAGS'] ?? ''} -mod=readonly`.trim(),
    };
    log(`building ${NETPOL_ANALYZER_MODULE}@${NETPOL_ANALYZER_VERSION} with ${go.version} (a few minutes, once)`);
    const built = path.join(work, 'k8snetpolicy');
    await runGo(go.binary, ['build', '-trimpath', '-o', built, COMMAND_PACKAGE], { cwd: moduleDir, env, onLine: log });
    await promisify(execFile)(built, ['--help']);
    await mkdir(path.dirname(target), { recursive: true });
    await rename(built, target);
    log(`analyzer ready: ${target}`);
    return target;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

const invokedDirectly = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  try {
    const binary = await ensureNetpolAnalyzer({ env: process.env, log: (line) => console.error(line) });
    console.log(binary);
  } catch (error) {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
