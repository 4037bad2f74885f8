// Linux /proc facts the process drivers need beyond `isAlive` (src/infra/process/daemon.ts).

import { readFileSync } from 'node:fs';
import { isAlive } from '../../infra/process/daemon.js';

/**
 * No such process, or a zombie whose threads are all gone (`isAlive` keeps a zombie alive while
 * other threads still hold its sockets, see there).
 */
export function hasExited(pid: number): boolean {
  return !isAlive(pid);
}

/** Linux `/proc/<pid>/stat` state `T` (stopped by a signal) or `t` (traced). */
export function isStopped(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const s = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return s === 'T' || s === 't';
  } catch {
    return false;
  }
}
