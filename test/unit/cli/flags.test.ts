import { describe, expect, it } from 'vitest';
import {
  FLAG_ERROR_CODES,
  parseDurationFlag,
  parseNumberFlag,
  parsePercentFlag,
  parseRateFlag,
  parseRatioFlag,
  stripOclifParsePrefix,
} from '../../../src/cli/flags.js';
import { toOwuiChaosError } from '../../../src/cli/base-command.js';
import { ExitCode, UsageError } from '../../../src/core/errors.js';

function usageOf(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error('did not throw');
}

describe('duration flags', () => {
  it('a bare number is seconds, in every command', () => {
    expect(parseDurationFlag('--duration', '60')).toBe(60_000);
    expect(parseDurationFlag('--duration', '1.5')).toBe(1500);
    expect(parseDurationFlag('--duration', '60s')).toBe(60_000);
    expect(parseDurationFlag('--duration', '500ms')).toBe(500);
    expect(parseDurationFlag('--duration', '2m')).toBe(120_000);
    expect(parseDurationFlag('--duration', '1h')).toBe(3_600_000);
    expect(parseDurationFlag('--duration', '1d')).toBe(86_400_000);
    expect(parseDurationFlag('--socket-chat-interval', '0')).toBe(0);
  });

  it('a bad value is a UsageError (exit 2) naming the flag, the value and an example', () => {
    const e = usageOf(() => parseDurationFlag('--duration', '5 minutes'));
    expect(e.exitCode).toBe(ExitCode.usage);
    expect(e.code).toBe(FLAG_ERROR_CODES.duration);
    expect(e.message).toContain('--duration');
    expect(e.message).toContain('"5 minutes"');
    expect(e.suggestions).toEqual(['--duration 30s']);
  });

  it('bounds: positive refuses 0, the timer limit refuses 25 days', () => {
    expect(usageOf(() => parseDurationFlag('--duration', '0', { positive: true })).message).toMatch(
      /too short/,
    );
    expect(usageOf(() => parseDurationFlag('--duration', '25d')).message).toMatch(/24d/);
    expect(parseDurationFlag('--duration', '24d')).toBe(24 * 86_400_000);
  });
});

describe('rate, percent and ratio flags', () => {
  it('rates: per second by default, /m and /h', () => {
    expect(parseRateFlag('--chat-rate', '5')).toBe(5);
    expect(parseRateFlag('--chat-rate', '5/s')).toBe(5);
    expect(parseRateFlag('--chat-rate', '300/m')).toBe(5);
    expect(parseRateFlag('--chat-rate', '3600/h')).toBe(1);
    for (const bad of ['0/s', 'fast', '-1', '5/d', '200000/s']) {
      const e = usageOf(() => parseRateFlag('--chat-rate', bad));
      expect(e.code).toBe(FLAG_ERROR_CODES.rate);
      expect(e.message).toContain(`"${bad}"`);
    }
  });

  it('percent: a bare number is percent; above the maximum is refused', () => {
    expect(parsePercentFlag('--headroom', '20%')).toBeCloseTo(0.2);
    expect(parsePercentFlag('--headroom', '20')).toBeCloseTo(0.2);
    expect(parsePercentFlag('--headroom', '250%', 1000)).toBeCloseTo(2.5);
    expect(usageOf(() => parsePercentFlag('--headroom', '120%')).code).toBe(FLAG_ERROR_CODES.percent);
    expect(usageOf(() => parsePercentFlag('--headroom', 'lots')).code).toBe(FLAG_ERROR_CODES.percent);
  });

  it('ratio: 0 to 1, or a percentage', () => {
    expect(parseRatioFlag('--min', '0.95')).toBe(0.95);
    expect(parseRatioFlag('--min', '.5')).toBe(0.5);
    expect(parseRatioFlag('--min', '95%')).toBeCloseTo(0.95);
    expect(usageOf(() => parseRatioFlag('--min', '1.5')).code).toBe(FLAG_ERROR_CODES.ratio);
    expect(usageOf(() => parseRatioFlag('--min', '150%')).code).toBe(FLAG_ERROR_CODES.ratio);
  });
});

describe('report compare: --tolerance (percent) and --floor-ms (number)', () => {
  // The tolerance used to have its own parser, where a bare number ≤ 1 was a fraction and one
  // above 1 was percent (`1` meant 100 %, `2` meant 2 %). Now it is a percent flag like every other.
  it('a bare number is percent, as in every other percent flag', () => {
    expect(parsePercentFlag('--tolerance', '10%', 1000)).toBeCloseTo(0.1);
    expect(parsePercentFlag('--tolerance', '15', 1000)).toBeCloseTo(0.15);
    expect(parsePercentFlag('--tolerance', '1', 1000)).toBeCloseTo(0.01);
    expect(parsePercentFlag('--tolerance', '0.5', 1000)).toBeCloseTo(0.005);
    expect(parsePercentFlag('--tolerance', '250%', 1000)).toBeCloseTo(2.5);
  });

  it('bad tolerances are UsageErrors with the percent code (exit 2, never 1)', () => {
    for (const bad of ['ten', '-5%', '10 %%', '1001%', '']) {
      const e = usageOf(() => parsePercentFlag('--tolerance', bad, 1000));
      expect(e.exitCode).toBe(ExitCode.usage);
      expect(e.code).toBe(FLAG_ERROR_CODES.percent);
      expect(e.message).toContain('--tolerance');
    }
  });

  it('floor: a plain number of ms ≥ 0; units, negatives and words are usage errors', () => {
    expect(parseNumberFlag('--floor-ms', '5', { unit: 'ms' })).toBe(5);
    expect(parseNumberFlag('--floor-ms', '0', { unit: 'ms' })).toBe(0);
    expect(parseNumberFlag('--floor-ms', '2.5', { unit: 'ms' })).toBe(2.5);
    for (const bad of ['-1', '5ms', 'five', '', 'NaN', 'Infinity']) {
      const e = usageOf(() => parseNumberFlag('--floor-ms', bad, { unit: 'ms' }));
      expect(e.exitCode).toBe(ExitCode.usage);
      expect(e.code).toBe(FLAG_ERROR_CODES.number);
      expect(e.message).toContain(`"${bad}"`);
    }
  });
});

describe('oclif wrapping', () => {
  it('a flag parse error keeps its class, exit 2 and its own message through oclif', () => {
    const e = usageOf(() => parseDurationFlag('--wait', 'soon'));
    const original = e.message;
    // What oclif's parser does to an error thrown by a custom flag.
    e.message = `Parsing --wait \n\t${e.message}\nSee more help with --help`;
    const out = toOwuiChaosError(e);
    expect(out).toBe(e);
    expect(out.exitCode).toBe(2);
    expect(out.message).toBe(original);
    expect(stripOclifParsePrefix('plain message')).toBe('plain message');
  });
});
