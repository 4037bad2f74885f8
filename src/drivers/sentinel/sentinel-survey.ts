// A read-only look at a Redis Sentinel deployment for `owui-chaos doctor` (docs/doctor.md): what
// each Sentinel says about the master (address, quorum, other Sentinels, down-after-milliseconds,
// failover-timeout, CKQUORUM), and the master's own `INFO replication` (role, replicas, offsets,
// lag). Only read commands; every connection has a short timeout and is closed before returning.

import { Redis } from 'ioredis';
import { errorMessage } from '../../core/errors.js';
import type { RedisMeasure, SentinelView } from '../../core/doctor/judge.js';

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
      withClient(s.host, s.port, o.sentinelPassword, timeout, (r) => sentinelView(r, o.masterName))
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
    measure.master = await withClient(host, port, o.password, timeout, async (r) => {
      const info = parseInfo(String(await r.info('replication')));
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
    }).catch((err: unknown) => ({ address: named, error: errorMessage(err), replicas: [] }));
  }
  return measure;
}

async function sentinelView(r: Redis, masterName: string): Promise<Omit<SentinelView, 'address'>> {
  const addr = (await r.call('SENTINEL', 'get-master-addr-by-name', masterName)) as [string, string] | null;
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
    master: `${addr[0]}:${addr[1]}`,
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

async function withClient<T>(
  host: string,
  port: number,
  password: string | undefined,
  timeoutMs: number,
  fn: (r: Redis) => Promise<T>,
): Promise<T> {
  const r = new Redis({
    host,
    port,
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    ...(password ? { password } : {}),
  });
  r.on('error', () => undefined); // a refused connect rejects connect(); no unhandled 'error' event
  try {
    await r.connect();
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

function parseInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

function splitHostPort(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i), Number(address.slice(i + 1))];
}
