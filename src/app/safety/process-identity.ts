// Who a process is, in a way that survives pid reuse: host name, pid and the kernel's start time of
// that pid (field 22 of /proc/<pid>/stat). A lease or a run-index entry names its holder this way,
// so "is the holder still alive?" is answered for THAT process, not for whatever got its pid later.

import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { isAlive } from '../../infra/process/daemon.js';

export interface ProcessIdentity {
  host: string;
  pid: number;
  /** Kernel start time of the pid (clock ticks since boot), when /proc has it. */
  pidStart?: string;
}

export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export function thisProcess(): ProcessIdentity {
  const pidStart = processStart(process.pid);
  return { host: hostname(), pid: process.pid, ...(pidStart ? { pidStart } : {}) };
}

export type Liveness = 'alive' | 'gone' | 'unknown (another host)';

/** Whether the process `id` names still runs. On another host it cannot be told from here. */
export function liveness(id: ProcessIdentity): Liveness {
  if (id.host !== hostname()) return 'unknown (another host)';
  if (!isAlive(id.pid)) return 'gone';
  if (id.pidStart !== undefined) {
    const now = processStart(id.pid);
    if (now !== undefined && now !== id.pidStart) return 'gone'; // the pid was reused
  }
  return 'alive';
}
