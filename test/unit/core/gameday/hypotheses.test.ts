// Game-day hypotheses get a verdict from measurements, never from silence: a fault that breaks a
// hypothesis is judged broken (the negative control), the healthy one held, and a hypothesis
// without samples or without a following fault is "no data" (pending while the session runs).
import { describe, expect, it } from 'vitest';
import {
  judgeHypotheses,
  noteHypothesis,
  parseHypothesisCheck,
  type Hypothesis,
} from '../../../../src/core/gameday/hypotheses.js';
import type { JournalNote } from '../../../../src/core/journal.js';
import { ValidationError } from '../../../../src/core/errors.js';
import { IncrementalSloEvaluator } from '../../../../src/core/report/incremental.js';
import { T0, ttftSeries } from '../report/synthetic.js';

const LATENCY = { name: 'latency-1', action: 'toxic.latency', start: T0 + 30_000, end: T0 + 60_000 };

/** 90 s of API chats: ttft 200 ms, 1500 ms while the latency toxic is in. */
function evaluator(): IncrementalSloEvaluator {
  const inc = new IncrementalSloEvaluator({ slos: [], trackAll: true });
  const slow = (t: number): boolean => t >= LATENCY.start && t < LATENCY.end;
  for (const s of ttftSeries(T0, T0 + 90_000, (t) => (slow(t) ? 1500 : 200))) inc.add(s);
  inc.advance([LATENCY], Number.POSITIVE_INFINITY);
  return inc;
}

function note(text: string, check: unknown, at = T0 + 20_000): JournalNote {
  return { at, kind: 'hypothesis', text, faults: [], check: parseHypothesisCheck(check) as never };
}

