/**
 * Builds the node's images without any registry and caches them by content:
 *   <cacheDir>/images/<name>-<tag>-<key>.oci.tar
 * where <key> hashes the recipe (and every file it copies). A warm run only hashes and stats.
 *
 * Debian root filesystems come from `mmdebstrap --variant=minbase` (the Debian mirror apt uses);
 * small ones are assembled from files (the pause program compiled with `gcc -static`, CoreDNS).
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { access, chmod, copyFile, mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { sha256File, writeOciArchive } from "./oci-archive.js";
import { imageReference, type DebianRootfs, type FilesRootfs, type ImageRecipe } from "./recipes.js";

const run = promisify(execFile);

/** Bump when the way archives are made changes, so old cache entries are not reused. */
const ARCHIVE_FORMAT = 1;

/** Suites mmdebstrap installs from: the release plus its security updates. */
export const DEBIAN_MIRROR = "http://deb.debian.org/debian";
const DEBIAN_SECURITY_MIRROR = "http://deb.debian.org/debian-security";

/** Files Pods never need; left out to keep archives small and imports fast. */
const DPKG_EXCLUDES = ["/usr/share/doc/*", "/usr/share/man/*", "/usr/share/info/*", "/usr/share/locale/*"];

export interface ImageArchive {
  readonly reference: string;
  readonly archive: string;
}

export interface EnsureImagesOptions {
  readonly cacheDir: string;
  readonly recipes: readonly ImageRecipe[];
  readonly log?: (line: string) => void;
}

export async function ensureNodeImages(options: EnsureImagesOptions): Promise<ImageArchive[]> {
  const log = options.log ?? (() => {});
  const dir = path.join(options.cacheDir, "images");
  await mkdir(dir, { recursive: true });
  const archives: ImageArchive[] = [];
  for (const recipe of options.recipes) {
    const key = await recipeKey(recipe);
    const archive = path.join(dir, `${recipe.name}-${recipe.tag}-${key}.oci.tar`);
    const reference = imageReference(recipe);
    if (!(await exists(archive))) {
      const started = Date.now();
      log(`building image ${reference}`);
      await buildArchive(recipe, reference, archive, dir);
      log(`built image ${reference} in ${Math.round((Date.now() - started) / 1000)}s -> ${archive}`);
    }
    archives.push({ reference, archive });
  }
  return archives;
}

/** The cache key: the recipe with every copied host file replaced by its content hash. */
export async function recipeKey(recipe: ImageRecipe): Promise<string> {
  let rootfs: unknown = recipe.rootfs;
  if (recipe.rootfs.kind === "files") {
    const files = await Promise.all(
      recipe.rootfs.files.map(async (f) => ("hostFile" in f ? { path: f.path, mode: f.mode, sha256: await sha256File(f.hostFile) } : f)),
    );
    rootfs = { kind: "files", files };
  }
  const input = JSON.stringify({ format: ARCHIVE_FORMAT, mirror: DEBIAN_MIRROR, rootfs, config: recipe.config });
  return createHash("sha256").update(input).digest("hex").slice(0, 16);
}

async function buildArchive(recipe: ImageRecipe, reference: string, archive: string, cacheImagesDir: string): Promise<void> {
  const work = await mkdtemp(path.join(cacheImagesDir, `build-${recipe.name}-`));
  try {
    const layerTar = path.join(work, "layer.tar");
    if (recipe.rootfs.kind === "debian") await debianRootfs(recipe.rootfs, layerTar);
    else await filesRootfs(recipe.rootfs, layerTar, work);
    const partial = `${archive}.partial-${process.pid}`;
    await writeOciArchive({ reference, layerTar, config: recipe.config, output: partial, workDir: work });
    // Renamed last: an archive in the cache is always complete.
    await rename(partial, archive);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export async function debianRootfs(rootfs: DebianRootfs, output: string): Promise<void> {
  const args = ["--variant=minbase", "--mode=root", "--format=tar", "--quiet"];
  if (rootfs.packages.length > 0) args.push(`--include=${rootfs.packages.join(",")}`);
  for (const pattern of DPKG_EXCLUDES) args.push(`--dpkgopt=path-exclude=${pattern}`);
  if (rootfs.essentialHook) args.push(`--essential-hook=${rootfs.essentialHook}`);
  if (rootfs.customizeHook) args.push(`--customize-hook=${rootfs.customizeHook}`);
  // Package lists and apt's caches are of no use in an image.
  args.push('--customize-hook=rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*');
  args.push(
    rootfs.suite,
    output,
    `deb ${DEBIAN_MIRROR} ${rootfs.suite} main`,
    `deb ${DEBIAN_SECURITY_MIRROR} ${rootfs.suite}-security main`,
  );
  await run("mmdebstrap", args, { maxBuffer: 64 << 20, env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C.UTF-8" } }).catch((error: Error & { stderr?: string }) => {
    throw new Error(`mmdebstrap ${rootfs.suite} (${rootfs.packages.join(", ") || "minbase"}) failed: ${error.stderr?.slice(-4000) ?? error.message}`, { cause: error });
  });
}

async function filesRootfs(rootfs: FilesRootfs, output: string, work: string): Promise<void> {
  const stage = path.join(work, "rootfs");
  await mkdir(stage, { recursive: true });
  for (const file of rootfs.files) {
    const target = path.join(stage, file.path);
    await mkdir(path.dirname(target), { recursive: true });
    if ("content" in file) await writeFile(target, file.content);
    else if ("hostFile" in file) await copyFile(file.hostFile, target);
    else {
      const source = path.join(work, `${path.basename(file.path)}.c`);
      await writeFile(source, file.staticC);
      await run("gcc", ["-static", "-O2", "-s", "-o", target, source]);
    }
    await chmod(target, file.mode);
  }
  await run("tar", [
    "--create", "--file", output, "--directory", stage,
    "--numeric-owner", "--owner=0", "--group=0", "--mtime=@0", "--sort=name", ".",
  ]);
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(() => true, () => false);
}
