// The Socket.IO side of a replica (docs/openwebui-protocol.md §2.6, §4, §6.2), on the real `socket.io`
// package:
// - path `/ws/socket.io`, websocket transport only, EIO=4 only; the guards run BEFORE engine.io
//   and answer like Open WebUI: the upgrade guard (400 `{"detail":"Invalid WebSocket upgrade
//   request"}`), the Origin check against CORS_ALLOW_ORIGIN, "unsupported version", and
//   "Invalid transport" for polling;
// - `always_connect`: every CONNECT succeeds; only a valid user/admin JWT writes the session pool
//   and joins room `user:{id}`; a Redis error on that write leaves the socket connected but roomless;
// - `user-join` (ack `{id, name}`), `heartbeat` (≥ 0.6.41), `usage`, `join-channels`, `join-note`;
// - the 120 s session reaper behind `{p}:session_cleanup_lock`;
// - cross-replica fan-out with @socket.io/redis-adapter on the unprefixed `socketio` channel; a
//   publish is tried twice then dropped, like python-socketio's manager.

import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { createAdapter } from '@socket.io/redis-adapter';
import type { Redis } from 'ioredis';
import { Server, type Socket } from 'socket.io';
import type { AuthService } from './auth.js';
import type { SimContext } from './context.js';
import type { SimUser } from './store.js';

export const SOCKET_PATH = '/ws/socket.io';

export interface GuardRejection {
  status: 400;
  contentType: string;
  body: string;
  /** Refused by engine.io itself (not the upgrade-guard middleware): a websocket handshake gets 403. */
  engineio: boolean;
}

/** python-engineio's `_bad_request`: a JSON string body, text/plain. */
function badRequest(message: string): GuardRejection {
  return { status: 400, contentType: 'text/plain', body: JSON.stringify(message), engineio: true };
}

export function isSocketPath(pathname: string): boolean {
  return pathname === SOCKET_PATH || pathname === `${SOCKET_PATH}/`;
}

export function originAllowed(
  ctx: Pick<SimContext, 'config' | 'features'>,
  origin: string | undefined,
): boolean {
  if (origin === undefined || origin === '' || ctx.features.originCheck === 'none') return true;
  const allowed = ctx.config.corsAllowOrigin;
  // 0.6.35 took `*` literally, so every real browser Origin was refused (#18973).
  if (ctx.features.originCheck === 'normal' && allowed.includes('*')) return true;
  return allowed.includes(origin);
}

/** The checks Open WebUI runs before engine.io accepts a request; undefined = let it through. */
export function socketGuard(
  ctx: Pick<SimContext, 'config' | 'features'>,
  req: Pick<IncomingMessage, 'headers'>,
  query: URLSearchParams,
  isUpgrade: boolean,
): GuardRejection | undefined {
  const transport = query.get('transport') ?? 'polling';
  const upgradeHeader = String(req.headers.upgrade ?? '').toLowerCase();
  const connectionHeader = String(req.headers.connection ?? '').toLowerCase();
  if (
    transport === 'websocket' &&
    (!isUpgrade || upgradeHeader !== 'websocket' || !connectionHeader.includes('upgrade'))
  ) {
    return {
      status: 400,
      contentType: 'application/json',
      body: JSON.stringify({ detail: 'Invalid WebSocket upgrade request' }),
      engineio: false,
    };
  }
  const origin = req.headers.origin;
  if (!originAllowed(ctx, origin)) return badRequest(`${origin} is not an accepted origin.`);
  if (query.get('EIO') !== '4')
    return badRequest('The client is using an unsupported version of the Socket.IO or Engine.IO protocols');
  if (transport !== 'websocket') return badRequest('Invalid transport');
  return undefined;
}

/** Session-pool entries idle longer than `idleSec` (the reaper's victims). */
export function staleSessions(pool: Record<string, string>, nowSec: number, idleSec: number): string[] {
  const out: string[] = [];
  for (const [sid, raw] of Object.entries(pool)) {
    let lastSeen: number;
    try {
      lastSeen = Number((JSON.parse(raw) as { last_seen_at?: unknown }).last_seen_at ?? 0);
    } catch {
      lastSeen = 0;
    }
    if (!(nowSec - lastSeen <= idleSec)) out.push(sid);
  }
  return out;
}

/**
 * What the Redis adapter sees of its clients: every promise it would leave floating gets a
 * catch (an unhandled rejection would kill the replica), and publish gets two tries.
 */
