// The lease (src/app/safety/lease.ts) in the deployment's own Redis, found through its Sentinels:
// one key per target, `SET NX PX ttl`, refreshed by its holder (compare-and-extend) while the run
// lives, released by compare-and-delete. A holder that dies stops refreshing and the key expires
// within the TTL, so a second operator on another machine is refused while a run lives and is let
// in once it is gone. After a failover the key may not have reached the new master yet: the
// holder's next refresh puts it back (only if nobody took it meanwhile).

import { Redis } from 'ioredis';
import type { RedisNodeAddress } from '../../core/ports.js';

export interface RedisLeaseOptions {
  sentinels: RedisNodeAddress[];
  masterName: string;
  password?: string;
  sentinelPassword?: string;
  /** Key suffix: the target's name. */
  target: string;
  /** Default 30 s; refreshed every third of it. */
  ttlMs?: number;
  commandTimeoutMs?: number;
}

interface Holder {
  token: string;
}

const REFRESH = `
local v = redis.call('GET', KEYS[1])
if not v then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 2 end
local ok, h = pcall(cjson.decode, v)
if ok and h.token == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[3]) return 1 end
return 0`;

const RELEASE = `
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local ok, h = pcall(cjson.decode, v)
if ok and h.token == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export class RedisLeaseStore<H extends Holder> {
  readonly kind = 'redis' as const;
  readonly key: string;
  readonly refreshEveryMs: number;
  private readonly ttlMs: number;
  private readonly client: Redis;

  constructor(private readonly opts: RedisLeaseOptions) {
    this.ttlMs = opts.ttlMs ?? 30_000;
    this.refreshEveryMs = Math.max(200, Math.floor(this.ttlMs / 3));
    this.key = `owui-chaos:lease:${opts.target}`;
    const timeout = opts.commandTimeoutMs ?? 3000;
    this.client = new Redis({
      sentinels: opts.sentinels,
      name: opts.masterName,
      ...(opts.password ? { password: opts.password } : {}),
      ...(opts.sentinelPassword ? { sentinelPassword: opts.sentinelPassword } : {}),
      lazyConnect: true,
      connectTimeout: timeout,
      commandTimeout: timeout,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: true,
      sentinelRetryStrategy: (times) => (times > 20 ? null : Math.min(times * 200, 1000)),
    });
    this.client.on('error', () => undefined); // failures surface on the commands
  }

  get where(): string {
    const s = this.opts.sentinels[0];
    return `Redis key ${this.key} (master \`${this.opts.masterName}\` via Sentinel ${s ? `${s.host}:${s.port}` : '?'})`;
  }

  async tryAcquire(holder: H): Promise<{ ok: true } | { ok: false; holder: H | undefined; ttlMs?: number }> {
    const set = await this.client.set(this.key, JSON.stringify(holder), 'PX', this.ttlMs, 'NX');
    if (set === 'OK') return { ok: true };
    const [raw, ttl] = await Promise.all([this.client.get(this.key), this.client.pttl(this.key)]);
    let current: H | undefined;
    try {
      current = raw ? (JSON.parse(raw) as H) : undefined;
    } catch {
      current = undefined;
    }
    return { ok: false, holder: current, ...(ttl > 0 ? { ttlMs: ttl } : {}) };
  }

  async breakLease(stale: H | undefined): Promise<void> {
    if (stale) await this.client.eval(RELEASE, 1, this.key, stale.token);
    else await this.client.del(this.key);
  }

  async refresh(holder: H): Promise<boolean> {
    const r = await this.client.eval(REFRESH, 1, this.key, holder.token, JSON.stringify(holder), this.ttlMs);
    return Number(r) > 0;
  }

  async release(holder: H): Promise<void> {
    await this.client.eval(RELEASE, 1, this.key, holder.token);
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}
