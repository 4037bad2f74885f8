// A read-only look at a Redis Sentinel deployment for `owui-chaos doctor` (docs/doctor.md): what
// each Sentinel says about the master (address, quorum, other Sentinels, down-after-milliseconds,
// failover-timeout, CKQUORUM), and the master's own `INFO replication` (role, replicas, offsets,
// lag). Only read commands; every connection has a short timeout and is closed before returning.

import type { Redis } from 'ioredis';
import { errorMessage } from '../../core/errors.js';
import type { RedisMeasure, SentinelView } from '../../core/doctor/judge.js';
import { masterAddr, parseRedisInfo, withRedisClient } from '../../infra/redis-probe.js';

export interface SentinelSurveyOptions {
  sentinels: Array<{ host: string; port: number }>;
  masterName: string;
  password?: string | undefined;
  sentinelPassword?: string | undefined;
  timeoutMs?: number;
}

export async function surveySentinels(o: SentinelSurveyOptions): Promise<RedisMeasure> {
  const timeout = o.timeoutMs ?? 2000;
  const views = await Promise.all(
    o.sentinels.map((s) =>
      withRedisClient(s, (r) => sentinelView(r, o.masterName), {
        timeoutMs: timeout,
        password: o.sentinelPassword,
      })
        .then((v) => ({ ...v, address: `${s.host}:${s.port}` }))
        .catch((err: unknown): SentinelView => ({
          address: `${s.host}:${s.port}`,
          reachable: false,
          error: errorMessage(err),
        })),
    ),
  );
  const measure: RedisMeasure = { masterName: o.masterName, sentinels: views };
  const named = views.find((v) => v.master !== undefined)?.master;
  if (named !== undefined) {
    const [host, port] = splitHostPort(named);
    measure.master = await withRedisClient(
      { host, port },
      async (r) => {
        const info = parseRedisInfo(String(await r.info('replication')));
        const replicas: NonNullable<RedisMeasure['master']>['replicas'] = [];
        for (const [k, v] of Object.entries(info)) {
          if (!/^slave\d+$/.test(k)) continue;
          const f = Object.fromEntries(v.split(',').map((kv) => kv.split('=') as [string, string]));
          replicas.push({
            address: `${f['ip'] ?? '?'}:${f['port'] ?? '?'}`,
            state: f['state'] ?? '?',
            offset: Number(f['offset'] ?? 0),
            lagS: Number(f['lag'] ?? 0),
          });
        }
        return {
          address: named,
          ...(info['role'] !== undefined ? { role: info['role'] } : {}),
          ...(info['master_repl_offset'] !== undefined ? { offset: Number(info['master_repl_offset']) } : {}),
          replicas,
        };
      },
      { timeoutMs: timeout, password: o.password },
    ).catch((err: unknown) => ({ address: named, error: errorMessage(err), replicas: [] }));
  }
  return measure;
}

async function sentinelView(r: Redis, masterName: string): Promise<Omit<SentinelView, 'address'>> {
  const addr = await masterAddr(r, masterName);
  if (!addr) return { reachable: true, error: `does not monitor \`${masterName}\`` };
  const flat = (await r.call('SENTINEL', 'master', masterName)) as string[];
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) f[String(flat[i])] = String(flat[i + 1]);
  let ckquorum: string;
  let ckquorumOk: boolean;
  try {
    ckquorum = String(await r.call('SENTINEL', 'ckquorum', masterName));
    ckquorumOk = true;
  } catch (err) {
    ckquorum = errorMessage(err);
    ckquorumOk = false;
  }
  return {
    reachable: true,
    master: `${addr.host}:${addr.port}`,
    ...(f['quorum'] !== undefined ? { quorum: Number(f['quorum']) } : {}),
    ...(f['num-other-sentinels'] !== undefined ? { otherSentinels: Number(f['num-other-sentinels']) } : {}),
    ...(f['down-after-milliseconds'] !== undefined
      ? { downAfterMs: Number(f['down-after-milliseconds']) }
      : {}),
    ...(f['failover-timeout'] !== undefined ? { failoverTimeoutMs: Number(f['failover-timeout']) } : {}),
    ...(f['flags'] !== undefined ? { flags: f['flags'] } : {}),
    ckquorum,
    ckquorumOk,
  };
}

function splitHostPort(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i), Number(address.slice(i + 1))];
}
