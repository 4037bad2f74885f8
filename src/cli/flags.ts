// Typed command-line flags (docs/cli.md#flag-values): durations, arrival rates, percentages and
// ratios, parsed once here so every command reads a value the same way. Contract:
// - a bare number means the same in every command: a duration is SECONDS (`--duration 60` is one
//   minute, as in k6 and in `k6 export`), a rate is arrivals per second, a percent is percent;
// - a value that does not parse is a UsageError (exit 2) whose message names the flag, the bad
//   value and an example, so a typo never exits 1 ("bug") or 4 ("preflight");
// - the parsers are plain functions too (`parseDurationFlag`, …) for values that arrive as text
//   from elsewhere (env vars, a plan file's override).

import { Flags } from '@oclif/core';
import { MAX_TIMER_MS } from '../core/config/limits.js';
import { MAX_RATE_PER_SECOND } from '../core/config/duration.js';
import { UsageError } from '../core/errors.js';

/** Stable codes of the flag-value errors (all exit 2). */
export const FLAG_ERROR_CODES = {
  duration: 'FLAG_BAD_DURATION',
  rate: 'FLAG_BAD_RATE',
  percent: 'FLAG_BAD_PERCENT',
  ratio: 'FLAG_BAD_RATIO',
  number: 'FLAG_BAD_NUMBER',
} as const;

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export interface DurationBounds {
  /** Smallest value in ms (default 0). `positive` excludes 0 itself. */
  min?: number;
  positive?: boolean;
  /** Largest value in ms (default: what Node's timers can wait, ≈ 24.8 days). */
  max?: number;
}

function usage(flag: string, code: string, what: string, example: string): UsageError {
  return new UsageError(`${flag} ${what}`, { code, suggestions: [`${flag} ${example}`] });
}

/** `90`, `90s`, `1.5m`, `500ms`, `2h`, `1d` → milliseconds. A bare number is seconds. */
export function parseDurationFlag(flag: string, text: string, bounds: DurationBounds = {}): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!match) {
    throw usage(
      flag,
      FLAG_ERROR_CODES.duration,
      `"${text}" is not a duration; use a number of seconds or a number with ms, s, m, h or d`,
      '30s',
    );
  }
  const unit = (match[2] ?? 's') as keyof typeof UNIT_MS;
  const ms = Math.round(Number(match[1]) * UNIT_MS[unit]);
  const max = bounds.max ?? MAX_TIMER_MS;
  if (ms > max) {
    throw usage(
      flag,
      FLAG_ERROR_CODES.duration,
      max === MAX_TIMER_MS
        ? `"${text}" is longer than Node's timers can wait (2^31−1 ms ≈ 24.8 days); use at most 24d`
        : `"${text}" is longer than the ${max / 1000} s allowed`,
      `${Math.floor(max / 1000)}s`,
    );
  }
  if (ms < (bounds.min ?? 0) || (bounds.positive === true && ms <= 0)) {
    throw usage(
      flag,
      FLAG_ERROR_CODES.duration,
      `"${text}" is too short; use ${bounds.positive ? 'more than 0' : `at least ${bounds.min} ms`}`,
      '30s',
    );
  }
  return ms;
}

/** `5/s`, `300/m`, `10/h` or a bare number of arrivals per second → arrivals per second (> 0). */
export function parseRateFlag(flag: string, text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*(s|m|min|h))?\s*$/i.exec(text);
  const n = match ? Number(match[1]) : Number.NaN;
  if (!match || !(n > 0)) {
    throw usage(
      flag,
      FLAG_ERROR_CODES.rate,
      `"${text}" is not an arrival rate above zero; use a number per second or N/s, N/m, N/h`,
      '5/s',
    );
  }
  const per = (match[2] ?? 's').toLowerCase();
  const perSecond = n / (per === 's' ? 1 : per === 'h' ? 3600 : 60);
  if (perSecond > MAX_RATE_PER_SECOND) {
    throw usage(
      flag,
      FLAG_ERROR_CODES.rate,
      `"${text}" is above ${MAX_RATE_PER_SECOND}/s, far beyond what one load generator sends; split the load (k6 export --operator)`,
      '50/s',
    );
  }
  return perSecond;
}

/** `20%` or a bare `20` (percent) → 0.2. Between 0 and `maxPercent` (default 100). */
export function parsePercentFlag(flag: string, text: string, maxPercent = 100): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(text);
  const v = match ? Number(match[1]) : Number.NaN;
  if (!match || v > maxPercent) {
    throw usage(
      flag,
      FLAG_ERROR_CODES.percent,
      `"${text}" is not a percentage from 0% to ${maxPercent}%`,
      '10%',
    );
  }
  return v / 100;
}

/** A fraction from 0 to 1, such as `0.95`; `95%` is accepted too. */
export function parseRatioFlag(flag: string, text: string): number {
  if (/%\s*$/.test(text)) {
    try {
      return parsePercentFlag(flag, text);
    } catch {
      // Fall through to the ratio message: the flag is a ratio.
    }
  }
  const match = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*$/.exec(text);
  const v = match ? Number(match[1]) : Number.NaN;
  if (!match || v > 1) {
    throw usage(flag, FLAG_ERROR_CODES.ratio, `"${text}" is not a ratio from 0 to 1 (or 0% to 100%)`, '0.95');
  }
  return v;
}

