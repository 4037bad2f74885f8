import { describe, expect, it } from 'vitest';
import { LiveSeries, nearestRank } from '../../../../src/core/gameday/live-series.js';
import type { Sample } from '../../../../src/core/samples.js';

const s = (metric: string, timeMs: number, value: number, tags: Sample['tags'] = {}): Sample => ({
  metric,
  timeMs,
  value,
  tags,
});

describe('LiveSeries', () => {
  it('folds samples into one point per second once the second is past the lag', () => {
    const live = new LiveSeries({ lagMs: 2000 });
    for (let i = 1; i <= 100; i++) live.observe(s('ttft', 10_000 + i, i));
    live.observe(s('stream_outcome', 10_500, 1, { outcome: 'completed' }));
    live.observe(s('stream_outcome', 10_600, 1, { outcome: 'http_error' }));
    live.observe(s('stream_outcome', 10_700, 1, { outcome: 'cancelled' }));
    live.observe(s('http_errors', 10_600, 1, { status: '502' }));
    live.observe(s('active_streams', 10_900, 7));
    live.observe(s('ws_reconnects', 11_100, 1));
    live.advance(12_500); // 10 s bucket not closed yet (lag)
    expect(live.length).toBe(0);
    live.advance(13_100);
    const { points } = live.since(0);
    expect(points[0]).toMatchObject({
      t: 10_000,
      ttft_p50: 50,
      ttft_p95: 95,
      ttft_p99: 99,
      completed: 1,
      errors: 1,
      streams: 7,
    });
    expect(points[0]!.e2e_p50).toBeNull();
    live.advance(14_100);
    // The gauge holds its value through a second without a sample.
    expect(live.since(1).points[0]).toMatchObject({ t: 11_000, reconnects: 1, streams: 7 });
    expect(live.errorsByStatus).toEqual({ '502': 1 });
    expect(live.totals).toMatchObject({ completed: 1, errors: 1, streams: 3 });
  });

  it('emits empty seconds too, and drops late samples of closed seconds', () => {
    const live = new LiveSeries({ lagMs: 0 });
    live.observe(s('ttft', 1000, 5));
    live.advance(5000);
    expect(live.since(0).points.map((p) => p.t)).toEqual([1000, 2000, 3000, 4000]);
    live.observe(s('ttft', 1500, 999));
    live.advance(6000);
    expect(live.since(0).points[0]!.ttft_p99).toBe(5);
  });

  it('bounds memory: a reservoir per second and at most maxPoints points', () => {
    const live = new LiveSeries({ lagMs: 0, maxValuesPerSecond: 10, maxPoints: 3, random: () => 0.99 });
    for (let i = 0; i < 1000; i++) live.observe(s('itl', 1000, i));
    live.advance(10_000);
    expect(live.length).toBe(9);
    expect(live.since(0)).toMatchObject({ from: 6 });
    expect(live.since(0).points).toHaveLength(3);
    expect(nearestRank([1, 2, 3, 4], 50)).toBe(2);
    expect(nearestRank([], 50)).toBeNull();
  });
});
