// The knee search of a capacity sweep (docs/capacity.md "How the sweep finds the knee"), as a pure
// decision function: given what was measured so far, which load to offer next, or the knee.
//
// Contract:
// - The knee is the highest offered load at which every SLO held, confirmed: the step that
//   passed was measured twice (the re-measure) and passed both times. A load passes only if every
//   valid measurement of it passed; one failed measurement makes it fail (an SLO that holds one
//   time in two does not hold).
// - Bracketing first: from `startLoad`, multiply by `growth` while steps pass (never beyond
//   `maxLoad`), divide while they fail (never below `minLoad`); then bisect between the highest
//   passing load and the lowest failing one until they are within `resolution` (relative to the
//   passing one). A passing load above a failing one is noise and ignored (conservative).
// - An invalid step (the generator lagged, so it says nothing about the target) is retried at the
//   same load up to `invalidRetries` times; then the sweep ends `generator-limited`.
// - Bounded: at most `maxSteps` steps; the caller passes `stepsLeft` from its time budget.
//   Loads are rounded to 3 significant digits, so the plan reads well and repeats exactly; with
//   `integer` (a sweep in connected users) to whole numbers.

export interface SweepConfig {
  startLoad: number;
  minLoad: number;
  maxLoad: number;
  /** Bracketing factor (> 1). */
  growth: number;
  /** Stop bisecting when (hi − lo) / lo ≤ resolution. */
  resolution: number;
  maxSteps: number;
  /** Re-measure the knee candidate once before accepting it. */
  remeasure: boolean;
  invalidRetries: number;
  /**
   * Whole loads only (connected users): bracketing moves by at least 1, bisection takes the
   * integer midpoint and stops when the bracket is 1 wide (or within `resolution`).
   */
  integer?: boolean;
}

export const DEFAULT_SWEEP: Omit<SweepConfig, 'startLoad' | 'maxLoad'> = {
  minLoad: 0.1,
  growth: 2,
  resolution: 0.1,
  maxSteps: 16,
  remeasure: true,
  invalidRetries: 1,
};

export type StepVerdict = 'pass' | 'fail' | 'invalid';

/** What the sweep needs to know about one measured step. */
export interface StepOutcome {
  load: number;
  verdict: StepVerdict;
}

export type StepReason = 'start' | 'bracket-up' | 'bracket-down' | 'bisect' | 'remeasure' | 'retry-invalid';

export type KneeStatus =
  /** lo passes (twice), hi fails, within resolution. */
  | 'found'
  /** Every load up to maxLoad passed: the knee is above what we may offer. */
  | 'above-max'
  /** Even minLoad failed. */
  | 'below-min'
  /** Steps kept being invalid: the load generator cannot offer this load here. */
  | 'generator-limited'
  /** Step or time budget spent before converging. */
  | 'budget';

export interface KneeResult {
  status: KneeStatus;
  /** Highest load where every SLO held; null when none did. */
  knee: number | null;
  /** Lowest load where an SLO broke; null when none did. */
  firstFail: number | null;
  steps: number;
}

export type SweepDecision =
  { kind: 'measure'; load: number; reason: StepReason } | { kind: 'done'; result: KneeResult };

export function roundLoad(load: number): number {
  if (!(load > 0)) return 0;
  return Number(load.toPrecision(3));
}

interface LoadStatus {
  load: number;
  valid: number;
  failed: number;
  invalid: number;
}

function byLoad(history: readonly StepOutcome[]): Map<number, LoadStatus> {
  const map = new Map<number, LoadStatus>();
  for (const h of history) {
    const s = map.get(h.load) ?? { load: h.load, valid: 0, failed: 0, invalid: 0 };
    if (h.verdict === 'invalid') s.invalid++;
    else {
      s.valid++;
      if (h.verdict === 'fail') s.failed++;
    }
    map.set(h.load, s);
  }
  return map;
}

/** Highest passing load below the lowest failing one (or below everything when nothing failed). */
export function bracket(history: readonly StepOutcome[]): { lo?: LoadStatus; hi?: LoadStatus } {
  const loads = [...byLoad(history).values()].filter((s) => s.valid > 0);
  const fails = loads.filter((s) => s.failed > 0).sort((a, b) => a.load - b.load);
  const hi = fails[0];
  const passes = loads
    .filter((s) => s.failed === 0 && (hi === undefined || s.load < hi.load))
    .sort((a, b) => b.load - a.load);
  const lo = passes[0];
  return { ...(lo ? { lo } : {}), ...(hi ? { hi } : {}) };
}

