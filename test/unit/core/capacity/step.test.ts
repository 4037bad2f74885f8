import { describe, expect, it } from 'vitest';
import {
  arrivalsIn,
  censoredPercentile,
  latticeAnchor,
  clearlyPast,
  earlyStopFrom,
  inWindow,
  measureStep,
  runSpread,
  sloMargin,
  type StepWindow,
} from '../../../../src/core/capacity/step.js';
import type { Sample } from '../../../../src/core/samples.js';
import type { SloSpec } from '../../../../src/core/slo/spec.js';

const T0 = 1_700_000_000_000;
const WINDOW: StepWindow = { startMs: T0 + 2000, endMs: T0 + 6000, deadlineMs: T0 + 7000 };
const SLOS: SloSpec[] = [
  { metric: 'ttft', stat: 'p95', lte: 500, phases: ['all'] },
  { metric: 'stream_outcome', stat: 'rate', tags: { outcome: 'completed' }, gte: 0.99, phases: ['all'] },
];

/** Streams at `rate`/s from T0 for 7 s; `ttftOf(k, intendedMs)` null = never answered (cancelled). */
function streams(rate: number, ttftOf: (k: number, intended: number) => number | null): Sample[] {
  const out: Sample[] = [];
  for (let k = 0; k * (1000 / rate) < 7000; k++) {
    const intended = T0 + k * (1000 / rate);
    const ttft = ttftOf(k, intended);
    const tags = { client: 'api' as const };
    if (ttft === null) {
      out.push({
        metric: 'stream_outcome',
        timeMs: WINDOW.deadlineMs,
        value: 1,
        tags: { ...tags, outcome: 'cancelled' },
      });
      continue;
    }
    out.push({ metric: 'ttft', timeMs: intended + ttft, value: ttft, tags });
    out.push({ metric: 'e2e', timeMs: intended + ttft + 400, value: ttft + 400, tags });
    out.push({
      metric: 'stream_outcome',
      timeMs: intended + ttft + 400,
      value: 1,
      tags: { ...tags, outcome: 'completed' },
    });
  }
  return out;
}

describe('measureStep', () => {
  it('passes a healthy step and reports confidence from both halves of the window', () => {
    const m = measureStep({
      samples: streams(10, () => 50),
      window: WINDOW,
      expectedArrivals: 40,
      slos: SLOS,
    });
    expect(m.verdict).toBe('pass');
    expect(m.slos[0]).toMatchObject({ id: 'ttft:p95', verdict: 'pass', censored: false, samples: 40 });
    expect(m.slos[0]!.measured).toBeCloseTo(50, 0);
    expect(m.slos[0]!.margin).toBeCloseTo(0.9, 2);
    expect(m.confidence).toMatchObject({ samples: 40, expected: 40 });
    expect(m.confidence.halfSpread).toBeCloseTo(0, 2);
    expect(m.throughput).toBeGreaterThan(9);
    expect(m.histograms.some((h) => h.metric === 'ttft')).toBe(true);
  });

  it('breaches a growing queue, and the second half shows it is still growing', () => {
    // Waiting grows by 0.2 s per second (utilisation 1.2).
    const m = measureStep({
      samples: streams(10, (_k, intended) => 40 + 0.2 * (intended - T0)),
      window: WINDOW,
      expectedArrivals: 40,
      slos: SLOS,
    });
    expect(m.verdict).toBe('fail');
    expect(m.worst?.id).toBe('ttft:p95');
    expect(m.worst!.margin!).toBeLessThan(0);
    const [a, b] = m.confidence.halves;
    expect(b!).toBeGreaterThan(a!);
  });

  it('censors arrivals that never answered: a target that stops answering cannot pass', () => {
    // Half the window's arrivals never get a first token; the answered ones are fast.
    const samples = streams(10, (k, intended) => (intended >= WINDOW.startMs && k % 2 === 0 ? null : 50));
    const m = measureStep({ samples, window: WINDOW, expectedArrivals: 40, slos: SLOS });
    expect(m.slos[0]).toMatchObject({ verdict: 'breach', censored: true, measured: 1000 });
    // Negative control: the same samples judged without the intended arrivals look healthy.
    const naive = measureStep({ samples, window: WINDOW, slos: SLOS });
    expect(naive.slos[0]).toMatchObject({ verdict: 'pass', censored: false });
  });

  it('keeps warm-up samples out of the window (by intended start for ttft)', () => {
    // Slow only during the warm-up: the window is healthy.
    const m = measureStep({
      samples: streams(10, (_k, intended) => (intended < WINDOW.startMs ? 3000 : 50)),
      window: WINDOW,
      expectedArrivals: 40,
      slos: SLOS,
    });
    expect(m.slos[0]!.verdict).toBe('pass');
    expect(inWindow({ metric: 'ttft', timeMs: WINDOW.startMs + 100, value: 500, tags: {} }, WINDOW)).toBe(
      false,
    );
    expect(inWindow({ metric: 'itl', timeMs: WINDOW.startMs + 100, value: 500, tags: {} }, WINDOW)).toBe(
      true,
    );
    expect(inWindow({ metric: 'missed_starts', timeMs: WINDOW.endMs, value: 1, tags: {} }, WINDOW)).toBe(
      false,
    );
  });

  it('a step with no samples at all fails (silence is not a pass)', () => {
    const m = measureStep({ samples: [], window: WINDOW, slos: SLOS });
    expect(m.verdict).toBe('fail');
    expect(m.slos.every((s) => s.verdict === 'no-data')).toBe(true);
  });

  it('counts errors in the completion share', () => {
    const samples = streams(10, () => 50).map((s) =>
      s.metric === 'stream_outcome' && s.timeMs > WINDOW.startMs + 1000 && s.timeMs < WINDOW.startMs + 1400
        ? { ...s, tags: { ...s.tags, outcome: 'http_error' } }
        : s,
    );
    const m = measureStep({ samples, window: WINDOW, expectedArrivals: 40, slos: SLOS });
    expect(m.slos[1]).toMatchObject({ id: 'stream_outcome:rate:outcome=completed', verdict: 'breach' });
    expect(m.outcomes.http_error).toBe(4);
  });
});

