// An injectable clock: probes and waits take a time budget and a clock, so tests advance time
// instead of sleeping.

export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

/**
 * Polls `check` until it returns a value other than undefined, or the budget runs out.
 * Returns undefined on timeout: the caller words the error ("… within 30 s").
 */
export async function waitFor<T>(
  check: () => Promise<T | undefined>,
  opts: { budgetMs: number; intervalMs?: number; clock?: Clock; signal?: AbortSignal },
): Promise<T | undefined> {
  const clock = opts.clock ?? systemClock;
  const deadline = clock.now() + opts.budgetMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (clock.now() >= deadline) return undefined;
    await clock.sleep(Math.min(opts.intervalMs ?? 200, Math.max(1, deadline - clock.now())), opts.signal);
  }
}

/** Parses durations like `500ms`, `30s`, `2m`, `1h` (also bare numbers as ms). */
export function parseDuration(text: string | number): number {
  if (typeof text === 'number') return text;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!match) throw new Error(`"${text}" is not a duration; use a number with ms, s, m or h, e.g. "30s"`);
  const value = Number(match[1]);
  const unit = match[2] ?? 'ms';
  const factor = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000;
  return Math.round(value * factor);
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return seconds ? `${minutes} min ${seconds} s` : `${minutes} min`;
}
