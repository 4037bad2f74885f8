import { describe, expect, it } from 'vitest';
import type { ReplicaDriver } from '../../../src/core/ports.js';
import { prepareReplicaFault, rollingRestart } from '../../../src/drivers/replica-faults.js';

function fakeDriver(failHealthFor?: string): { driver: ReplicaDriver; calls: string[] } {
  const calls: string[] = [];
  const rec = (c: string): Promise<void> => {
    calls.push(c);
    return Promise.resolve();
  };
  return {
    calls,
    driver: {
      list: () => Promise.resolve([]),
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

describe('prepareReplicaFault', () => {
  it('records the inverse before acting, applies the fault, and reverts once', async () => {
    const { driver, calls } = fakeDriver();
    const kill = prepareReplicaFault(driver, { id: 'owui-2', action: 'kill', healthBudgetMs: 30_000 });
    expect(kill.record).toEqual({
      driver: 'replicas',
      op: 'start',
      args: { id: 'owui-2', healthBudgetMs: 30_000 },
    });
    expect(kill.description).toBe('kill replica owui-2 (SIGKILL)');
    expect(calls).toEqual([]);
    const handle = await kill.apply();
    expect(calls).toEqual(['kill owui-2 SIGKILL']);
    await handle.revert();
    await handle.revert();
    expect(calls).toEqual(['kill owui-2 SIGKILL', 'start owui-2', 'healthy? owui-2 30000']);
  });

  it('pause is undone by unpause; stop by start', async () => {
    const { driver, calls } = fakeDriver();
    const pause = prepareReplicaFault(driver, { id: 'a', action: 'pause' });
    expect(pause.record.op).toBe('unpause');
    await (await pause.apply()).revert();
    const stop = prepareReplicaFault(driver, { id: 'b', action: 'stop', healthBudgetMs: 5 });
    await (await stop.apply()).revert();
    expect(calls).toEqual(['pause a', 'unpause a', 'healthy? a 60000', 'stop b', 'start b', 'healthy? b 5']);
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
