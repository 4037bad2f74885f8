// How long a fault lasts is decided once (faultWindow), and the runner's entry, the plan and the
// game day all take it from there: a master kill's `restartAfter` is its window, like `for`.

import { describe, expect, it } from 'vitest';
import { TimelineEntrySchema, faultWindow } from '../../../../src/core/faults/registry.js';
import { runnerEntry } from '../../../../src/core/runner/runner.js';

const parse = (e: Record<string, unknown>) => TimelineEntrySchema.parse({ name: 'f', at: 3000, ...e });

describe('faultWindow', () => {
  it('is `for` for every kind, and `restartAfter` for a master kill without `for`', () => {
    expect(
      faultWindow(parse({ action: 'toxic.latency', for: 2000, params: { proxy: 'llm', latency: 1 } })),
    ).toBe(2000);
    expect(
      faultWindow(parse({ action: 'toxic.latency', params: { proxy: 'llm', latency: 1 } })),
    ).toBeUndefined();
    expect(faultWindow(parse({ action: 'redis.kill-master', params: { restartAfter: '20s' } }))).toBe(20_000);
    expect(faultWindow(parse({ action: 'redis.kill-master', for: 5000 }))).toBe(5000);
    expect(faultWindow(parse({ action: 'redis.failover' }))).toBeUndefined();
  });

  it('the runner entry carries it; a game day injects at 0 with the same window', () => {
    const kill = parse({ action: 'redis.kill-master', params: { restartAfter: '20s' } });
    expect(runnerEntry(kill)).toEqual({ entry: kill, atMs: 3000, forMs: 20_000 });
    expect(runnerEntry(kill, 0)).toEqual({ entry: kill, atMs: 0, forMs: 20_000 });
    const toxic = parse({ action: 'toxic.down', params: { proxy: 'llm' } });
    expect(runnerEntry(toxic)).toEqual({ entry: toxic, atMs: 3000 });
  });
});
