// Browser clients (and provisioning) against one in-process Open WebUI simulator replica in front
// of the real mock LLM; the reconnect test kills the replica and starts a new one on the same port.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromEnv, startOwuiSim, type OwuiSimHandle } from '../../../../src/lab/owui-sim/index.js';
import { startMockLlm, MOCK_LLM_MODEL, type MockLlmServer } from '../../../../src/lab/mock-llm/server.js';
import { generateText, generateTokens } from '../../../../src/protocol/ground-truth.js';
import { expectedForFinal } from '../../../../src/protocol/integrity.js';
import {
  behaviourFor,
  parseVersion,
  REFERENCE_OPENWEBUI_VERSION,
} from '../../../../src/protocol/openwebui.js';
import { BrowserClient } from '../../../../src/engines/node/browser-client.js';
import { NodeLoadEngine } from '../../../../src/engines/node/engine.js';
import { NdjsonFileSink } from '../../../../src/engines/node/ndjson-file-sink.js';
import { provisionCredentials, type Credentials } from '../../../../src/engines/node/provisioning.js';
import { requestJson } from '../../../../src/engines/node/http.js';
import { collector, countBy, readSamples } from './support.js';

const ADMIN = { email: 'admin@owui-chaos.test', password: 'admin-pw' };
let mock: MockLlmServer;
let sim: OwuiSimHandle;
let agent: Agent;
let dir: string;
let creds: Credentials;
const clients: BrowserClient[] = [];

function simEnv(port: number): NodeJS.ProcessEnv {
  return {
    PORT: String(port),
    OPENAI_API_BASE_URL: `${mock.url}/v1`,
    WEBUI_SECRET_KEY: 'engine-test-secret',
    BYPASS_MODEL_ACCESS_CONTROL: 'true',
    OWUI_SIM_REPLICA_NAME: 'sim-1',
    DATABASE_URL: `file:${join(dir, 'db')}`,
  };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'owui-browser-'));
  mock = await startMockLlm({ port: 0 });
  sim = await startOwuiSim(configFromEnv(simEnv(0)), { log: () => undefined });
  agent = new Agent({ connections: 32 });
  const signup = await requestJson(agent, `${sim.url}/api/v1/auths/signup`, {
    method: 'POST',
    body: { name: 'Admin', ...ADMIN },
  });
  expect(signup.status).toBe(200);
  creds = await provisionCredentials(agent, sim.url, { admin: ADMIN, provision: 3, userPassword: 'load-pw' });
}, 30_000);

