// CPU and memory of processes and of the whole machine, read from Linux /proc (bench only).
//
// - machineCpuMs(): busy and total CPU time of all cores (from /proc/stat).
// - sampleProcessTree(pid): CPU (user, system) and RSS of a process and every descendant, e.g. the
//   bench servers' child or a k6 process; CPU is cumulative since each process started, so take two
//   samples and subtract (cpuBetween). Processes that exited between the two samples are not counted.
// - selfCpu(): this process (all its threads, e.g. the engine's workers), from process.cpuUsage().
// All CPU figures are milliseconds. Off Linux the /proc readers return undefined.

import { readdirSync, readFileSync } from 'node:fs';

/** Linux USER_HZ: /proc CPU times are in ticks of 10 ms. */
const TICK_MS = 10;

export interface MachineCpu {
  /** Busy (non-idle, non-iowait) CPU time of all cores, ms. */
  busy: number;
  total: number;
  /** Time the hypervisor ran something else while this VM wanted the CPU (steal), ms. */
  steal: number;
}

/** Busy and total CPU time of the whole machine (all cores), ms, from /proc/stat; undefined off Linux. */
export function machineCpuMs(): MachineCpu | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const total = f.reduce((a, b) => a + b, 0);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    return { busy: (total - idle) * TICK_MS, total: total * TICK_MS, steal: (f[7] ?? 0) * TICK_MS };
  } catch {
    return undefined;
  }
}

export interface ProcessCpu {
  /** user + system, ms. */
  cpuMs: number;
  userMs: number;
  systemMs: number;
}

export interface ProcessTreeSample extends ProcessCpu {
  at: number;
  /** The process and its descendants alive at the sample. */
  pids: number[];
  /** Sum of the processes' resident set sizes now, and of their peaks (VmHWM), bytes. */
  rssBytes: number;
  peakRssBytes: number;
}

interface ProcStat {
  pid: number;
  ppid: number;
  userMs: number;
  systemMs: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: parse after the last ')'.
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // f[0] = state (field 3), f[1] = ppid (4), f[11] = utime (14), f[12] = stime (15).
    return { pid, ppid: Number(f[1]), userMs: Number(f[11]) * TICK_MS, systemMs: Number(f[12]) * TICK_MS };
  } catch {
    return undefined;
  }
}

function readRss(pid: number): { rss: number; hwm: number } {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string): number =>
      Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return { rss: 0, hwm: 0 };
  }
}

/**
 * CPU and memory of `pid` and all its descendants now; undefined when `pid` is gone or off Linux.
 * Reads every /proc/N/stat once to find the descendants (a few ms; take samples at step marks, not
 * in a hot loop).
 */
export function sampleProcessTree(pid: number): ProcessTreeSample | undefined {
  const root = readStat(pid);
  if (!root) return undefined;
  const children = new Map<number, ProcStat[]>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    entries = [];
  }
  for (const e of entries) {
    const n = Number(e);
    if (!Number.isInteger(n) || n === pid) continue;
    const st = readStat(n);
    if (!st) continue;
    const list = children.get(st.ppid);
    if (list) list.push(st);
    else children.set(st.ppid, [st]);
  }
  const tree: ProcStat[] = [];
  const queue = [root];
  for (let p = queue.shift(); p; p = queue.shift()) {
    tree.push(p);
    queue.push(...(children.get(p.pid) ?? []));
  }
  let userMs = 0;
  let systemMs = 0;
  let rssBytes = 0;
  let peakRssBytes = 0;
  for (const p of tree) {
    userMs += p.userMs;
    systemMs += p.systemMs;
    const m = readRss(p.pid);
    rssBytes += m.rss;
    peakRssBytes += m.hwm;
  }
  return {
    at: Date.now(),
    pids: tree.map((p) => p.pid),
    cpuMs: userMs + systemMs,
    userMs,
    systemMs,
    rssBytes,
    peakRssBytes,
  };
}

/** This process's CPU (all threads), ms. */
export function selfCpu(): ProcessCpu {
  const c = process.cpuUsage();
  return { cpuMs: (c.user + c.system) / 1000, userMs: c.user / 1000, systemMs: c.system / 1000 };
}

/** CPU used between two samples, ms. */
export function cpuBetween(a: ProcessCpu, b: ProcessCpu): ProcessCpu {
  return { cpuMs: b.cpuMs - a.cpuMs, userMs: b.userMs - a.userMs, systemMs: b.systemMs - a.systemMs };
}
