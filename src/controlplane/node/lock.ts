/**
 * One real node per machine: its ports (kubelet 10250), bridge, iptables chains and directories
 * are fixed. The lock file holds the owner's PID; a lock whose owner is gone is stale, and the
 * caller cleans up after the dead owner before taking it.
 */
import { open, readFile, rm } from "node:fs/promises";

export class NodeLockedError extends Error {
  constructor(readonly ownerPid: number, lockFile: string) {
    super(`a real node is already running on this machine (process ${ownerPid} holds ${lockFile}); only one can run at a time`);
    this.name = "NodeLockedError";
  }
}

export type LockResult = "acquired" | "stale";

/** Takes the lock for this process; "stale" means a dead owner left it and it was not taken. */
export async function tryAcquireNodeLock(lockFile: string): Promise<LockResult> {
  try {
    const handle = await open(lockFile, "wx", 0o644);
    await handle.writeFile(`${process.pid}\n`);
    await handle.close();
    return "acquired";
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  const owner = Number.parseInt(await readFile(lockFile, "utf8").catch(() => ""), 10);
  if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) throw new NodeLockedError(owner, lockFile);
  return "stale";
}

export async function releaseNodeLock(lockFile: string): Promise<void> {
  const owner = Number.parseInt(await readFile(lockFile, "utf8").catch(() => ""), 10);
  if (owner === process.pid) await rm(lockFile, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
