import { describe, expect, it } from 'vitest';
import { startLoopProbe } from '../../../../src/engines/node/loop-probe.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('startLoopProbe', () => {
  it('sees a blocked event loop, and take() resets the figures', async () => {
    const probe = startLoopProbe();
    try {
      await sleep(20);
      const until = Date.now() + 60;
      while (Date.now() < until) {
        // a 60 ms stall of this thread's loop
      }
      await sleep(20);
      const stalled = probe.take();
      expect(stalled.delayMaxMs).toBeGreaterThanOrEqual(50);
      expect(stalled.delayP99Ms).toBeLessThanOrEqual(stalled.delayMaxMs);
      // Reset: the stall is not reported again.
      await sleep(20);
      expect(probe.take().delayMaxMs).toBeLessThan(stalled.delayMaxMs);
    } finally {
      probe.stop();
    }
  });

  it('an interval in which the timer never ran is reported as blocked for its length, not as 0', () => {
    const probe = startLoopProbe();
    try {
      probe.take();
      const until = Date.now() + 40;
      while (Date.now() < until) {
        // blocked from the take to the next one: the probe's timer cannot fire
      }
      const f = probe.take();
      expect(f.delaySamples).toBe(0);
      expect(f.delayMaxMs).toBeGreaterThanOrEqual(35);
      expect(f.delayP99Ms).toBeGreaterThanOrEqual(35);
    } finally {
      probe.stop();
    }
  });

  it('counts garbage-collection pauses', async () => {
    const probe = startLoopProbe();
    try {
      let keep: unknown[] = [];
      for (let i = 0; i < 200_000; i++) {
        keep.push({ i, s: `x${i}` });
        if (keep.length > 10_000) keep = [];
      }
      expect(keep.length).toBeGreaterThan(0);
      // GC entries reach the observer asynchronously.
      await sleep(50);
      const f = probe.take();
      expect(f.gcCount).toBeGreaterThan(0);
      expect(f.gcMs).toBeGreaterThan(0);
      expect(f.gcMaxMs).toBeLessThanOrEqual(f.gcMs);
      expect(probe.take().gcCount).toBe(0);
    } finally {
      probe.stop();
    }
  });
});
