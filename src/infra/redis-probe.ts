// Short-lived Redis and Sentinel connections for probes (lab up / lab status, the Sentinel driver,
// doctor's survey): one place that decides how such a client behaves, so none of them can hang.
//
// Contract: `withRedisClient` connects once (no reconnects, no offline queue), bounds the connect
// AND every command by `timeoutMs` (default 2 s), and always disconnects, on success or error. A
// refused or hung node rejects within the timeout instead of waiting forever. `masterAddr` reads
// what a Sentinel says the master of `masterName` is (`SENTINEL get-master-addr-by-name`).

import { Redis } from 'ioredis';

export interface RedisEndpoint {
  host: string;
  port: number;
}

export interface RedisProbeOptions {
  /** Bound on the connect and on each command (default 2000 ms). */
  timeoutMs?: number;
  password?: string | undefined;
}

/** A lazily connecting client with the probe settings; the caller must `disconnect()` it. */
export function probeClient(node: RedisEndpoint, opts: RedisProbeOptions = {}): Redis {
  const timeout = opts.timeoutMs ?? 2000;
  const r = new Redis({
    host: node.host,
    port: node.port,
    ...(opts.password ? { password: opts.password } : {}),
    lazyConnect: true,
    connectTimeout: timeout,
    commandTimeout: timeout,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  r.on('error', () => undefined); // surfaced through connect()'s or the command's rejection
  return r;
}

/** Connects, runs `fn`, disconnects. */
export async function withRedisClient<T>(
  node: RedisEndpoint,
  fn: (r: Redis) => Promise<T>,
  opts: RedisProbeOptions = {},
): Promise<T> {
  const r = probeClient(node, opts);
  try {
    await r.connect();
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

/** The master a Sentinel names for `masterName`, or undefined when it does not monitor it. */
export async function masterAddr(r: Redis, masterName: string): Promise<RedisEndpoint | undefined> {
  const reply = (await r.call('SENTINEL', 'get-master-addr-by-name', masterName)) as [string, string] | null;
  return reply ? { host: String(reply[0]), port: Number(reply[1]) } : undefined;
}

/** `INFO` text → field map (section headers and blank lines skipped). */
export function parseRedisInfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}
