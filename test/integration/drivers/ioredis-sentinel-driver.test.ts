// IoredisSentinelDriver against a real Redis master/replica and three real Sentinels (one topology
// shared by the file, ~7 s to start). Observed from outside: which node the Sentinels name, what
// ROLE each node reports, whether a killed master refuses connections and rejoins as a replica.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultError } from '../../../src/core/errors.js';
import type { RedisNodeAddress } from '../../../src/core/ports.js';
import type { DriverLogEntry } from '../../../src/drivers/driver-log.js';
import { revertFromRecord } from '../../../src/drivers/revert-records.js';
import { IoredisSentinelDriver } from '../../../src/drivers/sentinel/ioredis-sentinel-driver.js';
import { LabRedisNodeController } from '../../../src/drivers/sentinel/lab-redis-node-controller.js';
import { findBinary } from '../../../src/infra/process/binaries.js';
import { startRedisTopology, stopRedisTopology } from '../../../src/lab/redis/redis-topology.js';
import type { RedisTopology } from '../../../src/infra/lab-state.js';
import { readLabState, writeLabState } from '../../../src/infra/lab-state.js';

const missing = ['redis-server', 'redis-sentinel'].filter((b) => !findBinary(b));
if (missing.length)
  console.warn(
    `[skip] ioredis-sentinel-driver: ${missing.join(', ')} not installed (apt-get install redis-server redis-sentinel)`,
  );

async function role(node: RedisNodeAddress): Promise<string> {
  const r = new Redis({
    ...node,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1000,
  });
  r.on('error', () => undefined);
  try {
    await r.connect();
    const reply = (await r.call('ROLE')) as unknown[];
    return reply[0] === 'slave' ? `replica-of:${String(reply[2])}` : String(reply[0]);
  } catch (err) {
    return `down:${(err as Error).message}`;
  } finally {
    r.disconnect();
  }
}

async function get(node: RedisNodeAddress, key: string): Promise<string | null> {
  const r = new Redis({ ...node, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return await r.get(key);
  } finally {
    r.disconnect();
  }
}

async function replicationInfo(node: RedisNodeAddress): Promise<string> {
  const r = new Redis({
    ...node,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1000,
  });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return await r.info('replication');
  } catch {
    return '';
  } finally {
    r.disconnect();
  }
}

async function eventually(check: () => Promise<boolean>, budgetMs: number): Promise<boolean> {
  const deadline = Date.now() + budgetMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return check();
}

