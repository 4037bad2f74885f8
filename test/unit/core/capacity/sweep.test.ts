import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SWEEP,
  expectedSteps,
  nextStep,
  roundLoad,
  type StepOutcome,
  type StepVerdict,
  type SweepConfig,
} from '../../../../src/core/capacity/sweep.js';

const CONFIG: SweepConfig = { ...DEFAULT_SWEEP, startLoad: 1, maxLoad: 100 };

/** Drives the sweep against a target whose verdict is a function of the load. */
function drive(
  config: SweepConfig,
  verdict: (load: number, run: number) => StepVerdict,
): {
  history: StepOutcome[];
  result: ReturnType<typeof finish>;
  reasons: string[];
} {
  const history: StepOutcome[] = [];
  const reasons: string[] = [];
  const runs = new Map<number, number>();
  for (let i = 0; i < 100; i++) {
    const d = nextStep(config, history);
    if (d.kind === 'done') return { history, result: finish(d), reasons };
    const run = runs.get(d.load) ?? 0;
    runs.set(d.load, run + 1);
    reasons.push(d.reason);
    history.push({ load: d.load, verdict: verdict(d.load, run) });
  }
  throw new Error('the sweep did not end within 100 steps');
}
function finish(d: Extract<ReturnType<typeof nextStep>, { kind: 'done' }>) {
  return d.result;
}

describe('nextStep: bracketing and bisection', () => {
  it('brackets up by the growth factor, bisects to the resolution and re-measures the knee', () => {
    const { history, result, reasons } = drive(CONFIG, (load) => (load <= 7.5 ? 'pass' : 'fail'));
    expect(history.map((h) => h.load)).toEqual([1, 2, 4, 8, 6, 7, 7.5, 7.5]);
    expect(reasons).toEqual([
      'start',
      'bracket-up',
      'bracket-up',
      'bracket-up',
      'bisect',
      'bisect',
      'bisect',
      'remeasure',
    ]);
    expect(result).toEqual({ status: 'found', knee: 7.5, firstFail: 8, steps: 8 });
  });

  it('finds every knee within one resolution step below it (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.3, max: 90, noNaN: true }),
        fc.double({ min: 0.2, max: 5, noNaN: true }),
        (knee, start) => {
          const { result } = drive({ ...CONFIG, startLoad: start }, (load) =>
            load <= knee ? 'pass' : 'fail',
          );
          expect(result.status).toBe('found');
          expect(result.knee!).toBeLessThanOrEqual(knee);
          expect(result.firstFail!).toBeGreaterThan(knee);
          expect((result.firstFail! - result.knee!) / result.knee!).toBeLessThanOrEqual(
            CONFIG.resolution + 0.01,
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  it('brackets down when the first step already fails', () => {
    const { history, result } = drive({ ...CONFIG, startLoad: 10 }, (load) =>
      load <= 2.2 ? 'pass' : 'fail',
    );
    expect(history.slice(0, 4).map((h) => h.load)).toEqual([10, 5, 2.5, 1.25]);
    expect(result.status).toBe('found');
    expect(result.knee).toBeLessThanOrEqual(2.2);
    expect(result.knee).toBeGreaterThan(2.2 / (1 + CONFIG.resolution));
  });

  it('moves the knee down when its re-measure fails (a flaky pass is not a pass)', () => {
    // 7.5 passes the first time and fails the second: the knee must end below 7.5.
    const { result, history } = drive(CONFIG, (load, run) =>
      load < 7 || (load <= 7.5 && run === 0) ? 'pass' : 'fail',
    );
    expect(result.status).toBe('found');
    expect(result.knee).toBeLessThan(7);
    expect(history.filter((h) => h.load === 7.5)).toHaveLength(2);
    // Every accepted knee was measured twice and passed both times.
    expect(history.filter((h) => h.load === result.knee && h.verdict === 'pass')).toHaveLength(2);
  });

  it('ignores a pass above the lowest failure (noise) — conservative', () => {
    const history: StepOutcome[] = [
      { load: 4, verdict: 'pass' },
      { load: 8, verdict: 'fail' },
      { load: 12, verdict: 'pass' },
    ];
    const d = nextStep(CONFIG, history);
    expect(d).toEqual({ kind: 'measure', load: 6, reason: 'bisect' });
  });

  it('stops at --max-rate with status above-max after confirming it', () => {
    const { result, history } = drive({ ...CONFIG, maxLoad: 5 }, () => 'pass');
    expect(history.map((h) => h.load)).toEqual([1, 2, 4, 5, 5]);
    expect(result).toMatchObject({ status: 'above-max', knee: 5, firstFail: null });
  });

  it('reports below-min when even the lowest load fails', () => {
    const { result, history } = drive({ ...CONFIG, startLoad: 1, minLoad: 0.25 }, () => 'fail');
    expect(history.map((h) => h.load)).toEqual([1, 0.5, 0.25]);
    expect(result).toMatchObject({ status: 'below-min', knee: null, firstFail: 0.25 });
  });

  it('retries an invalid step once, then ends generator-limited', () => {
    const { result, history, reasons } = drive(CONFIG, (load) => (load >= 4 ? 'invalid' : 'pass'));
    expect(history.map((h) => h.load)).toEqual([1, 2, 4, 4]);
    expect(reasons.at(-1)).toBe('retry-invalid');
    expect(result).toMatchObject({ status: 'generator-limited', knee: 2 });
  });

  it('an invalid step that passes on retry counts as measured', () => {
    const { history, result } = drive(CONFIG, (load, run) =>
      load === 4 && run === 0 ? 'invalid' : load <= 7.5 ? 'pass' : 'fail',
    );
    expect(history.slice(0, 4).map((h) => `${h.load}:${h.verdict}`)).toEqual([
      '1:pass',
      '2:pass',
      '4:invalid',
      '4:pass',
    ]);
    expect(result.status).toBe('found');
  });

  it('respects the step budget and the time budget', () => {
    const { result, history } = drive({ ...CONFIG, maxSteps: 3 }, (load) => (load <= 7.5 ? 'pass' : 'fail'));
    expect(history).toHaveLength(3);
    expect(result).toMatchObject({ status: 'budget', knee: 4, firstFail: null });
    const d = nextStep(CONFIG, [{ load: 1, verdict: 'pass' }], 0);
    expect(d).toMatchObject({ kind: 'done', result: { status: 'budget', knee: 1 } });
  });

  it('rounds loads to 3 significant digits and estimates the step count', () => {
    expect(roundLoad(7.123456)).toBe(7.12);
    expect(roundLoad(1234.5)).toBe(1230);
    expect(roundLoad(-1)).toBe(0);
    const { history } = drive(CONFIG, (load) => (load <= 7.5 ? 'pass' : 'fail'));
    expect(Math.abs(expectedSteps(CONFIG, 7.5) - history.length)).toBeLessThanOrEqual(1);
  });
});
