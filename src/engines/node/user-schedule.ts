// The open schedule of one browser user (docs/capacity.md "Browser users"): a connected user
// chats on its OWN intended schedule, whatever the target does, on an injectable clock.
//
// Contract:
// - The k-th chat of a user is intended at `originMs + phaseMs + k · intervalMs` (k = 0, 1, …)
//   while that is before `originMs + durationMs` (the deadline, or an earlier abort of `signal`).
// - At its intended time a chat starts with that INTENDED time (latency is measured from it, so a
//   slow scheduler or a slow join shows as latency). If the user's previous chat is still running
//   then, the arrival is `missed(intendedMs)` — counted, never delayed: a slow target must not
//   slow its own arrivals down (coordinated omission). A user has at most one chat in flight.
// - The returned promise resolves once the deadline has passed (or `signal` aborted) and the
//   chat in flight (whose signal has then aborted) has settled. Bounded: at most
//   ceil(durationMs / intervalMs) arrivals.
// - `userPhaseMs(i, n, intervalMs)` spreads n users' phases evenly over one interval, so n users
//   together arrive on one lattice of n / interval chats per second (the API open model's rate).

import type { Clock } from '../../core/clock.js';
import { runOpen } from './workload.js';

export interface UserSchedule {
  /** Where the schedule's time 0 is (default: when `runUserSchedule` is called). */
  originMs?: number;
  /** The user's offset within one interval (see `userPhaseMs`). */
  phaseMs: number;
  intervalMs: number;
  /** From the origin: no arrival is intended at or after origin + durationMs. */
  durationMs: number;
}

export interface UserScheduleResult {
  started: number;
  missed: number;
}

/** Phase of user `i` of `n`: i · interval / n (users arrive evenly spaced, never aligned). */
export function userPhaseMs(i: number, n: number, intervalMs: number): number {
  if (!(n > 0) || !(intervalMs > 0)) return 0;
  return (intervalMs * (((i % n) + n) % n)) / n;
}

/**
 * One user's open schedule: the open model of workload.ts (`runOpen`) at one arrival per
 * interval with at most one chat in flight, re-anchored on the schedule's origin.
 */
export async function runUserSchedule(
  s: UserSchedule,
  deps: {
    clock: Clock;
    signal?: AbortSignal;
    start: (intendedMs: number, signal: AbortSignal) => Promise<unknown>;
    missed: (intendedMs: number) => void;
  },
): Promise<UserScheduleResult> {
  const now = deps.clock.now();
  const origin = s.originMs ?? now;
  if (!(s.intervalMs > 0)) {
    // An idle user still lasts until its deadline, as every workload does.
    await runOpen(
      { durationMs: Math.max(0, origin + s.durationMs - now), ratePerSecond: 0, maxInFlight: 1 },
      deps,
    );
    return { started: 0, missed: 0 };
  }
  const r = await runOpen(
    {
      durationMs: Math.max(0, origin + s.durationMs - now),
      ratePerSecond: 1000 / s.intervalMs,
      maxInFlight: 1,
      phaseMs: origin + s.phaseMs - now,
    },
    deps,
  );
  return { started: r.started, missed: r.missed };
}