afterAll(async () => {
  for (const c of clients) c.stop();
  await agent?.close();
  await sim?.kill();
  await mock?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('provisioning', () => {
  it('detects the version, adds users with the admin (one sign-in), and reuses existing users on a second run', async () => {
    expect(creds.version).toBe(REFERENCE_OPENWEBUI_VERSION);
    expect(creds.users.map((u) => u.email)).toEqual(
      [0, 1, 2].map((i) => `owui-chaos-load-${i}@owui-chaos.invalid`),
    );
    expect(creds.signIns).toBe(1);
    expect(creds.apiTokens).toEqual(creds.users.map((u) => u.token));
    const again = await provisionCredentials(agent, sim.url, {
      admin: ADMIN,
      provision: 3,
      userPassword: 'load-pw',
    });
    // Already registered: each signs in once with its password.
    expect(again.signIns).toBe(4);
    expect(again.users).toHaveLength(3);
  });

  it('a wrong admin password fails preflight with the status', async () => {
    await expect(
      provisionCredentials(agent, sim.url, { admin: { ...ADMIN, password: 'nope' }, provision: 1 }),
    ).rejects.toMatchObject({
      code: 'AUTH_FAILED',
      exitCode: 4,
      message: expect.stringMatching(/sign-in of admin@owui-chaos.test failed with HTTP 400/),
    });
  });
});

describe('BrowserClient against the simulator', () => {
  const behaviour = behaviourFor(parseVersion(REFERENCE_OPENWEBUI_VERSION));

  /** A browser client of provisioned user `user`, connected and joined. */
  async function joinedClient(
    user: number,
  ): Promise<{ c: ReturnType<typeof collector>; client: BrowserClient }> {
    const c = collector();
    const client = new BrowserClient({
      baseUrl: sim.url,
      token: creds.users[user]!.token,
      dispatcher: agent,
      behaviour,
      emit: c.emit,
    });
    clients.push(client);
    client.start();
    expect(await client.waitJoined(AbortSignal.timeout(10_000))).toBe(true);
    return { c, client };
  }

  it('connects, joins, chats in socket mode and reads the text from snapshots', async () => {
    const { c, client } = await joinedClient(0);
    expect(c.of('ws_connect_time')).toHaveLength(1);
    expect(c.of('ws_connect_time')[0]!.tags).toMatchObject({ client: 'browser' });
    const summary = await client.chat({
      model: MOCK_LLM_MODEL,
      directive: { seed: 5, tokens: 40, tokensPerSecond: 200, firstTokenMs: 10 },
      verify: true,
      timeoutMs: 15_000,
      signal: AbortSignal.timeout(20_000),
    });
    // Open WebUI strips the final text (docs/openwebui-protocol.md, Mode B), so whitespace-only
    // edge tokens of the ground truth are not delivered: count what a stripped answer holds.
    const delivered = expectedForFinal(generateTokens(5, 40), generateText(5, 40).trim()).filter(
      (t) => t !== '',
    ).length;
    expect(summary).toMatchObject({ outcome: 'completed', garbledRate: 0, tokens: delivered });
    expect(c.of('ttft')).toHaveLength(1);
    expect(c.of('e2e')).toHaveLength(1);
    expect(c.of('ws_missed_done')).toEqual([]);
    expect(c.of('stream_outcome')[0]!.tags).toMatchObject({
      client: 'browser',
      outcome: 'completed',
      replica: 'sim-1',
    });
    // The outcome is stamped when the chat ended (its `done`), not when the POST was answered:
    // phases and capacity windows place a chat by that time.
    expect(c.of('stream_outcome')[0]!.t).toBeGreaterThanOrEqual(c.of('e2e')[0]!.t);
  });

  it('a chat cancelled mid-answer is stamped at the cancel, not at its start', async () => {
    const { c, client } = await joinedClient(1);
    const began = Date.now();
    const summary = await client.chat({
      model: MOCK_LLM_MODEL,
      // 40 tokens at 10/s: 4 s of answer; cancelled after 1.5 s.
      directive: { seed: 6, tokens: 40, tokensPerSecond: 10, firstTokenMs: 10 },
      verify: true,
      timeoutMs: 15_000,
      signal: AbortSignal.timeout(1500),
    });
    expect(summary?.outcome).toBe('cancelled');
    const [outcome] = c.of('stream_outcome');
    expect(outcome!.tags).toMatchObject({ outcome: 'cancelled' });
    expect(outcome!.t - began).toBeGreaterThanOrEqual(1400);
  });

  it('reconnects after its replica dies, within the 1–5 s backoff, and counts it', async () => {
    const { c, client } = await joinedClient(1);
    const port = new URL(sim.url).port;
    await sim.kill();
    sim = await startOwuiSim(configFromEnv(simEnv(Number(port))), { log: () => undefined });
    const deadline = Date.now() + 10_000;
    while (c.of('ws_reconnects').length === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(c.of('ws_disconnects').map((g) => g.v)).toEqual([1]);
    expect(c.of('ws_reconnects').map((g) => g.v)).toEqual([1]);
    const reconnectTime = c.of('ws_reconnect_time')[0]!.v;
    expect(reconnectTime).toBeGreaterThan(400);
    expect(reconnectTime).toBeLessThan(10_000);
    expect(client.joined).toBe(true);
  });
});

describe('NodeLoadEngine with browser clients', () => {
  it('provisions, runs API streams and chatting sockets over 2 workers, one NDJSON file', async () => {
    const file = join(dir, 'mixed.ndjson');
    const sink = new NdjsonFileSink(file);
    const engine = new NodeLoadEngine({
      workers: 2,
      auth: { admin: ADMIN, provision: 3, userPassword: 'load-pw' },
      pacing: { tokensPerSecond: 100, firstTokenMs: 10 },
    });
    await engine.run(
      {
        durationMs: 4000,
        baseUrl: sim.url,
        model: MOCK_LLM_MODEL,
        chat: { vus: 3, tokens: 30 },
        sockets: { vus: 4, tokens: 30, chatIntervalMs: 500 },
      },
      sink,
    );
    sink.close();
    const samples = readSamples(file);
    const outcomes = (client: string) =>
      countBy(
        samples.filter((s) => s.metric === 'stream_outcome' && s.tags.client === client),
        (s) => s.tags.outcome,
      );
    expect(outcomes('api').completed).toBeGreaterThan(5);
    expect(outcomes('browser').completed).toBeGreaterThan(5);
    for (const o of ['api', 'browser'])
      expect(Object.keys(outcomes(o)).filter((k) => k !== 'completed' && k !== 'cancelled')).toEqual([]);
    expect(samples.filter((s) => s.metric === 'garbled_token_rate').every((s) => s.value === 0)).toBe(true);
    expect(samples.filter((s) => s.metric === 'ws_connect_time')).toHaveLength(4);
    expect(samples.some((s) => s.metric === 'active_sockets' && s.value === 4)).toBe(true);
    expect(engine.lastTotals?.credentials).toMatchObject({ users: 3, signIns: 4 });
  });
});
