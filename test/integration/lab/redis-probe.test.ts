// The shared Redis probe client (src/infra/redis-probe.ts) against a real redis-server, and the
// lab's wait for a Redis node that uses it. The lab's copy of the client had a connect timeout but
// no command timeout: a node (checked: with those options connect() on a SIGSTOPped
// redis-server was still pending after 8 s) that accepts connections but never answers (SIGSTOP, a hung
// process) kept `lab up` waiting on PING for ever, past its budget.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBinary } from '../../../src/infra/process/binaries.js';
import { freePort, spawnDaemon, stopProcess, tcpOpen } from '../../../src/infra/process/daemon.js';
import { parseRedisInfo, withRedisClient } from '../../../src/infra/redis-probe.js';
import type { RedisNodeInfo } from '../../../src/infra/lab-state.js';
import { waitRedis } from '../../../src/lab/redis/redis-topology.js';
import { pollUntil } from '../../helpers/poll-until.js';

const redisServer = findBinary('redis-server');
const dir = mkdtempSync(join(tmpdir(), 'owui-chaos-redis-probe-'));
let pid = 0;
let port = 0;
let node: RedisNodeInfo;

beforeAll(async () => {
  if (!redisServer) return;
  port = await freePort();
  const d = await spawnDaemon({
    name: 'redis-probe',
    command: redisServer,
    args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    logFile: join(dir, 'redis.log'),
  });
  pid = d.pid;
  node = { ...d, role: 'master', port };
  await pollUntil('redis-server to listen', () => tcpOpen(port, '127.0.0.1'), { budgetMs: 10_000 });
});

afterAll(async () => {
  if (pid) {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // already gone
    }
    await stopProcess(pid, 3000);
  }
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!redisServer)('redis probe client', () => {
  it('answers through a live node and parses INFO', async () => {
    const at = { host: '127.0.0.1', port };
    expect(await withRedisClient(at, (r) => r.ping())).toBe('PONG');
    const info = parseRedisInfo(await withRedisClient(at, (r) => r.info('replication')));
    expect(info['role']).toBe('master');
    await waitRedis(node, 5000);
  });

  it('a refused node rejects, a stopped node rejects within the timeout, and waitRedis keeps its budget', async () => {
    const closed = await freePort();
    await expect(withRedisClient({ host: '127.0.0.1', port: closed }, (r) => r.ping())).rejects.toThrow();
    process.kill(pid, 'SIGSTOP');
    try {
      const began = Date.now();
      await expect(
        withRedisClient({ host: '127.0.0.1', port }, (r) => r.ping(), { timeoutMs: 500 }),
      ).rejects.toThrow();
      expect(Date.now() - began).toBeLessThan(5000);
      const waitBegan = Date.now();
      await expect(waitRedis(node, 1500)).rejects.toMatchObject({ code: 'LAB_PART_UNHEALTHY' });
      // Bounded by the budget plus one try (≤ 1 s), not for ever.
      expect(Date.now() - waitBegan).toBeLessThan(8000);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    expect(await withRedisClient({ host: '127.0.0.1', port }, (r) => r.ping())).toBe('PONG');
  });
});
