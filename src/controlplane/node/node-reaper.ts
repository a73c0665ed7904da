/**
 * Undoes the node if the process that started it dies without stopping it (SIGKILL, OOM kill,
 * a crash, or an exit without teardown). Like the control plane's OrphanReaper, a detached
 * /bin/sh loop watches our PID; once it is gone it runs the host cleanup script, which kills the
 * node's processes and containers and restores the host. A normal stop runs the same script and
 * then ends the watcher.
 */
import { spawn } from "node:child_process";
import { openSync, closeSync } from "node:fs";

const WATCHER_SCRIPT = `
parent="$1"; cleanup="$2"
while kill -0 "$parent" 2>/dev/null; do sleep 1; done
echo "node watcher: process $parent is gone; cleaning up"
/bin/sh "$cleanup" "$parent"
`;

/** The watcher's marker argument (its $0), by which a later start finds a watcher still at work. */
export const NODE_REAPER_NAME = "node-reaper";

export class NodeReaper {
  private readonly pid: number | undefined;

  /** @param cleanupScript path of the script from host-cleanup.ts; @param logFile where the watcher writes */
  constructor(cleanupScript: string, logFile: string) {
    const log = openSync(logFile, "a");
    try {
      const watcher = spawn("/bin/sh", ["-c", WATCHER_SCRIPT, NODE_REAPER_NAME, String(process.pid), cleanupScript], {
        detached: true,
        stdio: ["ignore", log, log],
      });
      watcher.unref();
      this.pid = watcher.pid;
    } finally {
      closeSync(log);
    }
  }

  stop(): void {
    if (this.pid === undefined) return;
    try {
      process.kill(-this.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}
