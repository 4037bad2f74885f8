// A live load change of a game day (docs/gameday.md "Changing the load live"): what the console's
// form, its HTTP API and the terminal keys may ask for, validated here (a bad value is a
// ValidationError naming the field), and the journal record of each change (time, before, after).

import { z } from 'zod';
import { translateZodIssues } from '../config/issues.js';
import { MAX_RATE_PER_SECOND, RateSchema } from '../config/duration.js';
import { ValidationError } from '../errors.js';
import type { LiveLoad } from '../ports.js';

/**
 * Upper bound of VUs and browser clients asked for live. The plan schema has no VU cap; a live
 * change from a form or a key press gets one, so a typo (120000) cannot open a flood of sockets.
 */
export const MAX_LIVE_VUS = 10_000;

const count = (what: string) =>
  z
    .number()
    .int()
    .min(0)
    .max(MAX_LIVE_VUS)
    .optional()
    .describe(`${what} (an integer from 0 to ${MAX_LIVE_VUS})`);

export const LiveLoadSchema = z
  .object({
    chatVus: count('API chat VUs, closed model'),
    chatRate: RateSchema.refine((r) => r > 0, {
      message: `must be above zero (at most ${MAX_RATE_PER_SECOND}/s); lower it, or end the session`,
    })
      .optional()
      .describe('API chat arrivals per second, open model (e.g. 5, "5/s", "300/m")'),
    socketVus: count('browser clients'),
  })
  .strict()
  .refine((l) => l.chatVus !== undefined || l.chatRate !== undefined || l.socketVus !== undefined, {
    message: 'give chatVus, chatRate or socketVus',
  });

/** Validates a live change; throws ValidationError (`INVALID_LOAD`) with the field and the fix. */
export function parseLiveLoad(input: unknown): LiveLoad {
  const parsed = LiveLoadSchema.safeParse(input);
  if (!parsed.success)
    throw new ValidationError(
      'The load change is not valid',
      translateZodIssues(parsed.error.issues, { schema: LiveLoadSchema, data: input, secrets: [] }),
      { code: 'INVALID_LOAD' },
    );
  const l = parsed.data;
  return {
    ...(l.chatVus !== undefined ? { chatVus: l.chatVus } : {}),
    ...(l.chatRate !== undefined ? { chatRate: l.chatRate } : {}),
    ...(l.socketVus !== undefined ? { socketVus: l.socketVus } : {}),
  };
}

/** The load now, in the terms of a live change (what the plan runs). */
export type LoadLevels = LiveLoad;

/** One step up or down of the chat load (terminal keys `+` / `-`): a quarter, at least 1 VU or 0.5/s. */
export function stepLoad(now: LoadLevels, direction: 1 | -1): LiveLoad {
  if (now.chatVus !== undefined) {
    const step = Math.max(1, Math.round(now.chatVus / 4));
    return { chatVus: Math.min(MAX_LIVE_VUS, Math.max(0, now.chatVus + direction * step)) };
  }
  if (now.chatRate !== undefined) {
    const step = Math.max(0.5, now.chatRate / 4);
    const next = Math.round((now.chatRate + direction * step) * 100) / 100;
    return { chatRate: Math.min(MAX_RATE_PER_SECOND, Math.max(0.5, next)) };
  }
  if (now.socketVus !== undefined) {
    const step = Math.max(1, Math.round(now.socketVus / 4));
    return { socketVus: Math.min(MAX_LIVE_VUS, Math.max(0, now.socketVus + direction * step)) };
  }
  return {};
}

/** A one-line description of a load level, e.g. "8 API VUs, 8 browser clients". */
export function describeLoad(l: LoadLevels): string {
  const parts = [
    ...(l.chatVus !== undefined ? [`${l.chatVus} API VUs`] : []),
    ...(l.chatRate !== undefined ? [`${l.chatRate}/s API chats`] : []),
    ...(l.socketVus !== undefined ? [`${l.socketVus} browser clients`] : []),
  ];
  return parts.join(', ') || 'no load';
}
