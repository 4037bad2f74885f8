// One bounded poll for every test that waits for something it can observe (a master elected, a
// process gone, a file written): `probe` is asked every `intervalMs` until it returns a value
// other than undefined (or `true` for boolean probes), at most `budgetMs` of the clock's time.
// The clock is injectable, so unit tests drive it with FakeClock instead of sleeping. On time-out
// the error says what did not happen, within what budget, and the last error the probe threw.

import { systemClock, type Clock } from '../../src/core/clock.js';

export interface PollOptions {
  budgetMs: number;
  intervalMs?: number;
  clock?: Clock;
}

export async function pollUntil<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: PollOptions,
): Promise<T> {
  const clock = options.clock ?? systemClock;
  const intervalMs = options.intervalMs ?? 100;
  const deadline = clock.now() + options.budgetMs;
  let lastError: unknown;
  let attempts = 0;
  // Bounded in count as well as in time: a clock that never advances cannot hang the test.
  const maxAttempts = Math.ceil(options.budgetMs / Math.max(1, intervalMs)) + 2;
  while (attempts < maxAttempts) {
    attempts++;
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (clock.now() >= deadline) break;
    await clock.sleep(Math.min(intervalMs, Math.max(0, deadline - clock.now())));
  }
  throw new Error(
    `${what} did not happen within ${options.budgetMs} ms (${attempts} checks)${
      lastError ? `; last error: ${lastError instanceof Error ? lastError.message : String(lastError)}` : ''
    }`,
  );
}
