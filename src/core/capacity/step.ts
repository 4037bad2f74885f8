// One step of a capacity sweep, judged (docs/capacity.md "One step"): constant offered load in the
// open model, a warm-up, a measurement window, a tail.
//
//   t0 ──warm-up──▶ window start ──measure──▶ window end ──tail──▶ deadline (arrivals go on)
//
// Contract:
// - Latencies measured from the intended start (ttft, e2e) belong to the window when their
//   intended start (sample time − value) lies in it; missed starts by their intended time; every
//   other sample when it was observed between window start and the deadline.
// - Censoring, so an overloaded target cannot look good by never answering: the window's intended
//   arrivals are known (load × window). An arrival without a ttft/e2e sample (still queued at the
//   deadline, failed, never started) counts as slower than anything measured. A percentile whose
//   rank falls among them is reported as the tail length with `censored: true` — a lower bound —
//   and breaches any objective below it (the tail is chosen ≥ every latency objective).
// - Each SLO gets a margin: (objective − measured) / objective for `lte`, (measured − objective) /
//   objective for `gte` (a count objective of 0: −count). Negative = breached by that share.
// - `clearlyPast` (early stop) is true when an SLO with enough samples is breached by a wide
//   margin: a latency at twice its objective, a share 10 % under it; `earlyStopFrom` says from
//   when the outcomes seen are not just the refusals that end before any completion can.
// - Confidence: samples vs intended arrivals, and the window's two halves measured apart (their
//   spread; a second half much slower than the first means the queue was still growing).
// Pure: no I/O, no clock.

import { evaluateSamples } from '../report/evaluate.js';
import { decodeHistogram } from '../report/histogram.js';
import type { EncodedHistogram } from '../report/results.js';
import type { Sample } from '../samples.js';
import { PERCENTILE_OF } from '../slo/measure.js';
import { objectiveText, sloId, type SloSpec } from '../slo/spec.js';

export interface StepWindow {
  /** Epoch ms. */
  startMs: number;
  endMs: number;
  /** Deadline of the step's load (window end + tail). */
  deadlineMs: number;
}

export interface SloStepResult {
  id: string;
  metric: string;
  stat: string;
  objective: string;
  measured: number | null;
  /** True when `measured` is a lower bound (rank among arrivals that never answered). */
  censored: boolean;
  samples: number;
  verdict: 'pass' | 'breach' | 'no-data';
  margin: number | null;
}

export interface StepConfidence {
  /** Samples of the primary latency SLO's metric in the window. */
  samples: number;
  /** Arrivals intended in the window. */
  expected: number;
  /** The primary latency SLO measured on each half of the window. */
  halves: [number | null, number | null];
  /** |second − first| / max(first, second); null without both halves. */
  halfSpread: number | null;
}

export interface StepMeasurement {
  verdict: 'pass' | 'fail';
  slos: SloStepResult[];
  /** The breached SLO with the lowest margin, if any. */
  worst: SloStepResult | undefined;
  confidence: StepConfidence;
  /** Completed streams per second observed in the window. */
  throughput: number;
  /** Stream outcomes observed (window start → deadline). */
  outcomes: Record<string, number>;
  histograms: EncodedHistogram[];
}

const FROM_INTENDED_START = new Set(['ttft', 'e2e']);
/** Latency SLOs whose samples censoring applies to. */
function censorable(slo: SloSpec): boolean {
  return FROM_INTENDED_START.has(slo.metric) && PERCENTILE_OF[slo.stat] !== undefined;
}

export function inWindow(sample: Sample, w: StepWindow): boolean {
  if (FROM_INTENDED_START.has(sample.metric)) {
    const start = sample.timeMs - sample.value;
    return start >= w.startMs && start < w.endMs;
  }
  if (sample.metric === 'missed_starts') return sample.timeMs >= w.startMs && sample.timeMs < w.endMs;
  return sample.timeMs >= w.startMs && sample.timeMs <= w.deadlineMs;
}

export function sloMargin(slo: Pick<SloSpec, 'lte' | 'gte'>, measured: number): number {
  const objective = slo.lte ?? slo.gte ?? 0;
  if (objective === 0) {
    const ok = slo.lte !== undefined ? measured <= 0 : measured >= 0;
    return ok ? 1 : -Math.abs(measured);
  }
  return slo.lte !== undefined ? (objective - measured) / objective : (measured - objective) / objective;
}

/** The SLO that decides the confidence figures: the first censorable latency SLO, else the first. */
export function primarySlo(slos: readonly SloSpec[]): SloSpec | undefined {
  return slos.find(censorable) ?? slos[0];
}