describe('game-day hypotheses', () => {
  const inc = evaluator();
  const hyps: Hypothesis[] = [
    noteHypothesis(
      note('chats start within 1 s even with a slow LLM', { metric: 'ttft', stat: 'p95', lte: 1000 }),
      'n1',
    ),
    noteHypothesis(
      note('every API stream still completes', {
        metric: 'stream_outcome',
        stat: 'rate',
        outcome: 'completed',
        gte: 0.99,
        client: 'api',
      }),
      'n2',
    ),
    noteHypothesis(
      note('latency is back to normal afterwards', {
        metric: 'ttft',
        stat: 'p95',
        lte: 500,
        during: 'recovery',
      }),
      'n3',
    ),
    noteHypothesis(
      note('browsers are fine', {
        metric: 'ttft',
        stat: 'p95',
        lte: 500,
        client: 'browser',
        during: 'latency-1',
      }),
      'n4',
    ),
    noteHypothesis(
      note('a later fault is harmless', { metric: 'ttft', stat: 'p95', lte: 5000 }, T0 + 70_000),
      'n5',
    ),
  ];

  it('judges the fault that breaks a hypothesis as broken, and the healthy ones as held', () => {
    const r = judgeHypotheses(inc, hyps, [LATENCY], false);
    const by = Object.fromEntries(r.map((h) => [h.id, h]));
    // Negative control: 1500 ms ttft in the latency window breaks "≤ 1000".
    expect(by.n1?.verdict).toBe('broken');
    expect(by.n1?.checks[0]).toMatchObject({ phase: 'latency-1', verdict: 'breach' });
    expect(by.n1?.checks[0]?.measured).toBeCloseTo(1500, -1); // HDR: 3 significant digits
    expect(by.n1?.reason).toContain('latency-1');
    // Healthy: streams kept completing, and recovery is back at 200 ms.
    expect(by.n2?.verdict).toBe('held');
    expect(by.n3?.verdict).toBe('held');
    expect(by.n3?.checks[0]?.phase).toBe('recovery');
    expect(by.n3?.checks[0]?.measured).toBeCloseTo(200, -1);
  });

  it('silence is never held: no samples, or no fault after the note, is no data', () => {
    const r = judgeHypotheses(inc, hyps, [LATENCY], false);
    const by = Object.fromEntries(r.map((h) => [h.id, h]));
    expect(by.n4?.verdict).toBe('no-data'); // no browser client in this load
    expect(by.n5?.verdict).toBe('no-data');
    expect(by.n5?.reason).toContain('no fault was injected after');
    // Before any fault, with no samples at all: nothing is held.
    const empty = new IncrementalSloEvaluator({ slos: [], trackAll: true });
    expect(judgeHypotheses(empty, hyps, [], false).map((h) => h.verdict)).toEqual([
      'no-data',
      'no-data',
      'no-data',
      'no-data',
      'no-data',
    ]);
  });

  it('a zero count needs load in its phase: dead load in recovery is not held, healthy recovery is', () => {
    const noErrors = noteHypothesis(
      note('no HTTP errors once it is reverted', {
        metric: 'http_errors',
        stat: 'count',
        lte: 0,
        during: 'recovery',
      }),
      'c1',
    );
    // Healthy: streams keep ending in recovery and no error was counted.
    const healthy = judgeHypotheses(inc, [noErrors], [LATENCY], false)[0];
    expect(healthy?.verdict).toBe('held');
    // Negative control: the load died at the revert (no stream after it), so 0 errors means nothing.
    const dead = new IncrementalSloEvaluator({ slos: [], trackAll: true });
    for (const x of ttftSeries(T0, LATENCY.end, () => 200)) dead.add(x);
    dead.advance([LATENCY], Number.POSITIVE_INFINITY);
    const stalled = judgeHypotheses(dead, [noErrors], [LATENCY], false)[0];
    expect(stalled?.verdict).toBe('broken');
    expect(stalled?.reason).toMatch(/load stalled: no stream ended in `recovery`/);
    // No load at all anywhere: no data, never held.
    const none = new IncrementalSloEvaluator({ slos: [], trackAll: true });
    none.advance([LATENCY], Number.POSITIVE_INFINITY);
    expect(judgeHypotheses(none, [noErrors], [LATENCY], false)[0]?.verdict).toBe('no-data');
    // Live, recovery without streams yet is pending, not broken.
    expect(judgeHypotheses(dead, [noErrors], [LATENCY], true)[0]?.verdict).toBe('pending');
  });

  it('live, a phase still to come is pending, not held', () => {
    const live = new IncrementalSloEvaluator({ slos: [], trackAll: true });
    for (const s of ttftSeries(T0, T0 + 40_000, (t) => (t >= LATENCY.start ? 1500 : 200))) live.add(s);
    const open = [{ ...LATENCY, end: T0 + 40_000, open: true }];
    live.advance(open, T0 + 40_000);
    const r = judgeHypotheses(live, hyps, open, true);
    expect(r.map((h) => [h.id, h.verdict])).toEqual([
      ['n1', 'broken'], // already measured in the open window
      ['n2', 'held'],
      ['n3', 'pending'], // recovery has not begun
      ['n4', 'pending'],
      ['n5', 'pending'],
    ]);
    // A count of 0 in a recovery that has not begun is not "held" either.
    const zero: Hypothesis = {
      id: 'plan-1',
      source: 'plan',
      text: 'no HTTP errors before and after',
      at: null,
      slos: [{ metric: 'http_errors', stat: 'count', lte: 0, phases: ['baseline', 'recovery'] }],
    };
    expect(judgeHypotheses(live, [zero], open, true)[0]?.verdict).toBe('pending');
    expect(judgeHypotheses(inc, [zero], [LATENCY], false)[0]?.verdict).toBe('held');
  });

  it('a plan SLO is a hypothesis judged in each of its phases', () => {
    const plan: Hypothesis = {
      id: 'plan-1',
      source: 'plan',
      text: 'ttft p95 stays under 1 s in baseline and recovery',
      at: null,
      slos: [{ metric: 'ttft', stat: 'p95', lte: 1000, phases: ['baseline', 'recovery'] }],
    };
    const [held] = judgeHypotheses(inc, [plan], [LATENCY], false);
    expect(held?.verdict).toBe('held');
    expect(held?.checks.map((c) => c.phase)).toEqual(['baseline', 'recovery']);
    const [broken] = judgeHypotheses(
      inc,
      [{ ...plan, slos: [{ ...plan.slos[0]!, phases: ['fault'] }] }],
      [LATENCY],
      false,
    );
    expect(broken?.verdict).toBe('broken');
  });

  it('refuses a check that cannot be judged, with the field and the fix', () => {
    const bad = (c: unknown): ValidationError => {
      try {
        parseHypothesisCheck(c);
      } catch (e) {
        return e as ValidationError;
      }
      throw new Error('accepted');
    };
    expect(
      bad({ metric: 'ttft', stat: 'p95' })
        .issues.map((i) => i.message)
        .join(),
    ).toContain('exactly one objective');
    expect(
      bad({ metric: 'stream_outcome', stat: 'rate', gte: 0.9 })
        .issues.map((i) => i.message)
        .join(),
    ).toContain('outcome');
    expect(bad({ metric: 'nope', stat: 'p95', lte: 1 }).issues[0]?.path).toBe('metric');
  });
});
