import { describe, expect, it } from 'vitest';
import {
  demandRate,
  parseDemand,
  parseHeadroom,
  parseRate,
  parseReplicaList,
  renderPlan,
  sweepTargets,
} from '../../../../src/core/capacity/plan.js';
import { capacityRows, recommend, type CapacitySweep } from '../../../../src/core/capacity/result.js';
import { DEFAULT_SWEEP, type KneeResult } from '../../../../src/core/capacity/sweep.js';
import { UsageError } from '../../../../src/core/errors.js';

function sweep(replicas: number, minusOne: boolean, result: Partial<KneeResult>): CapacitySweep {
  return {
    replicas,
    minusOne,
    label: `${replicas}${minusOne ? '-1' : ''}`,
    steps: [],
    result: { status: 'found', knee: null, firstFail: null, steps: 0, ...result },
    throughputAtKnee: result.knee ?? null,
    firstBreach: { id: 'ttft:p95', objective: '≤ 400', measured: 520, censored: false, margin: -0.3 },
    kneeSpread: null,
    durationMs: 1000,
  };
}

describe('parsing the capacity flags', () => {
  it('reads demands, headroom, rates and replica lists', () => {
    expect(parseDemand('200-users')).toEqual({ kind: 'users', users: 200 });
    expect(parseDemand('5/s')).toEqual({ kind: 'rate', perSecond: 5 });
    expect(parseDemand('120/m')).toEqual({ kind: 'rate', perSecond: 2 });
    expect(demandRate({ kind: 'users', users: 200 }, 30_000)).toBeCloseTo(6.667, 3);
    expect(parseHeadroom('20%')).toBe(0.2);
    expect(parseHeadroom('0')).toBe(0);
    expect(parseRate('600/m', '--max-rate')).toBe(10);
    expect(parseRate('12.5', '--max-rate')).toBe(12.5);
    expect(parseReplicaList('3,1,2,2')).toEqual([1, 2, 3]);
    expect(parseReplicaList('1-4')).toEqual([1, 2, 3, 4]);
  });

  it('rejects bad input with a UsageError naming the flag and a fix', () => {
    for (const bad of [
      () => parseDemand('lots'),
      () => parseHeadroom('much'),
      () => parseRate('0/s', '--max-rate'),
      () => parseReplicaList('0,1'),
      () => parseReplicaList('a'),
    ]) {
      expect(bad).toThrow(UsageError);
    }
    expect(() => parseDemand('lots')).toThrow(/--for "lots"/);
    try {
      parseReplicaList('two');
    } catch (err) {
      expect((err as UsageError).suggestions).toContain('--replicas 1,2,3');
    }
  });

  it('plans minus-one sweeps for counts ≥ 2 only and prints a bounded plan', () => {
    expect(sweepTargets([1, 2, 3], true)).toEqual([
      { replicas: 1, minusOne: false },
      { replicas: 2, minusOne: false },
      { replicas: 2, minusOne: true },
      { replicas: 3, minusOne: false },
      { replicas: 3, minusOne: true },
    ]);
    const text = renderPlan({
      target: 'the lab',
      sweeps: sweepTargets([1, 3], true),
      config: { ...DEFAULT_SWEEP, startLoad: 1, maxLoad: 50 },
      timing: { warmupMs: 10_000, measureMs: 30_000, tailMs: 2500 },
      maxDurationMs: 900_000,
      sweepOverheadMs: 5000,
      slos: ['ttft:p95 ≤ 2000'],
    });
    expect(text).toContain('1 replica · 3 replicas · 3 replicas, 1 down');
    expect(text).toContain('--max-duration 15 min');
    expect(text).toMatch(/expected ~\d+ steps per sweep/);
  });
});

describe('recommend', () => {
  const sweeps = [
    sweep(1, false, { knee: 7 }),
    sweep(2, false, { knee: 15 }),
    sweep(3, false, { knee: 22 }),
    sweep(3, true, { knee: 14 }),
  ];

  it('picks the smallest measured count that covers the demand with headroom', () => {
    const r = recommend(sweeps, { kind: 'rate', perSecond: 10 }, 10, 0.2);
    expect(r).toMatchObject({ neededPerSecond: 12, replicas: 2, replicasMinusOne: 3, basis: 'measured' });
    expect(r.text).toContain('2 replicas (measured)');
  });

  it('extrapolates beyond the measured counts and says so', () => {
    const r = recommend(sweeps, { kind: 'users', users: 1200 }, 40, 0.2);
    // 48/s at ~7.3/s per replica → 7; with one down: 48 / 7 per serving replica → 7 + 1.
    expect(r.basis).toBe('extrapolated');
    expect(r.replicas).toBe(7);
    expect(r.replicasMinusOne).toBe(8);
    expect(r.text).toMatch(/extrapolated .* assuming Redis, the database/);
  });

  it('cannot recommend without a knee, and says why', () => {
    const r = recommend(
      [sweep(1, false, { status: 'generator-limited', knee: 3 })],
      { kind: 'rate', perSecond: 1 },
      1,
      0,
    );
    expect(r).toMatchObject({ replicas: null, basis: 'unknown' });
    expect(r.text).toContain('no knee was found');
  });

  it('table rows carry the first breach and the computed knee', () => {
    const rows = capacityRows({ sweeps, expectedKnees: { '1': 7.5, '2': 15, '3': 22.5 } });
    expect(rows[0]).toMatchObject({ knee: 7, expected: 7.5, firstBreach: 'ttft:p95 (520, 30 % past ≤ 400)' });
    expect(rows[3]).toMatchObject({ label: '3-1', expected: 15 });
  });
});
