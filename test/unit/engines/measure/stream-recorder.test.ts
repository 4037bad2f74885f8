import { describe, expect, it } from 'vitest';
import type { MetricName } from '../../../../src/core/metrics.js';
import { generateTokens } from '../../../../src/protocol/ground-truth.js';
import { StreamRecorder, withTags } from '../../../../src/engines/measure/stream-recorder.js';

interface Got {
  metric: MetricName;
  t: number;
  v: number;
  tags: Record<string, string>;
}

function collector(): {
  got: Got[];
  emit: (m: MetricName, t: number, v: number, tags: string) => void;
  values: (m: MetricName) => number[];
} {
  const got: Got[] = [];
  return {
    got,
    emit: (metric, t, v, tags) =>
      got.push({ metric, t, v, tags: JSON.parse(tags) as Record<string, string> }),
    values: (m) => got.filter((g) => g.metric === m).map((g) => g.v),
  };
}

const enc = new TextEncoder();
const contentEvent = (text: string, sentAt?: number): string =>
  `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: text } }], ...(sentAt !== undefined ? { owui_chaos: { sent_at: sentAt } } : {}) })}\n\n`;
const ROLE = `data: ${JSON.stringify({ choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] })}\n\n`;
const DONE = 'data: [DONE]\n\n';