describe('the arrival lattice', () => {
  it('counts the intended arrivals of a window exactly, whatever the anchor', () => {
    expect(arrivalsIn({ ratePerSecond: 10, anchorMs: T0 }, WINDOW.startMs, WINDOW.endMs)).toBe(40);
    expect(arrivalsIn({ ratePerSecond: 10, anchorMs: T0 + 3250 }, WINDOW.startMs, WINDOW.endMs)).toBe(40);
    expect(arrivalsIn({ ratePerSecond: 3, anchorMs: T0 }, T0, T0 + 1000)).toBe(3);
    expect(arrivalsIn({ ratePerSecond: 3, anchorMs: T0 }, T0 + 1, T0 + 1000)).toBe(2);
    expect(arrivalsIn({ ratePerSecond: 0, anchorMs: T0 }, T0, T0 + 1000)).toBe(0);
  });

  it('finds the anchor from intended starts, and censors exactly one missing answer', () => {
    const samples = streams(10, (k) => (k === 25 ? null : 50)); // arrival 25 (in the window) never answered
    expect(latticeAnchor(samples, 0)).toBe(T0);
    expect(latticeAnchor([], 42)).toBe(42);
    const m = measureStep({
      samples,
      window: WINDOW,
      arrivals: { ratePerSecond: 10, anchorMs: T0 },
      slos: SLOS,
    });
    // 39 of 40 answered: p95 (rank 38) is still among the answered, so it passes; p99 would not.
    expect(m.slos[0]).toMatchObject({ verdict: 'pass', censored: false, samples: 39 });
    const p99 = measureStep({
      samples,
      window: WINDOW,
      arrivals: { ratePerSecond: 10, anchorMs: T0 },
      slos: [{ metric: 'ttft', stat: 'p99', lte: 500, phases: ['all'] }],
    });
    expect(p99.slos[0]).toMatchObject({ verdict: 'breach', censored: true });
  });
});

