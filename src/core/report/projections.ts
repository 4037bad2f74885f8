// Projections of the tracks into results.json: per metric × phase × client summaries
// (percentiles, distribution), per-second series of each metric for the charts, and the encoded
// HDR histograms a later `report compare` merges. Pure, over the TrackSet.

import { METRICS, METRIC_NAMES } from '../metrics.js';
import { distributionOf, encodeHistogram, fillFromSparse, newHistogram, percentileOf } from './histogram.js';
import { phaseInfos, type PhasePlan } from './phases.js';
import type { EncodedHistogram, MetricPhaseSummary, SeriesPoint, StatSummary } from './results.js';
import type { TrackSet } from './tracks.js';

const SUMMARY_PERCENTILES = [
  ['p50', 50],
  ['p75', 75],
  ['p90', 90],
  ['p95', 95],
  ['p99', 99],
  ['p99.9', 99.9],
] as const;

export function summaries(tracks: TrackSet, plan: PhasePlan): MetricPhaseSummary[] {
  const order = phaseInfos(plan).map((p) => p.name);
  const out: MetricPhaseSummary[] = [];
  for (const { track, client } of tracks.genericTracks()) {
    for (const phase of order) {
      const acc = track.phases.get(phase);
      if (!acc) continue;
      const stats: StatSummary = {
        count: acc.count,
        sum: acc.sum,
        min: acc.count ? acc.min : null,
        max: acc.count ? acc.max : null,
        mean: acc.count ? acc.sum / acc.count : null,
      };
      if (acc.hist) {
        for (const [name, p] of SUMMARY_PERCENTILES) {
          const v = percentileOf(acc.hist, p, track.scale);
          if (v !== undefined) stats[name] = v;
        }
      }
      const summary: MetricPhaseSummary = { metric: track.selector.metric, phase, client, ...stats };
      if (acc.hist && METRICS[track.selector.metric].kind === 'trend') {
        summary.distribution = distributionOf(acc.hist, track.scale);
      }
      out.push(summary);
    }
  }
  return out;
}

export function series(tracks: TrackSet): Record<string, SeriesPoint[]> {
  const out: Record<string, SeriesPoint[]> = {};
  const scratch = newHistogram();
  for (const metric of METRIC_NAMES) {
    const track = tracks.get({ metric });
    if (!track?.seconds || track.seconds.size === 0) continue;
    const points: SeriesPoint[] = [];
    for (const t of [...track.seconds.keys()].sort((a, b) => a - b)) {
      const s = track.seconds.get(t);
      if (!s) continue;
      const point: SeriesPoint = {
        t,
        count: s.count,
        sum: s.sum,
        mean: s.sum / s.count,
        min: s.min,
        max: s.max,
      };
      if (s.buckets && METRICS[metric].kind === 'trend') {
        fillFromSparse(scratch, [s.buckets]);
        point.p50 = scratch.getValueAtPercentile(50) / track.scale;
        point.p95 = scratch.getValueAtPercentile(95) / track.scale;
        point.p99 = scratch.getValueAtPercentile(99) / track.scale;
      }
      points.push(point);
    }
    out[metric] = points;
  }
  return out;
}

export function encodedHistograms(tracks: TrackSet, plan: PhasePlan): EncodedHistogram[] {
  const order = phaseInfos(plan).map((p) => p.name);
  const out: EncodedHistogram[] = [];
  for (const { track, client } of tracks.genericTracks()) {
    if (!track.keepHist) continue;
    for (const phase of order) {
      const acc = track.phases.get(phase);
      if (!acc?.hist || acc.hist.totalCount === 0) continue;
      out.push({
        metric: track.selector.metric,
        phase,
        client,
        scale: track.scale,
        encoded: encodeHistogram(acc.hist),
      });
    }
  }
  return out;
}
