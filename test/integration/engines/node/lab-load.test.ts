// The Node engine against the whole lab (nginx + 2 simulator replicas + Redis/Sentinel + mock LLM):
// mixed load, nginx buffering, and a replica killed mid-run. Needs `dist/` (npm run build) like
// every lab test; when the lab cannot start here, each test says why it skipped.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTarget, type Target } from '../../../../src/core/config/target.js';
import type { Sample } from '../../../../src/core/samples.js';
import { labDown, labUp } from '../../../../src/lab/lab.js';
import { setProxyBuffering } from '../../../../src/infra/nginx-buffering.js';
import { reloadNginx } from '../../../../src/lab/nginx/nginx-process.js';
import type { LabState } from '../../../../src/infra/lab-state.js';
import { NodeLoadEngine, type NodeEngineOptions } from '../../../../src/engines/node/engine.js';
import { NdjsonFileSink } from '../../../../src/engines/node/ndjson-file-sink.js';
import { authSourceFromTarget } from '../../../../src/engines/node/provisioning.js';
import type { LoadPlan } from '../../../../src/core/ports.js';
import { countBy, readSamples } from './support.js';

const stateDir = mkdtempSync(join(tmpdir(), 'owui-engine-lab-'));
let state: LabState | undefined;
let target: Target;
let skipReason = '';

beforeAll(async () => {
  try {
    state = await labUp({ name: `engine-${process.pid}`, stateDir, replicas: 2, buffering: 'off' });
    target = (await parseTarget(readFileSync(state.targetFile!, 'utf8'), state.targetFile!)).target;
  } catch (err) {
    skipReason = `the lab did not start here: ${err instanceof Error ? err.message : String(err)}`;
  }
}, 120_000);

afterAll(async () => {
  await labDown(stateDir).catch(() => undefined);
  rmSync(stateDir, { recursive: true, force: true });
}, 60_000);

// The lab is installed by scripts/setup.sh: if it does not start, these tests fail (never skip).
function needLab(_skip: unknown): void {
  if (!state) throw new Error(skipReason);
}

let runNo = 0;
async function runLoad(
  plan: Omit<LoadPlan, 'baseUrl' | 'model'>,
  opts: NodeEngineOptions = {},
  during?: (elapsed: number) => void,
): Promise<{ samples: Sample[]; engine: NodeLoadEngine }> {
  const file = join(stateDir, `run-${++runNo}.ndjson`);
  const sink = new NdjsonFileSink(file);
  const users = Math.max(plan.sockets?.vus ?? 0, plan.chat?.vus ?? 0, 1);
  const engine = new NodeLoadEngine({ auth: authSourceFromTarget(target.auth, users), ...opts });
  await engine.run(
    { ...plan, baseUrl: target.openwebui.url, model: target.model },
    sink,
    during ? { onProgress: (p) => during(p.elapsedMs) } : {},
  );
  sink.close();
  return { samples: readSamples(file), engine };
}

const of = (samples: Sample[], metric: string, client?: string): Sample[] =>
  samples.filter((s) => s.metric === metric && (client === undefined || s.tags.client === client));
const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
let baselineSplit = Number.NaN;

