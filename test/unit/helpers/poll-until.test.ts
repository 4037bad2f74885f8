import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../helpers/fake-clock.js';
import { pollUntil } from '../../helpers/poll-until.js';

describe('pollUntil (test helper)', () => {
  it('returns the first value the probe gives, on the injected clock', async () => {
    const clock = new FakeClock(0);
    let calls = 0;
    const p = pollUntil('the third call', () => (++calls === 3 ? 'done' : undefined), {
      budgetMs: 1000,
      intervalMs: 100,
      clock,
    });
    await clock.runAll();
    await expect(p).resolves.toBe('done');
    expect(calls).toBe(3);
    expect(clock.now()).toBe(200);
  });

  it('gives up at the budget, saying what did not happen and the last error', async () => {
    const clock = new FakeClock(0);
    const p = pollUntil(
      'a master elected',
      () => {
        throw new Error('connection refused');
      },
      { budgetMs: 500, intervalMs: 100, clock },
    );
    const settled = p.catch((e: unknown) => e);
    await clock.runAll();
    const err = (await settled) as Error;
    expect(err.message).toMatch(
      /^a master elected did not happen within 500 ms \(6 checks\); last error: connection refused$/,
    );
    expect(clock.now()).toBe(500);
  });

  it('false counts as "not yet" for boolean probes', async () => {
    const clock = new FakeClock(0);
    let n = 0;
    const p = pollUntil('true', () => ++n > 1, { budgetMs: 300, clock });
    await clock.runAll();
    await expect(p).resolves.toBe(true);
  });
});
