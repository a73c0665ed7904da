/**
 * The kubelet refuses a cgroupRoot that does not exist in every hierarchy ("cgroup has some missing
 * paths"), so the node creates it before the kubelet starts. The cleanup script empties and removes it.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

export async function createCgroupRoot(cgroupRoot: string): Promise<void> {
  const mounts = await readFile("/proc/mounts", "utf8");
  for (const line of mounts.split("\n")) {
    const [, mountPoint, type, options] = line.split(" ");
    if (!mountPoint || (type !== "cgroup" && type !== "cgroup2")) continue;
    const dir = path.join(mountPoint, cgroupRoot);
    await mkdir(dir, { recursive: true });
    // cgroup v1 cpuset: a new group has no CPUs or memory nodes, and no task can join it until set.
    if (type === "cgroup" && options?.split(",").includes("cpuset")) {
      for (const file of ["cpuset.cpus", "cpuset.mems"]) {
        const current = (await readFile(path.join(dir, file), "utf8")).trim();
        if (current === "") await writeFile(path.join(dir, file), await readFile(path.join(mountPoint, file), "utf8"));
      }
    }
  }
}
