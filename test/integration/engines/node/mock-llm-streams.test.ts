// The API client and the engine against the real mock LLM (no Open WebUI in between), plus tiny
// misbehaving servers for the failure outcomes.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMockLlm, MOCK_LLM_MODEL, type MockLlmServer } from '../../../../src/lab/mock-llm/server.js';
import { runApiStream } from '../../../../src/engines/node/api-client.js';
import type { StreamTransport } from '../../../../src/engines/node/http.js';
import { StreamConnection } from '../../../../src/engines/node/stream-connection.js';
import { NodeLoadEngine } from '../../../../src/engines/node/engine.js';
import { NdjsonFileSink } from '../../../../src/engines/node/ndjson-file-sink.js';
import { collector, countBy, readSamples } from './support.js';

/** A SampleSink that hands every sample to a collector. */
function sinkOf(c: ReturnType<typeof collector>): {
  write: (
    m: Parameters<typeof c.emit>[0],
    t: number,
    v: number,
    tags: Record<string, string | undefined>,
  ) => void;
} {
  return { write: (m, t, v, tags) => c.emit(m, t, v, JSON.stringify(tags)) };
}

const PATH = '/v1/chat/completions';
let mock: MockLlmServer;
let agent: Agent;
let dir: string;
const servers: Server[] = [];

beforeAll(async () => {
  mock = await startMockLlm({ port: 0 });
  agent = new Agent({ connections: 64 });
  dir = mkdtempSync(join(tmpdir(), 'owui-engine-'));
});

afterAll(async () => {
  await agent.close();
  await mock.close();
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  rmSync(dir, { recursive: true, force: true });
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Which transport `stream()` uses: the shared undici Agent, or one of our own connections per stream. */
let transport: StreamTransport = 'undici';
const connections: StreamConnection[] = [];

const stream = (baseUrl: string, over: Partial<Parameters<typeof runApiStream>[0]> = {}) => {
  const c = collector();
  let dispatcher: Parameters<typeof runApiStream>[0]['dispatcher'] = agent;
  if (transport === 'builtin') {
    const connection = new StreamConnection(new URL(baseUrl).origin);
    connections.push(connection);
    dispatcher = connection;
  }
  const p = runApiStream({
    dispatcher,
    baseUrl,
    path: PATH,
    model: MOCK_LLM_MODEL,
    directive: { seed: Math.floor(Math.random() * 1e9), tokens: 40, tokensPerSecond: 200, firstTokenMs: 20 },
    verify: true,
    timeoutMs: 20_000,
    signal: new AbortController().signal,
    emit: c.emit,
    ...over,
  });
  return { c, p };
};

describe.each(['undici', 'builtin'] as const)('API client against the mock LLM, %s transport', (kind) => {
  beforeAll(() => {
    transport = kind;
  });
  afterAll(async () => {
    await Promise.all(connections.splice(0).map((c) => c.close()));
  });

  it('N concurrent streams all complete with garbled rate 0 and client lag recorded', async () => {
    const runs = Array.from({ length: 30 }, () => stream(mock.url));
    const summaries = await Promise.all(runs.map((r) => r.p));
    expect(summaries.map((s) => s.outcome)).toEqual(Array(30).fill('completed'));
    expect(summaries.every((s) => s.tokens === 40)).toBe(true);
    for (const { c } of runs) {
      expect(c.of('garbled_token_rate').map((g) => g.v)).toEqual([0]);
      expect(c.of('client_lag')).toHaveLength(40);
      expect(c.of('client_lag').every((g) => g.v > -5 && g.v < 1000)).toBe(true);
      expect(c.of('ttft')).toHaveLength(1);
      expect(c.of('itl').length).toBeGreaterThan(0);
      expect(c.of('stream_outcome')[0]?.tags).toEqual({ client: 'api', outcome: 'completed' });
    }
  });

  it('split write mode: events span reads (split_event_rate > 0) and the text is still intact', async () => {
    const runs = Array.from({ length: 5 }, () =>
      stream(mock.url, {
        directive: { seed: 99, tokens: 60, tokensPerSecond: 100, firstTokenMs: 10, write: 'split' },
      }),
    );
    const summaries = await Promise.all(runs.map((r) => r.p));
    for (const [i, s] of summaries.entries()) {
      expect(s.outcome).toBe('completed');
      expect(s.garbledRate).toBe(0);
      expect(runs[i]!.c.of('split_event_rate')[0]!.v).toBeGreaterThan(0.5);
    }
  });

  it('a server that closes mid-stream gives `truncated`', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"choices":[{"index":0,"delta":{"content":"Hello"}}]}\n\n');
      setTimeout(() => res.socket?.destroy(), 50);
    });
    const { c, p } = stream(url);
    const s = await p;
    expect(s.outcome).toBe('truncated');
    expect(s.tokens).toBe(1);
    expect(c.of('stream_outcome')[0]?.tags).toEqual({ client: 'api', outcome: 'truncated' });
    expect(c.of('garbled_token_rate')).toEqual([]);
  });

  it('a clean EOF without [DONE] is truncated too', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end('data: {"choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n');
    });
    expect((await stream(url).p).outcome).toBe('truncated');
  });

  it('HTTP ≥ 400 is http_error with an http_errors sample by status and endpoint; the replica header tags samples', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html', 'x-upstream': '127.0.0.1:9999' });
      res.end('<html>bad gateway</html>');
    });
    const { c, p } = stream(url);
    expect((await p).outcome).toBe('http_error');
    expect(c.of('http_errors')[0]?.tags).toEqual({
      client: 'api',
      replica: '127.0.0.1:9999',
      status: '502',
      endpoint: PATH,
    });
    expect(c.of('stream_outcome')[0]?.tags).toEqual({
      client: 'api',
      replica: '127.0.0.1:9999',
      outcome: 'http_error',
      status: '502',
    });
  });

  it('no server at all is http_error with status 0', async () => {
    const url = await serve(() => undefined);
    const dead = servers.pop()!;
    await new Promise((r) => dead.close(r));
    const { c, p } = stream(url);
    expect((await p).outcome).toBe('http_error');
    expect(c.of('http_errors')[0]?.tags).toMatchObject({ status: '0' });
  });

  it('timeout and cancellation are told apart', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': waiting\n\n');
    });
    expect((await stream(url, { timeoutMs: 200 }).p).outcome).toBe('timeout');
    const ac = new AbortController();
    const r = stream(url, { signal: ac.signal });
    setTimeout(() => ac.abort(), 200);
    expect((await r.p).outcome).toBe('cancelled');
  });
});

