/**
 * An encrypted volume directory for the node's second StorageClass: an ext4 file system with the
 * `encrypt` feature on a loop file below the node's root, mounted there, with one directory
 * encrypted by fscrypt under a random key that exists only in the kernel's keyring for that file
 * system (never on disk). Volumes that local-path-provisioner creates below it are encrypted at
 * rest; when the node stops, the file system is unmounted and the key is gone (crypto-shredding).
 * (dm-crypt is not available in this kernel; fscrypt is: CONFIG_FS_ENCRYPTION.)
 */
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { access, mkdir, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { FSCRYPT_DIR_C } from "./fscrypt-tool.js";

const run = promisify(execFile);
const ENV = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" };

export interface EncryptedVolumeDir {
  /** The loop file (the raw device's content: what an attacker with the disk would read). */
  readonly backingFile: string;
  readonly mountPoint: string;
  /** The fscrypt-encrypted directory volumes are created in. */
  readonly volumesDir: string;
}

/** Builds the fscrypt program once into the cache (keyed by its source). */
export async function ensureFscryptTool(cacheDir: string): Promise<string> {
  const key = createHash("sha256").update(FSCRYPT_DIR_C).digest("hex").slice(0, 16);
  const binary = path.join(cacheDir, "bin", `fscrypt-dir-${key}`);
  if (await access(binary).then(() => true, () => false)) return binary;
  await mkdir(path.dirname(binary), { recursive: true });
  const source = `${binary}.c.partial-${process.pid}`;
  await writeFile(source, FSCRYPT_DIR_C);
  await run("gcc", ["-static", "-O2", "-s", "-x", "c", "-o", `${binary}.partial-${process.pid}`, source], { env: ENV });
  await rename(`${binary}.partial-${process.pid}`, binary);
  await run("rm", ["-f", source], { env: ENV });
  return binary;
}

export async function createEncryptedVolumeDir(root: string, tool: string, sizeMiB = 1024): Promise<EncryptedVolumeDir> {
  const backingFile = path.join(root, "encrypted.ext4");
  const mountPoint = path.join(root, "encrypted");
  const volumesDir = path.join(mountPoint, "volumes");
  await run("truncate", ["-s", `${sizeMiB}M`, backingFile], { env: ENV });
  await run("mkfs.ext4", ["-q", "-F", "-O", "encrypt", "-L", "cto-encrypted", backingFile], { env: ENV });
  await mkdir(mountPoint, { recursive: true });
  await run("mount", ["-o", "loop", backingFile, mountPoint], { env: ENV });
  await mkdir(volumesDir);
  const child = execFile(tool, [mountPoint, volumesDir], { env: ENV });
  const done = new Promise<void>((resolve, reject) => {
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`fscrypt-dir failed (${code}): ${stderr}`))));
  });
  child.stdin!.end(randomBytes(64));
  await done;
  return { backingFile, mountPoint, volumesDir };
}
