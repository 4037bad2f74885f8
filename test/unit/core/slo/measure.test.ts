import { describe, expect, it } from 'vitest';
import { newHistogram, recordScaled } from '../../../../src/core/report/histogram.js';
import {
  addValue,
  emptyAcc,
  judge,
  measure,
  meetsObjective,
  type Acc,
} from '../../../../src/core/slo/measure.js';

function accOf(values: number[], withHist = true): Acc {
  const acc = emptyAcc(withHist ? newHistogram() : null);
  for (const v of values) {
    addValue(acc, v);
    if (acc.hist) recordScaled(acc.hist, v, 1000);
  }
  return acc;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

describe('measure', () => {
  it('reads percentiles from the histogram and min/max/mean exactly', () => {
    const acc = accOf(range(1000));
    expect(measure({ stat: 'p99' }, 'trend', acc, undefined, 1000).measured).toBeCloseTo(990, -1);
    expect(measure({ stat: 'p50' }, 'trend', acc, undefined, 1000).measured).toBeCloseTo(500, -1);
    expect(measure({ stat: 'mean' }, 'trend', acc, undefined, 1000).measured).toBe(500.5);
    expect(measure({ stat: 'max' }, 'trend', acc, undefined, 1000).measured).toBe(1000);
    expect(measure({ stat: 'min' }, 'trend', acc, undefined, 1000).measured).toBe(1);
  });

  it('`rate` of a counter with a tag filter is the share of matching samples', () => {
    const completed = accOf([1, 1, 1], false);
    const all = accOf([1, 1, 1, 1], false);
    const m = measure({ stat: 'rate', tags: { outcome: 'completed' } }, 'counter', completed, all, 1000);
    expect(m).toEqual({ measured: 0.75, samples: 4 });
    // No stream matched the filter but streams exist: a real 0 %, not missing data.
    expect(
      measure({ stat: 'rate', tags: { outcome: 'completed' } }, 'counter', undefined, all, 1000).measured,
    ).toBe(0);
  });

  it('`rate` of a rate metric is the mean of its 0–1 values', () => {
    expect(
      measure({ stat: 'rate' }, 'rate', accOf([0, 0.5, 0.1], false), undefined, 1e6).measured,
    ).toBeCloseTo(0.2);
  });

  it('`count` sums a counter and counts other samples; nothing counted is 0, not no-data', () => {
    expect(measure({ stat: 'count' }, 'counter', accOf([2, 3], false), undefined, 1000).measured).toBe(5);
    expect(measure({ stat: 'count' }, 'trend', accOf([200, 300]), undefined, 1000).measured).toBe(2);
    expect(measure({ stat: 'count' }, 'counter', undefined, undefined, 1000).measured).toBe(0);
  });

  it('percentiles of a counter are undefined (no histogram kept)', () => {
    const m = measure({ stat: 'p99' }, 'counter', accOf([1], false), undefined, 1000);
    expect(m.measured).toBeNull();
    expect(m.note).toMatch(/not defined for counter/);
  });
});

describe('judge', () => {
  const slo = { stat: 'p95' as const, lte: 500 };

  it('passes and breaches on the objective', () => {
    expect(
      judge(slo, 'trend', accOf([100, 200]), undefined, 1000, { steadyStateProduces: true }).verdict,
    ).toBe('pass');
    expect(
      judge(slo, 'trend', accOf([900, 901]), undefined, 1000, { steadyStateProduces: true }).verdict,
    ).toBe('breach');
    expect(meetsObjective({ gte: 0.99 }, 0.99)).toBe(true);
    expect(meetsObjective({ gte: 0.99 }, 0.98)).toBe(false);
  });

  it('an empty phase is no-data, unless the steady state produced the metric (load stalled)', () => {
    expect(judge(slo, 'trend', undefined, undefined, 1000, { steadyStateProduces: false }).verdict).toBe(
      'no-data',
    );
    const stalled = judge(slo, 'trend', emptyAcc(null), undefined, 1000, { steadyStateProduces: true });
    expect(stalled.verdict).toBe('breach');
    expect(stalled.note).toMatch(/baseline produced/);
  });
});
