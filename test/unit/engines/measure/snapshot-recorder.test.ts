import { describe, expect, it } from 'vitest';
import type { MetricName } from '../../../../src/core/metrics.js';
import { generateTokens } from '../../../../src/protocol/ground-truth.js';
import { SnapshotRecorder } from '../../../../src/engines/measure/snapshot-recorder.js';

function collector() {
  const got: Array<{ metric: MetricName; v: number; tags: Record<string, string> }> = [];
  return {
    got,
    emit: (metric: MetricName, _t: number, v: number, tags: string) =>
      got.push({ metric, v, tags: JSON.parse(tags) as Record<string, string> }),
    values: (m: MetricName) => got.filter((g) => g.metric === m).map((g) => g.v),
  };
}

describe('SnapshotRecorder', () => {
  const tokens = generateTokens(3, 6);
  const upTo = (n: number): string => tokens.slice(0, n).join('');

  it('times tokens from cumulative snapshots and takes the text from the latest one', () => {
    const c = collector();
    const r = new SnapshotRecorder({
      startMs: 0,
      expected: tokens,
      emit: c.emit,
      tagsJson: '{"client":"browser"}',
    });
    r.onCompletion(50, undefined, false); // {sources} pre-event
    r.onCompletion(100, upTo(1), false);
    r.onCompletion(130, upTo(1), false); // no growth: not content-bearing
    r.onCompletion(150, upTo(3), false);
    r.onCompletion(300, upTo(6), true);
    const s = r.finish(301);
    expect(s).toMatchObject({ outcome: 'completed', tokens: 6, ttftMs: 100, e2eMs: 300, garbledRate: 0 });
    expect(c.values('ttft')).toEqual([100]);
    expect(c.values('itl')).toEqual([50, 150]);
    expect(c.values('tpot')).toEqual([(300 - 100) / 5]);
    expect(c.values('ws_missed_done')).toEqual([]);
    expect(c.got.find((g) => g.metric === 'stream_outcome')?.tags).toEqual({
      client: 'browser',
      outcome: 'completed',
    });
  });

  it('a timeout after our socket dropped mid-chat says so in its `reason` tag', () => {
    const c = collector();
    const r = new SnapshotRecorder({ startMs: 0, expected: tokens, emit: c.emit, tagsJson: '{}' });
    r.onCompletion(10, upTo(2), false);
    const s = r.finish(20_000, { outcome: 'timeout', reason: 'disconnected' });
    expect(s.outcome).toBe('timeout');
    expect(c.values('ws_missed_done')).toEqual([1]);
    expect(c.got.find((g) => g.metric === 'stream_outcome')?.tags).toEqual({
      outcome: 'timeout',
      reason: 'disconnected',
    });
  });

  it('a missed frame is harmless: the next snapshot restores the text', () => {
    const c = collector();
    const r = new SnapshotRecorder({ startMs: 0, expected: tokens, emit: c.emit, tagsJson: '{}' });
    r.onCompletion(10, upTo(2), false);
    r.onCompletion(30, upTo(6), true);
    expect(r.finish(31).garbledRate).toBe(0);
  });

  it('cancel before done is truncated and a missed done', () => {
    const c = collector();
    const r = new SnapshotRecorder({ startMs: 0, expected: tokens, emit: c.emit, tagsJson: '{}' });
    r.onCompletion(10, upTo(2), false);
    r.onCancel();
    expect(r.terminated).toBe(true);
    const s = r.finish(20);
    expect(s.outcome).toBe('truncated');
    expect(c.values('ws_missed_done')).toEqual([1]);
    expect(c.values('garbled_token_rate')).toEqual([]);
    expect(c.got.find((g) => g.metric === 'stream_outcome')?.tags).toEqual({
      outcome: 'truncated',
      reason: 'cancel',
    });
  });

  it('a chat cut by the deadline is cancelled, not a missed done (still in flight); an HTTP error is not either', () => {
    const a = collector();
    new SnapshotRecorder({ startMs: 0, emit: a.emit, tagsJson: '{}' }).finish(10, { outcome: 'cancelled' });
    expect(a.values('ws_missed_done')).toEqual([]);
    expect(a.got.find((g) => g.metric === 'stream_outcome')?.tags).toEqual({ outcome: 'cancelled' });
    const b = collector();
    new SnapshotRecorder({ startMs: 0, emit: b.emit, tagsJson: '{}' }).finish(10, {
      outcome: 'http_error',
      status: '500',
    });
    expect(b.values('ws_missed_done')).toEqual([]);
    expect(b.got[0]?.tags).toEqual({ outcome: 'http_error', status: '500' });
  });

  it('without ground truth counts content frames as tokens and is unverified', () => {
    const c = collector();
    const r = new SnapshotRecorder({ startMs: 0, emit: c.emit, tagsJson: '{}' });
    r.onCompletion(10, 'a', false);
    r.onCompletion(20, 'ab', false);
    r.onCompletion(30, 'abc', true);
    const s = r.finish(30);
    expect(s).toMatchObject({ tokens: 3, unverified: true });
    expect(c.values('garbled_token_rate')).toEqual([]);
  });
});
