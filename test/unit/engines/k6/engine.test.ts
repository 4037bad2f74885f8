import { describe, expect, it } from 'vitest';
import { LoadGeneratorError } from '../../../../src/core/errors.js';
import type { MetricName } from '../../../../src/core/metrics.js';
import type { SampleSink, SampleTags } from '../../../../src/core/samples.js';
import { K6JsonIngest, k6LogProblem, mapK6Exit } from '../../../../src/engines/k6/engine.js';

class MemorySink implements SampleSink {
  readonly samples: { metric: MetricName; timeMs: number; value: number; tags: SampleTags }[] = [];
  write(metric: MetricName, timeMs: number, value: number, tags: SampleTags): void {
    this.samples.push({ metric, timeMs, value, tags });
  }
}

const point = (metric: string, value: number, tags: Record<string, string> = {}): string =>
  JSON.stringify({ type: 'Point', metric, data: { time: '2026-01-01T00:00:01.123456789Z', value, tags } });

describe('K6JsonIngest', () => {
  it('passes catalogue Points through, maps dropped_iterations, ignores k6 metrics and declarations', () => {
    const sink = new MemorySink();
    const ingest = new K6JsonIngest(sink);
    const text = [
      JSON.stringify({ type: 'Metric', metric: 'ttft', data: { type: 'trend', contains: 'time' } }),
      point('ttft', 412.5, { client: 'api', scenario: 'api' }),
      point('http_req_duration', 10, {}),
      point('dropped_iterations', 1, { scenario: 'api', client: 'api' }),
      point('stream_outcome', 1, { client: 'api', outcome: 'completed' }),
      point('stream_outcome', 1, { client: 'api', outcome: 'truncated' }),
      '',
    ].join('\n');
    // split at every 7 bytes: lines arrive in pieces as k6 writes them
    for (let i = 0; i < text.length; i += 7) ingest.push(text.slice(i, i + 7));
    ingest.end();
    expect(sink.samples.map((s) => [s.metric, s.value, s.tags.client])).toEqual([
      ['ttft', 412.5, 'api'],
      ['missed_starts', 1, 'api'],
      ['stream_outcome', 1, 'api'],
      ['stream_outcome', 1, 'api'],
    ]);
    expect(sink.samples[0]?.timeMs).toBe(Date.parse('2026-01-01T00:00:01.123Z'));
    expect([ingest.samples, ingest.completed, ingest.errors]).toEqual([4, 1, 1]);
  });

  it('counts a half-written last line as malformed instead of failing', () => {
    const sink = new MemorySink();
    const ingest = new K6JsonIngest(sink);
    ingest.push(point('e2e', 5) + '\n{"type":"Point","metric":"e2e","da');
    ingest.end();
    expect(sink.samples).toHaveLength(1);
    expect(ingest.malformed).toBe(1);
  });
});

describe('mapK6Exit', () => {
  const ctx = { stoppedByUs: false, stderrTail: '' };
  it('treats 0 and 99 (thresholds failed) as a finished load', () => {
    expect(mapK6Exit(0, null, ctx)).toBeUndefined();
    expect(mapK6Exit(99, null, ctx)).toBeUndefined();
  });

  it('treats 105 and a signal as fine only when we stopped k6', () => {
    expect(mapK6Exit(105, null, { ...ctx, stoppedByUs: true })).toBeUndefined();
    expect(mapK6Exit(null, 'SIGINT', { ...ctx, stoppedByUs: true })).toBeUndefined();
    expect(mapK6Exit(105, null, ctx)).toBeInstanceOf(LoadGeneratorError);
    expect(mapK6Exit(null, 'SIGKILL', ctx)?.message).toMatch(/killed by SIGKILL/);
  });

  it('maps failures to LoadGeneratorError (exit 12) with a code and k6 meaning', () => {
    const script = mapK6Exit(107, null, {
      stoppedByUs: false,
      stderrTail: 'ReferenceError: foo is not defined',
    });
    expect(script).toMatchObject({ code: 'K6_SCRIPT_ERROR', exitCode: 12 });
    expect(script?.message).toMatch(/exit 107: script exception.*ReferenceError/);
    expect(mapK6Exit(104, null, ctx)?.code).toBe('K6_INVALID_CONFIG');
    expect(mapK6Exit(100, null, ctx)?.code).toBe('K6_TIMEOUT');
    expect(mapK6Exit(1, null, ctx)).toMatchObject({ code: 'K6_FAILED', exitCode: 12 });
    expect(mapK6Exit(1, null, ctx)?.message).toMatch(/unknown k6 exit code/);
  });
});

describe('k6LogProblem', () => {
  it('reads warnings and errors from k6 logfmt lines, quoted or bare', () => {
    expect(
      k6LogProblem(
        'time="2026-12-01T13:00:00Z" level=warning msg="owui: k6/x/sse missing, \\"plain\\" SSE" source=console',
      ),
    ).toEqual({ level: 'warning', message: 'owui: k6/x/sse missing, "plain" SSE' });
    expect(k6LogProblem('time="t" level=error msg=boom')).toEqual({ level: 'error', message: 'boom' });
    expect(k6LogProblem('level=fatal msg="panic"')).toEqual({ level: 'error', message: 'panic' });
  });

  it('leaves info lines and plain output alone (negative control)', () => {
    expect(k6LogProblem('time="t" level=info msg="hello" source=console')).toBeUndefined();
    expect(k6LogProblem('running (0m01.0s), 2/2 VUs')).toBeUndefined();
  });
});
