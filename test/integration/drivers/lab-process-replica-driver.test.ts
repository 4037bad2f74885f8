// LabProcessReplicaDriver over a small fake lab state directory whose "replicas" are tiny node HTTP
// servers started as detached daemons. Effects are observed from outside (HTTP refused, hanging,
// answering; the pid behind /whoami) and the state file must carry the re-spawned pid.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultError } from '../../../src/core/errors.js';
import type { DriverLogEntry } from '../../../src/drivers/driver-log.js';
import { LabProcessReplicaDriver } from '../../../src/drivers/process/lab-process-replica-driver.js';
import { freePort, isAlive, spawnDaemon, stopProcess } from '../../../src/infra/process/daemon.js';
import { type LabReplicaRecord, readLabState, writeLabState } from '../../../src/infra/lab-state.js';
import { HEALTH_SERVER_SCRIPT, httpGet } from './http-probe.js';

describe('LabProcessReplicaDriver (real processes)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'owui-chaos-procdrv-'));
  const logs: DriverLogEntry[] = [];
  let driver: LabProcessReplicaDriver;
  let urls: Record<string, string> = {};

  beforeAll(async () => {
    const replicas: LabReplicaRecord[] = [];
    for (const name of ['owui-1', 'owui-2']) {
      const port = await freePort();
      const spawn = {
        command: process.execPath,
        args: ['-e', HEALTH_SERVER_SCRIPT],
        env: { PORT: String(port) },
        logFile: join(dir, `${name}.log`),
      };
      const daemon = await spawnDaemon({ name, ...spawn, env: { ...process.env, ...spawn.env } });
      replicas.push({ name, port, url: `http://127.0.0.1:${port}`, mode: 'process', pid: daemon.pid, spawn });
    }
    urls = Object.fromEntries(replicas.map((r) => [r.name, r.url]));
    writeLabState({
      schemaVersion: 1,
      name: 'driver-test',
      stateDir: dir,
      createdAt: new Date().toISOString(),
      ownerPid: process.pid,
      replicasIn: 'process',
      buffering: 'off',
      replicas,
    });
    driver = new LabProcessReplicaDriver({ stateDir: dir, stopGraceMs: 2000, logger: (e) => logs.push(e) });
    await driver.waitHealthy('owui-1', 10_000);
    await driver.waitHealthy('owui-2', 10_000);
  });

  afterAll(async () => {
    const state = readLabState(dir);
    for (const r of state?.replicas ?? []) {
      if (r.pid !== undefined) {
        try {
          process.kill(r.pid, 'SIGCONT');
        } catch {
          /* gone */
        }
        await stopProcess(r.pid, 1000);
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const whoami = async (name: string): Promise<number> => {
    const res = await httpGet(`${urls[name]}/whoami`);
    if (res.kind !== 'answered') throw new Error(`${name} did not answer: ${res.kind}`);
    return Number(res.body);
  };

  it('lists the process replicas of the state file with their URLs', async () => {
    const list = await driver.list();
    expect(list).toEqual([
      { id: 'owui-1', name: 'owui-1', state: 'running', url: urls['owui-1'] },
      { id: 'owui-2', name: 'owui-2', state: 'running', url: urls['owui-2'] },
    ]);
  });

  it('kill → refused; start re-spawns from the record and persists the new pid', async () => {
    const before = readLabState(dir)!.replicas[0]!.pid!;
    expect(await whoami('owui-1')).toBe(before);
    await driver.kill('owui-1');
    expect(isAlive(before)).toBe(false);
    expect(await httpGet(`${urls['owui-1']}/health`)).toEqual({ kind: 'refused' });
    expect((await driver.list())[0]!.state).toBe('stopped');
    await driver.kill('owui-1'); // idempotent

    await driver.start('owui-1');
    await driver.start('owui-1'); // idempotent: no second process
    await driver.waitHealthy('owui-1', 10_000);
    const after = readLabState(dir)!.replicas[0]!.pid!;
    expect(after).not.toBe(before);
    expect(await whoami('owui-1')).toBe(after);
    // The other replica is untouched.
    expect((await httpGet(`${urls['owui-2']}/health`)).kind).toBe('answered');
  });

  it('pause makes requests hang; unpause answers again', async () => {
    await driver.pause('owui-2');
    expect((await driver.list())[1]!.state).toBe('paused');
    expect((await httpGet(`${urls['owui-2']}/health`, 700)).kind).toBe('timeout');
    await driver.unpause('owui-2');
    await driver.unpause('owui-2'); // idempotent
    expect(await httpGet(`${urls['owui-2']}/health`)).toMatchObject({ kind: 'answered', status: 200 });
  });

  it('stop (SIGTERM) refuses; a paused replica can be stopped too; restart gives a new pid', async () => {
    await driver.pause('owui-2');
    await driver.stop('owui-2');
    expect(await httpGet(`${urls['owui-2']}/health`)).toEqual({ kind: 'refused' });
    await driver.start('owui-2');
    await driver.waitHealthy('owui-2', 10_000);
    const pid = await whoami('owui-2');
    await driver.restart('owui-2');
    await driver.waitHealthy('owui-2', 10_000);
    expect(await whoami('owui-2')).not.toBe(pid);
    expect(readLabState(dir)!.replicas[1]!.pid).toBe(await whoami('owui-2'));
  });

  it('waitHealthy on a killed replica fails naming the budget; unknown replicas are named', async () => {
    await driver.kill('owui-1', 'SIGTERM');
    const err = await driver.waitHealthy('owui-1', 500).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FaultError);
    expect((err as FaultError).code).toBe('REPLICA_UNHEALTHY');
    expect((err as FaultError).message).toMatch(
      /Replica owui-1 did not answer .*\/health within 500 ms .*stopped/,
    );
    expect(logs.some((e) => e.phase === 'failed' && e.action.includes('owui-1'))).toBe(true);
    // A dead replica fails at once, not at the end of its budget (the driver's own wait used to
    // poll a dead process for the whole minute).
    const began = Date.now();
    const dead = await driver.waitHealthy('owui-1', 60_000).catch((e: unknown) => e);
    expect((dead as FaultError).message).toMatch(/process \d+ exited/);
    expect(Date.now() - began).toBeLessThan(10_000);
    await driver.start('owui-1');
    await driver.waitHealthy('owui-1', 10_000);

    const missing = await driver.kill('nope').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(FaultError);
    expect((missing as FaultError).code).toBe('REPLICA_NOT_FOUND');
    expect((missing as FaultError).message).toContain('known: owui-1, owui-2');
  });

  it('a missing state directory says the lab is not up', async () => {
    const err = await new LabProcessReplicaDriver({ stateDir: join(dir, 'nope') })
      .list()
      .catch((e: unknown) => e);
    expect((err as FaultError).code).toBe('LAB_NOT_UP');
  });
});
