// zod schemas for the units config files use: durations (`500ms`, `30s`, `2m`, or a number of
// milliseconds) normalised to milliseconds, and arrival rates (`5/s`, `300/m`, or a number per
// second) normalised to arrivals per second. Parsing itself stays in core/clock.ts.

import { z } from 'zod';
import { parseDuration } from '../clock.js';
import { MAX_TIMER_MS } from './limits.js';

const DURATION_HINT = 'a duration such as `500ms`, `30s`, `2m` or a number of milliseconds';

/** A non-negative duration; the parsed model holds milliseconds. */
export const DurationSchema = z
  .union([z.string(), z.number()])
  .describe(DURATION_HINT)
  .transform((value, ctx) => {
    let ms: number;
    try {
      ms = parseDuration(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: `is ${JSON.stringify(value)}; use ${DURATION_HINT}` });
      return z.NEVER;
    }
    if (!Number.isFinite(ms) || ms < 0) {
      ctx.addIssue({
        code: 'custom',
        message: `is ${JSON.stringify(value)}; use ${DURATION_HINT} (not negative)`,
      });
      return z.NEVER;
    }
    if (ms > MAX_TIMER_MS) {
      ctx.addIssue({
        code: 'custom',
        message: `is ${JSON.stringify(value)}, longer than Node's timers can wait (2^31−1 ms ≈ 24.8 days); use at most \`24d\``,
      });
      return z.NEVER;
    }
    return ms;
  });

/** A duration that must be longer than zero (load duration, intervals). */
export const PositiveDurationSchema = DurationSchema.refine((ms) => ms > 0, {
  message: `must be longer than zero; use ${DURATION_HINT}`,
});

/** Open-model arrival rates above this are a typo (`5000000/s`), not a plan. */
export const MAX_RATE_PER_SECOND = 100_000;

const RATE_HINT = 'an arrival rate such as `5/s`, `300/m` or a number per second';

/** Arrivals per second, from `5/s`, `300/m`, `1/h` or a plain number. */
export const RateSchema = z
  .union([z.string(), z.number()])
  .describe(RATE_HINT)
  .transform((value, ctx) => {
    const perSecond = parseRate(value);
    if (perSecond !== undefined && perSecond > MAX_RATE_PER_SECOND) {
      ctx.addIssue({
        code: 'custom',
        message: `is ${JSON.stringify(value)}, above ${MAX_RATE_PER_SECOND}/s — far beyond what one load generator sends; split the load over several runners (k6 export --operator)`,
      });
      return z.NEVER;
    }
    if (perSecond === undefined || perSecond <= 0) {
      ctx.addIssue({ code: 'custom', message: `is ${JSON.stringify(value)}; use ${RATE_HINT} (above zero)` });
      return z.NEVER;
    }
    return perSecond;
  });

export function parseRate(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  const match = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*(s|m|h))?\s*$/.exec(value);
  if (!match) return undefined;
  const per = match[2] ?? 's';
  return Number(match[1]) / (per === 's' ? 1 : per === 'm' ? 60 : 3600);
}
