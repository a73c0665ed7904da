import { readFileSync, readdirSync } from 'node:fs';

// What the benchmarks read of a process from Linux's /proc (proc(5)).

/** Fields of /proc/PID/stat after the command name (which may hold spaces): [0] is state, [1] ppid. */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** utime + stime of these processes, in seconds (100 ticks a second); processes gone count nothing. */
export function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = statFields(pid);
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      /* gone */
    }
  }
  return ticks / 100;
}

/** Peak resident set size (VmHWM) of a process, in MiB. */
export function peakRssMiB(pid: number): number {
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return Math.round(kb / 1024);
}

/** Processes for which `match` holds, given their command line (arguments joined by spaces) and parent. */
export function pidsWhere(match: (cmdline: string, ppid: number) => boolean): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (match(cmdline, Number(statFields(Number(entry))[1]))) out.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return out;
}
