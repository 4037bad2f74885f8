import { describe, expect, it } from 'vitest';
import { PrometheusMetrics, parseListenAddress, phaseTracker } from '../../../src/app/prometheus-metrics.js';
import { UsageError } from '../../../src/core/errors.js';

describe('PrometheusMetrics', () => {
  it('serves the catalogue under k6 remote-write names, labelled by client, phase, fault and testid', async () => {
    const m = new PrometheusMetrics('run-1');
    const phases = phaseTracker(m);
    m.observe({ metric: 'ttft', timeMs: 0, value: 250, tags: { client: 'api' } });
    phases.injected('slow-llm');
    m.observe({ metric: 'ttft', timeMs: 0, value: 1750, tags: { client: 'api' } });
    m.observe({
      metric: 'stream_outcome',
      timeMs: 0,
      value: 1,
      tags: { client: 'browser', outcome: 'completed' },
    });
    m.observe({ metric: 'active_streams', timeMs: 0, value: 4, tags: {} });
    phases.reverted('slow-llm');
    m.observe({ metric: 'burst_size', timeMs: 0, value: 3, tags: { client: 'api' } });
    m.observe({ metric: 'not_a_metric', timeMs: 0, value: 1, tags: {} });
    const url = await m.listen(parseListenAddress('--prometheus', '127.0.0.1:0'));
    try {
      const text = await (await fetch(url)).text();
      expect(text).toContain(
        'k6_ttft_seconds_bucket{le="0.25",phase="baseline",fault="",testid="run-1",client="api"} 1',
      );
      expect(text).toContain(
        'k6_ttft_seconds_count{phase="fault",fault="slow-llm",testid="run-1",client="api"} 1',
      );
      expect(text).toContain('k6_ttft_p99{phase="fault",fault="slow-llm",testid="run-1",client="api"} 1.75');
      expect(text).toContain(
        'k6_stream_outcome_total{phase="fault",fault="slow-llm",testid="run-1",client="browser",outcome="completed"} 1',
      );
      expect(text).toContain('k6_active_streams{phase="fault",fault="slow-llm",testid="run-1"} 4');
      expect(text).toContain('k6_burst_size_count{phase="recovery",fault="",testid="run-1",client="api"} 1');
      expect(text).toContain('process_resident_memory_bytes');
      expect(text).not.toContain('not_a_metric');
      expect((await fetch(url.replace('/metrics', '/other'))).status).toBe(404);
    } finally {
      await m.close();
    }
    expect(m.observed).toBe(5);
  });

  it('parses listen addresses and refuses garbage with a usage error', () => {
    expect(parseListenAddress('--prometheus', '9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseListenAddress('--prometheus', ':0')).toEqual({ host: '127.0.0.1', port: 0 });
    expect(parseListenAddress('--prometheus', '[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(() => parseListenAddress('--prometheus', 'localhost:99999')).toThrow(UsageError);
    expect(() => parseListenAddress('--prometheus', 'http://x')).toThrow(/not an address/);
  });
});
