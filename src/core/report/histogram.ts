// HDR histograms for sample values. Contract: values are recorded as integers in a metric's
// "recording unit" (µs for ms trends, ppm for 0–1 ratios, milli-units otherwise) with 3 significant
// digits and auto-resize; every read converts back to the metric's own unit. Histograms are merged
// with `add`, never by averaging percentiles. The only SDK import of core/report lives here.

import {
  build,
  decodeFromCompressedBase64,
  encodeIntoCompressedBase64,
  type Histogram,
} from 'hdr-histogram-js';
import type { MetricDefinition } from '../metrics.js';

export type { Histogram };

/** Factor from a metric's unit to the integer unit recorded in its histograms. */
export function recordingScale(unit: MetricDefinition['unit']): number {
  // ms → µs as DESIGN §5 asks; ratios need finer steps than 0.001 (a garbled rate of 1e-4 is real).
  return unit === 'ratio' ? 1_000_000 : 1000;
}

/**
 * `packed` histograms are sparse (a few hundred bytes when few values are recorded): used for the
 * per-second series, where thousands exist at once. Phase histograms use dense 32-bit counts (faster).
 */
export function newHistogram(packed = false): Histogram {
  return build({
    bitBucketSize: packed ? 'packed' : 32,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
    lowestDiscernibleValue: 1,
  });
}

export function recordScaled(hist: Histogram, value: number, scale: number): void {
  // HDR stores non-negative integers; a negative latency is a clock artefact, count it as 0.
  const scaled = Math.round(value * scale);
  hist.recordValue(scaled > 0 ? scaled : 0);
}

/** Value at percentile (0–100), in the metric's unit; undefined for an empty histogram. */
export function percentileOf(hist: Histogram, percentile: number, scale: number): number | undefined {
  if (hist.totalCount === 0) return undefined;
  return hist.getValueAtPercentile(percentile) / scale;
}

export function encodeHistogram(hist: Histogram): string {
  return encodeIntoCompressedBase64(hist);
}

export function decodeHistogram(encoded: string): Histogram {
  return decodeFromCompressedBase64(encoded);
}

/** Percentiles at which distribution curves are drawn (HTML) and stored (results.json). */
export const DISTRIBUTION_PERCENTILES = [0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 100] as const;

export function distributionOf(hist: Histogram, scale: number): Array<{ p: number; value: number }> {
  if (hist.totalCount === 0) return [];
  return DISTRIBUTION_PERCENTILES.map((p) => ({ p, value: hist.getValueAtPercentile(p) / scale }));
}

// Per-second data is kept as sparse bucket counts (HDR's own bucketing: the lowest equivalent value
// at 3 significant digits) because one dense histogram per metric and second would cost tens of KB
// each and HDR's `add` of packed histograms is slow (ms per call). A window's percentiles are read by
// refilling one scratch dense histogram, so results match HDR semantics exactly.
const bucketer = newHistogram() as Histogram & { lowestEquivalentValue(value: number): number };

export type SparseBuckets = Map<number, number>;

export function recordSparse(buckets: SparseBuckets, value: number, scale: number): void {
  const scaled = Math.round(value * scale);
  const key = bucketer.lowestEquivalentValue(scaled > 0 ? scaled : 0);
  buckets.set(key, (buckets.get(key) ?? 0) + 1);
}

/** Refills `target` (reset first) with the union of sparse bucket sets. */
export function fillFromSparse(target: Histogram, sets: Iterable<SparseBuckets>): Histogram {
  target.reset();
  for (const set of sets) for (const [value, count] of set) target.recordValueWithCount(value, count);
  return target;
}