describe('Node engine against the lab', () => {
  it('100 API streams + 100 browser clients for 20 s: every stream completes, garbled 0, samples written', async ({
    skip,
  }) => {
    needLab(skip);
    const { samples, engine } = await runLoad({
      durationMs: 20_000,
      chat: { vus: 100, tokens: 40 },
      sockets: { vus: 100, tokens: 40, chatIntervalMs: 5000 },
    });
    for (const client of ['api', 'browser']) {
      const outcomes = countBy(of(samples, 'stream_outcome', client), (s) => s.tags.outcome);
      expect(outcomes.completed, `${client} outcomes ${JSON.stringify(outcomes)}`).toBeGreaterThan(100);
      // Only the streams in flight at the deadline are not completed: they are cancelled.
      expect(
        Object.keys(outcomes).filter((o) => o !== 'completed' && o !== 'cancelled'),
        JSON.stringify(outcomes),
      ).toEqual([]);
    }
    const garbled = of(samples, 'garbled_token_rate');
    expect(garbled.length).toBeGreaterThan(200);
    expect(garbled.filter((s) => s.value !== 0)).toEqual([]);
    expect(of(samples, 'ws_connect_time')).toHaveLength(100);
    expect(of(samples, 'ws_disconnects')).toEqual([]);
    expect(new Set(of(samples, 'ttft', 'api').map((s) => s.tags.replica)).size).toBe(2);
    expect(Math.max(...of(samples, 'active_sockets').map((s) => s.value))).toBe(100);
    expect(engine.lastTotals?.errors).toBe(0);
    baselineSplit = mean(of(samples, 'split_event_rate', 'api').map((s) => s.value));
  }, 120_000);

  it('with nginx buffering on: ttft ≈ e2e, large bursts, split events rise, garbled stays 0', async ({
    skip,
  }) => {
    needLab(skip);
    const nginx = state!.nginx!;
    const original = readFileSync(nginx.configFile, 'utf8');
    await reloadNginx(nginx, setProxyBuffering(original, 'on'), original);
    try {
      await new Promise((r) => setTimeout(r, 500));
      // Short replies (< one 4 KB proxy buffer): held back whole, so ttft ≈ e2e and one big burst.
      const short = await runLoad(
        { durationMs: 5000, chat: { vus: 10, tokens: 12 } },
        { pacing: { tokensPerSecond: 20, firstTokenMs: 50 } },
      );
      const ttft = of(short.samples, 'ttft', 'api').map((s) => s.value);
      const e2e = of(short.samples, 'e2e', 'api').map((s) => s.value);
      expect(e2e.length).toBeGreaterThan(10);
      expect(median(ttft) / median(e2e)).toBeGreaterThan(0.9);
      expect(median(of(short.samples, 'burst_size').map((s) => s.value))).toBeGreaterThanOrEqual(10);
      expect(of(short.samples, 'garbled_token_rate').filter((s) => s.value !== 0)).toEqual([]);
      // Long replies cross buffer boundaries: flushes cut events, so more events span reads.
      const long = await runLoad(
        { durationMs: 5000, chat: { vus: 10, tokens: 120 } },
        { pacing: { tokensPerSecond: 200, firstTokenMs: 20 } },
      );
      const split = mean(of(long.samples, 'split_event_rate', 'api').map((s) => s.value));
      expect(split).toBeGreaterThan(0.02);
      if (!Number.isNaN(baselineSplit)) expect(split).toBeGreaterThan(baselineSplit);
      expect(of(long.samples, 'garbled_token_rate').length).toBeGreaterThan(5);
      expect(of(long.samples, 'garbled_token_rate').filter((s) => s.value !== 0)).toEqual([]);
    } finally {
      await reloadNginx(nginx, original);
      await new Promise((r) => setTimeout(r, 500));
    }
  }, 120_000);

  it('a replica killed mid-run: truncated streams and reconnects are counted, every socket is back within 10 s', async ({
    skip,
  }) => {
    needLab(skip);
    const victim = state!.replicas[0]!;
    let killedAt = 0;
    let runStart = 0;
    const { samples } = await runLoad(
      {
        durationMs: 20_000,
        chat: { vus: 30, tokens: 200 },
        sockets: { vus: 40, tokens: 100, chatIntervalMs: 2000 },
      },
      { pacing: { tokensPerSecond: 50 } },
      (elapsed) => {
        if (runStart === 0) runStart = Date.now() - elapsed;
        if (killedAt === 0 && elapsed >= 5000) {
          killedAt = Date.now();
          process.kill(victim.pid!, 'SIGKILL');
        }
      },
    );
    expect(killedAt).toBeGreaterThan(0);
    const outcomes = countBy(of(samples, 'stream_outcome', 'api'), (s) => s.tags.outcome);
    expect(outcomes.truncated ?? 0, JSON.stringify(outcomes)).toBeGreaterThan(0);
    const disconnects = of(samples, 'ws_disconnects');
    const reconnects = of(samples, 'ws_reconnects');
    expect(disconnects.length).toBeGreaterThan(0);
    expect(reconnects.length).toBe(disconnects.length);
    const times = of(samples, 'ws_reconnect_time').map((s) => s.value);
    expect(times).toHaveLength(disconnects.length);
    expect(Math.max(...times)).toBeLessThan(10_000);
    // Gauges from 10 s after the kill until just before the deadline (after it, sockets close on purpose).
    const lastSockets = of(samples, 'active_sockets').filter(
      (s) => s.timeMs >= killedAt + 10_000 && s.timeMs < runStart + 19_000,
    );
    expect(lastSockets.length).toBeGreaterThan(0);
    expect(lastSockets.map((s) => s.value)).toEqual(lastSockets.map(() => 40));
  }, 120_000);
});