/** A plain number of the flag's own unit (e.g. `--floor-ms 5`), at least `min` (default 0). */
export function parseNumberFlag(flag: string, text: string, opts: { min?: number; unit: string }): number {
  const match = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*$/.exec(text);
  const v = match ? Number(match[1]) : Number.NaN;
  const min = opts.min ?? 0;
  if (!match || v < min) {
    throw usage(flag, FLAG_ERROR_CODES.number, `"${text}" is not a number of ${opts.unit} ≥ ${min}`, '5');
  }
  return v;
}

interface FlagText {
  description: string;
  helpGroup?: string;
  exclusive?: string[];
}

/**
 * A duration flag; its value is milliseconds. `default` is given as text (`'60s'`) so help shows
 * what a person would type.
 */
export function durationFlag(
  o: FlagText & DurationBounds & { default: string },
): ReturnType<typeof withDefault>;
export function durationFlag(o: FlagText & DurationBounds): ReturnType<typeof withoutDefault>;
export function durationFlag(o: FlagText & DurationBounds & { default?: string }) {
  const bounds: DurationBounds = {
    ...(o.min !== undefined ? { min: o.min } : {}),
    ...(o.max !== undefined ? { max: o.max } : {}),
    ...(o.positive !== undefined ? { positive: o.positive } : {}),
  };
  const parse = (text: string, name: string): number => parseDurationFlag(`--${name}`, text, bounds);
  return o.default === undefined
    ? withoutDefault(o, parse, 'DURATION')
    : withDefault(o, parse, 'DURATION', o.default);
}

/** An arrival-rate flag; its value is arrivals per second. */
export function rateFlag(o: FlagText & { default: string }): ReturnType<typeof withDefault>;
export function rateFlag(o: FlagText): ReturnType<typeof withoutDefault>;
export function rateFlag(o: FlagText & { default?: string }) {
  const parse = (text: string, name: string): number => parseRateFlag(`--${name}`, text);
  return o.default === undefined
    ? withoutDefault(o, parse, 'RATE')
    : withDefault(o, parse, 'RATE', o.default);
}

/** A percentage flag; its value is a fraction (`20%` → 0.2). */
export function percentFlag(
  o: FlagText & { default: string; maxPercent?: number },
): ReturnType<typeof withDefault>;
export function percentFlag(o: FlagText & { maxPercent?: number }): ReturnType<typeof withoutDefault>;
export function percentFlag(o: FlagText & { default?: string; maxPercent?: number }) {
  const parse = (text: string, name: string): number => parsePercentFlag(`--${name}`, text, o.maxPercent);
  return o.default === undefined
    ? withoutDefault(o, parse, 'PERCENT')
    : withDefault(o, parse, 'PERCENT', o.default);
}

/** A ratio flag (0…1). */
export function ratioFlag(o: FlagText & { default: string }): ReturnType<typeof withDefault>;
export function ratioFlag(o: FlagText): ReturnType<typeof withoutDefault>;
export function ratioFlag(o: FlagText & { default?: string }) {
  const parse = (text: string, name: string): number => parseRatioFlag(`--${name}`, text);
  return o.default === undefined
    ? withoutDefault(o, parse, 'RATIO')
    : withDefault(o, parse, 'RATIO', o.default);
}

/** A plain-number flag in the unit its name says (`--floor-ms`); no unit suffix is read. */
export function numberFlag(o: FlagText & { default: string; unit: string; min?: number }) {
  const parse = (text: string, name: string): number =>
    parseNumberFlag(`--${name}`, text, { unit: o.unit, ...(o.min !== undefined ? { min: o.min } : {}) });
  return withDefault(o, parse, 'NUMBER', o.default);
}

type Parse = (text: string, flagName: string) => number;

function common(o: FlagText): FlagText {
  return {
    description: o.description,
    ...(o.helpGroup !== undefined ? { helpGroup: o.helpGroup } : {}),
    ...(o.exclusive !== undefined ? { exclusive: o.exclusive } : {}),
  };
}

function withoutDefault(o: FlagText, parse: Parse, helpValue: string) {
  return Flags.custom<number>({
    ...common(o),
    helpValue,
    parse: async (input, _ctx, opts) => parse(input, opts.name),
  })();
}

function withDefault(o: FlagText, parse: Parse, helpValue: string, defaultText: string) {
  // The default goes through the same parser, so a wrong default fails at load time, not later.
  const value = parse(defaultText, 'default');
  return Flags.custom<number>({
    ...common(o),
    helpValue,
    defaultHelp: async () => defaultText,
    parse: async (input, _ctx, opts) => parse(input, opts.name),
  })({ default: value });
}

/** oclif prefixes errors thrown by a flag's parser ("Parsing --x \n\t…\nSee more help with --help"). */
export function stripOclifParsePrefix(message: string): string {
  const m = /^Parsing --\S+ \n\t([\s\S]*)\nSee more help with --help$/.exec(message);
  return m?.[1] ?? message;
}
