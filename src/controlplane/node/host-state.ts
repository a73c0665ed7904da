/**
 * Records what the host looked like before the node changed it (kernel settings, which fixed host
 * directories existed), in a file the cleanup script reads. Written once, before anything starts.
 */
import { access, readFile, writeFile } from "node:fs/promises";
import { FIXED_HOST_DIRS, SAVED_SYSCTLS } from "./layout.js";

export async function recordHostState(file: string): Promise<void> {
  const lines: string[] = [];
  for (const name of SAVED_SYSCTLS) {
    const value = await readFile(`/proc/sys/${name}`, "utf8").then((v) => v.trim(), () => undefined);
    // Multi-value settings never appear in the list; a missing one (no such kernel feature) is skipped.
    if (value !== undefined && /^\S+$/.test(value)) lines.push(`sysctl ${name} ${value}`);
  }
  for (const dir of FIXED_HOST_DIRS) {
    if (!(await access(dir).then(() => true, () => false))) lines.push(`created ${dir} -`);
  }
  await writeFile(file, lines.join("\n") + "\n", { mode: 0o600 });
}

export async function writeSysctl(name: string, value: string): Promise<void> {
  await writeFile(`/proc/sys/${name}`, value);
}
