// OWUI_SIM_VERSION=0.6.30: the older wire — `chat-events`, cumulative `content`, `{status, task_id}`,
// per-sid emits, `{id, exp}` JWTs, no Origin check, no /ready, ENABLE_API_KEY on by default.
// One replica, in-memory DB, no Redis (the upstream is a local stub).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromEnv } from '../../../src/lab/owui-sim/config.js';
import { startOwuiSim, type OwuiSimHandle } from '../../../src/lab/owui-sim/server.js';
import { get, json, post, startStubLlm, STUB_MODEL, type StubLlm, TestSocket } from './owui-sim-support.js';

let llm: StubLlm;
let sim: OwuiSimHandle;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  llm = await startStubLlm();
  sim = await startOwuiSim(
    configFromEnv({
      PORT: '0',
      OWUI_SIM_VERSION: '0.6.30',
      OWUI_SIM_REPLICA_NAME: 'old',
      WEBUI_SECRET_KEY: 'k',
      OPENAI_API_BASE_URL: llm.url,
      CORS_ALLOW_ORIGIN: 'http://only.example',
    }),
    { log: () => undefined },
  );
});

afterAll(async () => {
  for (const s of sockets) s.close();
  await sim?.close();
  await llm?.close();
});

describe('owui-sim 0.6.30', () => {
  it('speaks the 0.6.30 wire end to end', async () => {
    expect(await json(await get(`${sim.url}/api/version`))).toEqual({ version: '0.6.30' });
    expect((await get(`${sim.url}/ready`)).headers.get('content-type')).toContain('text/html');

    const admin = await json(
      await post(`${sim.url}/api/v1/auths/signup`, { name: 'A', email: 'a@x.test', password: 'pw' }),
    );
    const token = String(admin.token);
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<
      string,
      unknown
    >;
    expect(Object.keys(claims).sort()).toEqual(['exp', 'id']);

    // API keys are on by default in 0.6.x, also through x-api-key.
    const key = String((await json(await post(`${sim.url}/api/v1/auths/api_key`, {}, token))).api_key);
    expect(key).toMatch(/^sk-[0-9a-f]{32}$/);
    const viaKey = await fetch(`${sim.url}/api/models`, { headers: { 'x-api-key': key } });
    expect(viaKey.status).toBe(200);
    // …but they cannot authenticate a socket.
    const keySocket = await TestSocket.connect(sim.url, { token: key });
    sockets.push(keySocket);

    // No Origin check before 0.6.35, whatever CORS_ALLOW_ORIGIN says.
    const socket = await TestSocket.connect(sim.url, { token }, { origin: 'http://elsewhere.example' });
    const sibling = await TestSocket.connect(sim.url, { token });
    sockets.push(socket, sibling);
    const chatId = `local:${socket.sid}`;
    const reply = await json(
      await post(
        `${sim.url}/api/chat/completions`,
        {
          model: STUB_MODEL,
          stream: true,
          messages: [{ role: 'user', content: 'old wire words' }],
          session_id: socket.sid,
          chat_id: chatId,
          id: 'm-1',
        },
        token,
      ),
    );
    expect(Object.keys(reply).sort()).toEqual(['status', 'task_id']);
    await socket.waitFor((ev) =>
      ev.some((e) => (e.args[0] as { data?: { data?: { done?: boolean } } }).data?.data?.done === true),
    );
    expect(socket.events.every((e) => e.name === 'chat-events')).toBe(true);
    const frames = socket.events.map(
      (e) => (e.args[0] as { data: { type: string; data: Record<string, unknown> } }).data,
    );
    const completions = frames.filter(
      (f) => f.type === 'chat:completion' && typeof f.data.content === 'string',
    );
    expect(completions.every((f) => f.data.output === undefined)).toBe(true);
    expect(completions.at(-1)!.data).toMatchObject({ done: true, content: 'old wire words' });
    // Per-sid delivery: only the request's session_id gets the events, not the user's other socket.
    expect(sibling.events).toEqual([]);
    expect(keySocket.events).toEqual([]);
  });
});
