// Memory measurement shared by the benchmarks (bench/*-bench.ts):
// - settledHeapBytes(): heap in use after a full, forced GC (works without --expose-gc);
// - trackPeakMemory(): peak heap and RSS while work runs, sampled on a timer AND at the points
//   the caller marks with sample() (a timer alone misses a peak reached in synchronous code).

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gcFn: (() => void) | undefined;

/** A full GC now. `global.gc` only exists under --expose-gc; this sets the flag and takes the function from a fresh context. */
export function forceGc(): void {
  if (!gcFn) {
    setFlagsFromString('--expose-gc');
    gcFn = runInNewContext('gc') as () => void;
  }
  gcFn();
}

/** Heap used after two full GCs (the second frees what the first's finalisers released). */
export function settledHeapBytes(): number {
  forceGc();
  forceGc();
  return process.memoryUsage().heapUsed;
}

export interface PeakMemory {
  /** Samples now (call it after each synchronous stretch of work). */
  sample(): void;
  /** Stops the timer and returns the peaks seen, bytes. */
  stop(): { heapBytes: number; rssBytes: number };
}

/** Starts sampling heap and RSS every `intervalMs` ms (and at each sample()). */
export function trackPeakMemory(intervalMs = 20): PeakMemory {
  let heapBytes = 0;
  let rssBytes = 0;
  const sample = (): void => {
    const m = process.memoryUsage();
    heapBytes = Math.max(heapBytes, m.heapUsed);
    rssBytes = Math.max(rssBytes, m.rss);
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    sample,
    stop: () => {
      clearInterval(timer);
      sample();
      return { heapBytes, rssBytes };
    },
  };
}
