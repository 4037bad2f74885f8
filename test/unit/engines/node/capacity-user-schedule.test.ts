import { describe, expect, it } from 'vitest';
import { runUserSchedule, userPhaseMs } from '../../../../src/engines/node/user-schedule.js';
import { ManualClock } from './manual-clock.js';

describe('userPhaseMs', () => {
  it('spreads n users evenly over one interval, so they never align', () => {
    expect([0, 1, 2, 3].map((i) => userPhaseMs(i, 4, 10_000))).toEqual([0, 2500, 5000, 7500]);
    expect(userPhaseMs(5, 4, 10_000)).toBe(2500); // wraps
    expect(userPhaseMs(0, 0, 10_000)).toBe(0);
    // n users together arrive on one lattice of n / interval per second.
    const n = 7;
    const arrivals = Array.from(
      { length: n * 3 },
      (_, k) => userPhaseMs(k % n, n, 7000) + Math.floor(k / n) * 7000,
    ).sort((a, b) => a - b);
    const gaps = arrivals.slice(1).map((a, i) => a - arrivals[i]!);
    for (const g of gaps) expect(g).toBeCloseTo(1000, 6);
  });
});

describe('runUserSchedule', () => {
  it('starts each chat at its intended time (origin + phase + k · interval) and hands it over', async () => {
    const clock = new ManualClock();
    const t0 = clock.now();
    const starts: Array<{ intended: number; at: number }> = [];
    const done = runUserSchedule(
      { phaseMs: 300, intervalMs: 1000, durationMs: 3500 },
      {
        clock,
        start: async (intended, signal) => {
          starts.push({ intended: intended - t0, at: clock.now() - t0 });
          await clock.sleep(200, signal).catch(() => undefined);
        },
        missed: () => expect.unreachable('no arrival may be missed'),
      },
    );
    await clock.advance(4000);
    expect(await done).toEqual({ started: 4, missed: 0 });
    expect(starts).toEqual([
      { intended: 300, at: 300 },
      { intended: 1300, at: 1300 },
      { intended: 2300, at: 2300 },
      { intended: 3300, at: 3300 },
    ]);
  });

  it('counts an arrival whose previous chat is still running as missed, never delaying the schedule', async () => {
    const clock = new ManualClock();
    const t0 = clock.now();
    const intended: number[] = [];
    const missed: number[] = [];
    const done = runUserSchedule(
      { phaseMs: 0, intervalMs: 1000, durationMs: 5000 },
      {
        clock,
        // A slow target: every chat takes 2.5 s.
        start: async (i, signal) => {
          intended.push(i - t0);
          await clock.sleep(2500, signal).catch(() => undefined);
        },
        missed: (i) => void missed.push(i - t0),
      },
    );
    await clock.advance(6000);
    const r = await done;
    // 0 runs to 2500 (1000, 2000 missed), 3000 runs to 5500 → cancelled at the deadline (4000 missed).
    expect(intended).toEqual([0, 3000]);
    expect(missed).toEqual([1000, 2000, 4000]);
    expect(r).toEqual({ started: 2, missed: 3 });
    // Every intended arrival is accounted for: started + missed = ceil(duration / interval).
    expect(r.started + r.missed).toBe(5);
  });

  it('a closed loop would have hidden those arrivals: the open one keeps the offered rate', async () => {
    // The same slow target, 10 s: the open schedule offers 10 arrivals whatever happens.
    const clock = new ManualClock();
    let offered = 0;
    const done = runUserSchedule(
      { phaseMs: 0, intervalMs: 1000, durationMs: 10_000 },
      {
        clock,
        start: async (_i, signal) => {
          offered++;
          await clock.sleep(2500, signal).catch(() => undefined);
        },
        missed: () => void offered++,
      },
    );
    await clock.advance(11_000);
    await done;
    expect(offered).toBe(10);
  });

  it('stops at the deadline, aborts the chat in flight and waits for it to settle', async () => {
    const clock = new ManualClock();
    let aborted = false;
    let settled = false;
    const done = runUserSchedule(
      { phaseMs: 0, intervalMs: 10_000, durationMs: 1000 },
      {
        clock,
        start: async (_i, signal) => {
          await clock.sleep(60_000, signal).catch(() => void (aborted = true));
          settled = true;
        },
        missed: () => undefined,
      },
    );
    await clock.advance(1000);
    expect(await done).toEqual({ started: 1, missed: 0 });
    expect(aborted).toBe(true);
    expect(settled).toBe(true);
  });

  it('ends early on an outer abort and starts nothing for a non-positive interval', async () => {
    const clock = new ManualClock();
    const ctl = new AbortController();
    let started = 0;
    const done = runUserSchedule(
      { phaseMs: 0, intervalMs: 100, durationMs: 60_000 },
      { clock, signal: ctl.signal, start: async () => void started++, missed: () => undefined },
    );
    await clock.advance(450);
    ctl.abort();
    await clock.advance(1);
    expect(await done).toEqual({ started: 5, missed: 0 });
    expect(started).toBe(5);

    const idle = runUserSchedule(
      { phaseMs: 0, intervalMs: 0, durationMs: 500 },
      { clock, start: async () => void started++, missed: () => undefined },
    );
    await clock.advance(600);
    expect(await idle).toEqual({ started: 0, missed: 0 });
  });

  it('honours an origin in the past: arrivals already due start at once with their intended time', async () => {
    const clock = new ManualClock();
    const t0 = clock.now();
    const intended: number[] = [];
    const done = runUserSchedule(
      { originMs: t0 - 250, phaseMs: 100, intervalMs: 1000, durationMs: 1500 },
      { clock, start: async (i) => void intended.push(i - t0), missed: () => undefined },
    );
    await clock.advance(2000);
    await done;
    expect(intended).toEqual([-150, 850]);
  });
});
