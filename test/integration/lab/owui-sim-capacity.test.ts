// The simulator's capacity gate in front of the real mock LLM (docs/capacity.md "The lab's capacity
// model"), on one replica with 2 slots and no queue:
// two chats at once are served, a third at the same time gets 503, and once they are over two
// are served again (the slots are given back).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MOCK_LLM_MODEL, startMockLlm, type MockLlmServer } from '../../../src/lab/mock-llm/server.js';
import { capacityEnv } from '../../../src/lab/owui-sim/capacity.js';
import { configFromEnv } from '../../../src/lab/owui-sim/config.js';
import { startOwuiSim, type OwuiSimHandle } from '../../../src/lab/owui-sim/server.js';
import { formatDirective } from '../../../src/protocol/ground-truth.js';
import { json, post } from './owui-sim-support.js';

let mock: MockLlmServer;
let sim: OwuiSimHandle;
let token: string;
const body = (seed: number): unknown => ({
  model: MOCK_LLM_MODEL,
  stream: true,
  messages: [{ role: 'user', content: formatDirective({ seed, tokens: 4 }) }],
});

beforeAll(async () => {
  mock = await startMockLlm({ port: 0, pacing: { firstTokenMs: 0, tokensPerSecond: 0 } });
  sim = await startOwuiSim(
    configFromEnv({
      PORT: '0',
      WEBUI_SECRET_KEY: 'k',
      OPENAI_API_BASE_URL: `${mock.url}/v1`,
      ...capacityEnv({ maxStreams: 2, queueLimit: 0, tokenCostMs: 300, requestCostMs: 0, noQueue: true }),
    }),
    { log: () => undefined },
  );
  token = String(
    (
      await json(
        await post(`${sim.url}/api/v1/auths/signup`, { name: 'A', email: 'a@cap.test', password: 'pw' }),
      )
    ).token,
  );
});

afterAll(async () => {
  await sim?.close();
  await mock?.close();
});

/** Three chats at once: the statuses, and the full bodies of the answered ones drained. */
async function threeAtOnce(seed: number): Promise<number[]> {
  const res = await Promise.all(
    [0, 1, 2].map((i) => post(`${sim.url}/api/chat/completions`, body(seed + i), token)),
  );
  await Promise.all(res.map((r) => r.arrayBuffer()));
  return res.map((r) => r.status).sort();
}

describe('owui-sim capacity gate', () => {
  it('serves two chats at once and refuses a third with 503, then serves two again', async () => {
    expect(await threeAtOnce(1)).toEqual([200, 200, 503]);
    expect(await threeAtOnce(10)).toEqual([200, 200, 503]);
  });
});
