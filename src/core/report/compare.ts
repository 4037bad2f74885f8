// Comparing two runs (a release gate: the previous release's run vs this one). Contract: the
// same metric × phase (client `all`) is lined up from the stored HDR histograms — percentiles are
// recomputed from the decoded histograms, never taken from another report's rounding — plus the
// failed-stream share and the mean integrity rates. Every compared number is "higher is worse";
// a change is a regression only when it exceeds BOTH the relative tolerance and an absolute floor
// in the metric's unit, so run-to-run noise on tiny values is not flagged.

import { ExitCode } from '../errors.js';
import type { MetricDefinition } from '../metrics.js';
import { decodeHistogram, percentileOf } from './histogram.js';
import { unitOf } from './format.js';
import type { RunResults } from './results.js';

export type Unit = MetricDefinition['unit'];

export const DEFAULT_TOLERANCE = 0.1;
export const DEFAULT_FLOORS: Record<Unit, number> = { ms: 5, tokens: 1, ratio: 0.005, count: 1 };
export const COMPARED_PERCENTILES = [50, 95, 99] as const;

export interface CompareOptions {
  /** Relative tolerance, 0.1 = 10 %. */
  tolerance?: number;
  /** Absolute floors per unit (ratio floors apply to shares and rates). */
  floors?: Partial<Record<Unit, number>>;
}

export interface ComparisonRow {
  metric: string;
  phase: string;
  stat: string;
  unit: Unit;
  baseline: number | null;
  candidate: number | null;
  /** candidate − baseline. */
  delta: number | null;
  /** delta / baseline (null when the baseline is 0 or missing). */
  relative: number | null;
  regression: boolean;
  note?: string;
}

export interface Comparison {
  baseline: { runId: string | null; title: string | null; source?: string };
  candidate: { runId: string | null; title: string | null; source?: string };
  tolerance: number;
  floors: Record<Unit, number>;
  rows: ComparisonRow[];
  regressions: number;
  exitCode: number;
  /** What makes the two runs less comparable: different experiments, targets or engines. */
  warnings: string[];
}

/** Streams WE cancelled at the load's deadline: not a failure of the target (as in the SLOs). */
const SELF_CANCELLED = 'cancelled';

/**
 * Failed-stream share of a phase with the SLOs' outcome definitions (core/report/aggregator.ts):
 * 1 − completed / judged streams, where streams the load generator cancelled are not judged.
 */
export function failedShare(r: Pick<RunResults, 'counts'>, phase: string): number | null {
  const streams = r.counts.byPhase[phase]?.streams;
  if (!streams) return null;
  const judged = Object.entries(streams)
    .filter(([outcome]) => outcome !== SELF_CANCELLED)
    .reduce((s, [, n]) => s + n, 0);
  return judged > 0 ? (judged - (streams['completed'] ?? 0)) / judged : null;
}

/** Why two runs may not be comparable (different experiment, target or engine). */
export function comparabilityWarnings(a: RunResults, b: RunResults): string[] {
  const out: string[] = [];
  const differ = (what: string, x: string | null, y: string | null): void => {
    if (x !== null && y !== null && x !== y)
      out.push(`the runs are of different ${what}s: \`${x}\` vs \`${y}\``);
  };
  differ('experiment', a.run.title, b.run.title);
  differ('target', a.run.target, b.run.target);
  differ('engine', a.run.engine, b.run.engine);
  return out;
}

export function isRegression(baseline: number, candidate: number, tolerance: number, floor: number): boolean {
  const delta = candidate - baseline;
  return delta > floor && delta > tolerance * Math.abs(baseline);
}

export function compareResults(
  a: RunResults,
  b: RunResults,
  options: CompareOptions = {},
  sources: { a?: string; b?: string } = {},
): Comparison {
  const tolerance = options.tolerance ?? DEFAULT_TOLERANCE;
  const floors = { ...DEFAULT_FLOORS, ...options.floors };
  const rows: ComparisonRow[] = [];
  const row = (
    metric: string,
    phase: string,
    stat: string,
    unit: Unit,
    x: number | null,
    y: number | null,
    note?: string,
  ): void => {
    const delta = x !== null && y !== null ? y - x : null;
    rows.push({
      metric,
      phase,
      stat,
      unit,
      baseline: x,
      candidate: y,
      delta,
      relative: delta !== null && x !== null && x !== 0 ? delta / Math.abs(x) : null,
      regression: x !== null && y !== null && isRegression(x, y, tolerance, floors[unit]),
      ...(note ? { note } : {}),
    });
  };

  // Latencies (and other histogrammed metrics) from the stored histograms.
  const key = (h: { metric: string; phase: string }): string => `${h.metric}\u0000${h.phase}`;
  const histB = new Map(b.histograms.filter((h) => h.client === 'all').map((h) => [key(h), h]));
  const seen = new Set<string>();
  for (const ha of a.histograms.filter((h) => h.client === 'all')) {
    const unit = unitOf(ha.metric);
    if (unit === 'count') continue; // gauges: load shape, not quality
    seen.add(key(ha));
    const hb = histB.get(key(ha));
    const da = decodeHistogram(ha.encoded);
    const db = hb ? decodeHistogram(hb.encoded) : undefined;
    for (const p of COMPARED_PERCENTILES) {
      row(
        ha.metric,
        ha.phase,
        `p${p}`,
        unit,
        percentileOf(da, p, ha.scale) ?? null,
        db && hb ? (percentileOf(db, p, hb.scale) ?? null) : null,
        hb ? undefined : 'missing in the candidate run',
      );
    }
  }
  for (const hb of b.histograms.filter((h) => h.client === 'all' && unitOf(h.metric) !== 'count')) {
    if (!seen.has(key(hb)))
      row(
        hb.metric,
        hb.phase,
        'p99',
        unitOf(hb.metric),
        null,
        percentileOf(decodeHistogram(hb.encoded), 99, hb.scale) ?? null,
        'missing in the baseline run',
      );
  }

  // Failed-stream share per phase (1 − completed share of judged streams): higher is worse.
  for (const phase of a.phases.map((p) => p.name)) {
    const x = failedShare(a, phase);
    const y = failedShare(b, phase);
    if (x !== null || y !== null)
      row('stream_outcome', phase, 'failed share', 'ratio', x, y, 'cancelled at the deadline not counted');
  }

  // Integrity rates: mean per phase.
  for (const metric of ['garbled_token_rate', 'split_event_rate']) {
    for (const sa of a.summary.filter((s) => s.metric === metric && s.client === 'all')) {
      const sb = b.summary.find((s) => s.metric === metric && s.client === 'all' && s.phase === sa.phase);
      row(
        metric,
        sa.phase,
        'mean',
        'ratio',
        sa.mean,
        sb?.mean ?? null,
        sb ? undefined : 'missing in the candidate run',
      );
    }
  }

  const regressions = rows.filter((r) => r.regression).length;
  return {
    baseline: { runId: a.run.runId, title: a.run.title, ...(sources.a ? { source: sources.a } : {}) },
    candidate: { runId: b.run.runId, title: b.run.title, ...(sources.b ? { source: sources.b } : {}) },
    tolerance,
    floors,
    rows,
    regressions,
    exitCode: regressions > 0 ? ExitCode.sloBreached : ExitCode.ok,
    warnings: comparabilityWarnings(a, b),
  };
}
