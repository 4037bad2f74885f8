import { describe, expect, it } from 'vitest';
import { ExitCode, InterruptedError, LoadGeneratorError, UsageError } from '../../../../src/core/errors.js';
import type { MetricName } from '../../../../src/core/metrics.js';
import type { SampleSink, SampleTags } from '../../../../src/core/samples.js';
import {
  K6_EXIT_CODES,
  K6JsonIngest,
  k6AbortReason,
  k6LogProblem,
  mapK6Exit,
  userK6Settings,
} from '../../../../src/engines/k6/engine.js';

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
    expect(mapK6Exit(105, null, ctx)).toBeInstanceOf(InterruptedError);
    expect(mapK6Exit(null, 'SIGKILL', ctx)?.message).toMatch(/killed by SIGKILL/);
  });

  it('maps failures to LoadGeneratorError (exit 12) with a code and k6 meaning', () => {
    const script = mapK6Exit(107, null, {
      stoppedByUs: false,
      stderrTail: 'ReferenceError: foo is not defined',
    });
    expect(script).toMatchObject({ code: 'K6_SCRIPT_ERROR', exitCode: 12 });
    expect(script?.message).toMatch(/exit 107: script exception.*ReferenceError/);
    expect(mapK6Exit(100, null, ctx)?.code).toBe('K6_TIMEOUT');
    expect(mapK6Exit(1, null, ctx)).toMatchObject({ code: 'K6_FAILED', exitCode: 12 });
    expect(mapK6Exit(1, null, ctx)?.message).toMatch(/unknown k6 exit code/);
  });
});

// Every code of k6's errext/exitcodes (v0.49.0 … v2.2.0) and 255, with our exit and code.
const EXPECTED: Record<number, [exit: number, code: string]> = {
  97: [12, 'K6_FAILED'],
  98: [12, 'K6_FAILED'],
  100: [12, 'K6_TIMEOUT'],
  101: [12, 'K6_TIMEOUT'],
  102: [12, 'K6_TIMEOUT'],
  103: [13, 'K6_INTERRUPTED'],
  104: [1, 'K6_INVALID_CONFIG'],
  105: [13, 'K6_INTERRUPTED'],
  106: [12, 'K6_FAILED'],
  107: [12, 'K6_SCRIPT_ERROR'],
  108: [12, 'K6_SCRIPT_ABORTED'],
  109: [12, 'K6_PANIC'],
  110: [12, 'K6_MARKED_FAILED'],
  255: [1, 'K6_INVALID_CONFIG'],
};

describe('mapK6Exit: every k6 exit code', () => {
  const ctx = { stoppedByUs: false, stderrTail: '' };
  it('covers exactly the codes k6 defines (99 = thresholds, a finished load)', () => {
    expect(Object.keys(K6_EXIT_CODES).map(Number).sort()).toEqual(
      [...Object.keys(EXPECTED).map(Number), 99].sort(),
    );
  });

  it.each(Object.entries(EXPECTED))('k6 exit %s → our exit and code', (k6, [exit, code]) => {
    const error = mapK6Exit(Number(k6), null, ctx);
    expect(error).toMatchObject({ exitCode: exit, code });
    expect(error?.message).toContain(`exit ${k6}: ${K6_EXIT_CODES[Number(k6)]}`);
  });

  it('104/255 with k6 settings of the user in effect is usage (exit 2) naming them; without, our bug (exit 1)', () => {
    const tail =
      'time="t" level=error msg="envconfig.Process: assigning K6_DURATION to Duration: converting \'banana\'"';
    for (const code of [104, 255]) {
      const usage = mapK6Exit(code, null, { ...ctx, stderrTail: tail, userK6Settings: ['K6_DURATION'] });
      expect(usage).toBeInstanceOf(UsageError);
      expect(usage).toMatchObject({ exitCode: ExitCode.usage, code: 'K6_INVALID_CONFIG' });
      expect(usage?.message).toMatch(/K6_DURATION to Duration.*in effect: K6_DURATION$/);
      const bug = mapK6Exit(code, null, { ...ctx, stderrTail: tail, userK6Settings: [] });
      expect(bug).toMatchObject({ exitCode: ExitCode.bug });
      expect(bug?.message).toMatch(/configuration owui-chaos generated.*bug in owui-chaos/);
    }
  });

  it('108 quotes the reason the scenario gave to test.abort()', () => {
    const tail = 'time="t" level=error msg="test aborted: owui: k6/websockets is missing" source=console';
    const error = mapK6Exit(108, null, { ...ctx, stderrTail: tail });
    expect(error).toBeInstanceOf(LoadGeneratorError);
    expect(error?.message).toMatch(/aborted the test \(exit 108.*\): owui: k6\/websockets is missing$/);
    expect(mapK6Exit(108, null, ctx)?.message).toMatch(/no reason logged/);
    expect(k6AbortReason('level=error msg="something else"')).toBeUndefined();
  });

  it('an unknown code and a signal we did not send are load generator errors', () => {
    expect(mapK6Exit(42, null, ctx)).toMatchObject({ exitCode: 12, code: 'K6_FAILED' });
    expect(mapK6Exit(null, 'SIGKILL', ctx)).toMatchObject({ exitCode: 12, code: 'K6_FAILED' });
  });
});

describe('userK6Settings', () => {
  it("lists the user's K6_* variables and extra outputs, not ours nor other variables", () => {
    expect(
      userK6Settings({ K6_NO_USAGE_REPORT: 'true', PATH: '/bin', K6_VUS: '3', K6_AB: 'x' }, ['statsd']),
    ).toEqual(['K6_AB', 'K6_VUS', '--out statsd']);
    expect(userK6Settings({ K6_NO_USAGE_REPORT: 'true', HOME: '/root' }, [])).toEqual([]);
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