describe('NodeLoadEngine against the mock LLM', () => {
  it('closed model over 2 worker threads: streams complete, garbled 0, one NDJSON file with every metric', async () => {
    const file = join(dir, 'closed.ndjson');
    const sink = new NdjsonFileSink(file);
    const progress: number[] = [];
    const engine = new NodeLoadEngine({
      workers: 2,
      chatPath: PATH,
      pacing: { tokensPerSecond: 100, firstTokenMs: 20 },
    });
    await engine.run(
      { durationMs: 3000, baseUrl: mock.url, model: MOCK_LLM_MODEL, chat: { vus: 10, tokens: 30 } },
      sink,
      { onProgress: (p) => progress.push(p.completed) },
    );
    sink.close();
    const samples = readSamples(file);
    const outcomes = countBy(
      samples.filter((s) => s.metric === 'stream_outcome'),
      (s) => s.tags.outcome,
    );
    expect(Object.keys(outcomes).sort()).toEqual(expect.arrayContaining(['completed']));
    expect(Object.keys(outcomes).filter((o) => o !== 'completed' && o !== 'cancelled')).toEqual([]);
    expect(outcomes.completed).toBeGreaterThanOrEqual(20); // ~0.32 s per stream, 10 VUs, 3 s
    const garbled = samples.filter((s) => s.metric === 'garbled_token_rate');
    expect(garbled).toHaveLength(outcomes.completed!);
    expect(garbled.every((s) => s.value === 0)).toBe(true);
    expect(samples.filter((s) => s.metric === 'client_lag').length).toBeGreaterThan(outcomes.completed! * 29);
    expect(samples.some((s) => s.metric === 'active_streams' && s.value > 0)).toBe(true);
    expect(samples.filter((s) => s.metric === 'active_sockets').length).toBeGreaterThanOrEqual(2);
    expect(engine.lastTotals).toMatchObject({ workers: 2, completed: outcomes.completed, errors: 0 });
    expect(progress.length).toBeGreaterThanOrEqual(2);
    // Without the option probeLoop the workers measure nothing of their own loops.
    expect(engine.loopLog).toEqual([]);
  });

  it('probeLoop: each worker reports its event-loop delay and GC pauses per stats interval, samples unchanged', async () => {
    const c = collector();
    const sink = sinkOf(c);
    const engine = new NodeLoadEngine({
      workers: 2,
      chatPath: PATH,
      pacing: { tokensPerSecond: 100, firstTokenMs: 20 },
      probeLoop: true,
    });
    await engine.run(
      { durationMs: 1500, baseUrl: mock.url, model: MOCK_LLM_MODEL, chat: { vus: 4, tokens: 20 } },
      sink,
    );
    expect(new Set(engine.loopLog.map((e) => e.worker))).toEqual(new Set([0, 1]));
    // Stats go out every 250 ms: a 1.5 s run gives each worker several intervals.
    expect(engine.loopLog.filter((e) => e.worker === 0).length).toBeGreaterThanOrEqual(4);
    for (const e of engine.loopLog) {
      for (const v of [e.delayP50Ms, e.delayP99Ms, e.delayMaxMs, e.gcMs, e.gcMaxMs, e.gcCount])
        expect(Number.isFinite(v) && v >= 0).toBe(true);
      expect(e.delayP50Ms).toBeLessThanOrEqual(e.delayP99Ms);
      expect(e.delayP99Ms).toBeLessThanOrEqual(e.delayMaxMs + 0.001);
    }
    const outcomes = countBy(c.of('stream_outcome'), (s) => s.tags.outcome);
    expect(outcomes.completed ?? 0).toBeGreaterThanOrEqual(4);
    expect(c.of('client_lag').length).toBeGreaterThan(0);
  });

  it('open model: latency from the intended start, and arrivals over the in-flight cap are missed starts', async () => {
    const c = collector();
    const sink = sinkOf(c);
    const engine = new NodeLoadEngine({
      workers: 0,
      chatPath: PATH,
      pacing: { tokensPerSecond: 20, firstTokenMs: 10 },
    });
    await engine.run(
      {
        durationMs: 2000,
        baseUrl: mock.url,
        model: MOCK_LLM_MODEL,
        chat: { ratePerSecond: 20, maxInFlight: 4, tokens: 20 },
      },
      sink,
    );
    const missed = c.of('missed_starts');
    // 40 arrivals, at most 4 in flight, each stream ~1 s: most arrivals are missed.
    expect(missed.length).toBeGreaterThan(20);
    expect(engine.lastTotals?.missedStarts).toBe(missed.length);
    expect(c.of('stream_outcome').length + missed.length).toBe(40);
  });
});
