// The live SLO table's incremental evaluator (src/core/report/incremental.ts): it must give the same
// rows as the final report's aggregator on the same samples and journal, fold each sample once
// (evaluating again never re-reads samples), and say when a boundary came too late to be exact.
import { describe, expect, it } from 'vitest';
import { faultWindows, type Journal } from '../../../../src/core/journal.js';
import { STREAM_OUTCOMES } from '../../../../src/core/metrics.js';
import { evaluateSamples } from '../../../../src/core/report/evaluate.js';
import { IncrementalSloEvaluator } from '../../../../src/core/report/incremental.js';
import type { Sample } from '../../../../src/core/samples.js';
import type { SloSpec } from '../../../../src/core/slo/spec.js';
import { T0, journalWith, sample } from './synthetic.js';

const SLOS: SloSpec[] = [
  { metric: 'ttft', stat: 'p99', lte: 900, phases: ['baseline', 'slow', 'fault', 'recovery', 'all'] },
  { metric: 'ttft', stat: 'p50', client: 'browser', lte: 400, phases: ['kill', 'recovery'] },
  { metric: 'itl', stat: 'mean', lte: 30, phases: ['all'] },
  { metric: 'e2e', stat: 'max', lte: 5000, phases: ['fault'] },
  {
    metric: 'stream_outcome',
    stat: 'rate',
    client: 'api',
    tags: { outcome: 'completed' },
    gte: 0.95,
    phases: ['baseline', 'slow', 'kill', 'recovery'],
  },
  { metric: 'http_errors', stat: 'count', lte: 0, phases: ['baseline', 'recovery', 'kill'] },
  { metric: 'ws_reconnect_time', stat: 'p95', lte: 6000, phases: ['all'] },
  { metric: 'ttft', stat: 'p95', lte: 1000, phases: ['no-such-phase'] },
];

const FAULTS = [
  { name: 'slow', start: T0 + 20_000, end: T0 + 40_000 },
  { name: 'kill', action: 'replica.kill', start: T0 + 55_000, end: T0 + 70_000 },
];

/** A seeded mixed workload over 100 s: latencies rise and streams fail inside the fault windows. */
function workload(): Sample[] {
  let x = 7;
  const rnd = (): number => ((x = (x * 1103515245 + 12345) % 2147483648), x / 2147483648);
  const out: Sample[] = [];
  for (let t = T0; t < T0 + 100_000; t += 37) {
    const hurt = FAULTS.some((f) => t >= f.start && t < f.end);
    const client = rnd() < 0.5 ? 'api' : 'browser';
    out.push(sample('ttft', t, (hurt ? 700 : 200) + rnd() * 300, { client }));
    out.push(sample('itl', t, 10 + rnd() * 30, { client }));
    if (rnd() < 0.3) out.push(sample('e2e', t, 1000 + rnd() * 4000, { client }));
    const outcome = hurt && rnd() < 0.2 ? 'http_error' : rnd() < 0.02 ? 'cancelled' : 'completed';
    out.push(sample('stream_outcome', t, 1, { client, outcome }));
    if (outcome === 'http_error') out.push(sample('http_errors', t, 1, { client, status: '502' }));
  }
  // Worker batches arrive late: shuffle within 1.5 s.
  return out
    .map((s) => ({ s, k: s.timeMs + rnd() * 1500 }))
    .sort((a, b) => a.k - b.k)
    .map((e) => e.s);
}

/** Windows as the session knows them at `now`: injected ones open (ending now), reverted ones closed. */
function windowsAt(now: number) {
  return FAULTS.filter((f) => f.start + 5 <= now).map((f) => ({
    name: f.name,
    action: f.action ?? 'toxic.latency',
    start: f.start,
    end: f.end <= now ? f.end : now,
    ...(f.end <= now ? {} : { open: true }),
  }));
}

function strip(
  rows: Array<{
    id: string;
    phase: string;
    measured: number | null;
    samples: number;
    verdict: string;
    note?: string;
  }>,
) {
  return rows.map(({ id, phase, measured, samples, verdict, note }) => ({
    id,
    phase,
    measured,
    samples,
    verdict,
    note,
  }));
}

