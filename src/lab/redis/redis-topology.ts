// A real Redis HA topology on 127.0.0.1: one master, one replica, three Sentinels (quorum 2) with
// a short down-after so a lab failover takes seconds. Processes are detached daemons whose pids
// the caller persists; `stopRedisTopology` works from a fresh process given the same info.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { PreflightError } from '../../core/errors.js';
import {
  type DaemonInfo,
  freePort,
  sleep,
  spawnDaemon,
  stopProcess,
  tailFile,
} from '../../infra/process/daemon.js';
import { requireBinary } from '../../infra/process/binaries.js';
import type { RedisNodeInfo, RedisTopology } from '../../infra/lab-state.js';
import { withRedisClient } from '../../infra/redis-probe.js';

export interface RedisTopologyOptions {
  /** Directory for configs, data and logs (one subfolder per node). */
  dir: string;
  masterName?: string;
  /** Sentinel `down-after-milliseconds`. */
  downAfterMs?: number;
  failoverTimeoutMs?: number;
  /** Budget for every node to answer and the replica to sync. */
  readyBudgetMs?: number;
}

export async function startRedisTopology(opts: RedisTopologyOptions): Promise<RedisTopology> {
  const redisServer = requireBinary('redis-server', 'redis-server');
  const redisSentinel = requireBinary('redis-sentinel', 'redis-sentinel');
  const masterName = opts.masterName ?? 'mymaster';
  const budget = opts.readyBudgetMs ?? 20_000;
  const started: RedisNodeInfo[] = [];
  try {
    const masterPort = await freePort();
    const master = await startRedisNode(redisServer, opts.dir, 'redis-master', masterPort, []);
    started.push({ ...master, role: 'master', port: masterPort });
    const replicaPort = await freePort();
    const replica = await startRedisNode(redisServer, opts.dir, 'redis-replica', replicaPort, [
      `replicaof 127.0.0.1 ${masterPort}`,
    ]);
    started.push({ ...replica, role: 'replica', port: replicaPort });
    await waitRedis(started[0]!, budget);
    await waitRedis(started[1]!, budget, async (r) => {
      const info = await r.info('replication');
      return /master_link_status:up/.test(info);
    });
    for (let i = 1; i <= 3; i++) {
      const port = await freePort();
      const node = await startRedisNode(redisSentinel, opts.dir, `sentinel-${i}`, port, [
        `sentinel monitor ${masterName} 127.0.0.1 ${masterPort} 2`,
        `sentinel down-after-milliseconds ${masterName} ${opts.downAfterMs ?? 1000}`,
        `sentinel failover-timeout ${masterName} ${opts.failoverTimeoutMs ?? 5000}`,
        `sentinel parallel-syncs ${masterName} 1`,
      ]);
      started.push({ ...node, role: 'sentinel', port });
    }
    const sentinels = started.filter((n) => n.role === 'sentinel');
    for (const s of sentinels) {
      await waitRedis(s, budget, async (r) => {
        const reply = (await r.call('SENTINEL', 'sentinels', masterName)) as unknown[];
        return reply.length >= 2; // each sentinel sees the two others
      });
    }
    return { masterName, master: started[0]!, replica: started[1]!, sentinels };
  } catch (err) {
    await Promise.all(started.map((n) => stopProcess(n.pid, 2000)));
    throw err;
  }
}

export async function stopRedisTopology(
  topology: Pick<RedisTopology, 'master' | 'replica' | 'sentinels'>,
): Promise<void> {
  // Sentinels first, so they don't fail over while the data nodes go down.
  await Promise.all(topology.sentinels.map((s) => stopProcess(s.pid, 3000)));
  await Promise.all([stopProcess(topology.master.pid, 3000), stopProcess(topology.replica.pid, 3000)]);
}

async function startRedisNode(
  binary: string,
  root: string,
  name: string,
  port: number,
  extra: string[],
): Promise<DaemonInfo> {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const conf = join(dir, `${name}.conf`);
  // Sentinel rewrites its own config file, so every node gets its own writable copy.
  writeFileSync(
    conf,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      'protected-mode no',
      'daemonize no',
      `dir ${dir}`,
      'save ""',
      'appendonly no',
      'loglevel notice',
      // A demoted master resyncs at once after a failover instead of after Redis 7's 5 s default.
      'repl-diskless-sync-delay 0',
      ...extra,
      '',
    ].join('\n'),
  );
  return spawnDaemon({ name, command: binary, args: [conf], logFile: join(dir, `${name}.log`) });
}

/** Waits until `node` answers PING (and `ready`), each try bounded; exported for its test. */
export async function waitRedis(
  node: RedisNodeInfo,
  budgetMs: number,
  ready: (r: Redis) => Promise<boolean> = async () => true,
): Promise<void> {
  const deadline = Date.now() + budgetMs;
  let lastError = '';
  while (Date.now() < deadline) {
    try {
      // Each command is bounded too: a node that accepts but never answers (stopped, hung) used
      // to hold `lab up` here for ever, past its budget.
      const ok = await withRedisClient(
        { host: '127.0.0.1', port: node.port },
        async (client) => (await client.ping()) === 'PONG' && (await ready(client)),
        { timeoutMs: Math.max(100, Math.min(1000, deadline - Date.now())) },
      );
      if (ok) return;
      lastError = 'not ready yet';
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    await sleep(100);
  }
  throw new PreflightError(
    `${node.name} on 127.0.0.1:${node.port} did not become ready within ${Math.round(budgetMs / 1000)} s (${lastError})`,
    {
      code: 'LAB_PART_UNHEALTHY',
      suggestions: [`cat ${node.logFile}`],
      cause: new Error(tailFile(node.logFile, 15) || 'log is empty'),
    },
  );
}
