// The Open WebUI simulator against a real Redis master/replica + 3 Sentinels: two replicas that
// share a secret and a file DB (A, B), one with its own generated secret (C). Faults last:
// Sentinel failover, then Redis gone entirely.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileStack, resource } from '../../helpers/resources.js';
import { configFromEnv } from '../../../src/lab/owui-sim/config.js';
import { startOwuiSim, type OwuiSimHandle } from '../../../src/lab/owui-sim/server.js';
import { startRedisTopology, stopRedisTopology } from '../../../src/lab/redis/redis-topology.js';
import type { RedisTopology } from '../../../src/infra/lab-state.js';
import { interpretEnvelope } from '../../../src/protocol/openwebui.js';
import {
  get,
  json,
  post,
  startStubLlm,
  STUB_MODEL,
  type StubLlm,
  TestSocket,
  type SocketEvent,
} from './owui-sim-support.js';

let dir: string;
let topo: RedisTopology;
let llm: StubLlm;
let a: OwuiSimHandle;
let b: OwuiSimHandle;
let c: OwuiSimHandle;
let redis: Redis;
const logs: string[] = [];
const sockets: TestSocket[] = [];

// These tests pin 0.11's shapes (cumulative `output` snapshots); the 0.12 delta shape the lab runs
// by default is checked by conformance/simulator.test.ts, against the same suite as real Open WebUI.
const SHAPE_VERSION = '0.11.0';

function env(name: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PORT: '0',
    OWUI_SIM_VERSION: SHAPE_VERSION,
    OWUI_SIM_REPLICA_NAME: name,
    REDIS_URL: `redis://${topo.masterName}:6379/0`,
    REDIS_SENTINEL_HOSTS: topo.sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
    WEBSOCKET_MANAGER: 'redis',
    OPENAI_API_BASE_URL: llm.url,
    OPENAI_API_KEY: 'sk-stub',
    BYPASS_MODEL_ACCESS_CONTROL: 'true',
    DATABASE_URL: `file:${join(dir, 'db')}`,
    REDIS_KEY_PREFIX: 'sim-test',
    ...extra,
  };
}

async function connect(
  base: string,
  token: string | undefined,
  headers: Record<string, string> = {},
): Promise<TestSocket> {
  const s = await TestSocket.connect(base, token === undefined ? undefined : { token }, headers);
  sockets.push(s);
  return s;
}

function envelopes(events: SocketEvent[], messageId: string, name = 'events') {
  return events
    .filter((e) => e.name === name && (e.args[0] as { message_id?: string }).message_id === messageId)
    .map((e) => interpretEnvelope(e.args[0])!);
}

function socketChatBody(sid: string, messageId: string, text: string): Record<string, unknown> {
  return {
    model: STUB_MODEL,
    stream: true,
    messages: [{ role: 'user', content: text }],
    session_id: sid,
    id: messageId,
    parent_id: null,
    user_message: {
      id: randomUUID(),
      parentId: null,
      childrenIds: [],
      role: 'user',
      content: text,
      timestamp: 1,
      models: [STUB_MODEL],
    },
    stream_options: { include_usage: true },
  };
}

let adminToken: string;
let userToken: string;

// Everything beforeAll starts is stopped in afterAll, last first, even when a start fails half-way.
const started = fileStack();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'owui-sim-'));
  started.defer(() => rmSync(dir, { recursive: true, force: true }));
  [topo, llm] = await Promise.all([
    startRedisTopology({ dir: join(dir, 'redis') }).then((t) => started.use(resource(t, stopRedisTopology))),
    startStubLlm().then((l) => started.use(resource(l, (x) => x.close()))),
  ]);
  const shared = { WEBUI_SECRET_KEY: 'lab-secret' };
  const log = (line: string): void => void logs.push(line);
  const sim = async (config: Parameters<typeof startOwuiSim>[0], tag: string): Promise<OwuiSimHandle> =>
    started.use(resource(await startOwuiSim(config, { log: (l) => log(`${tag} ${l}`) }), (s) => s.close()));
  a = await sim(configFromEnv(env('owui-a', shared)), 'a');
  b = await sim(configFromEnv(env('owui-b', shared)), 'b');
  c = await sim(configFromEnv(env('owui-c')), 'c');
  redis = new Redis({
    host: '127.0.0.1',
    port: topo.master.port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
  });
  redis.on('error', () => undefined);
  await redis.connect();
}, 60_000);