describe('margins, early stop, spread', () => {
  it('computes margins for lte, gte and zero objectives', () => {
    expect(sloMargin({ lte: 500 }, 250)).toBe(0.5);
    expect(sloMargin({ lte: 500 }, 1000)).toBe(-1);
    expect(sloMargin({ gte: 0.99 }, 0.891)).toBeCloseTo(-0.1, 3);
    expect(sloMargin({ lte: 0 }, 0)).toBe(1);
    expect(sloMargin({ lte: 0 }, 3)).toBe(-3);
  });

  it('stops early only when clearly past, with enough samples', () => {
    const slow = measureStep({ samples: streams(10, () => 1200), window: WINDOW, slos: SLOS });
    expect(clearlyPast(slow, SLOS)).toBe(true);
    const justOver = measureStep({ samples: streams(10, () => 600), window: WINDOW, slos: SLOS });
    expect(justOver.verdict).toBe('fail');
    expect(clearlyPast(justOver, SLOS)).toBe(false);
    const few = measureStep({ samples: streams(1, () => 1200), window: WINDOW, slos: SLOS });
    expect(clearlyPast(few, SLOS)).toBe(false);
  });

  it('early stop judges from the first completion: refusals alone before it are not the share', () => {
    // A loss-model step past its knee: users start chatting 1 s in (20 chats/s), a chat holds its
    // slot 3 s, and 1 arrival in 4 is refused (at once). Until t = 4 s only refusals have ended.
    const samples: Sample[] = [];
    for (let k = 0; k < 200; k++) {
      const intended = T0 + 1000 + k * 50;
      const refused = k % 4 === 3;
      samples.push({
        metric: 'stream_outcome',
        timeMs: refused ? intended + 5 : intended + 3000,
        value: 1,
        tags: { client: 'browser', outcome: refused ? 'http_error' : 'completed' },
      });
    }
    const now = T0 + 4000;
    const seen = samples.filter((x) => x.timeMs < now);
    const share = [{ ...SLOS[1]!, gte: 0.8 }];
    // From the window start (2 s) the step looks clearly past: 0 of 10 completed.
    const naive = measureStep({
      samples: seen,
      window: { ...WINDOW, endMs: now, deadlineMs: now },
      slos: share,
    });
    expect(naive.slos[0]).toMatchObject({ measured: 0 });
    expect(clearlyPast(naive, share)).toBe(true);
    // Not judged before a completion, or a healthy answer's time, has passed…
    expect(earlyStopFrom(seen, WINDOW, T0, now, 10_000)).toBeUndefined();
    // …and from the first completion on, the share is the model's 3 of 4 (within 10 % of the
    // objective 0.8): a fail at the window's end, not an early stop.
    const later = T0 + 6000;
    const from = earlyStopFrom(
      samples.filter((x) => x.timeMs < later),
      WINDOW,
      T0,
      later,
      10_000,
    )!;
    expect(from).toBe(T0 + 4000);
    const fair = measureStep({
      samples: samples.filter((x) => x.timeMs < later),
      window: { startMs: from, endMs: later, deadlineMs: later },
      slos: share,
    });
    expect(fair.slos[0]!.measured).toBeCloseTo(3 / 4, 2);
    expect(clearlyPast(fair, share)).toBe(false);
  });

  it('a target that completes nothing is judged from the window start once an answer is overdue', () => {
    const refusals: Sample[] = Array.from({ length: 30 }, (_, k) => ({
      metric: 'stream_outcome',
      timeMs: T0 + 2000 + k * 100,
      value: 1,
      tags: { client: 'api', outcome: 'http_error' },
    }));
    expect(earlyStopFrom(refusals, WINDOW, T0, T0 + 4000, 10_000)).toBeUndefined();
    expect(earlyStopFrom(refusals, WINDOW, T0, T0 + 10_000, 10_000)).toBe(WINDOW.startMs);
    const m = measureStep({ samples: refusals, window: { ...WINDOW, endMs: T0 + 5000 }, slos: SLOS });
    expect(clearlyPast(m, SLOS)).toBe(true);
  });

  it('run-to-run spread needs two runs', () => {
    expect(runSpread([100])).toBeNull();
    expect(runSpread([100, 80, null])).toBeCloseTo(0.2, 5);
  });

  it('censoredPercentile: rank among the missing gives the tail as a lower bound', () => {
    expect(censoredPercentile(undefined, 95, 0, 1000)).toEqual({ value: null, censored: false, observed: 0 });
    expect(censoredPercentile(undefined, 95, 10, 1000)).toEqual({ value: 1000, censored: true, observed: 0 });
  });
});