describe.skipIf(missing.length > 0)('IoredisSentinelDriver (real redis + 3 sentinels)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'owui-chaos-sentinel-'));
  let topology: RedisTopology;
  let driver: IoredisSentinelDriver;
  let a: RedisNodeAddress; // the original master
  let b: RedisNodeAddress; // the original replica
  const logs: DriverLogEntry[] = [];

  beforeAll(async () => {
    topology = await startRedisTopology({ dir });
    writeLabState({
      schemaVersion: 1,
      name: 'sentinel-test',
      stateDir: dir,
      createdAt: new Date().toISOString(),
      ownerPid: process.pid,
      replicasIn: 'process',
      buffering: 'off',
      replicas: [],
      redis: topology,
    });
    a = { host: '127.0.0.1', port: topology.master.port };
    b = { host: '127.0.0.1', port: topology.replica.port };
    driver = new IoredisSentinelDriver({
      sentinels: topology.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })),
      masterName: topology.masterName,
      nodeController: new LabRedisNodeController({ stateDir: dir }),
      logger: (e) => logs.push(e),
    });
  });

  afterAll(async () => {
    await driver?.close();
    // Pids may have changed (restarts); the state file has the current ones.
    const redis = readLabState(dir)?.redis ?? topology;
    if (redis) await stopRedisTopology(redis);
    rmSync(dir, { recursive: true, force: true });
  });

  it('names the master a majority of Sentinels agree on', async () => {
    expect(await driver.currentMaster()).toEqual(a);
    expect(logs.some((e) => e.phase === 'did' && e.message.includes('ask 3 Sentinels'))).toBe(true);
  });

  it('SENTINEL FAILOVER promotes the replica and reports old/new master and promotion time', async () => {
    const result = await driver.failover(30_000, { probe: { intervalMs: 50 } });
    expect(result.oldMaster).toEqual(a);
    expect(result.newMaster).toEqual(b);
    expect(result.promotionMs).toBeGreaterThan(0);
    expect(result.promotionMs).toBeLessThan(30_000);
    console.info(
      `[sentinel] failover promotion took ${result.promotionMs} ms; probe: ${result.probeWrites} writes, ${result.clientErrors} failed over ${result.clientErrorWindowMs} ms`,
    );
    expect(result.probeWrites).toBeGreaterThan(5);
    expect(result.clientErrorWindowMs).toBeGreaterThanOrEqual(0);
    expect(result.clientErrorWindowMs).toBeLessThan(30_000);
    if (result.clientErrors! > 0) expect(result.clientErrorWindowMs).toBeGreaterThan(0);
    // The probe's last writes landed on the NEW master.
    expect(await get(b, 'owui-chaos:failover-probe')).toMatch(/^\d+$/);
    expect(await driver.currentMaster()).toEqual(b);
    expect(await role(b)).toBe('master');
    // The old master is reconfigured as a replica of the new one.
    expect(await eventually(async () => (await role(a)) === `replica-of:${b.port}`, 20_000)).toBe(true);
  });

  it('killMaster kills the master, Sentinel promotes the other node, revert restarts it as a replica', async () => {
    // Sentinel only promotes a replica whose link is up.
    expect(await eventually(async () => /master_link_status:up/.test(await replicationInfo(a)), 20_000)).toBe(
      true,
    );
    const prepared = await driver.prepareKillMaster({ promotionBudgetMs: 40_000, rejoinBudgetMs: 30_000 });
    expect(prepared.record).toEqual({
      driver: 'sentinel',
      op: 'restartNode',
      args: { host: '127.0.0.1', port: b.port, masterName: topology.masterName, budgetMs: 30_000 },
    });
    const pidBefore = readLabState(dir)!.redis!.replica.pid;
    const handle = await prepared.apply();
    expect(handle.oldMaster).toEqual(b);
    expect(handle.newMaster).toEqual(a);
    expect(handle.promotionMs).toBeGreaterThan(0);
    console.info(`[sentinel] kill → promotion took ${handle.promotionMs} ms`);
    expect(await role(b)).toMatch(/^down:/);
    expect(await driver.currentMaster()).toEqual(a);

    // Replayed from the record, as `owui-chaos rollback` would in a new process.
    await revertFromRecord(handle.revertRecord, { sentinel: driver });
    expect(await role(b)).toBe(`replica-of:${a.port}`);
    expect(readLabState(dir)!.redis!.replica.pid).not.toBe(pidBefore);
    await handle.revert(); // idempotent: the node answers, nothing is restarted
    expect(await role(b)).toBe(`replica-of:${a.port}`);
    expect(await driver.currentMaster()).toEqual(a);
  });

  it("an unknown master name fails with the Sentinels' answers in the message", async () => {
    const other = new IoredisSentinelDriver({
      sentinels: topology.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })),
      masterName: 'nosuch',
    });
    const err = await other.currentMaster().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FaultError);
    expect((err as FaultError).code).toBe('SENTINEL_NO_MAJORITY');
    expect((err as FaultError).message).toContain('for `nosuch`');
    const refused = await other.failover(5000).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(FaultError);
    await other.close();
  });

  it('a promotion that does not happen within the budget names the master and the budget', async () => {
    // No promotion completes within 1 ms (the real one takes ~1 s; it may still finish afterwards,
    // which is why this runs last). A Sentinel still busy with the previous failover refuses (INPROG).
    const err = await driver.failover(1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FaultError);
    expect((err as FaultError).message).toMatch(
      /Sentinel did not promote a new master for `mymaster` within 1 ms|Sentinel refused/,
    );
  });
});
