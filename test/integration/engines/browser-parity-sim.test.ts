// The same browser load against one in-process Open WebUI simulator replica, run by the Node
// engine and by real k6 (K6LoadEngine), in the two situations where the ws_* samples carry most:
// the replica dies and comes back mid-run (disconnect → reconnect), and the site refuses the
// clients' Origin (every attempt fails, nobody joins). Both engines run the one session
// (src/protocol/socket-session.ts), so the samples must agree. One k6 case per binary in
// OWUI_K6_BINARIES (else OWUI_K6_BINARY, else `k6` on PATH); skipped with the reason printed
// without k6 (this project never installs k6, AGPL).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadEngine, LoadPlan } from '../../../src/core/ports.js';
import type { MetricName } from '../../../src/core/metrics.js';
import type { SampleTags } from '../../../src/core/samples.js';
import { K6LoadEngine } from '../../../src/engines/k6/engine.js';
import { NodeLoadEngine } from '../../../src/engines/node/engine.js';
import { provisionCredentials, type Credentials } from '../../../src/engines/node/provisioning.js';
import { requestJson } from '../../../src/engines/node/http.js';
import { startMockLlm, MOCK_LLM_MODEL, type MockLlmServer } from '../../../src/lab/mock-llm/server.js';
import { configFromEnv, startOwuiSim, type OwuiSimHandle } from '../../../src/lab/owui-sim/index.js';
import { k6Binaries, wsProfile, type WsProfile } from './browser-parity-support.js';

const binaries = k6Binaries('browser parity on the simulator');

const ADMIN = { email: 'admin@owui-chaos.test', password: 'admin-pw' };
const SITE = 'http://127.0.0.1:9'; // the only Origin the simulator accepts
const SOCKETS = 2;

class MemorySink {
  readonly points: {
    type: 'Point';
    metric: string;
    data: { value: number; tags: Record<string, string> };
  }[] = [];
  write(metric: MetricName, _timeMs: number, value: number, tags: SampleTags): void {
    this.points.push({ type: 'Point', metric, data: { value, tags: { ...tags } as Record<string, string> } });
  }
  count(metric: string): number {
    return this.points.filter((p) => p.metric === metric).length;
  }
}

