// recovery_time (DESIGN §5): from a fault's injection to the start of the first window (default
// 10 s, sliding in 1 s steps over the per-second series) after the fault's start in which every SLO
// holds again. Pure: the caller supplies `holds(start, end)`; "did not recover" is a result.
// The reporter's `holds` also requires the metrics the baseline produced to be flowing in the
// window's first second, so the end of a stall is not mistaken for recovery.

export const DEFAULT_RECOVERY_WINDOW_MS = 10_000;

export interface RecoverySearch {
  injectedAt: number;
  /** Length of the window that must hold, ms. */
  windowMs: number;
  /** Exclusive end of the data (end of the last second with samples); windows never pass it. */
  dataEnd: number;
  /** Slide step and window alignment, ms (the series' resolution). */
  stepMs?: number;
  /** Whether every SLO holds over [start, end). Called with increasing `start`. */
  holds: (start: number, end: number) => boolean;
}

export type RecoveryOutcome =
  | { recovered: true; recoveryTimeMs: number; recoveredAt: number }
  | { recovered: false; recoveryTimeMs: null; recoveredAt: null };

export function findRecovery(search: RecoverySearch): RecoveryOutcome {
  const step = search.stepMs ?? 1000;
  if (!(step > 0) || !(search.windowMs > 0))
    throw new RangeError('recovery window and step must be positive');
  // Windows are aligned to the series' seconds; the first one contains the injection itself.
  for (
    let start = Math.floor(search.injectedAt / step) * step;
    start + search.windowMs <= search.dataEnd;
    start += step
  ) {
    if (search.holds(start, start + search.windowMs)) {
      const recoveredAt = Math.max(start, search.injectedAt);
      return { recovered: true, recoveryTimeMs: recoveredAt - search.injectedAt, recoveredAt };
    }
  }
  return { recovered: false, recoveryTimeMs: null, recoveredAt: null };
}
