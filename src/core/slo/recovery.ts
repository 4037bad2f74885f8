// recovery_time and time_to_impact (DESIGN §5, README "SLO semantics"). Pure: the caller supplies
// `holds(start, end)`, whether every SLO holds over [start, end); "did not recover" is a result.
// - Recovery: windows of `windowMs` (default 10 s) slide in 1 s steps from the second of the
//   injection to the end of the observation. The fault has recovered at the moment after which
//   EVERY window holds until the end of the observation: one second after the start of the last
//   window that breached (the injection itself when none did). When the last window of the
//   observation still breaches — errors that began late and never stopped — it never recovered.
// - Impact: the second in which the SLOs first broke, judged on the same windows (so impact and
//   recovery never contradict each other): the first breaching window's newest second when an
//   earlier window held; when the very first window breaches, the end of the shortest prefix of it
//   that breaches. Null when no window breached.
// The reporter's `holds` also requires the metrics the baseline produced to be flowing in the
// window's first second, so the end of a stall is not mistaken for recovery.

export const DEFAULT_RECOVERY_WINDOW_MS = 10_000;

export interface RecoverySearch {
  injectedAt: number;
  /** Length of the window that must hold, ms. */
  windowMs: number;
  /** Exclusive end of the observation (end of the last second with samples, or the next fault). */
  dataEnd: number;
  /** Slide step and window alignment, ms (the series' resolution). */
  stepMs?: number;
  /** Whether every SLO holds over [start, end). */
  holds: (start: number, end: number) => boolean;
  /**
   * For the short prefixes of the impact search: like `holds`, but a metric without a sample yet
   * (a second with no ttft) is not a breach. Default: `holds`.
   */
  holdsPrefix?: (start: number, end: number) => boolean;
}

export interface RecoveryOutcome {
  recovered: boolean;
  recoveryTimeMs: number | null;
  /** The moment after which every window held until the end of the observation. */
  recoveredAt: number | null;
  /** First breach after the injection (null: the SLOs never broke). */
  impactedAt: number | null;
  timeToImpactMs: number | null;
  /** Why not recovered: still breaching at the end, or an observation shorter than one window. */
  reason?: 'never-recovered' | 'observation-too-short';
}

export function findRecovery(search: RecoverySearch): RecoveryOutcome {
  const step = search.stepMs ?? 1000;
  if (!(step > 0) || !(search.windowMs > 0))
    throw new RangeError('recovery window and step must be positive');
  const first = Math.floor(search.injectedAt / step) * step;
  let lastBreach: number | null = null;
  let firstBreach: number | null = null;
  let lastStart: number | null = null;
  for (let start = first; start + search.windowMs <= search.dataEnd; start += step) {
    lastStart = start;
    if (!search.holds(start, start + search.windowMs)) {
      lastBreach = start;
      firstBreach ??= start;
    }
  }
  let impactedAt: number | null = null;
  if (firstBreach !== null && firstBreach > first) {
    impactedAt = firstBreach + search.windowMs - step;
  } else if (firstBreach !== null) {
    impactedAt = first;
    for (let end = first + step; end <= first + search.windowMs; end += step) {
      if (!(search.holdsPrefix ?? search.holds)(first, end)) {
        impactedAt = end - step;
        break;
      }
    }
  }
  if (impactedAt !== null) impactedAt = Math.max(impactedAt, search.injectedAt);
  const impact = {
    impactedAt,
    timeToImpactMs: impactedAt === null ? null : impactedAt - search.injectedAt,
  };
  if (lastStart === null) {
    return {
      recovered: false,
      recoveryTimeMs: null,
      recoveredAt: null,
      ...impact,
      reason: 'observation-too-short',
    };
  }
  if (lastBreach === lastStart) {
    return {
      recovered: false,
      recoveryTimeMs: null,
      recoveredAt: null,
      ...impact,
      reason: 'never-recovered',
    };
  }
  const recoveredAt =
    lastBreach === null ? search.injectedAt : Math.max(lastBreach + step, search.injectedAt);
  return { recovered: true, recoveryTimeMs: recoveredAt - search.injectedAt, recoveredAt, ...impact };
}
