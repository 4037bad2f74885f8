// Replica faults on the production path: the typed entry's preparer records the inverse before
// anything is touched, `apply` acts, and the record replays as the calls that undo it.

import { describe, expect, it } from 'vitest';
import type { FaultPorts } from '../../../../src/core/faults/kind.js';
import { TimelineEntrySchema, prepareFault } from '../../../../src/core/faults/registry.js';
import { rollingRestart } from '../../../../src/core/faults/replica.js';
import { replayRevert } from '../../../../src/core/faults/revert-record.js';
import type { ReplicaDriver, ReplicaInfo } from '../../../../src/core/ports.js';

function fakeDriver(
  failHealthFor?: string,
  names = ['owui-1', 'owui-2'],
): { driver: ReplicaDriver; calls: string[] } {
  const calls: string[] = [];
  const rec = (c: string): Promise<void> => {
    calls.push(c);
    return Promise.resolve();
  };
  const list: ReplicaInfo[] = names.map((n) => ({ id: n, name: n, state: 'running' }));
  return {
    calls,
    driver: {
      list: () => Promise.resolve(list),
      kill: (id, s) => rec(`kill ${id} ${s ?? ''}`.trim()),
      stop: (id) => rec(`stop ${id}`),
      start: (id) => rec(`start ${id}`),
      restart: (id) => rec(`restart ${id}`),
      pause: (id) => rec(`pause ${id}`),
      unpause: (id) => rec(`unpause ${id}`),
      waitHealthy: (id, b) =>
        id === failHealthFor ? Promise.reject(new Error(`${id} unhealthy`)) : rec(`healthy? ${id} ${b}`),
    },
  };
}

const ctx = (driver: ReplicaDriver, healthBudgetMs = 30_000) => ({
  ports: { replicas: () => driver } as unknown as FaultPorts,
  healthBudgetMs,
  random: () => 0.99,
  sleep: async () => undefined,
});

const entry = (action: string, params: Record<string, unknown>) =>
  TimelineEntrySchema.parse({ name: 'f', at: 0, action, params });

describe('replica faults', () => {
  it('records the inverse before acting, applies the fault, and the record replays as start + healthy', async () => {
    const { driver, calls } = fakeDriver();
    const kill = await prepareFault(entry('replica.kill', { replica: 'owui-2' }), ctx(driver));
    expect(kill.record).toEqual({
      driver: 'replicas',
      op: 'start',
      args: { id: 'owui-2', healthBudgetMs: 30_000 },
    });
    expect(kill.description).toBe('kill replica owui-2');
    expect(calls).toEqual([]);
    await kill.apply();
    expect(calls).toEqual(['kill owui-2 SIGKILL']);
    await replayRevert(kill.record!, { replicas: driver });
    expect(calls).toEqual(['kill owui-2 SIGKILL', 'start owui-2', 'healthy? owui-2 30000']);
  });

  it('pause is undone by unpause; stop by start', async () => {
    const { driver, calls } = fakeDriver();
    const pause = await prepareFault(entry('replica.pause', { replica: 'owui-1' }), ctx(driver, 60_000));
    expect(pause.record).toMatchObject({ driver: 'replicas', op: 'unpause' });
    await pause.apply();
    await replayRevert(pause.record!, { replicas: driver });
    const stop = await prepareFault(entry('replica.stop', { replica: 'owui-2' }), ctx(driver, 5));
    await stop.apply();
    await replayRevert(stop.record!, { replicas: driver });
    expect(calls).toEqual([
      'pause owui-1',
      'unpause owui-1',
      'healthy? owui-1 60000',
      'stop owui-2',
      'start owui-2',
      'healthy? owui-2 5',
    ]);
  });
});

describe('rollingRestart', () => {
  it('restarts one at a time and stops at the first replica that does not come back', async () => {
    const { driver, calls } = fakeDriver('b');
    await expect(rollingRestart(driver, ['a', 'b', 'c'], { healthBudgetMs: 10 })).rejects.toThrow(
      'b unhealthy',
    );
    expect(calls).toEqual(['restart a', 'healthy? a 10', 'restart b']);
  });
});