describe.skipIf(binaries.length === 0)('Node engine and real k6 against one simulator replica', () => {
  let mock: MockLlmServer;
  let sim: OwuiSimHandle;
  let port = 0;
  let agent: Agent;
  let dir: string;
  let creds: Credentials;

  const simEnv = (p: number): NodeJS.ProcessEnv => ({
    PORT: String(p),
    OPENAI_API_BASE_URL: `${mock.url}/v1`,
    WEBUI_SECRET_KEY: 'parity-secret',
    BYPASS_MODEL_ACCESS_CONTROL: 'true',
    OWUI_SIM_REPLICA_NAME: 'sim-1',
    CORS_ALLOW_ORIGIN: `${SITE};http://127.0.0.1`,
    DATABASE_URL: `file:${join(dir, 'db')}`,
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'owui-parity-sim-'));
    mock = await startMockLlm({ port: 0 });
    sim = await startOwuiSim(configFromEnv(simEnv(0)), { log: () => undefined });
    port = Number(new URL(sim.url).port);
    agent = new Agent({ connections: 16 });
    const signup = await requestJson(agent, `${sim.url}/api/v1/auths/signup`, {
      method: 'POST',
      body: { name: 'Admin', ...ADMIN },
    });
    expect(signup.status).toBe(200);
    creds = await provisionCredentials(agent, sim.url, {
      admin: ADMIN,
      provision: SOCKETS,
      userPassword: 'load-pw',
    });
  }, 60_000);

  afterAll(async () => {
    await agent?.close();
    await sim?.kill();
    await mock?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const plan = (origin: string, durationMs: number): LoadPlan => ({
    durationMs,
    baseUrl: sim.url,
    model: MOCK_LLM_MODEL,
    sockets: { vus: SOCKETS, tokens: 10, chatIntervalMs: 0, origin },
  });

  const engines = (
    binary: string,
    more: { chatPath?: string } = {},
  ): Record<'node' | 'k6', () => LoadEngine> => ({
    node: () => new NodeLoadEngine({ workers: 0, credentials: creds, socketRampMs: 0, ...more }),
    k6: () =>
      new K6LoadEngine({
        binary,
        credentials: creds,
        workDir: mkdtempSync(join(dir, 'k6-')),
        gracefulStopMs: 2000,
        // k6 v0.49 needs ~35 s to start its VUs on a loaded 2-core box: not a hang.
        hangGraceMs: 150_000,
        ...more,
      }),
  });

  /** Runs the load; once every client joined, kills the replica and starts it again on the same port. */
  async function withRestart(engine: LoadEngine): Promise<WsProfile> {
    const sink = new MemorySink();
    let ended = false;
    const run = engine.run(plan(SITE, 30_000), sink, {}).finally(() => (ended = true));
    let restarted = false;
    const restart = (async () => {
      // k6 v0.49 may need over a minute to start its VUs on a loaded 2-core box: wait for the
      // joins (bounded by the run itself), not a clock.
      while (sink.count('ws_connect_time') < SOCKETS && !ended) await sleep(100);
      if (ended) return;
      await sim.kill();
      sim = await startOwuiSim(configFromEnv(simEnv(port)), { log: () => undefined });
      restarted = true;
    })();
    await Promise.all([run, restart]);
    expect(restarted, `the clients never all joined: ${JSON.stringify(wsProfile(sink.points))}`).toBe(true);
    return wsProfile(sink.points);
  }

  it.each(binaries)(
    'k6 $version: a replica restart gives the same disconnects, reconnects and joins as the Node engine',
    async ({ binary }) => {
      const e = engines(binary);
      const node = await withRestart(e.node());
      const k6 = await withRestart(e.k6());
      console.log(
        `[parity-sim restart] node ${JSON.stringify(node)}\n[parity-sim restart] k6 ${binary} ${JSON.stringify(k6)}`,
      );
      for (const p of [node, k6]) {
        expect(p.counts['ws_disconnects']).toBe(SOCKETS);
        expect(p.counts['ws_reconnects']).toBe(SOCKETS);
        expect(p.counts['ws_reconnect_time']).toBe(SOCKETS);
        expect(p.counts['ws_connect_time']).toBe(2 * SOCKETS);
        expect(p.sums['ws_never_joined']).toBe(0);
      }
      // Attempts that fall in the restart gap fail as `network`/`closed`; how many depends on the
      // jittered backoff, so the counts are compared without them, the reasons as a set.
      const strip = (p: WsProfile) => ({
        ...p,
        counts: { ...p.counts, ws_connect_errors: undefined },
        sums: { ...p.sums, ws_connect_errors: undefined },
        reasons: [],
      });
      expect(strip(k6)).toEqual(strip(node));
      for (const r of [...node.reasons, ...k6.reasons])
        expect(['network', 'closed', 'handshake']).toContain(r);
    },
    400_000,
  );

  it.each(binaries)(
    'k6 $version: a refused Origin is origin_refused for every attempt and ws_never_joined for every client, as with the Node engine',
    async ({ binary }) => {
      const e = engines(binary);
      const profile = async (engine: LoadEngine): Promise<WsProfile> => {
        const sink = new MemorySink();
        await engine.run(plan('http://evil.example', 6_000), sink, {});
        return wsProfile(sink.points);
      };
      const node = await profile(e.node());
      const k6 = await profile(e.k6());
      console.log(
        `[parity-sim origin] node ${JSON.stringify(node)}\n[parity-sim origin] k6 ${binary} ${JSON.stringify(k6)}`,
      );
      for (const p of [node, k6]) {
        expect(p.reasons).toEqual(['origin_refused']);
        expect(p.counts['ws_never_joined']).toBe(SOCKETS);
        expect(p.sums['ws_never_joined']).toBe(SOCKETS);
        expect(p.counts['ws_connect_time']).toBeUndefined();
        // one error per attempt: at least the first attempt of each client, at most what a 1–5 s
        // backoff allows in 6 s
        expect(p.counts['ws_connect_errors']).toBeGreaterThanOrEqual(SOCKETS);
        expect(p.counts['ws_connect_errors']).toBeLessThanOrEqual(SOCKETS * 6);
      }
      expect(Object.keys(k6.counts).sort()).toEqual(Object.keys(node.counts).sort());
    },
    240_000,
  );

  it.each(binaries)(
    'k6 $version: socket chats go to the configured chat path, as with the Node engine (k6 used to hard-code it)',
    async ({ binary }) => {
      const chatPath = '/api/v1/not-the-chat-path';
      const run = async (engine: LoadEngine): Promise<string[]> => {
        const sink = new MemorySink();
        await engine.run(
          { ...plan(SITE, 5_000), sockets: { vus: 1, tokens: 5, chatIntervalMs: 1000, origin: SITE } },
          sink,
          {},
        );
        return [
          ...new Set(
            sink.points
              .filter((p) => p.metric === 'http_errors' && p.data.tags['client'] === 'browser')
              .map((p) => `${p.data.tags['endpoint']} ${p.data.tags['status']}`),
          ),
        ];
      };
      const e = engines(binary, { chatPath });
      const node = await run(e.node());
      const k6 = await run(e.k6());
      expect(node).toHaveLength(1);
      expect(node[0]).toMatch(new RegExp(`^${chatPath} 4\\d\\d$`));
      expect(k6).toEqual(node);
    },
    240_000,
  );
});

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