/** The open model's arrival schedule: one arrival every 1000/rate ms, one of them at `anchorMs`. */
export interface ArrivalLattice {
  ratePerSecond: number;
  anchorMs: number;
}

/** Arrivals of `lattice` intended in [startMs, endMs). */
export function arrivalsIn(lattice: ArrivalLattice, startMs: number, endMs: number): number {
  if (!(lattice.ratePerSecond > 0) || endMs <= startMs) return 0;
  const iv = 1000 / lattice.ratePerSecond;
  const first = Math.ceil((startMs - lattice.anchorMs) / iv - 1e-9);
  const last = Math.ceil((endMs - lattice.anchorMs) / iv - 1e-9);
  return Math.max(0, last - first);
}

/** The anchor of a step's lattice from its samples: the earliest intended start observed. */
export function latticeAnchor(samples: readonly Sample[], fallbackMs: number): number {
  let anchor = Number.POSITIVE_INFINITY;
  for (const s of samples)
    if (FROM_INTENDED_START.has(s.metric)) anchor = Math.min(anchor, s.timeMs - s.value);
  return Number.isFinite(anchor) ? anchor : fallbackMs;
}

export interface MeasureStepInput {
  samples: readonly Sample[];
  window: StepWindow;
  /**
   * What was intended in the window, for censoring: the exact schedule (preferred), or a count.
   * Neither (a step stopped early): no censoring.
   */
  arrivals?: ArrivalLattice;
  expectedArrivals?: number;
  slos: readonly SloSpec[];
}

function expectedIn(input: MeasureStepInput, w: StepWindow): number | undefined {
  if (input.arrivals) return arrivalsIn(input.arrivals, w.startMs, w.endMs);
  return input.expectedArrivals;
}

export function measureStep(input: MeasureStepInput): StepMeasurement {
  return measure(input, true);
}

/**
 * The live check while a step runs (early stop): only the SLOs' own metrics, no confidence, no
 * other histograms — it runs on the load generator's thread every second, and what it costs there
 * is generator lag.
 */
export function measureStepLive(input: MeasureStepInput): StepMeasurement {
  const metrics = new Set<string>(input.slos.map((s) => s.metric));
  return measure({ ...input, samples: input.samples.filter((s) => metrics.has(s.metric)) }, false);
}

function measure(input: MeasureStepInput, withConfidence: boolean): StepMeasurement {
  const { window } = input;
  const samples = input.samples.filter((s) => inWindow(s, window));
  const slos = input.slos.map((s): SloSpec => ({ ...s, phases: ['all'] }));
  const results = evaluateSamples(samples, { slos, journal: null });
  const tailMs = window.deadlineMs - window.endMs;
  const out: SloStepResult[] = slos.map((slo) => {
    const r = results.slos.find((x) => x.id === sloId(slo) && x.phase === 'all');
    let measured = r?.measured ?? null;
    let censored = false;
    let count = r?.samples ?? 0;
    const expected = expectedIn(input, window);
    if (censorable(slo) && expected !== undefined) {
      const hist = results.histograms.find(
        (h) => h.metric === slo.metric && h.phase === 'all' && h.client === (slo.client ?? 'all'),
      );
      const c = censoredPercentile(hist, PERCENTILE_OF[slo.stat]!, expected, tailMs);
      measured = c.value;
      censored = c.censored;
      count = c.observed;
    }
    const verdict: SloStepResult['verdict'] =
      measured === null
        ? 'no-data'
        : (slo.lte !== undefined ? measured <= slo.lte : measured >= (slo.gte ?? 0))
          ? 'pass'
          : 'breach';
    return {
      id: sloId(slo),
      metric: slo.metric,
      stat: slo.stat,
      objective: objectiveText(slo),
      measured,
      censored,
      samples: count,
      verdict,
      margin: measured === null ? null : sloMargin(slo, measured),
    };
  });
  const breached = out.filter((s) => s.verdict === 'breach');
  const worst = [...breached].sort((a, b) => (a.margin ?? 0) - (b.margin ?? 0))[0];
  const outcomes = results.counts.streams;
  const windowS = Math.max(0.001, (window.endMs - window.startMs) / 1000);
  const completedInWindow = samples.filter(
    (s) =>
      s.metric === 'stream_outcome' &&
      s.tags.outcome === 'completed' &&
      s.timeMs >= window.startMs &&
      s.timeMs < window.endMs,
  ).length;
  // No data for every SLO is not a pass: a step that measured nothing says nothing.
  const verdict = breached.length === 0 && out.some((s) => s.verdict === 'pass') ? 'pass' : 'fail';
  return {
    verdict,
    slos: out,
    worst,
    confidence: withConfidence
      ? confidenceOf(input, samples)
      : { samples: 0, expected: 0, halves: [null, null], halfSpread: null },
    throughput: completedInWindow / windowS,
    outcomes,
    histograms: results.histograms,
  };
}

