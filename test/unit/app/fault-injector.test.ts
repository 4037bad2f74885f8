// The fault injector's mapping of timeline actions onto drivers, with in-memory drivers: which
// replica is chosen, what inverse is recorded before anything is touched, how toxics are built,
// and how `redis-master` follows the Redis role after a failover.

import { describe, expect, it } from 'vitest';
import type { TargetDrivers } from '../../../src/app/drivers.js';
import { DriverFaultInjector, toxicFor } from '../../../src/app/fault-injector.js';
import { FaultError } from '../../../src/core/errors.js';
import type { ProxyInfo, ReplicaDriver, ReplicaInfo, ToxicSpec } from '../../../src/core/ports.js';
import type { RunnerTimelineEntry } from '../../../src/core/runner/runner.js';

function fakeDrivers(replicas: ReplicaInfo[], opts: { masterPort?: number; proxies?: ProxyInfo[] } = {}) {
  const calls: string[] = [];
  const replicaDriver: ReplicaDriver = {
    list: async () => replicas,
    kill: async (id, signal) => void calls.push(`kill ${id} ${signal}`),
    stop: async (id) => void calls.push(`stop ${id}`),
    start: async (id) => void calls.push(`start ${id}`),
    restart: async (id) => void calls.push(`restart ${id}`),
    pause: async (id) => void calls.push(`pause ${id}`),
    unpause: async (id) => void calls.push(`unpause ${id}`),
    waitHealthy: async (id) => void calls.push(`healthy ${id}`),
  };
  const toxiproxy = {
    listProxies: async () => opts.proxies ?? [],
    prepareToxic: (proxy: string, toxic: ToxicSpec) => ({
      description: `${toxic.type} on ${proxy}`,
      record: { driver: 'toxiproxy' as const, op: 'removeToxic', args: { proxy, toxic: toxic.name } },
      apply: async () => {
        calls.push(`toxic ${proxy} ${toxic.name}`);
        return undefined as never;
      },
    }),
    removeToxic: async (proxy: string, toxic: string) => void calls.push(`remove ${proxy} ${toxic}`),
  };
  const sentinel = {
    currentMaster: async () => {
      if (opts.masterPort === undefined) throw new Error('no sentinel');
      return { host: '127.0.0.1', port: opts.masterPort };
    },
  };
  const drivers = {
    replicas: () => replicaDriver,
    toxiproxy: () => toxiproxy,
    sentinel: () => sentinel,
    nginx: () => {
      throw new Error('no nginx');
    },
    forReverts: () => ({ replicas: replicaDriver, toxiproxy }),
    close: async () => undefined,
  } as unknown as TargetDrivers;
  return { drivers, calls };
}

const entry = (action: string, params: Record<string, unknown> = {}): RunnerTimelineEntry => ({
  name: 'f1',
  atMs: 1000,
  action,
  params,
});

const replica = (name: string, state: ReplicaInfo['state'] = 'running'): ReplicaInfo => ({
  id: name,
  name,
  state,
});

describe('DriverFaultInjector replica faults', () => {
  it('records the inverse before applying, and applies nothing until asked', async () => {
    const { drivers, calls } = fakeDrivers([replica('owui-1'), replica('owui-2')]);
    const injector = new DriverFaultInjector(drivers, { random: () => 0.99 });
    const prepared = await injector.prepare(entry('replica.kill'));
    expect(calls).toEqual([]);
    expect(prepared.record).toMatchObject({ driver: 'replicas', op: 'start', args: { id: 'owui-2' } });
    await prepared.apply();
    expect(calls).toEqual(['kill owui-2 SIGKILL']);
    await injector.revert(prepared.record!);
    expect(calls).toEqual(['kill owui-2 SIGKILL', 'start owui-2', 'healthy owui-2']);
  });

  it('picks only running replicas for `random` and records one composite inverse for several', async () => {
    const { drivers, calls } = fakeDrivers([replica('a', 'stopped'), replica('b'), replica('c')]);
    const prepared = await new DriverFaultInjector(drivers, { random: () => 0 }).prepare(
      entry('replica.pause', { replica: 'random', count: 2 }),
    );
    expect(prepared.record).toMatchObject({ driver: 'composite', op: 'all' });
    await prepared.apply();
    expect(calls).toEqual(['pause b', 'pause c']);
  });

  it('refuses unknown replica names and too few running replicas with FaultErrors', async () => {
    const { drivers } = fakeDrivers([replica('owui-1'), replica('owui-2', 'stopped')]);
    const injector = new DriverFaultInjector(drivers);
    await expect(injector.prepare(entry('replica.stop', { replica: 'owui-9' }))).rejects.toMatchObject({
      code: 'REPLICA_NOT_FOUND',
    });
    await expect(injector.prepare(entry('replica.stop', { count: 2 }))).rejects.toBeInstanceOf(FaultError);
  });

  it('restarts replicas one at a time with the interval between them', async () => {
    const { drivers, calls } = fakeDrivers([replica('a'), replica('b')]);
    const sleeps: number[] = [];
    const prepared = await new DriverFaultInjector(drivers, {
      sleep: async (ms) => void sleeps.push(ms),
    }).prepare(entry('replica.rolling-restart', { interval: 7000 }));
    expect(prepared.record).toBeNull();
    await prepared.apply();
    expect(calls).toEqual(['restart a', 'healthy a', 'restart b', 'healthy b']);
    expect(sleeps).toEqual([7000]);
  });
});

describe('DriverFaultInjector toxics', () => {
  it('builds the Toxiproxy toxic from the entry (named after it, only its type’s attributes)', () => {
    expect(
      toxicFor(entry('toxic.latency', { proxy: 'llm', latency: 500, jitter: 50, rate: 9, toxicity: 0.5 })),
    ).toEqual({
      name: 'owui-chaos-f1',
      type: 'latency',
      stream: 'downstream',
      toxicity: 0.5,
      attributes: { latency: 500, jitter: 50 },
    });
  });

  it('sends a `redis-master` toxic to the proxy that fronts the master NOW (after a failover)', async () => {
    const proxies: ProxyInfo[] = [
      {
        name: 'redis-master',
        listen: '127.0.0.1:7001',
        upstream: '127.0.0.1:6379',
        enabled: true,
        toxics: [],
      },
      {
        name: 'redis-replica',
        listen: '127.0.0.1:7002',
        upstream: '127.0.0.1:6380',
        enabled: true,
        toxics: [],
      },
    ];
    const { drivers, calls } = fakeDrivers([], { masterPort: 6380, proxies });
    const prepared = await new DriverFaultInjector(drivers).prepare(
      entry('toxic.latency', { proxy: 'redis-master', latency: 100 }),
    );
    await prepared.apply();
    expect(calls).toEqual(['toxic redis-replica owui-chaos-f1']);
    expect(prepared.description).toContain('stands for the Redis master');
  });

  it('rejects an unknown action', async () => {
    const { drivers } = fakeDrivers([]);
    await expect(new DriverFaultInjector(drivers).prepare(entry('dns.poison'))).rejects.toMatchObject({
      code: 'FAULT_UNKNOWN',
    });
  });
});
