import type { ChildProcess } from 'node:child_process';

/**
 * Stops a server started detached (its own process group): `signal` to the whole group, then SIGKILL
 * if it has not exited within `graceMs`. Resolves once it is gone either way.
 */
export async function stopProcessGroup(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (child.exitCode !== null || !child.pid) return;
  const kill = (s: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, s);
    } catch {
      /* already gone */
    }
  };
  kill(signal);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      kill('SIGKILL');
      resolve();
    }, graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
