import { describe, expect, it } from 'vitest';
import {
  decodeHistogram,
  encodeHistogram,
  fillFromSparse,
  newHistogram,
  percentileOf,
  recordScaled,
  recordSparse,
  recordingScale,
} from '../../../../src/core/report/histogram.js';

// HDR with 3 significant digits: a reported value is within 0.1 % of the true one.
const hdrClose = (actual: number | undefined, expected: number): void => {
  expect(actual).toBeDefined();
  expect(Math.abs((actual ?? 0) - expected)).toBeLessThanOrEqual(expected * 0.001 + 0.001);
};

describe('HDR histograms in the metric unit', () => {
  it('gives the known percentiles of 1..1000 ms (recorded as µs)', () => {
    const h = newHistogram();
    for (let v = 1; v <= 1000; v++) recordScaled(h, v, recordingScale('ms'));
    hdrClose(percentileOf(h, 50, 1000), 500);
    hdrClose(percentileOf(h, 95, 1000), 950);
    hdrClose(percentileOf(h, 99, 1000), 990);
    hdrClose(percentileOf(h, 100, 1000), 1000);
  });

  it('keeps sub-millisecond and 0–1 ratio precision', () => {
    const h = newHistogram();
    recordScaled(h, 0.25, 1000);
    hdrClose(percentileOf(h, 50, 1000), 0.25);
    const r = newHistogram();
    recordScaled(r, 0.0001, recordingScale('ratio'));
    hdrClose(percentileOf(r, 50, recordingScale('ratio')), 0.0001);
  });

  it('records a negative latency (clock artefact) as 0 instead of throwing', () => {
    const h = newHistogram();
    recordScaled(h, -3, 1000);
    expect(percentileOf(h, 50, 1000)).toBe(0);
  });

  it('returns undefined for an empty histogram', () => {
    expect(percentileOf(newHistogram(), 99, 1000)).toBeUndefined();
  });

  it('round-trips through compressed base64', () => {
    const h = newHistogram();
    for (let v = 1; v <= 5000; v += 3) recordScaled(h, v, 1000);
    const back = decodeHistogram(encodeHistogram(h));
    expect(back.totalCount).toBe(h.totalCount);
    expect(back.getValueAtPercentile(99)).toBe(h.getValueAtPercentile(99));
  });

  it('sparse per-second buckets give exactly the dense histogram percentiles', () => {
    const dense = newHistogram();
    const a = new Map<number, number>();
    const b = new Map<number, number>();
    for (let v = 1; v <= 2000; v++) {
      recordScaled(dense, v * 1.37, 1000);
      recordSparse(v % 2 ? a : b, v * 1.37, 1000);
    }
    const merged = fillFromSparse(newHistogram(), [a, b]);
    for (const p of [50, 90, 99, 99.9])
      expect(merged.getValueAtPercentile(p)).toBe(dense.getValueAtPercentile(p));
  });
});
