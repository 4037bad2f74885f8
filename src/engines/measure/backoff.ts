// Reconnect backoff of the Open WebUI web UI, which uses socket.io-client's defaults
// (`reconnectionDelay 1000, reconnectionDelayMax 5000, randomizationFactor 0.5`, unlimited
// attempts). Same arithmetic as socket.io-client's `Backoff` (engine.io's backo2), so a browser
// client here reconnects with the same spread as a thundering herd of real browsers.
//
// Contract: `delay(attempt)` for attempt n = 0, 1, … is min * 2^n jittered by ±factor·that,
// capped at max, as an integer: attempt 0 ∈ [500, 1500], attempt 1 ∈ [1000, 3000], attempt ≥ 2 ∈
// [2000, 5000] (the cap applies after jitter). The random source is injectable for tests.

export interface BackoffPolicy {
  minMs: number;
  maxMs: number;
  factor: number;
}

export const BROWSER_BACKOFF: BackoffPolicy = { minMs: 1000, maxMs: 5000, factor: 0.5 };

export function backoffDelay(
  attempt: number,
  random: () => number = Math.random,
  policy: BackoffPolicy = BROWSER_BACKOFF,
): number {
  // 2^attempt overflows to Infinity for large attempts; min() caps it, as backo2 does.
  let ms = policy.minMs * Math.pow(2, Math.min(attempt, 60));
  if (policy.factor > 0) {
    const rand = random();
    const deviation = Math.floor(rand * policy.factor * ms);
    ms = (Math.floor(rand * 10) & 1) === 0 ? ms - deviation : ms + deviation;
  }
  return Math.min(ms, policy.maxMs) | 0;
}
