/**
 * Kills the control plane's process groups if this Node process dies without stopping them.
 *
 * The components run in their own process groups (so they can be stopped as a whole), which
 * also means they survive their parent: a test runner killed by SIGKILL, an OOM kill or a
 * crash would leave etcd and the API server running. Node cannot set PR_SET_PDEATHSIG, so a
 * small shell loop watches our PID and, once it is gone, kills every group listed in a file
 * that we keep current. It is itself stopped when the control plane stops normally.
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";

const REAPER_SCRIPT = `
parent="$1"; groups_file="$2"; remove_dir="$3"
while kill -0 "$parent" 2>/dev/null; do sleep 1; done
# "kill -9 -N" (not "kill -KILL -- -N"): the portable form that dash, /bin/sh on Debian, accepts.
for group in $(cat "$groups_file" 2>/dev/null); do kill -9 "-$group" 2>/dev/null; done
if [ -n "$remove_dir" ]; then sleep 1; rm -rf -- "$remove_dir"; fi
`;

export class OrphanReaper {
  private readonly groups = new Set<number>();
  private readonly pid: number | undefined;

  /**
   * @param groupsFile where the list of process groups is kept for the watcher
   * @param dirToRemove removed after the kill (the control plane's temp dir), unless undefined
   */
  constructor(
    private readonly groupsFile: string,
    dirToRemove: string | undefined,
  ) {
    this.writeGroups();
    const args = ["-c", REAPER_SCRIPT, "orphan-reaper", String(process.pid), groupsFile, dirToRemove ?? ""];
    const reaper = spawn("/bin/sh", args, {
      detached: true,
      stdio: "ignore",
    });
    // Never keep the event loop alive just for the watcher.
    reaper.unref();
    this.pid = reaper.pid;
  }

  track(processGroup: number): void {
    this.groups.add(processGroup);
    this.writeGroups();
  }

  untrack(processGroup: number): void {
    this.groups.delete(processGroup);
    this.writeGroups();
  }

  stop(): void {
    if (this.pid === undefined) return;
    try {
      process.kill(-this.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }

  /** Synchronous so that the list on disk is never older than the processes we started. */
  private writeGroups(): void {
    writeFileSync(this.groupsFile, [...this.groups].join("\n") + "\n");
  }
}
