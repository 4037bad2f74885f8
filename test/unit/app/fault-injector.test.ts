// The fault injector's mapping of typed timeline entries onto the ports, with in-memory ports:
// which replica is chosen, what inverse is recorded before anything is touched, how toxics are
// built (defaults from the schema, not re-applied), how `redis-master` follows the Redis role after
// a failover, and that a role lookup that fails is reported instead of swallowed.

import { describe, expect, it } from 'vitest';
import type { TargetDrivers } from '../../../src/app/drivers.js';
import { DriverFaultInjector, toxicFor } from '../../../src/app/fault-injector.js';
import { FaultError } from '../../../src/core/errors.js';
import {
  FAULT_ACTIONS,
  FAULT_ACTION_TABLE,
  TimelineEntrySchema,
  type FaultActionTable,
  type TimelineEntry,
} from '../../../src/core/faults/registry.js';
import type { ProxyInfo, ReplicaDriver, ReplicaInfo, ToxicSpec } from '../../../src/core/ports.js';

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
  const proxies = opts.proxies ?? [];
  const proxy = (name: string): ProxyInfo => {
    const p = proxies.find((x) => x.name === name);
    if (!p) throw new Error(`no proxy ${name}`);
    return p;
  };
  const toxiproxy = {
    listProxies: async () => proxies,
    getProxy: async (name: string) => proxy(name),
    addToxic: async (name: string, toxic: ToxicSpec) => void calls.push(`toxic ${name} ${toxic.name}`),
    removeToxic: async (name: string, toxic: string) => void calls.push(`remove ${name} ${toxic}`),
  };
  const sentinel = {
    currentMaster: async () => {
      if (opts.masterPort === undefined) throw new Error('no sentinel answers');
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

/** A timeline entry as the experiment schema parses it (defaults filled in). */
const entry = (action: string, params?: Record<string, unknown>): TimelineEntry =>
  TimelineEntrySchema.parse({ name: 'f1', at: 1000, action, ...(params ? { params } : {}) });

const redisProxies = (): ProxyInfo[] => [
  { name: 'redis-master', listen: '127.0.0.1:7001', upstream: '127.0.0.1:6379', enabled: true, toxics: [] },
  { name: 'redis-replica', listen: '127.0.0.1:7002', upstream: '127.0.0.1:6380', enabled: true, toxics: [] },
];

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
      toxicFor(
        entry('toxic.latency', { proxy: 'llm', latency: 500, jitter: 50, toxicity: 0.5 }) as Parameters<
          typeof toxicFor
        >[0],
      ),
    ).toEqual({
      name: 'owui-chaos-f1',
      type: 'latency',
      stream: 'downstream',
      toxicity: 0.5,
      attributes: { latency: 500, jitter: 50 },
    });
  });

  it('sends a `redis-master` toxic to the proxy that fronts the master NOW (after a failover)', async () => {
    const { drivers, calls } = fakeDrivers([], { masterPort: 6380, proxies: redisProxies() });
    const prepared = await new DriverFaultInjector(drivers).prepare(
      entry('toxic.latency', { proxy: 'redis-master', latency: 100 }),
    );
    await prepared.apply();
    expect(calls).toEqual(['toxic redis-replica owui-chaos-f1']);
    expect(prepared.description).toContain('stands for the Redis master');
    expect(prepared.warnings).toBeUndefined();
  });

  it('reports a Redis role lookup that fails (the toxic lands on the named proxy) instead of swallowing it', async () => {
    const { drivers, calls } = fakeDrivers([], { proxies: redisProxies() }); // no Sentinel answers
    const prepared = await new DriverFaultInjector(drivers).prepare(
      entry('toxic.latency', { proxy: 'redis-master', latency: 100 }),
    );
    expect(prepared.warnings).toEqual([
      {
        code: 'REDIS_ROLE_UNRESOLVED',
        message: expect.stringContaining('no sentinel answers'),
      },
    ]);
    await prepared.apply();
    expect(calls).toEqual(['toxic redis-master owui-chaos-f1']);
  });

  it('a proxy that names no role needs no lookup and warns about nothing', async () => {
    const { drivers } = fakeDrivers([], { proxies: [{ ...redisProxies()[0]!, name: 'llm' }] });
    const prepared = await new DriverFaultInjector(drivers).prepare(
      entry('toxic.latency', { proxy: 'llm', latency: 1 }),
    );
    expect(prepared.warnings).toBeUndefined();
  });

  it('takes stream and toxicity from the parsed entry (the schema set the defaults once)', () => {
    const e = entry('toxic.bandwidth', { proxy: 'llm', rate: 5 });
    expect(toxicFor(e as Parameters<typeof toxicFor>[0])).toMatchObject({
      stream: 'downstream',
      toxicity: 1,
      attributes: { rate: 5 },
    });
  });

  it('rejects an unknown action at the schema, before any injector sees it', () => {
    const parsed = TimelineEntrySchema.safeParse({ name: 'f1', at: 0, action: 'dns.poison', params: {} });
    expect(parsed.success).toBe(false);
  });
});

describe('the fault catalogue is exhaustive by type', () => {
  it('every action has facts, a description, a window and a preparer', () => {
    for (const action of FAULT_ACTIONS) {
      const spec = FAULT_ACTION_TABLE[action];
      expect(typeof spec.prepare, action).toBe('function');
      expect(typeof spec.describe, action).toBe('function');
      expect(typeof spec.window, action).toBe('function');
      expect(spec.facts, action).toBeDefined();
    }
    expect(Object.keys(FAULT_ACTION_TABLE).sort()).toEqual([...FAULT_ACTIONS].sort());
  });

  it('a table without one action does not compile (checked by `npm run typecheck`)', () => {
    const { 'nginx.buffering': dropped, ...rest } = FAULT_ACTION_TABLE;
    // @ts-expect-error -- `nginx.buffering` is missing: the table must name every action
    const incomplete: FaultActionTable = rest;
    // @ts-expect-error -- a toxic preparer cannot stand in for the nginx one (entries are typed)
    const wrong: FaultActionTable = { ...rest, 'nginx.buffering': FAULT_ACTION_TABLE['toxic.latency'] };
    expect(dropped).toBeDefined();
    expect(Object.keys(incomplete)).not.toContain('nginx.buffering');
    expect(wrong).toBeDefined();
  });
});
