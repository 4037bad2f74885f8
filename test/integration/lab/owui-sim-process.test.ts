// A replica as a real process (env only, like `owui-chaos lab replica`), next to an in-process
// replica Q sharing the secret, the file DB and a real Sentinel-fronted Redis:
// - SIGTERM mid-chat: the task is cancelled, `chat:tasks:cancel` reaches Q's socket through Redis,
//   the partial answer is saved with done:true, the task keys are gone, exit code 0;
// - SIGKILL mid-chat: the SSE stream ends without [DONE], the socket chat goes silent and its task
//   keys stay behind (listed by GET /api/tasks/chat/{id}) until a stop clears them.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileStack, resource } from '../../helpers/resources.js';
import { configFromEnv } from '../../../src/lab/owui-sim/config.js';
import { startOwuiSim, type OwuiSimHandle } from '../../../src/lab/owui-sim/server.js';
import { startRedisTopology, stopRedisTopology } from '../../../src/lab/redis/redis-topology.js';
import type { RedisTopology } from '../../../src/infra/lab-state.js';
import { interpretEnvelope } from '../../../src/protocol/openwebui.js';
import { get, json, post, startStubLlm, STUB_MODEL, type StubLlm, TestSocket } from './owui-sim-support.js';

const ROOT = resolve(import.meta.dirname, '../../..');
let dir: string;
let topo: RedisTopology;
let llm: StubLlm;
let q: OwuiSimHandle;
let token: string;
const children: ChildProcess[] = [];
const sockets: TestSocket[] = [];

function baseEnv(name: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    PORT: '0',
    OWUI_SIM_REPLICA_NAME: name,
    WEBUI_SECRET_KEY: 'proc-secret',
    REDIS_URL: `redis://${topo.masterName}:6379/0`,
    REDIS_SENTINEL_HOSTS: topo.sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
    WEBSOCKET_MANAGER: 'redis',
    OPENAI_API_BASE_URL: llm.url,
    BYPASS_MODEL_ACCESS_CONTROL: 'true',
    DATABASE_URL: `file:${join(dir, 'db')}`,
  };
}

/** Spawns a replica process; resolves with its URL once it logs "listening on". */
function spawnReplica(name: string): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      "import('./src/lab/owui-sim/replica-main.ts').then((m) => m.runReplica(process.env))",
    ],
    { cwd: ROOT, env: baseEnv(name), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  let out = '';
  return new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`replica ${name} did not start: ${out}`)), 20_000);
    const onData = (b: Buffer): void => {
      out += b.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveUrl({ child, url: m[1]!, output: () => out });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`replica ${name} exited with ${code}: ${out}`)));
  });
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
}

function chatBody(sid: string, messageId: string, text: string): Record<string, unknown> {
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
  };
}

function kinds(socket: TestSocket, messageId: string): string[] {
  return socket.events
    .filter((e) => (e.args[0] as { message_id?: string }).message_id === messageId)
    .map((e) => interpretEnvelope(e.args[0])!.event.kind);
}

/** Streamed text: 0.12's `delta` events, or the cumulative `completion` snapshots of older releases. */
const carriesText = (kind: string): boolean => kind === 'delta' || kind === 'completion';

const SLOW = 'SLOW a b c d e f g h i j k l m n o p q r s t u v w x y z';

// Everything beforeAll starts is stopped in afterAll, last first, even when a start fails half-way.
const started = fileStack();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'owui-sim-proc-'));
  started.defer(() => rmSync(dir, { recursive: true, force: true }));
  [topo, llm] = await Promise.all([
    startRedisTopology({ dir: join(dir, 'redis') }).then((t) => started.use(resource(t, stopRedisTopology))),
    startStubLlm().then((l) => started.use(resource(l, (x) => x.close()))),
  ]);
  q = started.use(
    resource(await startOwuiSim(configFromEnv(baseEnv('owui-q')), { log: () => undefined }), (s) =>
      s.close(),
    ),
  );
  await post(`${q.url}/api/v1/auths/signup`, { name: 'Admin', email: 'admin@p.test', password: 'pw' });
  token = String(
    (await json(await post(`${q.url}/api/v1/auths/signin`, { email: 'admin@p.test', password: 'pw' }))).token,
  );
}, 60_000);

