import { describe, expect, it } from 'vitest';
import type { MetricName } from '../../../../src/core/metrics.js';
import { ConnectRecorder } from '../../../../src/engines/measure/connect-recorder.js';
import { SnapshotRecorder } from '../../../../src/engines/measure/snapshot-recorder.js';

function sink(): {
  got: Array<{ m: MetricName; v: number; tags: Record<string, string> }>;
  emit: (m: MetricName, t: number, v: number, tags: string) => void;
} {
  const got: Array<{ m: MetricName; v: number; tags: Record<string, string> }> = [];
  return {
    got,
    emit: (m, _t, v, tags) => got.push({ m, v, tags: JSON.parse(tags) as Record<string, string> }),
  };
}

describe('ConnectRecorder', () => {
  it('one ws_connect_errors sample per failed attempt, tagged with the first failure', () => {
    const s = sink();
    const r = new ConnectRecorder({ emit: s.emit, tags: () => '{"client":"browser"}' });
    r.attempt();
    r.fail(1, { reason: 'handshake', status: '400' });
    r.fail(2, { reason: 'closed' }); // the close that follows: same attempt
    r.attempt();
    r.fail(3, { reason: 'network' });
    expect(s.got).toEqual([
      { m: 'ws_connect_errors', v: 1, tags: { client: 'browser', reason: 'handshake', status: '400' } },
      { m: 'ws_connect_errors', v: 1, tags: { client: 'browser', reason: 'network' } },
    ]);
    expect(r.failures).toBe(2);
  });

  it('a client that never joined ends with ws_never_joined 1; one that joined with 0; once', () => {
    const a = sink();
    const never = new ConnectRecorder({ emit: a.emit, tags: () => '{}' });
    never.attempt();
    never.fail(1, { reason: 'origin_refused', status: '400' });
    never.end(2);
    never.end(3);
    expect(a.got.filter((g) => g.m === 'ws_never_joined').map((g) => g.v)).toEqual([1]);
    const b = sink();
    const ok = new ConnectRecorder({ emit: b.emit, tags: () => '{}' });
    ok.attempt();
    ok.joined();
    ok.fail(2, { reason: 'closed' }); // no attempt open: ignored
    ok.end(3);
    expect(b.got).toEqual([{ m: 'ws_never_joined', v: 0, tags: {} }]);
  });

  it('abandon (the run stopped the client mid-attempt) records nothing', () => {
    const s = sink();
    const r = new ConnectRecorder({ emit: s.emit, tags: () => '{}' });
    r.attempt();
    r.abandon();
    r.fail(1, { reason: 'closed' });
    expect(s.got).toEqual([]);
  });
});

describe('SnapshotRecorder: protocol_error and a chat lost within the grace', () => {
  it('protocol_error carries status and content type, and is no missed done', () => {
    const s = sink();
    const r = new SnapshotRecorder({ startMs: 0, emit: s.emit, tagsJson: '{"client":"browser"}' });
    expect(r.eventsSeen).toBe(0);
    r.noteEvent();
    expect(r.eventsSeen).toBe(1);
    r.finish(10, { outcome: 'protocol_error', status: '200', contentType: 'text/event-stream' });
    expect(s.got).toEqual([
      {
        m: 'stream_outcome',
        v: 1,
        tags: {
          client: 'browser',
          outcome: 'protocol_error',
          status: '200',
          content_type: 'text/event-stream',
        },
      },
    ]);
  });

  it('a chat without any event is lost: timeout with reason no_event and a missed done', () => {
    const s = sink();
    const r = new SnapshotRecorder({ startMs: 0, emit: s.emit, tagsJson: '{}' });
    r.finish(2000, { outcome: 'timeout', reason: 'no_event' });
    expect(s.got.map((g) => [g.m, g.tags])).toEqual([
      ['ws_missed_done', {}],
      ['stream_outcome', { outcome: 'timeout', reason: 'no_event' }],
    ]);
  });
});
