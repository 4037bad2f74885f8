// Live load changes of the workload models (a game day's load control, docs/gameday.md), on the
// manual clock: a VU target set live starts VUs at once and lets the extra ones finish their
// iteration (graceful), a rate set live re-anchors the arrival schedule while arrivals intended
// before the change keep their intended times, and both runs still end at their deadline.

import { describe, expect, it } from 'vitest';
import { LiveValue, runClosed, runOpen, type OpenRate } from '../../../../src/engines/node/workload.js';
import { ManualClock } from './manual-clock.js';

describe('closed model, VU target changed live', () => {
  it('raises at once, lowers gracefully (extra VUs finish their iteration, none is cut)', async () => {
    const clock = new ManualClock();
    const t0 = clock.now();
    const live = new LiveValue<number | undefined>(undefined);
    const active = new Set<number>();
    const cancelled: number[] = [];
    const finished: Array<{ vu: number; t: number }> = [];
    const activeAt: Record<number, number> = {};
    const done = runClosed(
      { durationMs: 3000, vus: 2, live },
      {
        clock,
        iterate: async (vu, signal) => {
          active.add(vu);
          try {
            await clock.sleep(300, signal);
            finished.push({ vu, t: clock.now() - t0 });
          } catch {
            cancelled.push(vu);
          } finally {
            active.delete(vu);
          }
          return true;
        },
      },
    );
    await clock.advance(100);
    activeAt[100] = active.size;
    live.set(6); // at 100 ms: four more VUs start now, not at the next iteration
    await clock.advance(0);
    activeAt[101] = active.size;
    await clock.advance(1000); // t = 1100
    live.set(1); // VUs 1..5 are mid-iteration: each finishes it, then stops
    await clock.advance(0);
    const cancelledAtLower = cancelled.length;
    activeAt[1100] = active.size;
    await clock.advance(400); // every iteration started before 1100 has ended by 1400
    activeAt[1500] = active.size;
    const result = await Promise.all([clock.advance(1500), done]).then(([, r]) => r);
    expect(activeAt[100]).toBe(2);
    expect(activeAt[101]).toBe(6);
    expect(activeAt[1100]).toBe(6);
    expect(cancelledAtLower).toBe(0);
    expect(activeAt[1500]).toBe(1);
    // VUs 1..5 ended their last iteration after the change (not cut), none started one after 1100.
    for (let vu = 1; vu < 6; vu++) {
      const last = Math.max(...finished.filter((f) => f.vu === vu).map((f) => f.t));
      expect(last).toBeGreaterThan(1100);
      expect(last).toBeLessThanOrEqual(1400);
    }
    expect(result.maxVus).toBe(6);
    // Bounded: the run still ends at its deadline; only VU 0 ran on (nothing of 1..5 was cut).
    expect(clock.now() - t0).toBe(3000);
    expect(cancelled.filter((vu) => vu !== 0)).toEqual([]);
    expect(finished.filter((f) => f.t > 1400).every((f) => f.vu === 0)).toBe(true);
  });

  it('a live target replaces the stages from then on', async () => {
    const clock = new ManualClock();
    const live = new LiveValue<number | undefined>(undefined);
    const seen = new Set<number>();
    const done = runClosed(
      { durationMs: 2000, stages: [{ durationMs: 2000, target: 20 }], startVus: 0, live },
      {
        clock,
        iterate: async (vu, signal) => {
          seen.add(vu);
          await clock.sleep(50, signal).catch(() => undefined);
          return true;
        },
      },
    );
    await clock.advance(200); // the ramp is at 2 VUs
    live.set(3);
    await clock.advance(1800);
    await done;
    expect([...seen].sort((a, b) => a - b)).toEqual([0, 1, 2]);
  });
});

describe('open model, rate changed live', () => {
  it('re-anchors at the change: earlier arrivals keep their intended times, later ones follow the new rate', async () => {
    const clock = new ManualClock();
    const t0 = clock.now();
    const live = new LiveValue<OpenRate | undefined>(undefined);
    const intended: number[] = [];
    const lateness: number[] = [];
    const done = runOpen(
      { durationMs: 2000, ratePerSecond: 2, maxInFlight: 100, live },
      {
        clock,
        start: async (i) => {
          intended.push(i - t0);
          lateness.push(clock.now() - i);
        },
        missed: () => undefined,
      },
    );
    await clock.advance(700); // arrivals at 0 and 500; the next would be at 1000
    live.set({ ratePerSecond: 10, phaseMs: 0, maxInFlight: 100 });
    await clock.advance(0);
    await clock.advance(1300);
    await done;
    // From 700 on every 100 ms (not waiting for the old 1000), up to the deadline at 2000.
    expect(intended).toEqual([
      0, 500, 700, 800, 900, 1000, 1100, 1200, 1300, 1400, 1500, 1600, 1700, 1800, 1900,
    ]);
    expect(lateness.every((l) => l === 0)).toBe(true);
  });

  it('a change while the scheduler runs late keeps the late arrivals honest', async () => {
    const clock = new ManualClock();
    const t0 = clock.now();
    const live = new LiveValue<OpenRate | undefined>(undefined);
    const seen: Array<{ intended: number; late: number }> = [];
    const done = runOpen(
      { durationMs: 1000, ratePerSecond: 10, maxInFlight: 100, live },
      {
        clock,
        start: async (i) => void seen.push({ intended: i - t0, late: clock.now() - i }),
        missed: () => undefined,
      },
    );
    await clock.advance(50); // arrival 0
    clock.jump(300); // stalled: 100, 200, 300 are due at 350
    live.set({ ratePerSecond: 2, phaseMs: 0, maxInFlight: 100 }); // slower, from 350 on
    await clock.advance(0);
    await clock.advance(650);
    await done;
    expect(seen.map((s) => s.intended)).toEqual([0, 100, 200, 300, 350, 850]);
    // The stalled ones report their lateness from their own intended start.
    expect(seen.slice(1, 4).map((s) => s.late)).toEqual([250, 150, 50]);
  });

  it('lowering the in-flight cap with the rate counts the excess as missed, never starts it', async () => {
    const clock = new ManualClock();
    const live = new LiveValue<OpenRate | undefined>(undefined);
    let inFlight = 0;
    let peakAfter = 0;
    let changed = false;
    const done = runOpen(
      { durationMs: 2000, ratePerSecond: 20, maxInFlight: 10, live },
      {
        clock,
        start: async (_i, signal) => {
          inFlight++;
          if (changed) peakAfter = Math.max(peakAfter, inFlight);
          await clock.sleep(400, signal).catch(() => undefined);
          inFlight--;
        },
        missed: () => undefined,
      },
    );
    await clock.advance(1000);
    changed = true;
    live.set({ ratePerSecond: 20, phaseMs: 0, maxInFlight: 2 });
    await clock.advance(1000);
    const result = await done;
    expect(peakAfter).toBeLessThanOrEqual(8); // the 8 in flight drain; no new start above the cap
    expect(result.missed).toBeGreaterThan(0);
  });
});
