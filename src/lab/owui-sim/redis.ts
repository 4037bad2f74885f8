// Redis access with Open WebUI's failure semantics (openwebui-protocol.md §6.3):
// - `retry(op)` is the Sentinel retry proxy (with Sentinel hosts; a standalone client retries a
//   connection error once and throws READONLY): on a connection error, timeout or READONLY it drops
//   the master connection (so the next attempt re-resolves through Sentinel), sleeps
//   REDIS_RECONNECT_DELAY ms and retries, up to REDIS_SENTINEL_MAX_RETRY_COUNT attempts in total,
//   then rethrows (callers let that become a 5xx). Other errors are thrown at once.
// - Command clients never queue while Redis is down (no offline queue, one command timeout), so an
//   outage gives prompt errors; ioredis reconnects in the background and follows a failover.
// - Subscriber clients (Socket.IO adapter, task commands) do queue their SUBSCRIBE and resubscribe
//   after a reconnect; messages published while they were away are lost, as with real pub/sub.

import { Redis, type RedisOptions } from 'ioredis';
import type { SimRedisConfig } from './config.js';

export type Log = (line: string) => void;

const RETRIABLE = [
  "Stream isn't writeable",
  'Connection is closed',
  'Command timed out',
  'READONLY',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'max retries per request',
  'All sentinels are unreachable',
  'connect ',
  'Failed to connect',
  'LOADING',
];

export function isRetriableRedisError(err: unknown): boolean {
  const text = err instanceof Error ? `${err.name} ${err.message}` : String(err);
  return RETRIABLE.some((r) => text.includes(r));
}

/** ioredis' constructor types want `replyMapping` present under exactOptionalPropertyTypes. */
export type SimRedisOptions = RedisOptions & { replyMapping: 'legacy' };

export function redisOptions(
  cfg: SimRedisConfig,
  role: 'command' | 'subscriber',
  name: string,
): SimRedisOptions {
  const common: RedisOptions = {
    db: cfg.db,
    // RESP2: the Socket.IO adapter's pattern-message events are exercised most with it.
    protocol: 2,
    connectionName: name,
    connectTimeout: 2000,
    // Reconnect quickly and forever: a lab outage ends when the node or a new master is back.
    retryStrategy: (times) => Math.min(100 * times, 1000),
    lazyConnect: false,
    ...(cfg.username ? { username: cfg.username } : {}),
    ...(cfg.password ? { password: cfg.password } : {}),
  };
  const target: RedisOptions =
    cfg.sentinels.length > 0
      ? {
          sentinels: cfg.sentinels.map((s) => ({ host: s.host, port: s.port })),
          name: cfg.masterName,
          sentinelRetryStrategy: (times) => Math.min(100 * times, 1000),
          sentinelCommandTimeout: 1000,
          // Follows +switch-master at once instead of waiting for the old master to drop us.
          failoverDetector: true,
          ...(cfg.natMap ? { natMap: cfg.natMap } : {}),
        }
      : { host: cfg.host, port: cfg.port };
  const behaviour: RedisOptions =
    role === 'command'
      ? {
          enableOfflineQueue: false,
          maxRetriesPerRequest: 0,
          commandTimeout: 2000,
          autoResendUnfulfilledCommands: false,
        }
      : { enableOfflineQueue: true, maxRetriesPerRequest: null, autoResubscribe: true };
  return { ...common, ...target, ...behaviour, replyMapping: 'legacy' };
}

export class SimRedis {
  /** Commands: tasks, revocation, rate limiter, session pool, model registry. */
  readonly main: Redis;
  private readonly extra: Redis[] = [];
  private closed = false;

  constructor(
    readonly config: SimRedisConfig,
    private readonly log: Log,
    private readonly label: string,
  ) {
    this.main = this.track(new Redis(redisOptions(config, 'command', `${label}-main`)), 'main');
  }

  /** A new client of the given role with its errors logged (never thrown as 'error' events). */
  client(role: 'command' | 'subscriber', purpose: string): Redis {
    const c = this.track(new Redis(redisOptions(this.config, role, `${this.label}-${purpose}`)), purpose);
    this.extra.push(c);
    return c;
  }

  private track(c: Redis, purpose: string): Redis {
    let lastError = '';
    c.on('error', (err: Error) => {
      // One line per distinct error, not one per reconnect attempt.
      if (err.message !== lastError && !this.closed) this.log(`redis ${purpose}: ${err.message}`);
      lastError = err.message;
    });
    c.on('ready', () => {
      if (lastError) this.log(`redis ${purpose}: ready again`);
      lastError = '';
    });
    return c;
  }

  /**
   * Open WebUI's Sentinel retry proxy around one call on the main client. Without Sentinel hosts
   * (a pinned `REDIS_URL`) Open WebUI uses a plain client that retries a connection error once and
   * never re-resolves anything: a READONLY reply from a demoted master is thrown at once.
   */
  async retry<T>(op: (r: Redis) => Promise<T>): Promise<T> {
    const sentinel = this.config.sentinels.length > 0;
    const attempts = sentinel ? this.config.maxRetryCount : 2;
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        return await op(this.main);
      } catch (err) {
        if (!isRetriableRedisError(err)) throw err;
        if (!sentinel) {
          if (String((err as Error).message).includes('READONLY')) throw err;
          lastError = err;
          continue;
        }
        lastError = err;
        // "Drop the cached master": a READONLY reply means we still talk to a demoted node.
        if (String((err as Error).message).includes('READONLY')) this.main.disconnect(true);
        if (attempt < this.config.maxRetryCount && this.config.reconnectDelayMs > 0) {
          await new Promise((r) => setTimeout(r, this.config.reconnectDelayMs));
        }
      }
    }
    throw lastError;
  }

  /** Resolves when the main client is ready, or after `budgetMs` (startup does not need Redis). */
  async waitReady(budgetMs: number): Promise<boolean> {
    if (this.main.status === 'ready') return true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.main.off('ready', onReady);
        resolve(false);
      }, budgetMs);
      const onReady = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.main.once('ready', onReady);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const c of [this.main, ...this.extra]) c.disconnect(false);
  }
}