// Runs before the stack is disposed (after-hooks run last registered first).
afterAll(() => {
  // OWUI_SIM_TEST_LOGS=1 prints the replicas' access and error log lines.
  if (process.env.OWUI_SIM_TEST_LOGS) console.log(logs.join('\n'));
  for (const s of sockets) s.close();
  redis?.disconnect();
});

describe('owui-sim: probes and auth across replicas', () => {
  it('answers /health, /ready, /api/version, /api/config and the SPA fallback, naming the replica', async () => {
    const health = await get(`${a.url}/health`);
    expect(health.status).toBe(200);
    expect(health.headers.get('x-owui-replica')).toBe('owui-a');
    expect(await health.json()).toEqual({ status: true });
    expect(await json(await get(`${b.url}/ready`))).toEqual({ status: true });
    const version = await json(await get(`${a.url}/api/version`));
    expect(version.version).toBe(SHAPE_VERSION);
    expect(typeof version.deployment_id).toBe('string');
    const config = await json(await get(`${a.url}/api/config`));
    expect((config.features as Record<string, unknown>).enable_websocket).toBe(true);
    const spa = await get(`${a.url}/healthz`);
    expect(spa.status).toBe(200);
    expect(spa.headers.get('content-type')).toContain('text/html');
  });

  it('signs up the first user as admin on A; the token works on B and gets 401 on C (own secret)', async () => {
    const signup = await post(`${a.url}/api/v1/auths/signup`, {
      name: 'Admin',
      email: 'admin@lab.test',
      password: 'pw-admin',
    });
    expect(signup.status).toBe(200);
    expect(signup.headers.get('set-cookie')).toMatch(/^token=/);
    const admin = await json(signup);
    expect(admin.role).toBe('admin');
    adminToken = String(admin.token);
    const claims = JSON.parse(Buffer.from(adminToken.split('.')[1]!, 'base64url').toString()) as Record<
      string,
      unknown
    >;
    expect(Object.keys(claims).sort()).toEqual(['exp', 'iat', 'id', 'jti']);

    const added = await post(
      `${a.url}/api/v1/auths/add`,
      { name: 'U1', email: 'u1@lab.test', password: 'pw-u1', role: 'user' },
      adminToken,
    );
    expect(added.status).toBe(200);
    const signin = await post(`${a.url}/api/v1/auths/signin`, { email: 'u1@lab.test', password: 'pw-u1' });
    expect(signin.status).toBe(200);
    userToken = String((await json(signin)).token);
    expect(
      (await post(`${a.url}/api/v1/auths/signin`, { email: 'u1@lab.test', password: 'wrong' })).status,
    ).toBe(400);

    const onB = await get(`${b.url}/api/v1/auths/`, userToken);
    expect(onB.status).toBe(200);
    expect((await json(onB)).email).toBe('u1@lab.test');
    expect((await get(`${c.url}/api/v1/auths/`, userToken)).status).toBe(401);
    const models = await json(await get(`${b.url}/api/models`, userToken));
    expect((models.data as Array<{ id: string }>).map((m) => m.id)).toEqual([STUB_MODEL]);
  });

  it('rejects a pending user with 401 and API keys while ENABLE_API_KEYS is off with 403', async () => {
    const pending = await json(
      await post(`${a.url}/api/v1/auths/signup`, { name: 'P', email: 'p@lab.test', password: 'pw' }),
    );
    expect(pending.role).toBe('pending');
    expect((await get(`${a.url}/api/models`, String(pending.token))).status).toBe(401);
    expect((await post(`${a.url}/api/v1/auths/api_key`, {}, adminToken)).status).toBe(403);
    expect((await get(`${a.url}/api/models`, `sk-${'0'.repeat(32)}`)).status).toBe(403);
  });

  it('rate-limits sign-in per email across replicas: the 16th attempt in 180 s gets 429', async () => {
    await post(
      `${a.url}/api/v1/auths/add`,
      { name: 'RL', email: 'rl@lab.test', password: 'pw-rl', role: 'user' },
      adminToken,
    );
    const statuses: number[] = [];
    for (let i = 0; i < 16; i++) {
      statuses.push(
        (
          await post(`${i % 2 ? b.url : a.url}/api/v1/auths/signin`, {
            email: 'RL@lab.test',
            password: 'pw-rl',
          })
        ).status,
      );
    }
    expect(statuses.slice(0, 15)).toEqual(Array(15).fill(200));
    expect(statuses[15]).toBe(429);
  });

  it('revokes a token on sign-out, on every replica', async () => {
    const t = String(
      (await json(await post(`${a.url}/api/v1/auths/signin`, { email: 'u1@lab.test', password: 'pw-u1' })))
        .token,
    );
    expect((await get(`${b.url}/api/v1/auths/`, t)).status).toBe(200);
    expect((await get(`${a.url}/api/v1/auths/signout`, t)).status).toBe(200);
    expect((await get(`${b.url}/api/v1/auths/`, t)).status).toBe(401);
  });
});

