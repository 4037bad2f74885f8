// Lab part: Redis master + replica + 3 Sentinels (src/lab/redis/redis-topology.ts), and the
// Toxiproxy proxies `redis-master` / `redis-replica` in front of the two data nodes. Status asks
// each data node its replication role and each Sentinel the master it knows.

import { errorMessage } from '../../core/errors.js';
import { requireBinary } from '../../infra/process/binaries.js';
import { masterAddr, parseRedisInfo, withRedisClient } from '../../infra/redis-probe.js';
import { startRedisTopology, stopRedisTopology } from '../redis/redis-topology.js';
import { MASTER_NAME, PROXY_REDIS_MASTER, PROXY_REDIS_REPLICA } from './names.js';
import { NO_ENDPOINTS, partDir, type LabPartStatus, type LabPart, type SentinelView } from './part.js';
import { createProxy } from './toxiproxy.js';

export const redisPart: LabPart = {
  name: 'redis',

  check() {
    requireBinary('redis-server', 'redis-server');
    requireBinary('redis-sentinel', 'redis-sentinel');
  },

  async up(ctx) {
    const { settings, state, save, progress } = ctx;
    progress('starting Redis master, replica and 3 Sentinels');
    const redis = await startRedisTopology({
      dir: partDir(settings.stateDir, 'redis'),
      masterName: MASTER_NAME,
      readyBudgetMs: settings.budgetMs,
    });
    state.redis = redis;
    save();
    await createProxy(ctx, PROXY_REDIS_MASTER, redis.master.port);
    await createProxy(ctx, PROXY_REDIS_REPLICA, redis.replica.port);
    progress(
      `Redis ready: master :${redis.master.port}, replica :${redis.replica.port}, sentinels ${redis.sentinels.map((s) => `:${s.port}`).join(' ')}`,
    );
  },

  async status(state) {
    const redis = state.redis;
    if (!redis) return { parts: [] };
    const parts: LabPartStatus[] = [];
    const sentinels: SentinelView[] = [];
    for (const node of [redis.master, redis.replica]) {
      const r = await redisRole(node.port);
      parts.push({
        part: 'redis',
        name: node.name,
        endpoint: `127.0.0.1:${node.port}`,
        pid: node.pid,
        healthy: r.ok,
        detail: r.detail,
      });
    }
    for (const s of redis.sentinels) {
      const m = await sentinelMaster(s.port, redis.masterName);
      sentinels.push({
        name: s.name,
        port: s.port,
        ...(m.master ? { master: m.master } : {}),
        ...(m.error ? { error: m.error } : {}),
      });
      parts.push({
        part: 'sentinel',
        name: s.name,
        endpoint: `127.0.0.1:${s.port}`,
        pid: s.pid,
        healthy: m.master !== undefined,
        detail: m.master ? `master ${m.master}` : (m.error ?? ''),
      });
    }
    return { parts, sentinels };
  },

  async down(state, d) {
    const redis = state.redis;
    if (redis) await d.attempt('redis', () => stopRedisTopology(redis));
  },

  endpoints(state) {
    const redis = state.redis;
    if (!redis) return NO_ENDPOINTS;
    return {
      rows: [
        ...[redis.master, redis.replica].map((n) => ({
          part: 'redis',
          name: n.name,
          endpoint: `127.0.0.1:${n.port}`,
          pid: n.pid,
        })),
        ...redis.sentinels.map((s) => ({
          part: 'sentinel',
          name: s.name,
          endpoint: `127.0.0.1:${s.port}`,
          pid: s.pid,
        })),
      ],
      pids: [
        { part: 'redis-master', pid: redis.master.pid },
        { part: 'redis-replica', pid: redis.replica.pid },
        ...redis.sentinels.map((s) => ({ part: s.name, pid: s.pid })),
      ],
      ports: [redis.master.port, redis.replica.port, ...redis.sentinels.map((s) => s.port)],
    };
  },
};

async function redisRole(port: number): Promise<{ ok: boolean; detail: string }> {
  try {
    const info = parseRedisInfo(await withRedisClient(local(port), (r) => r.info('replication')));
    const role = info['role'] ?? '?';
    const link = info['master_link_status'];
    return {
      ok: role === 'master' || link === 'up',
      detail: link ? `role ${role}, link ${link}` : `role ${role}`,
    };
  } catch (err) {
    return { ok: false, detail: errorMessage(err) };
  }
}

async function sentinelMaster(
  port: number,
  masterName: string,
): Promise<{ master?: string; error?: string }> {
  try {
    const m = await withRedisClient(local(port), (r) => masterAddr(r, masterName));
    if (!m) return { error: `no master known for ${masterName}` };
    return { master: `${m.host}:${m.port}` };
  } catch (err) {
    return { error: errorMessage(err) };
  }
}

function local(port: number): { host: string; port: number } {
  return { host: '127.0.0.1', port };
}