export function nextStep(
  config: SweepConfig,
  history: readonly StepOutcome[],
  stepsLeft = Number.POSITIVE_INFINITY,
): SweepDecision {
  const { lo, hi } = bracket(history);
  const done = (status: KneeStatus): SweepDecision => ({
    kind: 'done',
    result: { status, knee: lo?.load ?? null, firstFail: hi?.load ?? null, steps: history.length },
  });
  const int = config.integer === true;
  const round = (v: number): number => (int ? Math.max(1, Math.round(v)) : roundLoad(v));
  const minLoad = int
    ? Math.max(1, Math.ceil(config.minLoad))
    : roundLoad(Math.max(config.minLoad, Number.MIN_VALUE));
  const maxLoad = int ? Math.max(1, Math.floor(config.maxLoad)) : roundLoad(config.maxLoad);
  const last = history[history.length - 1];
  if (last?.verdict === 'invalid') {
    const s = byLoad(history).get(last.load)!;
    if (s.valid === 0) {
      if (s.invalid > config.invalidRetries) return done('generator-limited');
      if (history.length >= config.maxSteps || stepsLeft < 1) return done('budget');
      return { kind: 'measure', load: last.load, reason: 'retry-invalid' };
    }
  }
  if (history.length >= config.maxSteps || stepsLeft < 1) return done('budget');
  if (history.length === 0) {
    return {
      kind: 'measure',
      load: round(Math.min(maxLoad, Math.max(minLoad, config.startLoad))),
      reason: 'start',
    };
  }
  if (!hi) {
    if (!lo) return done('budget'); // only invalid steps so far and retries exhausted elsewhere
    if (lo.load >= maxLoad) return confirm(config, lo) ?? done('above-max');
    return {
      kind: 'measure',
      load: int
        ? Math.min(maxLoad, Math.max(lo.load + 1, round(lo.load * config.growth)))
        : roundLoad(Math.min(maxLoad, lo.load * config.growth)),
      reason: 'bracket-up',
    };
  }
  if (!lo) {
    if (hi.load <= minLoad) return done('below-min');
    return {
      kind: 'measure',
      load: int
        ? Math.max(minLoad, Math.min(hi.load - 1, round(hi.load / config.growth)))
        : roundLoad(Math.max(minLoad, hi.load / config.growth)),
      reason: 'bracket-down',
    };
  }
  if ((hi.load - lo.load) / lo.load > config.resolution) {
    const mid = int ? Math.floor((lo.load + hi.load) / 2) : roundLoad((lo.load + hi.load) / 2);
    // Rounding can land on an end when they are close: then the bracket is as narrow as it gets.
    if (mid > lo.load && mid < hi.load) return { kind: 'measure', load: mid, reason: 'bisect' };
  }
  return confirm(config, lo) ?? done('found');
}

/** The re-measure of the knee candidate, unless it already has two valid passing runs. */
function confirm(config: SweepConfig, lo: LoadStatus): SweepDecision | undefined {
  if (!config.remeasure || lo.valid >= 2) return undefined;
  return { kind: 'measure', load: lo.load, reason: 'remeasure' };
}

/**
 * Steps the sweep will most likely take (for the plan printed first): bracketing from startLoad to
 * the expected knee, bisection to the resolution, the re-measure. An estimate, not a bound — the
 * bound is `maxSteps` and the time budget.
 */
export function expectedSteps(config: SweepConfig, expectedKnee: number): number {
  const growth = Math.max(1.01, config.growth);
  const ratio = Math.max(expectedKnee, config.startLoad) / Math.min(expectedKnee, config.startLoad);
  const bracketing = Math.ceil(Math.log(Math.max(1, ratio)) / Math.log(growth)) + 1;
  // After bracketing the bracket is [k/g, k] wide at most: (g − 1) relative; each bisection halves it.
  const bisections = Math.max(0, Math.ceil(Math.log2(Math.max(1, (growth - 1) / config.resolution))));
  return Math.min(config.maxSteps, bracketing + bisections + (config.remeasure ? 1 : 0));
}
