/**
 * Installs the Debian packages the node needs, with apt-get, as root. Idempotent: installed
 * packages are left alone. The same approach as the workload tests' installer, but asynchronous
 * and patient with the dpkg lock, which other test runs on the machine may hold.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import { promisify } from "node:util";

const run = promisify(execFile);

export async function missingDebianPackages(packages: readonly string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const p of packages) {
    const status = await run("dpkg-query", ["-W", "-f=${Status}", p]).then((r) => r.stdout.trim(), () => "");
    if (status !== "install ok installed") missing.push(p);
  }
  return missing;
}

export async function ensureDebianPackages(packages: readonly string[], log: (line: string) => void): Promise<void> {
  const missing = await missingDebianPackages(packages);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`Debian packages missing: ${missing.join(", ")}. Install them with: sudo apt-get install -y ${missing.join(" ")}`);
  }
  log(`installing Debian packages: ${missing.join(", ")}`);
  // Keep packaged services (containerd) from starting: the node starts its own instance.
  const policy = "/usr/sbin/policy-rc.d";
  const hadPolicy = existsSync(policy);
  if (!hadPolicy) await writeFile(policy, "#!/bin/sh\nexit 101\n", { mode: 0o755 });
  const env = { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", DEBIAN_FRONTEND: "noninteractive", LANG: "C.UTF-8" };
  const lock = ["-o", "DPkg::Lock::Timeout=900"];
  try {
    await run("apt-get", [...lock, "update", "-q"], { env, maxBuffer: 64 << 20 });
    await run("apt-get", [...lock, "install", "-y", "-q", "--no-install-recommends", ...missing], { env, maxBuffer: 64 << 20 });
  } finally {
    if (!hadPolicy) await rm(policy, { force: true });
  }
  const still = await missingDebianPackages(missing);
  if (still.length > 0) throw new Error(`apt-get finished but these packages are not installed: ${still.join(", ")}`);
}
