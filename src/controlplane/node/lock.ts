/**
 * One real node per machine: its ports (kubelet 10250), bridge, iptables chains and directories
 * are fixed. The lock file holds the owner's PID and start time; a lock whose owner is gone is
 * stale, and the caller cleans up after the dead owner before taking it. The start time matters:
 * PIDs are reused (pid_max is 32768 here), so a PID alone could keep a dead owner's lock "held".
 */
import { open, readFile, readdir, rm } from "node:fs/promises";

export class NodeLockedError extends Error {
  constructor(readonly ownerPid: number, lockFile: string) {
    super(`a real node is already running on this machine (process ${ownerPid} holds ${lockFile}); only one can run at a time`);
    this.name = "NodeLockedError";
  }
}

/** "stale": a dead owner (`ownerPid`, if readable) left the lock, and it was not taken. */
export type LockResult = { readonly state: "acquired" } | { readonly state: "stale"; readonly ownerPid?: number };

/** Takes the lock for this process, or reports a stale one. */
export async function tryAcquireNodeLock(lockFile: string): Promise<LockResult> {
  try {
    const handle = await open(lockFile, "wx", 0o644);
    await handle.writeFile(`${process.pid} ${await startTime(process.pid)}\n`);
    await handle.close();
    return { state: "acquired" };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  const [pid, started] = (await readFile(lockFile, "utf8").catch(() => "")).trim().split(" ");
  const owner = Number.parseInt(pid ?? "", 10);
  if (!Number.isInteger(owner) || owner <= 0) return { state: "stale" };
  const ownerStarted = await startTime(owner);
  // A lock without a start time (written by an older version) counts as held while its PID lives:
  // calling a live node stale would run the cleanup under it.
  if (ownerStarted !== "gone" && (started === undefined || ownerStarted === started)) throw new NodeLockedError(owner, lockFile);
  return { state: "stale", ownerPid: owner };
}

export async function releaseNodeLock(lockFile: string): Promise<void> {
  const owner = Number.parseInt(await readFile(lockFile, "utf8").catch(() => ""), 10);
  if (owner === process.pid) await rm(lockFile, { force: true });
}

/** The process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat), or "gone". */
async function startTime(pid: number): Promise<string> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
  if (stat === undefined) return "gone";
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ")".
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? "gone";
}

/**
 * A process whose command line holds `marker` (the kubelet's fixed root directory) and whose parent
 * is still there (not re-parented to init), if any: a second opinion before a "stale" lock leads to
 * the cleanup script, which must never run under a live node. An orphaned kubelet is a leftover of
 * a dead owner, which the cleanup is for.
 */
export async function findOwnedProcessWithArgument(marker: string): Promise<number | undefined> {
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (!cmdline.split("\0").includes(marker)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (parent > 1) return Number(entry);
  }
  return undefined;
}

/** Whether a process runs whose arguments include all of `args` (the watcher of a given owner). */
export async function processWithArguments(args: readonly string[]): Promise<boolean> {
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = (await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "")).split("\0");
    if (args.every((a) => argv.includes(a))) return true;
  }
  return false;
}
