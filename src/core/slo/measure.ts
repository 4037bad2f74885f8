// Measuring one SLO on one set of samples (a phase, or a sliding window) and judging it. Contract:
// - percentile stats (p50 … p99.9) come from HDR histograms, converted back to the metric's unit;
//   min / max / mean are exact (kept beside the histogram);
// - `rate` is the mean of a rate metric's 0–1 values, or, for a counter with a `tags` filter (e.g.
//   `stream_outcome` with `{outcome: completed}`), the share of the counter's samples that match;
// - `count` is the sum of a counter's values or the number of samples of any other metric; a
//   phase without samples counts 0 — that is a measurement, not missing data;
// - no samples otherwise gives `no-data`, EXCEPT when the steady state (baseline) produced the
//   metric: then an empty fault/recovery phase means the load stalled, and that is a breach.
//   No-data never gates (exit code 0) but is listed in every report.

import type { MetricKind } from '../metrics.js';
import { percentileOf, type Histogram } from '../report/histogram.js';
import type { SloSpec, SloStat } from './spec.js';

/** Running aggregate of one metric selector over one phase (or window). */
export interface Acc {
  count: number;
  sum: number;
  min: number;
  max: number;
  /** Absent for counters: their percentiles mean nothing and they are the bulk of samples. */
  hist: Histogram | null;
}

export function emptyAcc(hist: Histogram | null): Acc {
  return { count: 0, sum: 0, min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY, hist };
}

export function addValue(acc: Acc, value: number): void {
  acc.count += 1;
  acc.sum += value;
  if (value < acc.min) acc.min = value;
  if (value > acc.max) acc.max = value;
}

export const PERCENTILE_OF: Partial<Record<SloStat, number>> = {
  p50: 50,
  p75: 75,
  p90: 90,
  p95: 95,
  p99: 99,
  'p99.9': 99.9,
};

export interface Measurement {
  /** In the metric's unit (ms for latencies, 0–1 for rates); null when there is nothing to measure. */
  measured: number | null;
  /** Samples the measurement rests on (for a share: the streams it is a share of). */
  samples: number;
  note?: string;
}

export type Verdict = 'pass' | 'breach' | 'no-data';

export interface Judgement extends Measurement {
  verdict: Verdict;
}

/**
 * @param acc the SLO's own selector (metric + client + tags) in the phase
 * @param base the selector without `tags` (the denominator of a share); only used for counters
 * @param scale the histogram recording scale of the metric
 */
export function measure(
  slo: Pick<SloSpec, 'stat' | 'tags'>,
  kind: MetricKind,
  acc: Acc | undefined,
  base: Acc | undefined,
  scale: number,
): Measurement {
  const samples = acc?.count ?? 0;
  if (slo.stat === 'count') {
    return { measured: kind === 'counter' ? (acc?.sum ?? 0) : samples, samples };
  }
  if (slo.stat === 'rate' && kind === 'counter' && slo.tags) {
    const total = base?.sum ?? 0;
    if (total <= 0) return { measured: null, samples: 0, note: 'no samples' };
    return { measured: (acc?.sum ?? 0) / total, samples: base?.count ?? 0 };
  }
  if (!acc || acc.count === 0) return { measured: null, samples: 0, note: 'no samples' };
  switch (slo.stat) {
    case 'rate':
    case 'mean':
      return { measured: acc.sum / acc.count, samples };
    case 'min':
      return { measured: acc.min, samples };
    case 'max':
      return { measured: acc.max, samples };
    default: {
      const p = PERCENTILE_OF[slo.stat];
      if (p === undefined || !acc.hist) {
        return { measured: null, samples, note: `${slo.stat} is not defined for ${kind} metrics` };
      }
      return { measured: percentileOf(acc.hist, p, scale) ?? null, samples };
    }
  }
}

export function meetsObjective(slo: Pick<SloSpec, 'lte' | 'gte'>, measured: number): boolean {
  if (slo.lte !== undefined) return measured <= slo.lte;
  if (slo.gte !== undefined) return measured >= slo.gte;
  return false;
}

export function judge(
  slo: Pick<SloSpec, 'stat' | 'tags' | 'lte' | 'gte'>,
  kind: MetricKind,
  acc: Acc | undefined,
  base: Acc | undefined,
  scale: number,
  context: { steadyStateProduces: boolean },
): Judgement {
  const m = measure(slo, kind, acc, base, scale);
  if (m.measured !== null) return { ...m, verdict: meetsObjective(slo, m.measured) ? 'pass' : 'breach' };
  if (context.steadyStateProduces && m.samples === 0) {
    return {
      ...m,
      verdict: 'breach',
      note: 'no samples here although the baseline produced this metric (load stalled?)',
    };
  }
  return { ...m, verdict: 'no-data' };
}
