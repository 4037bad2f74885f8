// How busy a worker's event loop is, for the engine bench (docs/engine-bench.md): event-loop
// delay (a 1 ms timer's lateness: how long a read that became ready waited behind other work)
// and garbage-collection pauses, reported per stats interval and reset.
//
// Contract: `take()` returns the figures since the previous take (or since start) and resets
// them; `stop()` disables both observers. An interval in which the timer never fired is not a
// quiet one: the loop was blocked all along, so its delay is the interval's length (a lower
// bound), never 0. Off by default (the engine option `probeLoop`): the
// 1 ms timer costs about 1 % of a core per thread.

import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';

export interface LoopFigures {
  /** Event-loop delay over the interval, ms (the timer's own 1 ms excluded). */
  delayP50Ms: number;
  delayP99Ms: number;
  delayMaxMs: number;
  /** Timer samples behind the delay figures; 0 = the loop never ran the timer (blocked throughout). */
  delaySamples: number;
  /** GC pauses over the interval: how many, their sum and the longest, ms. */
  gcCount: number;
  gcMs: number;
  gcMaxMs: number;
}

export interface LoopProbe {
  take(): LoopFigures;
  stop(): void;
}

const RESOLUTION_MS = 1;

export function startLoopProbe(): LoopProbe {
  const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  delay.enable();
  let gcCount = 0;
  let gcMs = 0;
  let gcMaxMs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcCount++;
      gcMs += e.duration;
      if (e.duration > gcMaxMs) gcMaxMs = e.duration;
    }
  });
  gc.observe({ entryTypes: ['gc'] });
  const ms = (ns: number): number => (Number.isFinite(ns) ? Math.max(0, ns / 1e6 - RESOLUTION_MS) : 0);
  let lastTake = performance.now();
  return {
    take: () => {
      const now = performance.now();
      // No sample: the timer was due (or the interval is shorter than it) and never ran.
      const blocked = Math.max(0, now - lastTake - RESOLUTION_MS);
      lastTake = now;
      const sampled = delay.count > 0;
      const f: LoopFigures = {
        delayP50Ms: sampled ? ms(delay.percentile(50)) : blocked,
        delayP99Ms: sampled ? ms(delay.percentile(99)) : blocked,
        delayMaxMs: sampled ? ms(delay.max) : blocked,
        delaySamples: delay.count,
        gcCount,
        gcMs,
        gcMaxMs,
      };
      delay.reset();
      gcCount = 0;
      gcMs = 0;
      gcMaxMs = 0;
      return f;
    },
    stop: () => {
      delay.disable();
      gc.disconnect();
    },
  };
}