describe('owui-sim: mode A (SSE passthrough)', () => {
  it('passes the upstream bytes through unchanged to [DONE], with upstream headers', async () => {
    const before = llm.sent.length;
    const { status, headers, body } = await new Promise<{
      status: number;
      headers: Record<string, unknown>;
      body: Buffer;
    }>((resolve, reject) => {
      const req = request(
        `${b.url}/api/chat/completions`,
        {
          method: 'POST',
          headers: { authorization: `Bearer ${userToken}`, 'content-type': 'application/json' },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (ch: Buffer) => chunks.push(ch));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(
        JSON.stringify({
          model: STUB_MODEL,
          stream: true,
          messages: [{ role: 'user', content: 'hello 世界 🚀 stream' }],
        }),
      );
    });
    expect(status).toBe(200);
    expect(headers['x-stub']).toBe('yes');
    expect(headers['x-owui-replica']).toBe('owui-b');
    expect(headers['content-type']).toBe('text/event-stream');
    expect(llm.sent.length).toBe(before + 1);
    expect(body.equals(llm.sent[before]!)).toBe(true);
    expect(body.toString()).toMatch(/data: \[DONE\]\n\n$/);
  });

  it('maps an upstream 500 to a JSON error with the upstream status', async () => {
    const res = await post(
      `${a.url}/api/chat/completions`,
      { model: STUB_MODEL, stream: true, messages: [{ role: 'user', content: 'FAIL' }] },
      userToken,
    );
    expect(res.status).toBe(500);
    expect(((await json(res)).error as { message: string }).message).toBe('stub upstream failure');
  });

  it('answers 400 Model not found for an unknown model', async () => {
    const res = await post(
      `${a.url}/api/chat/completions`,
      { model: 'nope', stream: true, messages: [{ role: 'user', content: 'x' }] },
      userToken,
    );
    expect(res.status).toBe(400);
    expect(await json(res)).toEqual({ detail: 'Model not found' });
  });
});

describe('owui-sim: mode B (socket delivery across replicas)', () => {
  it('delivers a chat POSTed to A to a socket on B: active bracket, cumulative output, usage, done', async () => {
    const socket = await connect(b.url, userToken);
    const messageId = randomUUID();
    const text = 'one two three four five';
    const res = await post(
      `${a.url}/api/chat/completions`,
      socketChatBody(socket.sid, messageId, text),
      userToken,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('x-owui-replica')).toBe('owui-a');
    const reply = await json(res);
    expect(reply.status).toBe(true);
    expect((reply.task_ids as string[]).length).toBe(1);
    const chatId = String(reply.chat_id);

    await socket.waitFor((ev) =>
      envelopes(ev, messageId).some((e) => e.event.kind === 'active' && !e.event.active),
    );
    const seq = envelopes(socket.events, messageId);
    expect(seq.every((e) => e.chatId === chatId)).toBe(true);
    expect(seq[0]!.event).toEqual({ kind: 'active', active: true });
    expect(seq.at(-1)!.event).toEqual({ kind: 'active', active: false });
    const texts = seq.flatMap((e) =>
      e.event.kind === 'completion' && e.event.text !== undefined ? [e.event.text] : [],
    );
    expect(texts.length).toBeGreaterThanOrEqual(5);
    for (let i = 1; i < texts.length; i++) expect(texts[i]!.startsWith(texts[i - 1]!)).toBe(true);
    const done = seq.find((e) => e.event.kind === 'completion' && e.event.done);
    expect(done?.event).toMatchObject({ kind: 'completion', done: true, text, title: 'New Chat' });
    expect(seq.some((e) => e.event.kind === 'completion' && e.event.usage !== undefined)).toBe(true);
    const raw = socket.events.find((e) => e.name === 'events')!.args[0] as Record<string, unknown>;
    expect(Object.keys(raw).sort()).toEqual(['chat_id', 'data', 'message_id']);

    // Task keys cleaned, the chat persisted in the shared DB (readable through B).
    expect(await redis.hget('sim-test:tasks', (reply.task_ids as string[])[0]!)).toBeNull();
    const saved = await json(await get(`${b.url}/api/v1/chats/${chatId}`, userToken));
    const messages = (
      saved.chat as { history: { messages: Record<string, { content: string; done: boolean }> } }
    ).history.messages;
    expect(messages[messageId]).toMatchObject({ content: text, done: true });
  });

  it("gives 404 for another user's chat", async () => {
    const socket = await connect(a.url, userToken);
    const reply = await json(
      await post(
        `${a.url}/api/chat/completions`,
        socketChatBody(socket.sid, randomUUID(), 'mine'),
        userToken,
      ),
    );
    const other = await json(
      await post(
        `${a.url}/api/v1/auths/add`,
        { name: 'U2', email: 'u2@lab.test', password: 'pw', role: 'user' },
        adminToken,
      ),
    );
    const body: Record<string, unknown> = {
      ...socketChatBody(socket.sid, randomUUID(), 'theirs'),
      chat_id: reply.chat_id,
    };
    delete body.parent_id;
    expect((await post(`${a.url}/api/chat/completions`, body, String(other.token))).status).toBe(404);
  });

  it('stops a running task from another replica: cancel event, keys gone', async () => {
    const socket = await connect(a.url, userToken);
    const messageId = randomUUID();
    const reply = await json(
      await post(
        `${a.url}/api/chat/completions`,
        socketChatBody(socket.sid, messageId, 'SLOW a b c d e f g h i j k l'),
        userToken,
      ),
    );
    const chatId = String(reply.chat_id);
    await socket.waitFor((ev) => envelopes(ev, messageId).some((e) => e.event.kind === 'completion'));
    expect((await json(await get(`${b.url}/api/tasks/chat/${chatId}`, userToken))).task_ids).toEqual(
      reply.task_ids,
    );
    const stop = await post(`${b.url}/api/tasks/chat/${chatId}/stop`, {}, userToken);
    expect(stop.status).toBe(200);
    expect((await json(stop)).status).toBe(true);
    await socket.waitFor((ev) => envelopes(ev, messageId).some((e) => e.event.kind === 'cancel'));
    expect(
      envelopes(socket.events, messageId).some((e) => e.event.kind === 'completion' && e.event.done),
    ).toBe(false);
    expect(await redis.smembers(`sim-test:tasks:item:${chatId}`)).toEqual([]);
    expect((await json(await get(`${b.url}/api/tasks/chat/${chatId}`, userToken))).task_ids).toEqual([]);
  });

  it('turns an upstream failure into chat:message:error then chat:tasks:cancel', async () => {
    const socket = await connect(a.url, userToken);
    const messageId = randomUUID();
    await post(`${a.url}/api/chat/completions`, socketChatBody(socket.sid, messageId, 'FAIL'), userToken);
    await socket.waitFor((ev) => envelopes(ev, messageId).some((e) => e.event.kind === 'cancel'));
    const kinds = envelopes(socket.events, messageId).map((e) => e.event.kind);
    expect(kinds.indexOf('error')).toBeGreaterThan(-1);
    expect(kinds.indexOf('error')).toBeLessThan(kinds.indexOf('cancel'));
  });
});

describe('owui-sim: Socket.IO guards', () => {
  it('connects a socket with a bad token but sends it nothing; user-join acks {id, name}', async () => {
    const bad = await connect(b.url, 'not-a-jwt');
    const none = await connect(b.url, undefined);
    const good = await connect(b.url, userToken);
    expect(bad.sid).not.toBe('');
    const ack = await none.emitWithAck('user-join', { auth: { token: userToken } });
    expect(ack[0]).toMatchObject({ name: 'U1' });
    const messageId = randomUUID();
    await post(
      `${a.url}/api/chat/completions`,
      socketChatBody(good.sid, messageId, 'quiet please'),
      userToken,
    );
    await good.waitFor((ev) =>
      envelopes(ev, messageId).some((e) => e.event.kind === 'active' && !e.event.active),
    );
    await none.waitFor((ev) => envelopes(ev, messageId).length > 0);
    expect(bad.events).toEqual([]);
    expect(await redis.hexists('sim-test:session_pool', good.sid)).toBe(1);
    expect(await redis.hexists('sim-test:session_pool', bad.sid)).toBe(0);
  });

  it('refuses polling, a websocket request without Upgrade, and a foreign Origin with 400', async () => {
    const polling = await fetch(`${a.url}/ws/socket.io/?EIO=4&transport=polling`);
    expect(polling.status).toBe(400);
    expect(await polling.text()).toBe('"Invalid transport"');
    const noUpgrade = await fetch(`${a.url}/ws/socket.io/?EIO=4&transport=websocket`);
    expect(noUpgrade.status).toBe(400);
    expect(await noUpgrade.json()).toEqual({ detail: 'Invalid WebSocket upgrade request' });
    // Default CORS_ALLOW_ORIGIN is `*`: any Origin passes on A; a strict replica refuses others.
    await connect(a.url, userToken, { origin: 'http://anything.example' });
    const strict = await startOwuiSim(
      configFromEnv(
        env('owui-strict', { WEBUI_SECRET_KEY: 'lab-secret', CORS_ALLOW_ORIGIN: 'http://good.example' }),
      ),
      { log: () => undefined },
    );
    try {
      await connect(strict.url, userToken, { origin: 'http://good.example' });
      await connect(strict.url, userToken);
      // A refused websocket handshake is 403 with an empty body, as uvicorn answers for real
      // Open WebUI (docs/openwebui-protocol.md §4, conformance "Origin check").
      await expect(connect(strict.url, userToken, { origin: 'http://evil.example' })).rejects.toMatchObject({
        status: 403,
        body: '',
      });
    } finally {
      await strict.close();
    }
  });
});

describe('owui-sim: Redis faults (run last: they break the topology)', () => {
  it('follows a SENTINEL FAILOVER: JWT requests and cross-replica chats work again within seconds', async () => {
    const socket = await connect(b.url, userToken);
    const sentinel = new Redis({ host: '127.0.0.1', port: topo.sentinels[0]!.port, maxRetriesPerRequest: 0 });
    sentinel.on('error', () => undefined);
    try {
      const started = Date.now();
      await sentinel.call('SENTINEL', 'FAILOVER', topo.masterName);
      let master = '';
      for (let i = 0; i < 100 && master !== String(topo.replica.port); i++) {
        master = String(
          ((await sentinel.call('SENTINEL', 'get-master-addr-by-name', topo.masterName)) as string[])[1],
        );
        if (master !== String(topo.replica.port)) await new Promise((r) => setTimeout(r, 100));
      }
      expect(master).toBe(String(topo.replica.port));
      let recovered = 0;
      for (let i = 0; i < 60 && !recovered; i++) {
        const messageId = randomUUID();
        const [me, chat] = await Promise.all([
          get(`${a.url}/api/v1/auths/`, userToken),
          post(
            `${a.url}/api/chat/completions`,
            socketChatBody(socket.sid, messageId, 'after failover'),
            userToken,
          ),
        ]);
        if (me.status === 200 && chat.status === 200) {
          const delivered = await socket
            .waitFor(
              (ev) => envelopes(ev, messageId).some((e) => e.event.kind === 'completion' && e.event.done),
              1500,
            )
            .then(
              () => true,
              () => false,
            );
          if (delivered) recovered = Date.now() - started;
        }
        if (!recovered) await new Promise((r) => setTimeout(r, 250));
      }
      expect(recovered).toBeGreaterThan(0);
      expect(recovered).toBeLessThan(15_000);
      // The new master holds the task keys now: writes went there, not to the demoted node.
      const promoted = new Redis({ host: '127.0.0.1', port: topo.replica.port, maxRetriesPerRequest: 0 });
      promoted.on('error', () => undefined);
      expect(await promoted.call('ROLE').then((r) => (r as unknown[])[0])).toBe('master');
      promoted.disconnect();
    } finally {
      sentinel.disconnect();
    }
  });

  it('with Redis gone: JWT requests answer 500, /health 200, /ready 503; sign-in still works', async () => {
    await stopRedisTopology(topo);
    const me = await get(`${a.url}/api/v1/auths/`, userToken);
    expect(me.status).toBe(500);
    expect(await me.text()).toBe('Internal Server Error');
    const health = await get(`${a.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: true });
    const ready = await get(`${b.url}/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ detail: 'Redis not ready' });
    // Sockets still connect (always_connect) but cannot join their room; chats fail with 500.
    const socket = await connect(b.url, userToken);
    expect(socket.sid).not.toBe('');
    const chat = await post(
      `${a.url}/api/chat/completions`,
      socketChatBody(socket.sid, randomUUID(), 'no redis'),
      userToken,
    );
    expect(chat.status).toBe(500);
    // The limiter falls back to memory and sign-in needs no Redis; the DB (files) is still there.
    expect(
      (await post(`${a.url}/api/v1/auths/signin`, { email: 'u1@lab.test', password: 'pw-u1' })).status,
    ).toBe(200);
  });
});
