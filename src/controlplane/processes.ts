/**
 * Spawning, health-waiting and stopping the control plane's child processes.
 *
 * Every component runs in its own process group (spawn `detached`), so stopping it also stops
 * anything it forked, and its output goes straight to a log file (the file descriptor is handed
 * to the child, so logs keep flowing even while this process is busy or blocked).
 */
import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { open } from "node:fs/promises";
import net from "node:net";

export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface StartProcessOptions {
  /** Short name for messages, e.g. "kube-apiserver". */
  readonly name: string;
  readonly binary: string;
  readonly args: readonly string[];
  /** stdout and stderr are appended here. */
  readonly logFile: string;
  readonly cwd: string;
  /** Environment of the child; defaults to a minimal one so nothing leaks in by accident. */
  readonly env?: NodeJS.ProcessEnv;
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<ProcessExit>;
  /** The exit, once it happened. */
  exitStatus(): ProcessExit | undefined;
  /** SIGTERM to the whole process group, SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<ProcessExit>;
}

/** Process groups still running, killed if this Node process exits without stopping them. */
const liveProcessGroups = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort when a test run dies without teardown: 'exit' handlers must be synchronous,
  // and process.kill is. (A SIGKILLed parent cannot clean up; see docs/controlplane.md.)
  process.on("exit", () => {
    for (const pgid of liveProcessGroups) killGroup(pgid, "SIGKILL");
  });
}

export function startProcess(options: StartProcessOptions): ManagedProcess {
  installExitHook();
  const logFd = openSync(options.logFile, "a");
  let child;
  try {
    child = spawn(options.binary, [...options.args], {
      cwd: options.cwd,
      env: options.env ?? { PATH: "/usr/local/bin:/usr/bin:/bin" },
      detached: true,
      stdio: ["ignore", logFd, logFd],
    });
  } finally {
    closeSync(logFd);
  }
  const pid = child.pid;
  if (pid === undefined) {
    throw new Error(`${options.name}: could not start ${options.binary}`);
  }
  liveProcessGroups.add(pid);

  let exitStatus: ProcessExit | undefined;
  const exited = new Promise<ProcessExit>((resolve) => {
    child.on("exit", (code, signal) => {
      exitStatus = { code, signal };
      resolve(exitStatus);
    });
    child.on("error", () => {
      exitStatus ??= { code: null, signal: null };
      resolve(exitStatus);
    });
  });

  const stop = async (graceMs = 10_000): Promise<ProcessExit> => {
    if (!exitStatus) {
      killGroup(pid, "SIGTERM");
      const timer = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), graceMs).unref());
      if ((await Promise.race([exited, timer])) === "timeout") killGroup(pid, "SIGKILL");
    }
    const status = await exited;
    // The leader is gone; make sure nothing it forked survives in its group.
    killGroup(pid, "SIGKILL");
    liveProcessGroups.delete(pid);
    return status;
  };

  return { name: options.name, pid, logFile: options.logFile, exited, exitStatus: () => exitStatus, stop };
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

export interface WaitOptions {
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  /** Fail at once, with its log tail, if this process exits while we wait. */
  readonly process?: ManagedProcess;
}

/**
 * Polls `check` until it returns true. Errors thrown by `check` count as "not yet" and the
 * last one is reported on timeout, which is what distinguishes "refused" from "unhealthy".
 */
export async function waitUntil(what: string, check: () => Promise<boolean>, options: WaitOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  const interval = options.intervalMs ?? 250;
  let lastError: unknown;
  for (;;) {
    const exit = options.process?.exitStatus();
    if (exit && options.process) {
      throw new Error(
        `${options.process.name} exited (${exit.signal ?? `code ${exit.code}`}) while waiting for ${what}.\n` +
          `--- last lines of ${options.process.logFile} ---\n${await readLogTail(options.process.logFile)}`,
      );
    }
    try {
      if (await check()) return;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
      const tail = options.process
        ? `\n--- last lines of ${options.process.logFile} ---\n${await readLogTail(options.process.logFile)}`
        : "";
      throw new Error(`timed out after ${options.timeoutMs}ms waiting for ${what}${cause}${tail}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** The last `lines` lines of a log file, or a note if it cannot be read. */
export async function readLogTail(file: string, lines = 40): Promise<string> {
  try {
    const handle = await open(file, "r");
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, 64 * 1024);
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      return buffer.toString("utf8").split("\n").slice(-lines - 1).join("\n");
    } finally {
      await handle.close();
    }
  } catch (error) {
    return `(cannot read ${file}: ${(error as Error).message})`;
  }
}

/** Ports handed out by this process, so two components never get the same one. */
const reservedPorts = new Set<number>();

/** A free TCP port on 127.0.0.1, as reported by the kernel for an ephemeral bind. */
export async function findFreePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = net.createServer();
      server.unref();
      server.on("error", reject);
      server.listen(0, "127.0.0.1", () => {
        const address = server.address();
        server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
      });
    });
    if (!reservedPorts.has(port)) {
      reservedPorts.add(port);
      return port;
    }
  }
  throw new Error("could not find a free port on 127.0.0.1");
}
