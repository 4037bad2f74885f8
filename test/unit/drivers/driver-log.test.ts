import { describe, expect, it } from 'vitest';
import { FaultError } from '../../../src/core/errors.js';
import type { Clock } from '../../../src/core/clock.js';
import { type DriverLogEntry, formatBudget, step } from '../../../src/drivers/driver-log.js';

describe('step', () => {
  const clock = (): Clock & { t: number } => {
    const c = { t: 1000, now: () => c.t, sleep: async (ms: number) => void (c.t += ms) };
    return c;
  };

  it('logs doing/did with the elapsed time', async () => {
    const logs: DriverLogEntry[] = [];
    const c = clock();
    const value = await step(
      (e) => logs.push(e),
      'docker',
      'pause replica a',
      async () => {
        c.t += 42;
        return 7;
      },
      { code: 'X' },
      c,
    );
    expect(value).toBe(7);
    expect(logs.map((l) => [l.phase, l.message])).toEqual([
      ['doing', 'doing pause replica a'],
      ['did', 'did pause replica a (42 ms)'],
    ]);
  });

  it('wraps a failure as a FaultError with the cause, and keeps nested FaultErrors as they are', async () => {
    const logs: DriverLogEntry[] = [];
    const cause = new Error('connect ECONNREFUSED');
    const err = await step(
      (e) => logs.push(e),
      'sentinel',
      'fail over `m`',
      () => Promise.reject(cause),
      { code: 'SENTINEL_FAILOVER_FAILED', suggestions: ['redis-cli …'] },
      clock(),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FaultError);
    expect(err).toMatchObject({
      code: 'SENTINEL_FAILOVER_FAILED',
      exitCode: 11,
      suggestions: ['redis-cli …'],
      cause,
    });
    expect((err as Error).message).toBe('Could not fail over `m`: connect ECONNREFUSED');
    expect(logs.at(-1)).toMatchObject({
      phase: 'failed',
      message: 'failed fail over `m`: connect ECONNREFUSED',
    });

    const inner = new FaultError('Sentinel did not promote a new master for `m` within 30 s', {
      code: 'SENTINEL_PROMOTION_TIMEOUT',
    });
    const kept = await step(
      () => undefined,
      'sentinel',
      'outer',
      () => Promise.reject(inner),
      { code: 'OUTER' },
    ).catch((e: unknown) => e);
    expect(kept).toBe(inner);
  });

  it('formats budgets as people write them', () => {
    expect(formatBudget(30_000)).toBe('30 s');
    expect(formatBudget(1500)).toBe('1.5 s');
    expect(formatBudget(700)).toBe('700 ms');
  });
});