describe('IncrementalSloEvaluator', () => {
  it('gives the final report’s SLO rows while folding samples as they arrive', () => {
    const samples = workload();
    const journal: Journal = journalWith(FAULTS, T0 + 100_000);
    const exact = evaluateSamples(samples, { journal, slos: SLOS });
    const inc = new IncrementalSloEvaluator({ slos: SLOS });
    let nextEval = T0 + 1000;
    for (const s of samples) {
      inc.add(s);
      // The session evaluates about once a second; arrival time ≈ the latest sample time.
      if (s.timeMs >= nextEval) {
        inc.evaluate({ windows: windowsAt(s.timeMs), faultsPlanned: true, horizon: s.timeMs - 3000 });
        nextEval += 1000;
      }
    }
    inc.flush();
    const live = inc.evaluate({ windows: faultWindows(journal), faultsPlanned: true, horizon: Infinity });
    expect(live.approximate).toBe(false);
    expect(live.folded).toBe(exact.input.samples);
    expect(strip(live.slos)).toEqual(strip(exact.slos));
    // The workload is built so that both verdicts occur (not a table of passes).
    expect(live.slos.some((r) => r.verdict === 'breach')).toBe(true);
    expect(live.slos.some((r) => r.verdict === 'pass')).toBe(true);
  });

  it('matches the aggregator mid-session too (open window = fault until now, no recovery yet)', () => {
    const now = T0 + 60_000;
    const samples = workload().filter((s) => s.timeMs < now);
    const inc = new IncrementalSloEvaluator({ slos: SLOS, trackAll: true });
    for (const s of samples) inc.add(s);
    const live = inc.evaluate({ windows: windowsAt(now), faultsPlanned: true, horizon: now });
    const journal = journalWith(
      windowsAt(now).map((w) => ({ name: w.name, action: w.action, start: w.start, end: w.end })),
      now,
    );
    const exact = evaluateSamples(samples, { journal, slos: SLOS });
    expect(strip(live.slos)).toEqual(strip(exact.slos));
  });

  it('folds each sample once: evaluating 50 times reads no sample again', () => {
    let reads = 0;
    const counted = (s: Sample): Sample =>
      new Proxy(s, {
        get(target, prop, receiver) {
          reads += 1;
          return Reflect.get(target, prop, receiver) as unknown;
        },
      });
    const samples = workload().slice(0, 20_000).map(counted);
    const readsFor = (evaluations: number): number => {
      reads = 0;
      const inc = new IncrementalSloEvaluator({ slos: SLOS });
      for (const s of samples) inc.add(s);
      for (let i = 0; i < evaluations; i++)
        inc.evaluate({ windows: windowsAt(T0 + 30_000), faultsPlanned: true, horizon: T0 + 200_000 });
      return reads;
    };
    const once = readsFor(1);
    expect(once).toBeGreaterThan(0);
    // A re-reading evaluator (the previous live table re-read the whole sample file) would read
    // every sample on every evaluation: 50× the reads.
    expect(readsFor(50)).toBe(once);
  });

  it('waits for the horizon, so a fault start learnt late still splits exactly; past it, says approximate', () => {
    const slos: SloSpec[] = [{ metric: 'ttft', stat: 'max', lte: 500, phases: ['baseline', 'slow'] }];
    const before = [sample('ttft', T0 + 1000, 100), sample('ttft', T0 + 9000, 100)];
    const during = [sample('ttft', T0 + 10_500, 800), sample('ttft', T0 + 11_000, 900)];
    const win = [{ name: 'slow', action: 'toxic.latency', start: T0 + 10_000, end: T0 + 12_000, open: true }];
    // The injection began at +10 s and finished applying at +12 s; the horizon stayed before its start.
    const ok = new IncrementalSloEvaluator({ slos });
    for (const s of [...before, ...during]) ok.add(s);
    ok.evaluate({ windows: [], faultsPlanned: true, horizon: T0 + 10_000 });
    const r = ok.evaluate({ windows: win, faultsPlanned: true, horizon: T0 + 12_000 });
    expect(r.approximate).toBe(false);
    expect(r.slos.map((x) => [x.phase, x.measured, x.verdict])).toEqual([
      ['baseline', 100, 'pass'],
      ['slow', 900, 'breach'],
    ]);
    // Negative control: the horizon ran past the fault's start before it was known.
    const late = new IncrementalSloEvaluator({ slos });
    for (const s of [...before, ...during]) late.add(s);
    late.evaluate({ windows: [], faultsPlanned: true, horizon: T0 + 12_000 });
    expect(late.evaluate({ windows: win, faultsPlanned: true, horizon: T0 + 12_000 }).approximate).toBe(true);
  });

  it('silence is not a pass: no samples is no-data, and a stalled fault phase is a breach', () => {
    const slos: SloSpec[] = [{ metric: 'ttft', stat: 'p95', lte: 500, phases: ['baseline', 'slow'] }];
    const empty = new IncrementalSloEvaluator({ slos });
    const r0 = empty.evaluate({ windows: [], faultsPlanned: true, horizon: T0 });
    expect(r0.slos.map((x) => x.verdict)).toEqual(['no-data', 'no-data']);
    const stalled = new IncrementalSloEvaluator({ slos });
    stalled.add(sample('ttft', T0 + 1000, 100));
    const r1 = stalled.evaluate({
      windows: [{ name: 'slow', action: 'toxic.latency', start: T0 + 5000, end: T0 + 9000 }],
      faultsPlanned: true,
      horizon: T0 + 10_000,
    });
    expect(r1.slos.map((x) => [x.phase, x.verdict])).toEqual([
      ['baseline', 'pass'],
      ['slow', 'breach'],
    ]);
  });

  it('with trackAll, every metric per client and every stream outcome is tracked from the start', () => {
    const inc = new IncrementalSloEvaluator({ slos: [], trackAll: true });
    for (const outcome of STREAM_OUTCOMES)
      expect(inc.isTracked({ metric: 'stream_outcome', client: 'api', tags: { outcome } })).toBe(true);
    expect(inc.isTracked({ metric: 'ttft', client: 'browser' })).toBe(true);
    expect(inc.isTracked({ metric: 'ttft', tags: { replica: '1' } })).toBe(false);
  });
});
