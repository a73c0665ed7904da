/**
 * Whether this machine can run the real node, and if not, why, in one line a person can act on.
 * What the node needs of the host (see docs/controlplane.md): root (containerd, iptables, mounts),
 * Linux with overlayfs (containerd's snapshotter) and ext4 encryption (the encrypted StorageClass),
 * and Debian's apt for the packages it installs.
 */
import { existsSync, readFileSync } from "node:fs";

export interface HostFacts {
  readonly platform: NodeJS.Platform;
  readonly uid: number | undefined;
  /** Content of /proc/filesystems. */
  readonly filesystems: string;
  readonly ext4Encryption: boolean;
  readonly apt: boolean;
}

export function readHostFacts(): HostFacts {
  const read = (file: string): string => {
    try {
      return readFileSync(file, "utf8");
    } catch {
      return "";
    }
  };
  return {
    platform: process.platform,
    uid: process.getuid?.(),
    filesystems: read("/proc/filesystems"),
    ext4Encryption: existsSync("/sys/fs/ext4/features/encryption"),
    apt: existsSync("/usr/bin/apt-get"),
  };
}

/** Undefined when the real node can run here; otherwise the first reason it cannot. Pure. */
export function realNodeUnsupportedReason(facts: HostFacts): string | undefined {
  if (facts.platform !== "linux") return `a real node needs Linux (this is ${facts.platform})`;
  if (facts.uid !== 0) return "a real node needs root (containerd, iptables, mounts); run as root to get one";
  if (!/\toverlay$/m.test(facts.filesystems)) return "the kernel has no overlay file system (containerd's snapshotter needs it)";
  if (!facts.ext4Encryption) return "the kernel has no ext4 encryption (CONFIG_FS_ENCRYPTION), which the encrypted storage class needs";
  if (!facts.apt) return "no apt-get: the node installs containerd and its tools from Debian packages";
  return undefined;
}
