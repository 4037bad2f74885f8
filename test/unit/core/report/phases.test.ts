import { describe, expect, it } from 'vitest';
import { phaseInfos, phasePlan, phasesAt } from '../../../../src/core/report/phases.js';

const w = (name: string, start: number, end: number) => ({ name, action: 'toxic.latency', start, end });

describe('phasing by fault windows', () => {
  it('without faults every sample is in `all` only', () => {
    const plan = phasePlan([]);
    expect(phasesAt(plan, 123)).toEqual(['all']);
    expect(phaseInfos(plan).map((p) => p.name)).toEqual(['all']);
  });

  it('splits baseline / window / recovery at the window edges ([start, end))', () => {
    const plan = phasePlan([w('kill', 100, 200)]);
    expect(phasesAt(plan, 99)).toEqual(['all', 'baseline']);
    expect(phasesAt(plan, 100)).toEqual(['all', 'fault', 'kill']);
    expect(phasesAt(plan, 199)).toEqual(['all', 'fault', 'kill']);
    expect(phasesAt(plan, 200)).toEqual(['all', 'recovery']);
  });

  it('puts a sample in every overlapping window, and gaps between windows only in `all`', () => {
    const plan = phasePlan([w('b', 150, 300), w('a', 100, 200), w('c', 400, 500)]);
    expect(phasesAt(plan, 160)).toEqual(['all', 'fault', 'a', 'b']);
    expect(phasesAt(plan, 250)).toEqual(['all', 'fault', 'b']);
    expect(phasesAt(plan, 350)).toEqual(['all']);
    expect(phasesAt(plan, 500)).toEqual(['all', 'recovery']);
    expect(phaseInfos(plan).map((p) => p.name)).toEqual([
      'baseline',
      'a',
      'b',
      'c',
      'fault',
      'recovery',
      'all',
    ]);
  });

  it('keeps a window named like a reserved phase addressable', () => {
    const plan = phasePlan([w('recovery', 100, 200), w('x', 150, 160), w('x', 170, 180)]);
    expect(plan.windows.map((x) => x.key)).toEqual(['recovery#2', 'x', 'x#2']);
  });

  it('an instantaneous fault (end = start) still holds the sample at its instant', () => {
    const plan = phasePlan([w('failover', 100, 100)]);
    expect(phasesAt(plan, 100)).toEqual(['all', 'fault', 'failover']);
    expect(phasesAt(plan, 101)).toEqual(['all', 'recovery']);
  });
});
