import { describe, expect, it } from 'vitest';
import { rampStepMs, runClosed, runOpen, stageTarget } from '../../../../src/engines/node/workload.js';
import { ManualClock, settle } from './manual-clock.js';

describe('stageTarget', () => {
  it('interpolates linearly within a stage and holds the last target', () => {
    const stages = [
      { durationMs: 1000, target: 10 },
      { durationMs: 1000, target: 10 },
      { durationMs: 1000, target: 0 },
    ];
    expect(stageTarget(stages, 0, 0)).toBe(0);
    expect(stageTarget(stages, 0, 500)).toBe(5);
    expect(stageTarget(stages, 0, 1500)).toBe(10);
    expect(stageTarget(stages, 0, 2250)).toBe(8);
    expect(stageTarget(stages, 0, 5000)).toBe(0);
    // 10 VUs over 1 s: one every 100 ms; a flat stage sleeps a whole tick.
    expect(rampStepMs(stages, 0, 500, 200)).toBe(100);
    expect(rampStepMs(stages, 0, 500, 50)).toBe(50);
    expect(rampStepMs([{ durationMs: 3000, target: 1500 }], 0, 10, 200)).toBe(2);
    expect(stageTarget([], 4, 5000)).toBe(4);
  });
});

describe('closed model', () => {
  it('runs each VU iteration after iteration with think time and stops at the deadline', async () => {
    const clock = new ManualClock();
    const starts: Array<{ vu: number; t: number }> = [];
    let cancelled = 0;
    const done = runClosed(
      { durationMs: 1000, vus: 3, thinkTimeMs: 50 },
      {
        clock,
        iterate: async (vu, signal) => {
          starts.push({ vu, t: clock.now() });
          try {
            await clock.sleep(200, signal);
            return true;
          } catch {
            cancelled++;
            return true;
          }
        },
      },
    );
    await clock.advance(1000);
    const result = await done;
    // Each VU starts at 0, 250, 500, 750 (200 ms iteration + 50 ms think): 4 each.
    expect(starts.filter((s) => s.vu === 0).map((s) => s.t - 1_000_000)).toEqual([0, 250, 500, 750]);
    expect(starts).toHaveLength(12);
    // The iterations started at 750 were in flight at the deadline (950 < 1000? no: they end at 950).
    expect(result.iterations).toBe(12);
    expect(cancelled).toBe(0);
  });

  it('cancels in-flight iterations at the deadline', async () => {
    const clock = new ManualClock();
    let cancelled = 0;
    const done = runClosed(
      { durationMs: 500, vus: 2 },
      {
        clock,
        iterate: async (_vu, signal) => {
          await clock.sleep(10_000, signal).catch(() => cancelled++);
          return true;
        },
      },
    );
    await clock.advance(500);
    await done;
    expect(cancelled).toBe(2);
  });

  it('ramps VUs up and down with stages (graceful ramp-down)', async () => {
    const clock = new ManualClock();
    const active = new Set<number>();
    let peak = 0;
    const done = runClosed(
      {
        durationMs: 3000,
        stages: [
          { durationMs: 1000, target: 4 },
          { durationMs: 1000, target: 4 },
          { durationMs: 1000, target: 0 },
        ],
        tickMs: 100,
      },
      {
        clock,
        iterate: async (vu, signal) => {
          active.add(vu);
          peak = Math.max(peak, active.size);
          await clock.sleep(100, signal).catch(() => undefined);
          active.delete(vu);
          return true;
        },
      },
    );
    await clock.advance(500);
    expect(active.size).toBe(2);
    await clock.advance(1000);
    expect(active.size).toBe(4);
    await clock.advance(1450);
    expect(active.size).toBeLessThanOrEqual(1);
    await clock.advance(100);
    const result = await done;
    expect(peak).toBe(4);
    expect(result.maxVus).toBe(4);
  });

  it('pauses after a failed iteration so a dead server cannot spin a hot loop', async () => {
    const clock = new ManualClock();
    let calls = 0;
    const done = runClosed(
      { durationMs: 1000, vus: 1, failurePauseMs: 100 },
      { clock, iterate: async () => (calls++, false) },
    );
    await clock.advance(1000);
    await done;
    expect(calls).toBe(10);
  });
});

describe('open model', () => {
  it('starts arrivals at their intended times and hands over the intended start', async () => {
    const clock = new ManualClock();
    const t0 = clock.now();
    const intended: number[] = [];
    const actual: number[] = [];
    const done = runOpen(
      { durationMs: 1000, ratePerSecond: 10, maxInFlight: 100 },
      {
        clock,
        start: async (i, signal) => {
          intended.push(i - t0);
          actual.push(clock.now() - t0);
          await clock.sleep(50, signal).catch(() => undefined);
        },
        missed: () => undefined,
      },
    );
    await clock.advance(1000);
    const result = await done;
    expect(intended).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900]);
    expect(actual).toEqual(intended);
    expect(result).toMatchObject({ started: 10, missed: 0 });
  });

  it('keeps the intended start when the scheduler runs late (coordinated omission stays visible)', async () => {
    const clock = new ManualClock();
    const t0 = clock.now();
    const lateness: number[] = [];
    const done = runOpen(
      { durationMs: 1000, ratePerSecond: 10, maxInFlight: 100 },
      {
        clock,
        start: async (i) => {
          lateness.push(clock.now() - i);
        },
        missed: () => undefined,
      },
    );
    await clock.advance(150); // arrivals 0 and 100 on time
    clock.jump(300); // the event loop stalls for 300 ms: 200, 300, 400 are due
    await clock.advance(0);
    await clock.advance(550);
    await done;
    expect(lateness.slice(0, 2)).toEqual([0, 0]);
    // 200, 300 and 400 start at 450, each reporting its own intended start.
    expect(lateness.slice(2, 5)).toEqual([250, 150, 50]);
    expect(lateness).toHaveLength(10);
    expect(clock.now() - t0).toBe(1000);
  });

  it('counts missed starts when the in-flight cap is reached', async () => {
    const clock = new ManualClock();
    const missed: number[] = [];
    let cancelled = 0;
    const done = runOpen(
      { durationMs: 1000, ratePerSecond: 10, maxInFlight: 2, phaseMs: 0 },
      {
        clock,
        start: async (_i, signal) => {
          await clock.sleep(250, signal).catch(() => cancelled++);
        },
        missed: (i) => missed.push(i),
      },
    );
    await clock.advance(1000);
    const result = await done;
    // Two in flight at a time, each 250 ms: starts at 0,100 | 300,400 | 600,700 | 900, … the rest missed.
    expect(result.started + result.missed).toBe(10);
    expect(result.missed).toBe(missed.length);
    expect(result.missed).toBeGreaterThan(0);
    expect(result.maxInFlight).toBe(2);
    expect(cancelled).toBeGreaterThan(0); // the one started at 900 is cut by the deadline
  });

  it('an external abort ends the run early', async () => {
    const clock = new ManualClock();
    const ac = new AbortController();
    let started = 0;
    const done = runOpen(
      { durationMs: 10_000, ratePerSecond: 10, maxInFlight: 10 },
      { clock, signal: ac.signal, start: async () => void started++, missed: () => undefined },
    );
    await clock.advance(250);
    ac.abort();
    await settle();
    await done;
    expect(started).toBe(3);
  });
});
