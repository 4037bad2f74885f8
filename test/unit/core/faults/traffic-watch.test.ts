import { describe, expect, it } from 'vitest';
import type { JournalActivity } from '../../../../src/core/journal.js';
import type { ProxyTraffic } from '../../../../src/core/ports.js';
import { TrafficWatch } from '../../../../src/core/faults/traffic-watch.js';

const fault = { name: 'slow', action: 'toxic.latency', description: 'latency 300 ms on llm' };

function watch() {
  let now = 1_000;
  const activities: JournalActivity[] = [];
  const notCounted: string[] = [];
  const w = new TrafficWatch<string>({
    now: () => now,
    notCounted: (name, message) => notCounted.push(`${name}: ${message}`),
    activity: (a) => activities.push(a),
  });
  return { w, activities, notCounted, advance: (ms: number) => (now += ms) };
}

/** Readings in order; each call returns the next. */
const readings = (...r: Array<ProxyTraffic | undefined | Error>) => {
  let i = 0;
  return async (): Promise<ProxyTraffic | undefined> => {
    const next = r[i++];
    if (next instanceof Error) throw next;
    return next;
  };
};

describe('TrafficWatch: did the traffic a fault acts on reach it', () => {
  it('catches a fault nothing passed through, with how long it was in and a failed probe', async () => {
    const { w, activities, advance } = watch();
    await w.start('k', fault, readings({ open: { 'a:1': 50 } }, { open: { 'a:1': 50 } }));
    advance(12_400);
    expect(await w.finish('k')).toEqual({ ...fault, injectedMs: 12_400 });
    expect(w.untouched).toEqual([{ ...fault, injectedMs: 12_400 }]);
    expect(activities).toEqual([
      {
        name: 'slow',
        kind: 'probe',
        action: 'toxic.latency',
        startedAt: 1_000,
        endedAt: 13_400,
        status: 'failed',
        output: { check: 'traffic', bytes: 0 },
        error: 'no traffic reached it in 12 s',
      },
    ]);
  });

  it('leaves alone a fault traffic passed through (the control), recording the bytes', async () => {
    const { w, activities } = watch();
    await w.start('k', fault, readings({ closedBytes: 0, open: {} }, { closedBytes: 812, open: {} }));
    expect(await w.finish('k')).toBeUndefined();
    expect(w.untouched).toEqual([]);
    expect(activities).toMatchObject([{ status: 'succeeded', output: { check: 'traffic', bytes: 812 } }]);
  });

  it('an unreadable count (undefined or an error), at either reading, is a note and no verdict', async () => {
    for (const read of [
      readings(undefined),
      readings(new Error('ECONNREFUSED')),
      readings({ open: {} }, undefined),
      readings({ open: {} }, new Error('timeout')),
    ]) {
      const { w, activities, notCounted } = watch();
      await w.start('k', fault, read);
      expect(await w.finish('k')).toBeUndefined();
      expect(w.untouched).toEqual([]);
      expect(activities).toEqual([]);
      expect(notCounted).toHaveLength(1);
      expect(notCounted[0]).toMatch(/^slow: .*(cannot be told|failed: (ECONNREFUSED|timeout))/);
    }
  });

  it('a forgotten check, or one never started, takes no second reading and gives no verdict', async () => {
    const { w, activities } = watch();
    let reads = 0;
    await w.start('k', fault, async () => {
      reads += 1;
      return { open: {} };
    });
    w.forget('k');
    expect(await w.finish('k')).toBeUndefined();
    expect(await w.finish('never')).toBeUndefined();
    expect(reads).toBe(1);
    expect(activities).toEqual([]);
  });
});
