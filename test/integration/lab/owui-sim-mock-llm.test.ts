// The simulator in front of the lab's real mock LLM: the ground-truth text survives both modes,
// including the mock's `split` write mode (events cut inside multi-byte characters), and
// `stream_delta_chunk_size` batches the socket frames. One replica, no Redis.

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MOCK_LLM_MODEL, startMockLlm, type MockLlmServer } from '../../../src/lab/mock-llm/server.js';
import { configFromEnv } from '../../../src/lab/owui-sim/config.js';
import { startOwuiSim, type OwuiSimHandle } from '../../../src/lab/owui-sim/server.js';
import { formatDirective, generateText } from '../../../src/protocol/ground-truth.js';
import { interpretChatData } from '../../../src/protocol/openai-stream.js';
import { interpretEnvelope } from '../../../src/protocol/openwebui.js';
import { SseParser } from '../../../src/protocol/sse-parser.js';
import { json, post, TestSocket } from './owui-sim-support.js';

let mock: MockLlmServer;
let sim: OwuiSimHandle;
let token: string;
const sockets: TestSocket[] = [];

beforeAll(async () => {
  mock = await startMockLlm({ port: 0, pacing: { firstTokenMs: 0, tokensPerSecond: 0 } });
  sim = await startOwuiSim(
    configFromEnv({
      PORT: '0',
      WEBUI_SECRET_KEY: 'k',
      OPENAI_API_BASE_URL: `${mock.url}/v1`,
      // Checks 0.11's cumulative snapshots; 0.12's deltas are covered by conformance/simulator.test.ts.
      OWUI_SIM_VERSION: '0.11.0',
    }),
    { log: () => undefined },
  );
  token = String(
    (
      await json(
        await post(`${sim.url}/api/v1/auths/signup`, { name: 'A', email: 'a@m.test', password: 'pw' }),
      )
    ).token,
  );
});

afterAll(async () => {
  for (const s of sockets) s.close();
  await sim?.close();
  await mock?.close();
});

describe('owui-sim with the mock LLM', () => {
  it('mode A: the SSE content equals the ground truth, through split writes, ending with [DONE]', async () => {
    const directive = { seed: 7, tokens: 120, write: 'split' as const };
    const res = await post(
      `${sim.url}/api/chat/completions`,
      {
        model: MOCK_LLM_MODEL,
        stream: true,
        messages: [{ role: 'user', content: formatDirective(directive) }],
      },
      token,
    );
    expect(res.status).toBe(200);
    const parser = new SseParser();
    let text = '';
    let done = false;
    const reader = res.body!.getReader();
    for (;;) {
      const { value, done: end } = await reader.read();
      if (end) break;
      for (const ev of parser.push(value)) {
        const item = interpretChatData(ev.data);
        if (item.kind === 'done') done = true;
        else if (item.kind === 'content') text += item.content;
      }
    }
    expect(done).toBe(true);
    expect(text).toBe(generateText(7, 120));
  });

  it('mode B: the final snapshot equals the ground truth; frames are batched by stream_delta_chunk_size', async () => {
    const socket = await TestSocket.connect(sim.url, { token });
    sockets.push(socket);
    const messageId = randomUUID();
    const prompt = formatDirective({ seed: 11, tokens: 100, write: 'split' });
    const reply = await json(
      await post(
        `${sim.url}/api/chat/completions`,
        {
          model: MOCK_LLM_MODEL,
          stream: true,
          messages: [{ role: 'user', content: prompt }],
          session_id: socket.sid,
          id: messageId,
          parent_id: null,
          params: { stream_delta_chunk_size: 10 },
        },
        token,
      ),
    );
    expect(reply.status).toBe(true);
    const mine = () =>
      socket.events
        .filter((e) => (e.args[0] as { message_id?: string }).message_id === messageId)
        .map((e) => interpretEnvelope(e.args[0])!.event);
    await socket.waitFor(() => mine().some((e) => e.kind === 'completion' && e.done));
    const completions = mine().filter((e) => e.kind === 'completion' && e.text !== undefined);
    const final = completions.find((e) => e.kind === 'completion' && e.done);
    expect(final).toMatchObject({ text: generateText(11, 100) });
    // 100 deltas in batches of 10 → 10 progress frames + the final one.
    expect(completions.length).toBe(11);
  });
});
