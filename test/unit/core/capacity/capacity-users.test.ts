// The sweep in connected users (docs/capacity.md "Browser users"): whole loads only.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SWEEP,
  nextStep,
  type StepOutcome,
  type StepVerdict,
  type SweepConfig,
} from '../../../../src/core/capacity/sweep.js';
import { formatLoad } from '../../../../src/core/capacity/result.js';

const USERS: SweepConfig = { ...DEFAULT_SWEEP, minLoad: 1, startLoad: 4, maxLoad: 500, integer: true };

function drive(config: SweepConfig, verdict: (load: number) => StepVerdict) {
  const history: StepOutcome[] = [];
  for (let i = 0; i < 100; i++) {
    const d = nextStep(config, history);
    if (d.kind === 'done') return { history, result: d.result };
    history.push({ load: d.load, verdict: verdict(d.load) });
  }
  throw new Error('the sweep did not end within 100 steps');
}

describe('nextStep in whole users', () => {
  it('brackets, bisects on integers and re-measures the knee', () => {
    const { history, result } = drive(USERS, (u) => (u <= 48 ? 'pass' : 'fail'));
    expect(history.map((h) => h.load)).toEqual([4, 8, 16, 32, 64, 48, 56, 52, 48]);
    expect(history.every((h) => Number.isInteger(h.load))).toBe(true);
    expect(result).toEqual({ status: 'found', knee: 48, firstFail: 52, steps: 9 });
  });

  it('stops within one user or the resolution, never on a fraction (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 400 }), fc.integer({ min: 1, max: 60 }), (knee, start) => {
        const { history, result } = drive({ ...USERS, startLoad: start }, (u) =>
          u <= knee ? 'pass' : 'fail',
        );
        expect(history.every((h) => Number.isInteger(h.load) && h.load >= 1)).toBe(true);
        expect(result.status).toBe('found');
        expect(result.knee!).toBeLessThanOrEqual(knee);
        expect(result.firstFail!).toBeGreaterThan(knee);
        expect(result.firstFail! - result.knee!).toBeLessThanOrEqual(
          Math.max(1, USERS.resolution * result.knee!),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('brackets down by whole users to the minimum and reports below-min', () => {
    const { history, result } = drive({ ...USERS, startLoad: 3 }, () => 'fail');
    expect(history.map((h) => h.load)).toEqual([3, 2, 1]);
    expect(result.status).toBe('below-min');
  });

  it('names the unit', () => {
    expect(formatLoad(48, 'users')).toBe('48 users');
    expect(formatLoad(1, 'users')).toBe('1 user');
    expect(formatLoad(7.5, 'chats/s')).toBe('7.5/s');
    expect(formatLoad(7.123456)).toBe('7.12/s');
  });
});