describe('StreamRecorder', () => {
  const tokens = generateTokens(7, 5);

  it('computes ttft, itl, burst, client lag, e2e, tpot, garbled and split rate from scripted reads', () => {
    const c = collector();
    const r = new StreamRecorder({
      startMs: 1000,
      expected: tokens,
      emit: c.emit,
      tagsJson: '{"client":"api"}',
    });
    r.onRead(1100, enc.encode(ROLE));
    r.onRead(1200, enc.encode(contentEvent(tokens[0]!, 1199.5)));
    // Two tokens in one read (a burst), then one event split over two reads.
    r.onRead(1250, enc.encode(contentEvent(tokens[1]!, 1249) + contentEvent(tokens[2]!, 1249.5)));
    const split = enc.encode(contentEvent(tokens[3]!, 1290));
    r.onRead(1295, split.subarray(0, 10));
    r.onRead(1300, split.subarray(10));
    r.onRead(1400, enc.encode(contentEvent(tokens[4]!, 1399) + DONE));
    const s = r.finish(1401);

    expect(s.outcome).toBe('completed');
    expect(c.values('ttft')).toEqual([200]);
    expect(c.values('itl')).toEqual([50, 50, 100]);
    expect(c.values('burst_size')).toEqual([1, 2, 1, 1]);
    expect(c.values('client_lag')).toEqual([0.5, 1, 0.5, 10, 1]);
    expect(c.values('e2e')).toEqual([400]);
    expect(c.values('tpot')).toEqual([(400 - 200) / 4]);
    expect(c.values('garbled_token_rate')).toEqual([0]);
    // 7 events (role, 5 content, DONE); one spanned two reads.
    expect(c.values('split_event_rate')).toEqual([1 / 7]);
    const outcome = c.got.find((g) => g.metric === 'stream_outcome');
    expect(outcome).toMatchObject({ v: 1, tags: { client: 'api', outcome: 'completed' } });
    expect(s).toMatchObject({ tokens: 5, events: 7, splitEvents: 1, unverified: false, garbledRate: 0 });
  });

  it('measures ttft and e2e from the given (intended) start', () => {
    const c = collector();
    const r = new StreamRecorder({
      startMs: 500,
      expected: tokens.slice(0, 1),
      emit: c.emit,
      tagsJson: '{}',
    });
    r.onRead(2000, enc.encode(contentEvent(tokens[0]!) + DONE));
    r.finish(2000);
    expect(c.values('ttft')).toEqual([1500]);
    expect(c.values('e2e')).toEqual([1500]);
    expect(c.values('tpot')).toEqual([]); // one token: no tpot
  });

  it('reports damage against the ground truth', () => {
    const c = collector();
    const r = new StreamRecorder({ startMs: 0, expected: tokens, emit: c.emit, tagsJson: '{}' });
    r.onRead(
      1,
      enc.encode(contentEvent(tokens[0]!) + contentEvent('X'.repeat(40)) + contentEvent(tokens[2]!) + DONE),
    );
    const s = r.finish(2);
    expect(s.garbledRate).toBeGreaterThan(0);
    expect(c.values('garbled_token_rate')[0]).toBeGreaterThan(0);
  });

  it('keeps the received text exactly, also when it diverges from the ground truth midway', () => {
    const cases: string[][] = [
      [...tokens],
      [tokens[0]!, 'XX', tokens[1]!, tokens[2]!, tokens[3]!, tokens[4]!],
      [tokens[0]!, tokens[2]!, tokens[3]!, tokens[4]!],
      [tokens[0]! + tokens[1]!, tokens[2]!, tokens[3]!, tokens[4]!, 'tail'],
      [(tokens[0] ?? '').slice(0, 1), 'zz'],
    ];
    for (const pieces of cases) {
      const c = collector();
      const r = new StreamRecorder({ startMs: 0, expected: tokens, emit: c.emit, tagsJson: '{}' });
      pieces.forEach((p, i) => r.onRead(10 + i, enc.encode(contentEvent(p))));
      expect(r.receivedText).toBe(pieces.join(''));
      r.onRead(100, enc.encode(DONE));
      const s = r.finish(101);
      const intact = pieces.join('') === tokens.join('');
      expect(s.garbledRate === 0).toBe(intact);
    }
  });

  it('calls a stream that ends without [DONE] truncated and judges no integrity on it', () => {
    const c = collector();
    const r = new StreamRecorder({
      startMs: 0,
      expected: tokens,
      emit: c.emit,
      tagsJson: '{"client":"api"}',
    });
    r.onRead(10, enc.encode(contentEvent(tokens[0]!) + 'data: {"choi'));
    const s = r.finish(20);
    expect(s.outcome).toBe('truncated');
    expect(c.values('garbled_token_rate')).toEqual([]);
    expect(c.values('e2e')).toEqual([]);
    expect(c.got.find((g) => g.metric === 'stream_outcome')?.tags).toEqual({
      client: 'api',
      outcome: 'truncated',
    });
  });

  it('uses the stop reason when the client stopped reading, and tags http_error with the status', () => {
    const a = collector();
    new StreamRecorder({ startMs: 0, emit: a.emit, tagsJson: '{}' }).finish(5, { outcome: 'timeout' });
    expect(a.got[0]).toMatchObject({ metric: 'stream_outcome', tags: { outcome: 'timeout' } });
    const b = collector();
    new StreamRecorder({ startMs: 0, emit: b.emit, tagsJson: '{"client":"api"}' }).finish(5, {
      outcome: 'http_error',
      status: '502',
    });
    expect(b.got[0]?.tags).toEqual({ client: 'api', outcome: 'http_error', status: '502' });
  });

  it('without ground truth marks the stream unverified and emits no garbled sample', () => {
    const c = collector();
    const r = new StreamRecorder({ startMs: 0, emit: c.emit, tagsJson: '{}' });
    r.onRead(1, enc.encode(contentEvent('anything') + DONE));
    const s = r.finish(2);
    expect(s.unverified).toBe(true);
    expect(c.values('garbled_token_rate')).toEqual([]);
  });

  it('skips metadata lines and counts error members', () => {
    const c = collector();
    const r = new StreamRecorder({ startMs: 0, expected: [], emit: c.emit, tagsJson: '{}' });
    r.onRead(
      1,
      enc.encode('data: {"sources":[]}\n\n: comment\n\ndata: {"error":{"message":"boom"}}\n\n' + DONE),
    );
    const s = r.finish(2);
    expect(s).toMatchObject({ outcome: 'completed', tokens: 0, streamErrors: 1 });
    expect(c.values('ttft')).toEqual([]);
  });

  it('ignores bytes after [DONE] and finishes once', () => {
    const c = collector();
    const r = new StreamRecorder({ startMs: 0, expected: [], emit: c.emit, tagsJson: '{}' });
    r.onRead(1, enc.encode(DONE));
    r.onRead(2, enc.encode(contentEvent('late')));
    r.finish(3);
    r.finish(4);
    expect(c.values('stream_outcome')).toEqual([1]);
    expect(r.receivedText).toBe('');
  });
});

describe('withTags', () => {
  it('merges extra tags into serialised tags', () => {
    expect(withTags('{"client":"api"}', { outcome: 'completed' })).toBe(
      '{"client":"api","outcome":"completed"}',
    );
    expect(withTags('{}', { a: 'b' })).toBe('{"a":"b"}');
    expect(withTags('{"a":"b"}', {})).toBe('{"a":"b"}');
  });
});
