/**
 * What the real node could leave behind on the host, read the same way before the node starts and
 * after it stops, so that teardown can prove the host is as it was.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { NODE_LAYOUT } from "../../../src/controlplane/node/layout.js";

export interface HostSnapshot {
  readonly processes: string[];
  readonly links: string[];
  readonly iptablesChains: string[];
  readonly ipsets: string[];
  readonly mounts: string[];
  readonly paths: string[];
  readonly sysctls: Record<string, string>;
}

const ENV = { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" };
const NODE_PROGRAMS = /^(containerd|containerd-shim\S*|kubelet-v\S+|kube-proxy-v\S+|kube-router-v\S+|local-path-provisioner-v\S+|coredns|pause)$/;

function lines(command: string, args: string[]): string[] {
  try {
    return execFileSync(command, args, { env: ENV, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).split("\n").filter(Boolean);
  } catch {
    return [];
  }
}

export function snapshotHost(): HostSnapshot {
  const processes: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const comm = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
      const exe = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0]!.split("/").pop()!;
      if (NODE_PROGRAMS.test(exe) || NODE_PROGRAMS.test(comm)) processes.push(`${pid} ${exe}`);
    } catch {
      // Gone meanwhile.
    }
  }
  const chains = ["iptables", "ip6tables"].flatMap((tool) =>
    ["filter", "nat", "mangle", "raw"].flatMap((table) =>
      lines(`${tool}-save`, ["-t", table])
        .filter((l) => /^:(KUBE-|CNI-|CTO-)/.test(l) || /-[jg] (KUBE-|CNI-|CTO-)/.test(l))
        .map((l) => `${tool} ${table} ${l.split(" [")[0]}`),
    ),
  );
  const sysctls: Record<string, string> = {};
  for (const name of ["net/ipv4/ip_forward", "net/bridge/bridge-nf-call-iptables", "vm/overcommit_memory", "kernel/panic", "kernel/panic_on_oops"]) {
    if (existsSync(`/proc/sys/${name}`)) sysctls[name] = readFileSync(`/proc/sys/${name}`, "utf8").trim();
  }
  const ownDirs = [NODE_LAYOUT.root, NODE_LAYOUT.run];
  return {
    processes: processes.sort(),
    links: lines("ip", ["-o", "link", "show"]).map((l) => l.split(":")[1]!.trim().split("@")[0]!).filter((l) => l !== "lo" && !l.startsWith("eth")),
    iptablesChains: chains.sort(),
    ipsets: lines("ipset", ["list", "-n"]).sort(),
    mounts: readFileSync("/proc/self/mountinfo", "utf8").split("\n").map((l) => l.split(" ")[4] ?? "").filter((m) => ownDirs.some((d) => m.startsWith(d)) || m.startsWith("/run/netns")),
    paths: [...ownDirs, NODE_LAYOUT.lockFile, "/run/containerd", "/var/lib/cni", "/var/log/containers", "/var/log/pods"].filter((p) => existsSync(p)),
    sysctls,
  };
}

/** Differences that matter: anything present after that was not there before, and changed settings. */
export function leftovers(before: HostSnapshot, after: HostSnapshot): string[] {
  const found: string[] = [];
  for (const key of ["processes", "links", "iptablesChains", "ipsets", "mounts", "paths"] as const) {
    const known = new Set(key === "processes" ? [] : before[key]);
    for (const item of after[key]) if (!known.has(item)) found.push(`${key}: ${item}`);
  }
  for (const [name, value] of Object.entries(before.sysctls)) {
    if (after.sysctls[name] !== value) found.push(`sysctl ${name}: ${value} before, ${after.sysctls[name]} after`);
  }
  return found;
}