// Runs before the stack is disposed (after-hooks run last registered first).
afterAll(() => {
  for (const s of sockets) s.close();
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

describe('owui-sim replica process', () => {
  it('SIGTERM: cancels the running task, announces it through Redis, saves the partial answer, exits 0', async () => {
    const p = await spawnReplica('owui-p1');
    expect((await get(`${p.url}/api/v1/auths/`, token)).headers.get('x-owui-replica')).toBe('owui-p1');
    const socket = await TestSocket.connect(q.url, { token });
    sockets.push(socket);
    const messageId = randomUUID();
    const reply = await json(
      await post(`${p.url}/api/chat/completions`, chatBody(socket.sid, messageId, SLOW), token),
    );
    const chatId = String(reply.chat_id);
    await socket.waitFor(() => kinds(socket, messageId).filter(carriesText).length >= 2);
    p.child.kill('SIGTERM');
    expect(await exitOf(p.child)).toEqual({ code: 0, signal: null });
    await socket.waitFor(() => kinds(socket, messageId).includes('cancel'));
    expect(p.output()).toContain('SIGTERM: shutting down');
    expect((await json(await get(`${q.url}/api/tasks/chat/${chatId}`, token))).task_ids).toEqual([]);
    const saved = await json(await get(`${q.url}/api/v1/chats/${chatId}`, token));
    const msg = (saved.chat as { history: { messages: Record<string, { content: string; done: boolean }> } })
      .history.messages[messageId]!;
    expect(msg.done).toBe(true);
    expect(msg.content.length).toBeGreaterThan(0);
    expect(SLOW.startsWith(msg.content)).toBe(true);
    expect(msg.content).not.toBe(SLOW);
  });

  it('SIGKILL: cuts the SSE stream without [DONE] and leaves the socket task orphaned until stopped', async () => {
    const p = await spawnReplica('owui-p2');
    const socket = await TestSocket.connect(q.url, { token });
    sockets.push(socket);
    const messageId = randomUUID();
    const reply = await json(
      await post(`${p.url}/api/chat/completions`, chatBody(socket.sid, messageId, SLOW), token),
    );
    const chatId = String(reply.chat_id);
    const sse = new Promise<{ body: string; error?: string }>((resolveSse) => {
      let body = '';
      const req = request(
        `${p.url}/api/chat/completions`,
        { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } },
        (res) => {
          res.on('data', (c: Buffer) => {
            body += c.toString();
            if (body.includes('"b "')) p.child.kill('SIGKILL');
          });
          res.on('end', () => resolveSse({ body }));
          res.on('error', (err) => resolveSse({ body, error: err.message }));
        },
      );
      req.on('error', (err) => resolveSse({ body, error: err.message }));
      req.end(
        JSON.stringify({ model: STUB_MODEL, stream: true, messages: [{ role: 'user', content: SLOW }] }),
      );
    });
    const result = await sse;
    expect(await exitOf(p.child)).toEqual({ code: null, signal: 'SIGKILL' });
    expect(result.body).toContain('data: ');
    expect(result.body).not.toContain('[DONE]');
    expect(result.error).toBeDefined();

    const seen = kinds(socket, messageId);
    await new Promise((r) => setTimeout(r, 500));
    expect(kinds(socket, messageId)).toEqual(seen);
    expect(seen).not.toContain('cancel');
    expect(seen.some(carriesText)).toBe(true);
    // Orphaned: still listed through the live replica, until a stop clears the keys unconditionally.
    expect((await json(await get(`${q.url}/api/tasks/chat/${chatId}`, token))).task_ids).toEqual(
      reply.task_ids,
    );
    expect((await post(`${q.url}/api/tasks/chat/${chatId}/stop`, {}, token)).status).toBe(200);
    expect((await json(await get(`${q.url}/api/tasks/chat/${chatId}`, token))).task_ids).toEqual([]);
  });
});