/**
 * The p-th percentile over `expected` arrivals of which only the histogram's are observed, the rest
 * taken as slower than everything (≥ tailMs).
 */
export function censoredPercentile(
  hist: EncodedHistogram | undefined,
  percentile: number,
  expected: number,
  tailMs: number,
): { value: number | null; censored: boolean; observed: number } {
  const h = hist ? decodeHistogram(hist.encoded) : undefined;
  const observed = h?.totalCount ?? 0;
  const total = Math.max(observed, Math.round(expected));
  if (total === 0) return { value: null, censored: false, observed };
  const rank = Math.max(1, Math.ceil((percentile / 100) * total));
  if (rank > observed || !h || !hist) return { value: tailMs, censored: true, observed };
  return { value: h.getValueAtPercentile((100 * rank) / observed) / hist.scale, censored: false, observed };
}

function confidenceOf(input: MeasureStepInput, windowSamples: readonly Sample[]): StepConfidence {
  const slo = primarySlo(input.slos);
  const expected = Math.round(expectedIn(input, input.window) ?? 0);
  if (!slo) return { samples: 0, expected, halves: [null, null], halfSpread: null };
  const mid = (input.window.startMs + input.window.endMs) / 2;
  const half = (first: boolean): number | null => {
    const w: StepWindow = first ? { ...input.window, endMs: mid } : { ...input.window, startMs: mid };
    const m = measure(
      {
        samples: windowSamples,
        window: w,
        slos: [slo],
        ...(input.arrivals ? { arrivals: input.arrivals } : {}),
        ...(input.expectedArrivals !== undefined ? { expectedArrivals: input.expectedArrivals / 2 } : {}),
      },
      false,
    );
    return m.slos[0]?.measured ?? null;
  };
  // Halves only for a latency-like SLO (a count over half a window means something else).
  const halves: [number | null, number | null] =
    slo.stat === 'count' ? [null, null] : [half(true), half(false)];
  const [a, b] = halves;
  const spread = a !== null && b !== null && Math.max(a, b) > 0 ? Math.abs(b - a) / Math.max(a, b) : null;
  const samples = windowSamples.filter((s) => s.metric === slo.metric).length;
  return { samples, expected, halves, halfSpread: spread };
}

/**
 * Where the early-stop check may start judging a step: not before the step's first completed
 * stream. A refused chat ends at once and a completed one only after its service time, so until
 * completions flow every outcome seen is a refusal and a share looks worse than it is (a browser
 * step whose users start chatting 1.25 s into a 2.5 s warm-up, with 3.2 s chats, saw "0 of 15"
 * where the loss model gives 62 %: docs/capacity.md "Early stop"). A target that completes
 * nothing is judged from the window start once a healthy answer would have come
 * (`answerWithinMs` after the step began). Undefined: not yet.
 */
export function earlyStopFrom(
  samples: readonly Sample[],
  window: StepWindow,
  stepStartMs: number,
  nowMs: number,
  answerWithinMs: number,
): number | undefined {
  let first = Number.POSITIVE_INFINITY;
  for (const s of samples)
    if (s.metric === 'stream_outcome' && s.tags['outcome'] === 'completed' && s.timeMs < first)
      first = s.timeMs;
  if (Number.isFinite(first)) return Math.max(window.startMs, first);
  return nowMs >= stepStartMs + answerWithinMs ? window.startMs : undefined;
}

/** Early stop: an SLO with at least `minSamples` samples breached by a wide margin. */
export function clearlyPast(m: StepMeasurement, slos: readonly SloSpec[], minSamples = 10): boolean {
  return m.slos.some((r, i) => {
    const slo = slos[i];
    if (!slo || r.verdict !== 'breach' || r.margin === null || r.samples < minSamples) return false;
    if (slo.stat === 'count') return false;
    return slo.lte !== undefined ? r.margin <= -1 : r.margin <= -0.1;
  });
}

/** Run-to-run spread of the primary SLO over several measurements of one load: (max − min) / max. */
export function runSpread(values: ReadonlyArray<number | null>): number | null {
  const v = values.filter((x): x is number => x !== null);
  if (v.length < 2) return null;
  const max = Math.max(...v);
  return max > 0 ? (max - Math.min(...v)) / max : 0;
}
