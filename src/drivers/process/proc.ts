// Linux /proc facts the process drivers need beyond `isAlive` (src/lab/process/daemon.ts).
//
// Why `hasExited` exists: when a multi-threaded process (node, redis-server) is SIGKILLed, its
// main thread can show as a zombie while the other threads are still exiting — and the file
// table, listening sockets included, is only released when the LAST thread is gone. A client
// connecting in that window is accepted by the kernel and then reset (ECONNRESET) instead of
// refused. "Exited" therefore means: no such process, or a zombie whose threads are all gone.

import { readFileSync, readdirSync } from 'node:fs';
import { isAlive } from '../../lab/process/daemon.js';

export function hasExited(pid: number): boolean {
  if (isAlive(pid)) return false;
  try {
    return readdirSync(`/proc/${pid}/task`).length <= 1;
  } catch {
    return true; // reaped: /proc/<pid> is gone
  }
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
