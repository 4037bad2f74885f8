// One Open WebUI simulator replica: HTTP routes + Socket.IO on one node:http server
// (docs/openwebui-protocol.md §10.1 is the checklist).
//
// Contract: `startOwuiSim(configFromEnv(env))` listens on config.host:config.port (0 = free port)
// and resolves once it serves; `close()` is the SIGTERM path (stop accepting, drop local sockets,
// cancel local tasks with partial save + `chat:tasks:cancel` through Redis, clean task keys, close);
// `kill()` is the in-process stand-in for SIGKILL (connections cut, nothing cleaned up). Every HTTP
// response carries `X-OWUI-Replica`; one access-log line per request (except `/health`, which
// Open WebUI leaves out of its access log) goes to `log`.
//
// Chats that hang when a replica goes away (client outcome `timeout`), and why that is faithful
// (docs/openwebui-protocol.md §8.2; checked end to end through nginx by
// test/integration/lab/owui-sim-restart.test.ts). Nothing here ever holds a connection open
// without data: SIGTERM and SIGKILL both cut the replica's SSE streams at once (nginx turns that
// into a truncated chunked body) and drop its sockets; `close()` finishes in tens of ms. The
// socket chats that still never see an end are the ones Open WebUI leaves hanging too:
// - SIGTERM, socket and task on the same replica: the replica closes its own sockets first, so
//   the `chat:tasks:cancel` it then sends through Redis reaches no socket of that client (the
//   cancel path did run: partial answer saved with done:true, task keys gone);
// - SIGTERM or restart, socket on the dying replica, task on another: every event emitted while
//   the browser reconnects (0.5–1.5 s backoff) is lost, `done` included when the stream ends then;
// - SIGKILL, task on the killed replica: no event ever; its task ids stay listed until a stop.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket as NetSocket } from 'node:net';
import { AuthService } from './auth.js';
import { ChatService } from './chat.js';
import { INSTANCE_HEADER, type OwuiSimConfig } from './config.js';
import type { SimContext } from './context.js';
import { HttpError, sendJson, sendText } from './http-util.js';
import { type Log, SimRedis } from './redis.js';
import { isSocketPath, SocketLayer, socketGuard } from './socket.js';
import { createStore } from './store.js';
import { ModelRegistry } from './upstream.js';

export interface OwuiSimHandle {
  url: string;
  port: number;
  /** Graceful stop (what SIGTERM does). Idempotent. */
  close(): Promise<void>;
  /** Abrupt stop (what SIGKILL leaves behind): no cleanup, no events. Idempotent. */
  kill(): Promise<void>;
}

export interface OwuiSimOptions {
  /** Where log lines go; default stdout. */
  log?: Log;
}

const SPA_HTML =
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Open WebUI</title></head><body><div id="app"></div></body></html>\n';