function adapterClients(pub: Redis, sub: Redis, log: (line: string) => void): { pub: object; sub: object } {
  const quiet = (what: string) => (p: unknown) => {
    if (p && typeof (p as Promise<unknown>).catch === 'function') {
      (p as Promise<unknown>).catch((err: Error) => log(`socket.io redis ${what}: ${err.message}`));
    }
    return p;
  };
  let dropped = 0;
  const pubWrapper = {
    publish: async (channel: string, message: Buffer | string): Promise<number> => {
      for (let attempt = 1; attempt <= 2; attempt++) {
        try {
          return await pub.publish(channel, message);
        } catch (err) {
          if (attempt === 2) {
            dropped++;
            log(`Cannot publish to redis... giving up (${(err as Error).message}; ${dropped} dropped)`);
          }
        }
      }
      return 0;
    },
    send_command: (...args: unknown[]) =>
      quiet('command')(
        (pub as unknown as { send_command: (...a: unknown[]) => unknown }).send_command(...args),
      ),
    on: (ev: string, fn: (...a: unknown[]) => void) => (pub.on(ev, fn), pubWrapper),
    off: (ev: string, fn: (...a: unknown[]) => void) => (pub.off(ev, fn), pubWrapper),
  };
  const call =
    (name: string) =>
    (...args: unknown[]) =>
      quiet(name)((sub as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!.apply(sub, args));
  const subWrapper = {
    psubscribe: call('psubscribe'),
    punsubscribe: call('punsubscribe'),
    subscribe: call('subscribe'),
    unsubscribe: call('unsubscribe'),
    on: (ev: string, fn: (...a: unknown[]) => void) => (sub.on(ev, fn), subWrapper),
    off: (ev: string, fn: (...a: unknown[]) => void) => (sub.off(ev, fn), subWrapper),
  };
  return { pub: pubWrapper, sub: subWrapper };
}

export class SocketLayer {
  readonly io: Server;
  private reaper: NodeJS.Timeout | undefined;
  private readonly lockValue = randomUUID();

  constructor(
    private readonly ctx: SimContext,
    private readonly auth: AuthService,
    httpServer: HttpServer,
  ) {
    this.io = new Server({
      path: SOCKET_PATH,
      transports: ['websocket'],
      allowUpgrades: false,
      serveClient: false,
      pingInterval: ctx.config.pingIntervalMs,
      pingTimeout: ctx.config.pingTimeoutMs,
      maxHttpBufferSize: 1e6,
    });
    // Attach, then take the engine's listeners away: our guards must run first (see handleUpgrade).
    this.io.attach(httpServer);
    httpServer.removeAllListeners('request');
    httpServer.removeAllListeners('upgrade');
    this.io.engine.on('headers', (headers: Record<string, string>) => {
      headers['X-OWUI-Replica'] = ctx.config.replicaName;
    });
    if (ctx.config.websocketRedis && ctx.redis) {
      const clients = adapterClients(
        ctx.redis.client('command', 'sio-pub'),
        ctx.redis.client('subscriber', 'sio-sub'),
        ctx.log,
      );
      this.io.adapter(createAdapter(clients.pub, clients.sub, { key: 'socketio' }));
    }
    this.io.on('connection', (socket) => this.onConnection(socket));
    if (ctx.features.heartbeat && ctx.redis) {
      this.reaper = setInterval(() => void this.reap(), ctx.config.sessionReaperIntervalMs);
      this.reaper.unref();
    }
  }

  /** Runs the guards, then hands the upgrade to engine.io; returns the status for the access log. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): { status: number } {
    const rejection = socketGuard(this.ctx, req, url.searchParams, true);
    if (rejection) {
      socket.on('error', () => undefined);
      if (rejection.engineio) {
        // A real websocket handshake that engine.io refuses (Origin, EIO version) is closed before
        // it is accepted; uvicorn answers that with 403 and an empty body (verified on 0.12.4).
        socket.end(
          'HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n' +
            `Content-Type: text/plain; charset=utf-8\r\nX-OWUI-Replica: ${this.ctx.config.replicaName}\r\n\r\n`,
        );
        return { status: 403 };
      }
      socket.end(
        `HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: ${rejection.contentType}\r\n` +
          `Content-Length: ${Buffer.byteLength(rejection.body)}\r\nX-OWUI-Replica: ${this.ctx.config.replicaName}\r\n\r\n${rejection.body}`,
      );
      return { status: 400 };
    }
    this.io.engine.handleUpgrade(req, socket, head);
    return { status: 101 };
  }

  private poolEntry(user: SimUser): string {
    return JSON.stringify({
      id: user.id,
      name: user.name,
      email: user.email,
      role: user.role,
      profile_image_url: user.profile_image_url,
      last_seen_at: Math.floor(Date.now() / 1000),
    });
  }

  /** Session pool write, then the room: a Redis error leaves the socket without a room. */
  private async join(socket: Socket, user: SimUser): Promise<void> {
    if (this.ctx.redis) {
      const redis = this.ctx.redis;
      await redis.retry((r) => r.hset(this.ctx.key('session_pool'), socket.id, this.poolEntry(user)));
      if (this.ctx.features.userPool) {
        const key = this.ctx.key('user_pool');
        const sids = JSON.parse((await redis.retry((r) => r.hget(key, user.id))) ?? '[]') as string[];
        if (!sids.includes(socket.id)) sids.push(socket.id);
        await redis.retry((r) => r.hset(key, user.id, JSON.stringify(sids)));
      }
    }
    await socket.join(`user:${user.id}`);
  }

  private onConnection(socket: Socket): void {
    const log = this.ctx.log;
    const token = (socket.handshake.auth as { token?: unknown } | undefined)?.token;
    void (async () => {
      const user = await this.auth.socketUser(token);
      if (user) await this.join(socket, user);
    })().catch((err: Error) => log(`socket connect ${socket.id}: ${err.message}`));

    socket.on('user-join', (data: unknown, ack?: (reply?: unknown) => void) => {
      void (async () => {
        const t = (data as { auth?: { token?: unknown } } | null)?.auth?.token;
        const user = await this.auth.socketUser(t);
        if (!user) return undefined;
        await this.join(socket, user);
        return { id: user.id, name: user.name };
      })()
        .catch((err: Error) => {
          log(`user-join ${socket.id}: ${err.message}`);
          return undefined;
        })
        .then((reply) => {
          if (typeof ack !== 'function') return;
          if (reply === undefined) ack();
          else ack(reply);
        });
    });

    socket.on('heartbeat', () => {
      const redis = this.ctx.redis;
      if (!this.ctx.features.heartbeat || !redis) return;
      const key = this.ctx.key('session_pool');
      void (async () => {
        const raw = await redis.retry((r) => r.hget(key, socket.id));
        if (!raw) return;
        const entry = {
          ...(JSON.parse(raw) as Record<string, unknown>),
          last_seen_at: Math.floor(Date.now() / 1000),
        };
        await redis.retry((r) => r.hset(key, socket.id, JSON.stringify(entry)));
      })().catch((err: Error) => log(`heartbeat ${socket.id}: ${err.message}`));
    });

    // Tolerated, as the real server accepts them; their side effects are not simulated.
    for (const name of ['usage', 'join-channels', 'join-note', 'events:chat', 'events:channel']) {
      socket.on(name, (_data: unknown, ack?: unknown) => {
        if (typeof ack === 'function') (ack as () => void)();
      });
    }

    socket.on('disconnect', () => {
      const redis = this.ctx.redis;
      if (!redis) return;
      redis.retry((r) => r.hdel(this.ctx.key('session_pool'), socket.id)).catch(() => undefined);
    });
  }

  private async reap(): Promise<void> {
    const redis = this.ctx.redis;
    if (!redis) return;
    try {
      const lock = this.ctx.key('session_cleanup_lock');
      const got = await redis.retry((r) =>
        r.set(lock, this.lockValue, 'EX', this.ctx.config.lockTimeoutSec, 'NX'),
      );
      const mine = got === 'OK' || (await redis.retry((r) => r.get(lock))) === this.lockValue;
      if (!mine) return;
      await redis.retry((r) => r.expire(lock, this.ctx.config.lockTimeoutSec));
      const pool = await redis.retry((r) => r.hgetall(this.ctx.key('session_pool')));
      const stale = staleSessions(
        pool,
        Math.floor(Date.now() / 1000),
        Math.floor(this.ctx.config.sessionIdleMs / 1000),
      );
      if (stale.length > 0) await redis.retry((r) => r.hdel(this.ctx.key('session_pool'), ...stale));
    } catch (err) {
      this.ctx.log(`Unable to renew session cleanup lock / reap sessions: ${(err as Error).message}`);
    }
  }

  /**
   * Emits one envelope to a user the way the version does: room `user:{id}` (≥ 0.6.37; skipped
   * when the room is not local and there is no Redis manager), else the user's sids + session_id.
   */
  async emitToUser(userId: string, sessionId: string | undefined, envelope: unknown): Promise<void> {
    const event = this.ctx.features.eventName;
    if (this.ctx.features.emitToUserRoom) {
      const room = `user:${userId}`;
      if (this.ctx.config.websocketRedis || this.io.of('/').adapter.rooms.has(room))
        this.io.to(room).emit(event, envelope);
      return;
    }
    const sids = new Set<string>();
    if (sessionId) sids.add(sessionId);
    if (this.ctx.features.userPool && this.ctx.redis) {
      const redis = this.ctx.redis;
      const raw = await redis.retry((r) => r.hget(this.ctx.key('user_pool'), userId)).catch(() => null);
      for (const sid of JSON.parse(raw ?? '[]') as string[]) sids.add(sid);
    }
    if (sids.size > 0) this.io.to([...sids]).emit(event, envelope);
  }

  /** Drops every local socket (SIGTERM: the dying replica closes its own sockets first). */
  disconnectLocal(): void {
    this.io.local.disconnectSockets(true);
  }

  async close(): Promise<void> {
    if (this.reaper) clearInterval(this.reaper);
    this.disconnectLocal();
    this.io.engine.close();
    // The adapter's unsubscribe calls are caught by the wrappers; the clients close with SimRedis.
    await Promise.allSettled([this.io.of('/').adapter.close()]);
  }
}
