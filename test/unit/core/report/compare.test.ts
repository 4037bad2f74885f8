import { describe, expect, it } from 'vitest';
import { compareResults, isRegression } from '../../../../src/core/report/compare.js';
import { evaluateSamples } from '../../../../src/core/report/evaluate.js';
import type { RunResults } from '../../../../src/core/report/results.js';
import { renderComparison } from '../../../../src/core/report/terminal.js';
import { T0, journalWith, sample } from './synthetic.js';

/** A deterministic pseudo-random run: ttft ≈ base ± jitter, e2e, outcomes; `seed` changes the noise. */
function syntheticRun(
  seed: number,
  opts: { faultTtftExtra?: number; truncatedEvery?: number; cancelledAtEnd?: number; title?: string } = {},
): RunResults {
  let x = (seed * 2654435761) % 4294967296;
  const rnd = (): number => {
    x = (x * 1664525 + 1013904223) % 4294967296;
    return x / 4294967296;
  };
  const samples = [];
  for (let t = T0; t < T0 + 60_000; t += 50) {
    const inFault = t >= T0 + 20_000 && t < T0 + 30_000;
    samples.push(
      sample('ttft', t, 200 + rnd() * 100 + (inFault ? 400 + (opts.faultTtftExtra ?? 0) : 0), {
        client: 'api',
      }),
    );
    samples.push(sample('e2e', t, 3000 + rnd() * 500, { client: 'api' }));
    const truncated =
      opts.truncatedEvery !== undefined && Math.floor((t - T0) / 50) % opts.truncatedEvery === 0;
    samples.push(
      sample('stream_outcome', t, 1, { client: 'api', outcome: truncated ? 'truncated' : 'completed' }),
    );
  }
  // Streams we cancel at the deadline (the last second of the run).
  for (let i = 0; i < (opts.cancelledAtEnd ?? 0); i++) {
    samples.push(sample('stream_outcome', T0 + 59_990, 1, { client: 'api', outcome: 'cancelled' }));
  }
  const journal = journalWith([{ name: 'kill', start: T0 + 20_000, end: T0 + 30_000 }]);
  if (opts.title) journal.experiment.title = opts.title;
  return evaluateSamples(samples, { journal, slos: [] });
}

describe('report compare', () => {
  it('counts outcomes as the SLOs do: streams cancelled at the deadline are not failures', () => {
    // Negative control: many cancelled streams in the candidate, none failed → no regression.
    const c = compareResults(syntheticRun(1), syntheticRun(2, { cancelledAtEnd: 400 }));
    const recovery = c.rows.find((r) => r.metric === 'stream_outcome' && r.phase === 'recovery');
    expect(recovery?.candidate).toBe(0);
    expect(recovery?.regression).toBe(false);
    // Positive control: truncated streams do count.
    const bad = compareResults(syntheticRun(1), syntheticRun(2, { truncatedEvery: 10 }));
    expect(bad.rows.find((r) => r.metric === 'stream_outcome' && r.phase === 'recovery')?.regression).toBe(
      true,
    );
  });

  it('says so when the two runs are of different experiments; not when they are the same', () => {
    expect(compareResults(syntheticRun(1), syntheticRun(2)).warnings).toEqual([]);
    const c = compareResults(syntheticRun(1), syntheticRun(2, { title: 'other experiment' }));
    expect(c.warnings).toEqual(['the runs are of different experiments: `synthetic` vs `other experiment`']);
    expect(renderComparison(c)).toMatch(/warning: the runs are of different experiments/);
  });

  it('does not flag run-to-run noise', () => {
    const c = compareResults(syntheticRun(1), syntheticRun(2));
    expect(c.rows.length).toBeGreaterThan(10);
    expect(c.rows.filter((r) => r.regression)).toEqual([]);
    expect(c.exitCode).toBe(0);
  });

  it('flags a planted ttft regression in the fault window only, and exits 10', () => {
    const c = compareResults(syntheticRun(1), syntheticRun(2, { faultTtftExtra: 300 }));
    const flagged = c.rows.filter((r) => r.regression).map((r) => `${r.metric}/${r.phase}/${r.stat}`);
    expect(flagged).toEqual(expect.arrayContaining(['ttft/kill/p50', 'ttft/kill/p99', 'ttft/fault/p95']));
    expect(flagged.every((f) => f.startsWith('ttft/'))).toBe(true);
    expect(flagged.some((f) => f.includes('/baseline/') || f.includes('/recovery/'))).toBe(false);
    expect(c.exitCode).toBe(10);
    expect(renderComparison(c)).toMatch(/ttft\s+kill\s+p50\s+.*REGRESSION/);
  });

  it('flags more truncated streams', () => {
    const c = compareResults(syntheticRun(1), syntheticRun(2, { truncatedEvery: 20 }));
    expect(c.rows.find((r) => r.metric === 'stream_outcome' && r.phase === 'all')).toMatchObject({
      regression: true,
      candidate: 0.05,
    });
  });

  it('a regression needs both the relative tolerance and the absolute floor', () => {
    expect(isRegression(1, 1.5, 0.1, 5)).toBe(false); // +50 % but only 0.5 ms
    expect(isRegression(1000, 1040, 0.1, 5)).toBe(false); // +40 ms but only 4 %
    expect(isRegression(1000, 1200, 0.1, 5)).toBe(true);
    expect(isRegression(1000, 800, 0.1, 5)).toBe(false); // faster is never a regression
  });
});
