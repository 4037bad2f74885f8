// What the k6 engine cannot measure (src/engines/k6/measurable.ts) and how a verdict states it:
// an SLO plain k6 cannot time is "not measurable" with the reason, named in the headline, and does
// not gate — but only when it has no data, only for the client kinds that cannot produce it, and
// never for an SLO that simply measured nothing (that still fails).

import { describe, expect, it } from 'vitest';
import { evaluateSamples } from '../../../../src/core/report/evaluate.js';
import { renderJunit } from '../../../../src/core/report/junit.js';
import { renderTerminalSummary } from '../../../../src/core/report/terminal.js';
import type { Sample } from '../../../../src/core/samples.js';
import { SloSpecSchema, type SloSpec } from '../../../../src/core/slo/spec.js';
import { markNotMeasured, notMeasuredByK6 } from '../../../../src/engines/k6/measurable.js';
import { thresholdsFromSlos } from '../../../../src/engines/k6/thresholds.js';

const slo = (s: Record<string, unknown>): SloSpec => SloSpecSchema.parse(s);
const both = { api: true, browser: true };
const T0 = Date.parse('2026-01-01T00:00:00Z');

/** What plain k6 writes for API chats (e2e, ttfb, outcome, integrity) and browser chats. */
function plainK6Samples(browserTtftMs: number): Sample[] {
  const out: Sample[] = [];
  for (let i = 0; i < 20; i++) {
    const t = T0 + i * 500;
    out.push({ metric: 'e2e', timeMs: t, value: 1500, tags: { client: 'api' } });
    out.push({ metric: 'ttfb', timeMs: t, value: 20, tags: { client: 'api' } });
    out.push({ metric: 'garbled_token_rate', timeMs: t, value: 0, tags: { client: 'api' } });
    out.push({
      metric: 'stream_outcome',
      timeMs: t,
      value: 1,
      tags: { client: 'api', outcome: 'completed' },
    });
    out.push({ metric: 'ttft', timeMs: t, value: browserTtftMs, tags: { client: 'browser' } });
  }
  return out;
}

describe('notMeasuredByK6', () => {
  it('plain k6: API token timings and reads are not measurable; e2e, outcome and browser timings are', () => {
    const ctx = { sse: 'plain' as const, clients: both };
    for (const metric of [
      'ttft',
      'itl',
      'tpot',
      'burst_size',
      'ttft_e2e_ratio',
      'split_event_rate',
      'client_lag',
    ])
      expect(notMeasuredByK6({ metric: metric as SloSpec['metric'], client: 'api' }, ctx)).toMatch(/xk6-sse/);
    for (const metric of ['e2e', 'ttfb', 'stream_outcome', 'garbled_token_rate', 'http_errors'])
      expect(notMeasuredByK6({ metric: metric as SloSpec['metric'], client: 'api' }, ctx)).toBeUndefined();
    expect(notMeasuredByK6({ metric: 'ttft', client: 'browser' }, ctx)).toBeUndefined();
    // client-less: measured from the browsers when there are some, not measurable without them
    expect(notMeasuredByK6({ metric: 'ttft' }, ctx)).toBeUndefined();
    expect(notMeasuredByK6({ metric: 'ttft' }, { ...ctx, clients: { api: true, browser: false } })).toMatch(
      /xk6-sse/,
    );
  });

  it('xk6-sse: token timings are measured, tokens per network read are not (events, not reads)', () => {
    const ctx = { sse: 'xk6' as const, clients: both };
    expect(notMeasuredByK6({ metric: 'ttft', client: 'api' }, ctx)).toBeUndefined();
    expect(notMeasuredByK6({ metric: 'itl', client: 'api' }, ctx)).toBeUndefined();
    expect(notMeasuredByK6({ metric: 'burst_size', client: 'api' }, ctx)).toMatch(
      /events, not network reads/,
    );
    expect(notMeasuredByK6({ metric: 'active_streams' }, ctx)).toMatch(/Node engine only/);
  });

  it('thresholds skip what k6 cannot measure, with the reason', () => {
    const marked = markNotMeasured([slo({ metric: 'itl', client: 'api', stat: 'p95', lte: 250 })], {
      sse: 'plain',
      clients: both,
    });
    const { thresholds, skipped } = thresholdsFromSlos(marked);
    expect(thresholds).toEqual({});
    expect(skipped).toEqual([
      { slo: 'itl:p95:api', reason: expect.stringMatching(/not measurable.*xk6-sse/) },
    ]);
  });
});

describe('a plain-k6 verdict with SLOs it cannot measure', () => {
  const slos = [
    slo({ metric: 'itl', client: 'api', stat: 'p95', lte: 250 }),
    slo({ metric: 'burst_size', client: 'api', stat: 'p95', lte: 4 }),
    slo({ metric: 'ttft', stat: 'p95', lte: 2000 }),
    slo({ metric: 'stream_outcome', client: 'api', stat: 'rate', tags: { outcome: 'completed' }, gte: 0.99 }),
  ];
  const marked = markNotMeasured(slos, { sse: 'plain', clients: both });

  it('passes on what it measured and says which SLOs it could not measure, and why', () => {
    const results = evaluateSamples(plainK6Samples(200), { journal: null, slos: marked });
    expect(results.exitCode).toBe(0);
    expect(results.verdict).toBe('pass');
    expect(results.headline).toBe(
      '2 of 4 SLO checks met, 2 not measurable by this load engine (itl [api], burst_size [api])',
    );
    const itl = results.slos.find((s) => s.id === 'itl:p95:api');
    expect(itl).toMatchObject({
      verdict: 'no-data',
      note: expect.stringMatching(/^not measurable: .*xk6-sse/),
    });
    const terminal = renderTerminalSummary(results, {});
    expect(terminal).toMatch(/NO DATA \(does not gate\).*not measurable/);
    expect(renderJunit(results)).toMatch(/<skipped message="no data: not measurable: k6 without xk6-sse/);
  });

  it('negative control: what it does measure still fails (browser ttft over its objective)', () => {
    const results = evaluateSamples(plainK6Samples(5000), { journal: null, slos: marked });
    expect(results.exitCode).toBe(10);
    expect(results.slos.find((s) => s.id === 'ttft:p95')?.verdict).toBe('breach');
  });

  it('negative control: an SLO the engine can measure but that got no data still fails', () => {
    const results = evaluateSamples(
      plainK6Samples(200).filter((s) => s.metric !== 'stream_outcome'),
      { journal: null, slos: marked },
    );
    expect(results.exitCode).toBe(10);
    expect(results.verdict).toBe('no-data');
  });

  it('negative control: unmarked (Node engine), the same silence fails', () => {
    const results = evaluateSamples(plainK6Samples(200), { journal: null, slos });
    expect(results.exitCode).toBe(10);
    expect(results.verdict).toBe('no-data');
  });

  it('a run where nothing measurable was judged is still not a pass', () => {
    const only = markNotMeasured([slo({ metric: 'itl', client: 'api', stat: 'p95', lte: 250 })], {
      sse: 'plain',
      clients: both,
    });
    const results = evaluateSamples(plainK6Samples(200), { journal: null, slos: only });
    expect(results.exitCode).toBe(10);
  });
});
