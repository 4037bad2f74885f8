import { describe, expect, it } from 'vitest';
import { evaluateSamples } from '../../../../src/core/report/evaluate.js';
import { findRecovery } from '../../../../src/core/slo/recovery.js';
import type { SloSpec } from '../../../../src/core/slo/spec.js';
import { T0, journalWith, sample, ttftSeries } from '../report/synthetic.js';

describe('findRecovery (pure window search)', () => {
  it('recovers one step after the last breaching window; impact is the first breaching second', () => {
    const bad = new Set([12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24].map((s) => s * 1000));
    const holds = (start: number, end: number): boolean => {
      for (let t = start; t < end; t += 1000) if (bad.has(t)) return false;
      return true;
    };
    expect(findRecovery({ injectedAt: 10_000, windowMs: 10_000, dataEnd: 100_000, holds })).toEqual({
      recovered: true,
      recoveryTimeMs: 15_000,
      recoveredAt: 25_000,
      impactedAt: 12_000,
      timeToImpactMs: 2_000,
    });
  });

  it('a relapse after a good window is not recovery: every window must hold to the end', () => {
    // Good 10 s after the fault, bad again at 40–44 s: the old "first good window" said 0 s.
    const bad = new Set([40, 41, 42, 43, 44].map((s) => s * 1000));
    const holds = (start: number, end: number): boolean => {
      for (let t = start; t < end; t += 1000) if (bad.has(t)) return false;
      return true;
    };
    expect(findRecovery({ injectedAt: 10_000, windowMs: 10_000, dataEnd: 100_000, holds })).toMatchObject({
      recovered: true,
      recoveredAt: 45_000,
      recoveryTimeMs: 35_000,
      timeToImpactMs: 30_000,
    });
  });

  it('errors that start late and never stop: never recovered, with the time to impact', () => {
    // The pinned-master case: fine for 12 s after the switch, then failing to the end.
    const holds = (start: number, end: number): boolean => end <= 22_000 || false;
    const out = findRecovery({ injectedAt: 10_000, windowMs: 10_000, dataEnd: 60_000, holds });
    expect(out).toMatchObject({ recovered: false, reason: 'never-recovered', recoveryTimeMs: null });
    expect(out.timeToImpactMs).toBe(12_000);
  });

  it('an observation shorter than one window is "not measured", not recovered', () => {
    expect(
      findRecovery({ injectedAt: 10_000, windowMs: 10_000, dataEnd: 15_000, holds: () => true }),
    ).toMatchObject({ recovered: false, reason: 'observation-too-short' });
  });

  it('"did not recover" is a result when no window holds before the data ends', () => {
    const calls: number[] = [];
    const outcome = findRecovery({
      injectedAt: 5_500,
      windowMs: 10_000,
      dataEnd: 60_000,
      holds: (start, end) => {
        if (end - start === 10_000) calls.push(start);
        return false;
      },
    });
    expect(outcome).toMatchObject({
      recovered: false,
      recoveryTimeMs: null,
      recoveredAt: null,
      reason: 'never-recovered',
      timeToImpactMs: 0,
    });
    // Aligned to seconds, starting with the second of the injection, never past the data's end.
    expect(calls[0]).toBe(5_000);
    expect(calls[calls.length - 1]).toBe(50_000);
  });

  it('a fault that never hurt recovers in 0 ms and has no impact', () => {
    expect(
      findRecovery({ injectedAt: 7_300, windowMs: 10_000, dataEnd: 30_000, holds: () => true }),
    ).toMatchObject({ recoveryTimeMs: 0, timeToImpactMs: null, impactedAt: null });
  });
});

const p95 = (phases: string[]): SloSpec => ({ metric: 'ttft', stat: 'p95', lte: 500, phases });

describe('recovery_time from samples', () => {
  it('measures the known recovery time of one fault', () => {
    // ttft is bad from 30 s to 75 s; the fault was injected at 30 s.
    const samples = ttftSeries(T0, T0 + 120_000, (t) => (t >= T0 + 30_000 && t < T0 + 75_000 ? 900 : 100));
    const results = evaluateSamples(samples, {
      journal: journalWith([{ name: 'llm-latency', start: T0 + 30_000, end: T0 + 60_000 }]),
      slos: [p95(['recovery'])],
    });
    expect(results.recovery).toHaveLength(1);
    expect(results.recovery[0]).toMatchObject({
      fault: 'llm-latency',
      recovered: true,
      recoveryTimeMs: 45_000,
    });
  });

  it('overlapping faults each get their time from their own injection', () => {
    const samples = ttftSeries(T0, T0 + 120_000, (t) => (t >= T0 + 30_000 && t < T0 + 62_000 ? 900 : 100));
    const results = evaluateSamples(samples, {
      journal: journalWith([
        { name: 'a', start: T0 + 30_000, end: T0 + 50_000 },
        { name: 'b', start: T0 + 40_000, end: T0 + 60_000 },
      ]),
      slos: [p95(['all'])],
    });
    expect(results.recovery.map((r) => [r.fault, r.recoveryTimeMs])).toEqual([
      ['a', 32_000],
      ['b', 22_000],
    ]);
  });

  it('reports a fault the run never recovered from', () => {
    const samples = ttftSeries(T0, T0 + 90_000, (t) => (t >= T0 + 30_000 ? 900 : 100));
    const results = evaluateSamples(samples, {
      journal: journalWith([{ name: 'kill', start: T0 + 30_000, end: T0 + 40_000 }]),
      slos: [p95(['recovery'])],
    });
    expect(results.recovery[0]).toMatchObject({ recovered: false, recoveryTimeMs: null });
    expect(results.recovery[0]?.note).toMatch(/never recovered/);
  });

  it('a stall (no samples after the fault although the baseline had them) is not recovery', () => {
    const before = ttftSeries(T0, T0 + 30_000, () => 100);
    const after = ttftSeries(T0 + 70_000, T0 + 100_000, () => 100);
    const results = evaluateSamples([...before, ...after], {
      journal: journalWith([{ name: 'failover', start: T0 + 30_000, end: T0 + 35_000 }]),
      slos: [p95(['recovery'])],
    });
    expect(results.recovery[0]).toMatchObject({ recovered: true, recoveryTimeMs: 40_000 });
  });

  it('an SLO on a metric the steady state never produces (reconnect time) does not block recovery', () => {
    const samples = [
      ...ttftSeries(T0, T0 + 60_000, (t) => (t >= T0 + 20_000 && t < T0 + 25_000 ? 900 : 100)),
      sample('ws_reconnect_time', T0 + 21_000, 2500, { client: 'browser' }),
    ];
    const results = evaluateSamples(samples, {
      journal: journalWith([{ name: 'kill', start: T0 + 20_000, end: T0 + 22_000 }]),
      slos: [p95(['all']), { metric: 'ws_reconnect_time', stat: 'p95', lte: 6000, phases: ['all'] }],
      recoveryWindowMs: 5_000,
    });
    expect(results.recovery[0]).toMatchObject({ recovered: true, recoveryTimeMs: 5_000 });
  });
});
