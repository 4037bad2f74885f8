import { describe, expect, it } from 'vitest';
import { SloSpecSchema, type SloSpec } from '../../../../src/core/slo/spec.js';
import { thresholdsFromSlos } from '../../../../src/engines/k6/thresholds.js';

const slo = (s: Record<string, unknown>): SloSpec => SloSpecSchema.parse(s);

describe('thresholdsFromSlos', () => {
  it('maps whole-run trend percentiles, min/max/mean and counts, with client and tag filters', () => {
    const { thresholds, skipped } = thresholdsFromSlos([
      slo({ metric: 'ttft', stat: 'p95', lte: 2000, client: 'api' }),
      slo({ metric: 'ttft', stat: 'p50', lte: 800, client: 'api' }),
      slo({ metric: 'ws_reconnect_time', stat: 'p99.9', lte: 6000 }),
      slo({ metric: 'e2e', stat: 'mean', lte: 9000 }),
      slo({ metric: 'garbled_token_rate', stat: 'max', lte: 0 }),
      slo({ metric: 'garbled_token_rate', stat: 'rate', lte: 0.01 }),
      slo({
        metric: 'http_errors',
        stat: 'count',
        lte: 0,
        tags: { status: '502', endpoint: '/api/chat/completions' },
      }),
    ]);
    expect(thresholds).toEqual({
      'ttft{client:api}': ['p(95)<=2000', 'med<=800'],
      ws_reconnect_time: ['p(99.9)<=6000'],
      e2e: ['avg<=9000'],
      garbled_token_rate: ['max<=0', 'avg<=0.01'],
      'http_errors{endpoint:/api/chat/completions,status:502}': ['count<=0'],
    });
    expect(skipped).toEqual([]);
  });

  it('uses >= for gte objectives', () => {
    expect(thresholdsFromSlos([slo({ metric: 'ttft', stat: 'min', gte: 1 })]).thresholds).toEqual({
      ttft: ['min>=1'],
    });
  });

  it('skips what k6 cannot compute, saying why', () => {
    const { thresholds, skipped } = thresholdsFromSlos([
      slo({ metric: 'ttft', stat: 'p95', lte: 2000, phases: ['baseline', 'recovery'] }),
      slo({ metric: 'stream_outcome', stat: 'rate', gte: 0.99, tags: { outcome: 'completed' } }),
      slo({ metric: 'ttft', stat: 'count', gte: 1 }),
      slo({ metric: 'active_streams', stat: 'max', lte: 100 }),
    ]);
    expect(thresholds).toEqual({});
    expect(skipped.map((s) => s.reason)).toEqual([
      expect.stringMatching(/phase-scoped/),
      expect.stringMatching(/counter rate is per second/),
      expect.stringMatching(/no k6 threshold aggregation/),
      expect.stringMatching(/gauge/),
    ]);
  });
});