export async function startOwuiSim(
  config: OwuiSimConfig,
  options: OwuiSimOptions = {},
): Promise<OwuiSimHandle> {
  const log: Log =
    options.log ??
    ((line) => process.stdout.write(`${new Date().toISOString()} ${config.replicaName} ${line}\n`));
  const store = await createStore(config.store);
  const redis = config.redis ? new SimRedis(config.redis, log, config.replicaName) : undefined;
  const ctx: SimContext = {
    config,
    features: config.features,
    store,
    redis,
    log,
    key: (suffix) => `${config.keyPrefix}:${suffix}`,
  };
  const auth = new AuthService(ctx);
  const models = new ModelRegistry(ctx);
  let startupComplete = false;

  const server = createServer();
  server.keepAliveTimeout = 5000;
  const sockets = new SocketLayer(ctx, auth, server);
  const chat = new ChatService(ctx, auth, models, sockets);
  const connections = new Set<NetSocket>();
  server.on('connection', (s: NetSocket) => {
    connections.add(s);
    s.on('close', () => connections.delete(s));
  });

  const cors = (req: IncomingMessage, res: ServerResponse): void => {
    const origin = req.headers.origin;
    if (!origin) return;
    const allowed = config.corsAllowOrigin;
    if (allowed.includes('*') || allowed.includes(origin)) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-allow-credentials', 'true');
      res.setHeader('vary', 'Origin');
    }
  };

  async function route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = req.method ?? 'GET';
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (method === 'OPTIONS' && req.headers['access-control-request-method']) {
      res.writeHead(200, {
        'access-control-allow-methods': 'DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT',
        'access-control-allow-headers': String(req.headers['access-control-request-headers'] ?? '*'),
        'content-length': 0,
      });
      res.end();
      return;
    }
    // ≤ 0.9.5 an HTTP middleware reads `ENABLE_API_KEYS` from the Redis-backed config on EVERY
    // request, so with Redis down every endpoint, /health included, is a bare 500 (verified on
    // 0.8.12, docs/openwebui-protocol.md §6).
    await auth.configRead('auth.api_key.enable');
    const get = method === 'GET' || method === 'HEAD';
    if (get && path === '/health') return sendJson(res, 200, { status: true });
    if (get && path === '/health/db') {
      await store.ping().catch(() => {
        throw new HttpError(500, 'Database not ready');
      });
      return sendJson(res, 200, { status: true });
    }
    if (get && path === '/ready' && config.features.readyEndpoint) {
      if (!startupComplete) return sendJson(res, 503, { detail: 'Startup not complete' });
      const dbOk = await store.ping().then(
        () => true,
        () => false,
      );
      if (!dbOk) return sendJson(res, 503, { detail: 'Database not ready' });
      if (redis) {
        const redisOk = await redis
          .retry((r) => r.ping())
          .then(
            () => true,
            () => false,
          );
        if (!redisOk) return sendJson(res, 503, { detail: 'Redis not ready' });
      }
      return sendJson(res, 200, { status: true });
    }
    if (get && path === '/api/version') {
      return sendJson(
        res,
        200,
        config.features.deploymentId
          ? { version: config.features.version, deployment_id: config.deploymentId }
          : { version: config.features.version },
      );
    }
    if (get && path === '/api/config') {
      await auth.configRead('ui');
      const onboarding = (await store.countUsers()) === 0;
      return sendJson(res, 200, {
        status: true,
        name: 'Open WebUI',
        version: config.features.version,
        default_locale: '',
        oauth: { providers: {}, auto_redirect: false },
        features: {
          auth: true,
          auth_trusted_header: false,
          enable_ldap: false,
          enable_api_keys: config.enableApiKeys,
          enable_signup: config.enableSignup,
          enable_login_form: config.enablePasswordAuth,
          enable_websocket: true,
          enable_version_update_check: false,
        },
        ...(onboarding ? { onboarding: true } : {}),
      });
    }
    if (get && (path === '/api/models' || path === '/api/v1/models' || path === '/api/models/base')) {
      const authed = path === '/api/models/base' ? await auth.adminUser(req) : await auth.verifiedUser(req);
      await auth.configRead('models');
      const list = await models.list(url.searchParams.get('refresh') === 'true');
      const visible = authed.user.role === 'admin' || config.bypassModelAccessControl ? list : [];
      return sendJson(res, 200, { data: visible });
    }
    if (method === 'POST' && (path === '/api/chat/completions' || path === '/api/v1/chat/completions'))
      return chat.completions(req, res);
    if (method === 'POST' && path === '/api/chat/completed') {
      await auth.verifiedUser(req);
      return sendJson(res, 200, {});
    }
    let m = /^\/api\/tasks\/chat\/([^/]+)\/stop$/.exec(path);
    if (method === 'POST' && m) return chat.stopChat(req, res, decodeURIComponent(m[1]!));
    m = /^\/api\/tasks\/chat\/([^/]+)$/.exec(path);
    if (get && m) return chat.listChatTasks(req, res, decodeURIComponent(m[1]!));
    m = /^\/api\/tasks\/stop\/([^/]+)$/.exec(path);
    if (method === 'POST' && m) return chat.stopTask(req, res, decodeURIComponent(m[1]!));
    if (get && path === '/api/tasks') return chat.listTasks(req, res);
    m = /^\/api\/v1\/chats\/([^/]+)$/.exec(path);
    if (get && m) return chat.getChat(req, res, decodeURIComponent(m[1]!));
    if (path.startsWith('/api/v1/auths')) {
      const sub = path.slice('/api/v1/auths'.length);
      if (method === 'POST' && sub === '/signin') return auth.signin(req, res);
      if (method === 'POST' && sub === '/signup') return auth.signup(req, res);
      if (method === 'POST' && sub === '/add') return auth.add(req, res);
      if ((method === 'POST' || get) && sub === '/signout') return auth.signout(req, res);
      if (get && sub === '') return auth.session(req, res);
      if (sub === '/api_key' && ['GET', 'POST', 'DELETE'].includes(method))
        return auth.apiKey(req, res, method);
    }
    // The SPA's static mount answers everything else: index.html for GET, 405 otherwise.
    if (get) return sendText(res, 200, SPA_HTML, 'text/html; charset=utf-8');
    return sendJson(res, 405, { detail: 'Method Not Allowed' });
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://sim.local');
    res.setHeader('X-OWUI-Replica', config.replicaName);
    if (config.instanceId) res.setHeader(INSTANCE_HEADER, config.instanceId);
    res.on('close', () => {
      if (url.pathname !== '/health') {
        log(
          `${req.method} ${url.pathname} ${res.headersSent ? res.statusCode : 0} ${Math.round(performance.now() - started)}ms`,
        );
      }
    });
    cors(req, res);
    if (isSocketPath(url.pathname)) {
      const rejection = socketGuard(ctx, req, url.searchParams, false);
      if (rejection) return sendText(res, rejection.status, rejection.body, rejection.contentType);
      sockets.io.engine.handleRequest(req, res);
      return;
    }
    route(req, res, url).catch((err: unknown) => {
      if (err instanceof HttpError) {
        if (!res.headersSent) sendJson(res, err.status, { detail: err.detail });
        else res.destroy();
        return;
      }
      // Uncaught in Open WebUI too (e.g. the revocation GET with Redis down): a bare 500.
      log(`error ${req.method} ${url.pathname}: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) sendText(res, 500, 'Internal Server Error');
      else res.destroy();
    });
  });

  server.on('upgrade', (req: IncomingMessage, socket: NetSocket, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://sim.local');
    if (!isSocketPath(url.pathname)) {
      socket.end(
        `HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\nX-OWUI-Replica: ${config.replicaName}\r\n\r\n`,
      );
      log(`GET ${url.pathname} 404 0ms`);
      return;
    }
    const { status } = sockets.handleUpgrade(req, socket, head, url);
    log(`GET ${url.pathname} ${status} 0ms`);
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    // A busy port must not leave Redis clients reconnecting in the background.
    chat.kill();
    await sockets.close();
    await redis?.close();
    throw new Error(
      `Open WebUI simulator ${config.replicaName} cannot listen on ${config.host}:${config.port}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;

  // Startup: Redis and the model list are wanted, not required (a replica starts without them).
  const startup = (async () => {
    if (redis && !(await redis.waitReady(3000))) log('redis not ready at startup; continuing');
    await models.list().catch(() => undefined);
    startupComplete = true;
  })();
  await startup;
  log(
    `listening on http://${config.host}:${port} (Open WebUI ${config.features.version} simulator${config.secretGenerated ? ', generated WEBUI_SECRET_KEY' : ''})`,
  );

  let stopping: Promise<void> | undefined;
  const closeServer = (): Promise<void> =>
    new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });

  return {
    url: `http://${config.host}:${port}`,
    port,
    close: () =>
      (stopping ??= (async () => {
        server.close();
        sockets.disconnectLocal();
        await chat.shutdown();
        await sockets.close();
        for (const s of connections) s.destroy();
        await closeServer();
        await redis?.close();
        log('stopped');
      })()),
    kill: () =>
      (stopping ??= (async () => {
        chat.kill();
        for (const s of connections) s.destroy();
        await redis?.close();
        await closeServer();
        sockets.io.engine.close();
      })()),
  };
}
