// Engine benchmark (issue 4 "Performance"): how many concurrent SSE streams at 20 tokens/s the
// Node engine sustains with client lag p99 < 5 ms, and how many idle browser clients it holds
// (connected, joined, answering pings, sending heartbeats) on this machine.
//
// Setup, so the numbers mean what they say:
// - The servers run in a CHILD process (`--serve`): the real mock LLM (src/lab/mock-llm) for the
//   streams, and a minimal Socket.IO server (the `socket.io` package, websocket only, at
//   /ws/socket.io, Open WebUI's ping 25 s / timeout 20 s, `user-join` acked, `heartbeat` counted,
//   `GET /api/version`) for the sockets. Not the Open WebUI simulator: its Redis and JWT work would
//   measure the simulator, not the engine. The child still shares the machine's cores.
// - Client lag = receive time − the mock's `sent_at` stamp, so the mock's own timer lateness does
//   not count; what counts is how long a written event waits before the engine reads it.
// - The engine runs as shipped: worker threads (one per core), every sample written to an NDJSON
//   file (the same sink the CLI uses); the file is read back after each step.
// - Streams last 10 s and VUs start evenly over one stream length, so the measured window (12 s
//   after the ramp) is the steady state: every stream's 50 ms ticks at its own phase, and a tenth
//   of the streams end and restart each second (a ramp of `--ramp-seconds 3` instead packs the
//   turnover of all streams into 3 s, which costs more; say which one a figure used).
// - Every step is bounded in time; a step fails when lag p99 ≥ 5 ms, when a stream errs, or
//   (sockets) when not every client joined, any disconnected, or heartbeats went missing. A failed
//   step is measured once more when other processes kept the machine busy (≥ 0.25 cores).
//
// Usage: npx tsx bench/engine-bench.ts [--streams 250,500,…] [--sockets 2500,5000,…]
//        [--window-seconds 12] [--ramp-seconds 10] [--workers N] [--retries 1] [--no-profile]
//        [--skip-streams] [--skip-sockets]
// Also runs from dist after a build (node dist/../bench is not compiled; use tsx).

import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Session } from 'node:inspector/promises';
import { build } from 'hdr-histogram-js';
import { Server } from 'socket.io';
import { startMockLlm, MOCK_LLM_MODEL } from '../src/lab/mock-llm/server.js';
import { NodeLoadEngine } from '../src/engines/node/engine.js';
import { NdjsonFileSink } from '../src/engines/node/ndjson-file-sink.js';
import type { Credentials } from '../src/engines/node/provisioning.js';

const SELF = fileURLToPath(import.meta.url);
const LAG_LIMIT_MS = 5;
const TPS = 20;
/** Where the metric name starts in a Point line (`{"type":"Point","metric":"…`). */
const METRIC_AT = '{"type":"Point","metric":"'.length;

/** Busy and total CPU time of the whole machine (all cores), in ms, from /proc/stat; undefined off Linux. */
function machineCpuMs(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const total = f.reduce((a, b) => a + b, 0);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    const tick = 10; // USER_HZ = 100 on Linux
    return { busy: (total - idle) * tick, total: total * tick };
  } catch {
    return undefined;
  }
}

/** A failed step is measured again when something else kept the machine this busy (cores). */
const BUSY_MACHINE_CORES = 0.25;

// ─── child: the servers ─────────────────────────────────────────────────────────────────────────

/** The child's own CPU profiler, driven by the parent (mock "where the time goes"). */
let childSession: Session | undefined;
async function profileHook(start: boolean): Promise<unknown> {
  if (start) {
    childSession = new Session();
    childSession.connect();
    await childSession.post('Profiler.enable');
    await childSession.post('Profiler.setSamplingInterval', { interval: 500 });
    await childSession.post('Profiler.start');
    return {};
  }
  if (!childSession) return {};
  const { profile } = await childSession.post('Profiler.stop');
  childSession.disconnect();
  childSession = undefined;
  return profile;
}

async function serve(): Promise<void> {
  const mock = await startMockLlm({ port: 0 });
  const stats = { connected: 0, joins: 0, heartbeats: 0, disconnects: 0 };
  const http = createServer((req, res) => {
    if (req.url === '/api/version') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"version":"0.11.0","deployment_id":"bench"}');
      return;
    }
    if (req.url === '/profile/start' || req.url === '/profile/stop') {
      void profileHook(req.url.endsWith('start')).then((body) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body ?? {}));
      });
      return;
    }
    if (req.url === '/stats') {
      const cpu = process.cpuUsage();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ...stats, cpuMs: (cpu.user + cpu.system) / 1000, userMs: cpu.user / 1000 }));
      return;
    }
    res.writeHead(404).end();
  });
  http.maxConnections = 100_000;
  const io = new Server(http, {
    path: '/ws/socket.io',
    transports: ['websocket'],
    pingInterval: 25_000,
    pingTimeout: 20_000,
    perMessageDeflate: false,
  });
  io.on('connection', (socket) => {
    stats.connected++;
    socket.on('user-join', (_data: unknown, ack?: (r: unknown) => void) => {
      stats.joins++;
      ack?.({ id: 'u', name: 'bench' });
    });
    socket.on('heartbeat', () => void stats.heartbeats++);
    socket.on('disconnect', () => {
      stats.connected--;
      stats.disconnects++;
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const sioUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  process.stdout.write(JSON.stringify({ mockUrl: mock.url, sioUrl }) + '\n');
  process.on('SIGTERM', () => {
    io.close();
    void mock.close().finally(() => process.exit(0));
  });
}

// ─── parent: the steps ──────────────────────────────────────────────────────────────────────────

interface Servers {
  child: ChildProcess;
  mockUrl: string;
  sioUrl: string;
}

async function startServers(): Promise<Servers> {
  const child = spawn(process.execPath, [...process.execArgv, SELF, '--serve'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('bench servers did not start within 30 s')), 30_000);
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(buf.slice(0, nl));
      }
    });
    child.once('exit', (code) => reject(new Error(`bench servers exited with ${code}`)));
  });
  const { mockUrl, sioUrl } = JSON.parse(line) as { mockUrl: string; sioUrl: string };
  return { child, mockUrl, sioUrl };
}

interface ServerStats {
  connected: number;
  joins: number;
  heartbeats: number;
  disconnects: number;
  /** CPU of the servers' process (user + system), and its user part, ms. */
  cpuMs: number;
  userMs: number;
}

async function serverStats(s: Servers): Promise<ServerStats> {
  const res = await fetch(`${s.sioUrl}/stats`);
  return (await res.json()) as ServerStats;
}

interface SampleScan {
  lag: { count: number; p50: number; p99: number; max: number };
  /** client_lag samples (one per content event) in [fromMs, toMs), at 100 ms resolution. */
  eventsBetween(fromMs: number, toMs: number): number;
  outcomes: Record<string, number>;
  maxActiveSockets: number;
  disconnects: number;
  connectP99: number;
  samples: number;
}

/** Reads an NDJSON sample file back: client_lag in [fromMs, toMs] into an HDR histogram, outcomes, socket numbers. */
async function scan(file: string, fromMs: number, toMs: number): Promise<SampleScan> {
  const lag = build({ numberOfSignificantValueDigits: 3, autoResize: true, lowestDiscernibleValue: 1 });
  const connect = build({ numberOfSignificantValueDigits: 3, autoResize: true, lowestDiscernibleValue: 1 });
  const outcomes: Record<string, number> = {};
  let maxActiveSockets = 0;
  let disconnects = 0;
  let samples = 0;
  const eventTenths = new Map<number, number>();
  const rl = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of rl) {
    if (line === '') continue;
    samples++;
    // Cheap prefix checks first: most lines are client_lag/itl/burst_size.
    const m = line.slice(METRIC_AT, METRIC_AT + 20);
    if (m.startsWith('client_lag')) {
      const p = JSON.parse(line) as { data: { time: string; value: number } };
      const t = Date.parse(p.data.time);
      const tenth = Math.floor(t / 100);
      eventTenths.set(tenth, (eventTenths.get(tenth) ?? 0) + 1);
      if (t >= fromMs && t <= toMs) lag.recordValue(Math.max(0, Math.round(p.data.value * 1000)));
    } else if (m.startsWith('stream_outcome')) {
      const p = JSON.parse(line) as { data: { tags: { outcome?: string } } };
      const o = p.data.tags.outcome ?? '?';
      outcomes[o] = (outcomes[o] ?? 0) + 1;
    } else if (m.startsWith('active_sockets')) {
      maxActiveSockets = Math.max(
        maxActiveSockets,
        (JSON.parse(line) as { data: { value: number } }).data.value,
      );
    } else if (m.startsWith('ws_disconnects')) {
      disconnects++;
    } else if (m.startsWith('ws_connect_time')) {
      connect.recordValue(
        Math.max(0, Math.round((JSON.parse(line) as { data: { value: number } }).data.value * 1000)),
      );
    }
  }
  const result: SampleScan = {
    eventsBetween: (fromMs, toMs) => {
      let n = 0;
      for (const [tenth, c] of eventTenths)
        if (tenth >= Math.floor(fromMs / 100) && tenth < Math.floor(toMs / 100)) n += c;
      return n;
    },
    lag: {
      count: lag.totalCount,
      p50: lag.getValueAtPercentile(50) / 1000,
      p99: lag.getValueAtPercentile(99) / 1000,
      max: lag.maxValue / 1000,
    },
    outcomes,
    maxActiveSockets,
    disconnects,
    connectP99: connect.getValueAtPercentile(99) / 1000,
    samples,
  };
  lag.destroy();
  connect.destroy();
  return result;
}

interface StreamRow {
  streams: number;
  lagP50: number;
  lagP99: number;
  lagMax: number;
  eventsPerSec: number;
  completed: number;
  errors: number;
  engineCpu: number;
  serverCpu: number;
  /** Engine and mock CPU per content event, µs. */
  engineUsPerEvent: number;
  serverUsPerEvent: number;
  /** CPU used by other processes on the machine during the step (cores), when known. */
  otherCpu: number | undefined;
  load1: number;
  attempt: number;
  ok: boolean;
}

/** Length of one benchmark stream: TPS × STREAM_SECONDS content tokens. */
const STREAM_SECONDS = 10;

interface CpuMark {
  at: number;
  engine: NodeJS.CpuUsage;
  server: Promise<{ cpuMs: number }>;
  machine: { busy: number; total: number } | undefined;
}

function cpuMark(s: Servers): CpuMark {
  return { at: Date.now(), engine: process.cpuUsage(), server: serverStats(s), machine: machineCpuMs() };
}

/**
 * One step: `n` closed-model VUs, each streaming STREAM_SECONDS-long answers back to back. VUs
 * start evenly over `rampMs` (default one stream length: stream starts, and so ends, are then
 * spread evenly, and the steady state has n / STREAM_SECONDS stream turnovers per second, as any
 * long-running closed model of such streams does). Lag and CPU are measured over the window from
 * ramp + 1 s to the deadline − 1 s.
 */
async function streamStep(
  s: Servers,
  dir: string,
  n: number,
  o: { windowSeconds: number; rampSeconds: number; workers: number | undefined },
): Promise<StreamRow> {
  const file = join(dir, `streams-${n}.ndjson`);
  const sink = new NdjsonFileSink(file);
  const rampMs = o.rampSeconds * 1000;
  const durationMs = rampMs + (o.windowSeconds + 2) * 1000;
  const engine = new NodeLoadEngine({
    ...(o.workers !== undefined ? { workers: o.workers } : {}),
    chatPath: '/v1/chat/completions',
    pacing: { tokensPerSecond: TPS, firstTokenMs: 100 },
    chatStages: [{ durationMs: rampMs, target: n }],
    finishGraceMs: 20_000,
  });
  const t0 = Date.now();
  const windowFrom = t0 + rampMs + 1000;
  const windowTo = t0 + durationMs - 1000;
  let from: CpuMark | undefined;
  let to: CpuMark | undefined;
  await engine.run(
    { durationMs, baseUrl: s.mockUrl, model: MOCK_LLM_MODEL, chat: { vus: 0, tokens: TPS * STREAM_SECONDS } },
    sink,
    {
      // Progress ticks every second: CPU marks at the first tick inside the window and the last.
      onProgress: () => {
        const now = Date.now();
        if (from === undefined && now >= windowFrom) from = cpuMark(s);
        else if (from !== undefined && to === undefined && now >= windowTo - 500) to = cpuMark(s);
      },
    },
  );
  sink.close();
  const load1 = loadavg()[0] ?? 0;
  const a = from ?? cpuMark(s);
  const b = to ?? cpuMark(s);
  const wall = Math.max(1, b.at - a.at);
  const cpu = process.cpuUsage(a.engine);
  const cpuAtB = process.cpuUsage(b.engine);
  const engineMs = (cpu.user + cpu.system - (cpuAtB.user + cpuAtB.system)) / 1000;
  const serverMs = (await b.server).cpuMs - (await a.server).cpuMs;
  const otherCpu =
    a.machine && b.machine
      ? Math.max(0, (b.machine.busy - a.machine.busy - engineMs - serverMs) / wall)
      : undefined;
  const r = await scan(file, windowFrom, windowTo);
  rmSync(file, { force: true });
  const errors = Object.entries(r.outcomes)
    .filter(([o]) => o !== 'completed' && o !== 'cancelled')
    .reduce((acc, [, c]) => acc + c, 0);
  // Content events in the CPU window, from the file's client_lag samples (one per event).
  const events = Math.max(1, r.eventsBetween(a.at, b.at));
  return {
    streams: n,
    lagP50: r.lag.p50,
    lagP99: r.lag.p99,
    lagMax: r.lag.max,
    eventsPerSec: Math.round(r.lag.count / ((windowTo - windowFrom) / 1000)),
    completed: r.outcomes.completed ?? 0,
    errors,
    engineCpu: engineMs / wall,
    serverCpu: serverMs / wall,
    engineUsPerEvent: (engineMs * 1000) / events,
    serverUsPerEvent: (serverMs * 1000) / events,
    otherCpu,
    load1,
    attempt: 1,
    ok: r.lag.p99 < LAG_LIMIT_MS && errors === 0 && r.lag.count > 0,
  };
}

interface SocketRow {
  sockets: number;
  joined: number;
  disconnects: number;
  heartbeats: number;
  connectP99: number;
  engineCpu: number;
  ok: boolean;
}

async function socketStep(s: Servers, dir: string, n: number): Promise<SocketRow> {
  const file = join(dir, `sockets-${n}.ndjson`);
  const sink = new NdjsonFileSink(file);
  const rampMs = Math.max(2000, Math.min(15_000, n)); // ~1,000 connects per second
  // Hold until 33 s after the last client joined (every client has then answered a server ping,
  // 25 s, and sent a heartbeat, 30 s after joining); at most ramp + 80 s.
  const holdMs = 33_000;
  const durationMs = rampMs + 80_000;
  const stop = new AbortController();
  let allJoinedAt = 0;
  const users = Array.from({ length: n }, (_, i) => ({
    email: `bench-${i}@bench.invalid`,
    token: 'bench-token',
  }));
  const credentials: Credentials = { version: '0.11.0', apiTokens: [], users, signIns: 0 };
  const engine = new NodeLoadEngine({ credentials, socketRampMs: rampMs, finishGraceMs: 30_000 });
  const before = await serverStats(s);
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  await engine.run(
    { durationMs, baseUrl: s.sioUrl, model: 'none', sockets: { vus: n, tokens: 1, chatIntervalMs: 0 } },
    sink,
    {
      signal: stop.signal,
      onProgress: (p) => {
        if (allJoinedAt === 0 && p.activeSockets === n) allJoinedAt = Date.now();
        if (allJoinedAt > 0 && Date.now() - allJoinedAt >= holdMs) stop.abort();
      },
    },
  );
  sink.close();
  const cpu = process.cpuUsage(cpu0);
  const wall = Date.now() - t0;
  const after = await serverStats(s);
  const r = await scan(file, 0, Number.MAX_SAFE_INTEGER);
  rmSync(file, { force: true });
  const heartbeats = after.heartbeats - before.heartbeats;
  return {
    sockets: n,
    joined: r.maxActiveSockets,
    disconnects: r.disconnects,
    heartbeats,
    connectP99: r.connectP99,
    engineCpu: (cpu.user + cpu.system) / 1000 / wall,
    ok: allJoinedAt > 0 && r.maxActiveSockets === n && r.disconnects === 0 && heartbeats >= n,
  };
}

/** Where the time goes in one CPU profile: shares of busy samples by area, and the top functions by self time. */
function summariseProfile(
  title: string,
  profile: {
    nodes: {
      hitCount?: number | undefined;
      callFrame: { functionName: string; url: string; lineNumber: number };
    }[];
  },
): string[] {
  const byFn = new Map<string, number>();
  const byArea = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  for (const nd of profile.nodes) {
    const hits = nd.hitCount ?? 0;
    if (hits === 0) continue;
    const f = nd.callFrame;
    if (f.functionName === '(idle)') {
      idle += hits;
      continue;
    }
    busy += hits;
    const url = f.url
      .replace(/^file:\/\//, '')
      .replace(/^.*\/node_modules\//, 'node_modules/')
      .replace(/^.*\/work\/main\//, '');
    const name = `${f.functionName || '(anonymous)'} ${url ? `${url}:${f.lineNumber + 1}` : ''}`.trim();
    byFn.set(name, (byFn.get(name) ?? 0) + hits);
    const area =
      f.functionName === '(garbage collector)'
        ? 'GC'
        : url.startsWith('src/protocol')
          ? 'protocol (SSE parse, chunk JSON, integrity)'
          : url.startsWith('src/engines')
            ? 'engine (recorders, samples, workload)'
            : url.startsWith('src/lab')
              ? 'mock LLM code'
              : url.startsWith('src/')
                ? 'other src'
                : url.includes('undici')
                  ? 'undici'
                  : url.startsWith('node:') || url === '' || url.startsWith('wasm')
                    ? 'node internals / native (incl. socket syscalls)'
                    : 'other deps';
    byArea.set(area, (byArea.get(area) ?? 0) + hits);
  }
  const pct = (h: number): string => `${((100 * h) / Math.max(1, busy)).toFixed(1).padStart(5)} %`;
  const lines = [
    `${title}; ${((100 * busy) / Math.max(1, busy + idle)).toFixed(0)} % of samples busy; shares of busy time:`,
  ];
  for (const [area, h] of [...byArea].sort((a, b) => b[1] - a[1])) lines.push(`  ${pct(h)}  ${area}`);
  lines.push('  top functions by self time (inlined callees count in their caller):');
  for (const [fn, h] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, 12)) lines.push(`  ${pct(h)}  ${fn}`);
  return lines;
}

/**
 * Where the time goes: `n` streams with the engine inline (one thread) and the mock both under
 * the CPU profiler, over a steady window after a ramp (profiling slows both down; the shares,
 * not the absolute numbers, are the point). Also the user/kernel split of each side.
 */
async function profileStreams(s: Servers, n: number): Promise<string[]> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  const dir = mkdtempSync(join(tmpdir(), 'engine-prof-'));
  const sink = new NdjsonFileSink(join(dir, 'p.ndjson'));
  const rampMs = 4000;
  const windowMs = 8000;
  const engine = new NodeLoadEngine({
    workers: 0,
    chatPath: '/v1/chat/completions',
    pacing: { tokensPerSecond: TPS, firstTokenMs: 100 },
    chatStages: [{ durationMs: rampMs, target: n }],
  });
  let cpu0 = process.cpuUsage();
  let srv0: Promise<ServerStats> | undefined;
  const started = setTimeout(() => {
    void session.post('Profiler.start');
    void fetch(`${s.sioUrl}/profile/start`, { method: 'POST' });
    cpu0 = process.cpuUsage();
    srv0 = serverStats(s);
  }, rampMs + 500);
  let engineProfile: Parameters<typeof summariseProfile>[1] | undefined;
  let mockProfile: Promise<unknown> | undefined;
  let cpu = process.cpuUsage(cpu0);
  let srv1: Promise<ServerStats> | undefined;
  const stopped = setTimeout(
    () => {
      cpu = process.cpuUsage(cpu0);
      srv1 = serverStats(s);
      mockProfile = fetch(`${s.sioUrl}/profile/stop`, { method: 'POST' }).then((r) => r.json());
      void session.post('Profiler.stop').then((r) => (engineProfile = r.profile));
    },
    rampMs + 500 + windowMs,
  );
  try {
    await engine.run(
      {
        durationMs: rampMs + windowMs + 1500,
        baseUrl: s.mockUrl,
        model: MOCK_LLM_MODEL,
        chat: { vus: 0, tokens: TPS * 10 },
      },
      sink,
    );
  } finally {
    clearTimeout(started);
    clearTimeout(stopped);
    sink.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const mock = (await mockProfile) as Parameters<typeof summariseProfile>[1] | undefined;
  session.disconnect();
  const a = srv0 ? await srv0 : undefined;
  const b = srv1 ? await srv1 : undefined;
  const lines: string[] = [];
  const split = (userMs: number, totalMs: number): string =>
    `${(totalMs / windowMs).toFixed(2)} cores, ${Math.round((100 * userMs) / Math.max(1, totalMs))} % user / ${Math.round((100 * (totalMs - userMs)) / Math.max(1, totalMs))} % kernel`;
  lines.push(
    `Where the time goes: ${n} streams at ${TPS} tok/s, ${windowMs / 1000} s steady window, engine inline (one thread) and mock both profiled:`,
  );
  lines.push(`  engine process: ${split(cpu.user / 1000, (cpu.user + cpu.system) / 1000)}`);
  if (a && b) lines.push(`  mock process:   ${split(b.userMs - a.userMs, b.cpuMs - a.cpuMs)}`);
  if (engineProfile) lines.push(...summariseProfile('engine thread', engineProfile));
  if (mock) lines.push(...summariseProfile('mock LLM process (main thread)', mock));
  return lines;
}

function busyMachine(r: StreamRow): boolean {
  return r.otherCpu === undefined ? r.load1 > 1 : r.otherCpu >= BUSY_MACHINE_CORES;
}

function logStreamRow(row: StreamRow): void {
  console.log(
    `  streams ${row.streams}${row.attempt > 1 ? ` (try ${row.attempt})` : ''}: lag p50 ${row.lagP50.toFixed(2)} ms, p99 ${row.lagP99.toFixed(2)} ms, max ${row.lagMax.toFixed(1)} ms, ${row.eventsPerSec} events/s, errors ${row.errors}, engine ${row.engineCpu.toFixed(2)} cores (${row.engineUsPerEvent.toFixed(1)} µs/event), mock ${row.serverCpu.toFixed(2)} cores (${row.serverUsPerEvent.toFixed(1)} µs/event), other processes ${row.otherCpu === undefined ? '?' : row.otherCpu.toFixed(2)} cores, load ${row.load1.toFixed(2)} → ${row.ok ? 'ok' : 'FAIL'}`,
  );
}

function argList(name: string, fallback: number[]): number[] {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  return (process.argv[i + 1] ?? '')
    .split(',')
    .map(Number)
    .filter((n) => n >= 0 && Number.isFinite(n));
}

async function main(): Promise<void> {
  const windowSeconds = argList('--window-seconds', [STREAM_SECONDS + 2])[0] ?? STREAM_SECONDS + 2;
  const rampSeconds = argList('--ramp-seconds', [STREAM_SECONDS])[0] ?? STREAM_SECONDS;
  const retries = argList('--retries', [1])[0] ?? 1;
  const workersArg = process.argv.indexOf('--workers');
  const workers = workersArg >= 0 ? Number(process.argv[workersArg + 1]) : undefined;
  const streamSteps = process.argv.includes('--skip-streams')
    ? []
    : argList('--streams', [250, 500, 1000, 1500, 2000, 2500, 3000, 4000]);
  const socketSteps = process.argv.includes('--skip-sockets')
    ? []
    : argList('--sockets', [2500, 5000, 10_000, 15_000]);
  const cores = availableParallelism();
  console.log(
    `engine bench: ${cores} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}; servers in a child process sharing the cores`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'engine-bench-'));
  const servers = await startServers();
  const streamRows: StreamRow[] = [];
  const socketRows: SocketRow[] = [];
  const profile: string[] = [];
  try {
    for (const n of streamSteps) {
      let row = await streamStep(servers, dir, n, { windowSeconds, rampSeconds, workers });
      logStreamRow(row);
      // Another process kept the machine busy: one more try, and the better of the two counts.
      for (let attempt = 2; !row.ok && attempt <= retries + 1 && busyMachine(row); attempt++) {
        const again = {
          ...(await streamStep(servers, dir, n, { windowSeconds, rampSeconds, workers })),
          attempt,
        };
        logStreamRow(again);
        if (again.ok || again.lagP99 < row.lagP99) row = again;
      }
      streamRows.push(row);
      if (!row.ok && streamRows.filter((r) => !r.ok).length >= 2) break; // two failures: past the knee
    }
    if (!process.argv.includes('--no-profile') && streamSteps.length > 0) {
      const best = Math.max(500, ...streamRows.filter((r) => r.ok).map((r) => r.streams));
      profile.push(...(await profileStreams(servers, Math.min(best, 1000))));
    }
    for (const n of socketSteps) {
      const row = await socketStep(servers, dir, n);
      socketRows.push(row);
      console.log(
        `  sockets ${n}: joined ${row.joined}, disconnects ${row.disconnects}, heartbeats ${row.heartbeats}, connect p99 ${row.connectP99.toFixed(0)} ms, engine CPU ${row.engineCpu.toFixed(2)} cores → ${row.ok ? 'ok' : 'FAIL'}`,
      );
      if (!row.ok) break;
    }
  } finally {
    servers.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }

  const bestStreams = Math.max(0, ...streamRows.filter((r) => r.ok).map((r) => r.streams));
  const bestSockets = Math.max(0, ...socketRows.filter((r) => r.ok).map((r) => r.sockets));
  if (streamRows.length > 0) {
    console.log('');
    console.log(
      `| cores | SSE streams @ ${TPS} tok/s | lag p50 | lag p99 | events/s | engine CPU | engine µs/event | mock CPU | mock µs/event | other CPU | load 1m | result |`,
    );
    console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
    for (const r of streamRows)
      console.log(
        `| ${cores} | ${r.streams} | ${r.lagP50.toFixed(2)} ms | ${r.lagP99.toFixed(2)} ms | ${r.eventsPerSec} | ${r.engineCpu.toFixed(2)} | ${r.engineUsPerEvent.toFixed(1)} | ${r.serverCpu.toFixed(2)} | ${r.serverUsPerEvent.toFixed(1)} | ${r.otherCpu === undefined ? '?' : r.otherCpu.toFixed(2)} | ${r.load1.toFixed(2)} | ${r.ok ? 'ok' : 'FAIL'}${r.attempt > 1 ? ` (try ${r.attempt})` : ''} |`,
      );
    console.log(
      'CPU columns are cores over the step (engine: this process, all its threads; mock: the child; other: every other process on the machine); µs/event = CPU per content event.',
    );
    console.log('');
  }
  if (socketRows.length > 0) {
    console.log(
      '| cores | idle browser clients | joined | disconnects | heartbeats | connect p99 | engine CPU | result |',
    );
    console.log('|---:|---:|---:|---:|---:|---:|---:|---|');
    for (const r of socketRows)
      console.log(
        `| ${cores} | ${r.sockets} | ${r.joined} | ${r.disconnects} | ${r.heartbeats} | ${r.connectP99.toFixed(0)} ms | ${r.engineCpu.toFixed(2)} | ${r.ok ? 'ok' : 'FAIL'} |`,
      );
  }
  console.log('');
  if (streamRows.length > 0)
    console.log(
      `most concurrent SSE streams with client lag p99 < ${LAG_LIMIT_MS} ms: ${bestStreams} (target ≥ 2,000 on 2 cores)`,
    );
  if (socketRows.length > 0)
    console.log(`most concurrent idle browser clients held: ${bestSockets} (target ≥ 10,000 on 2 cores)`);
  for (const l of profile) console.log(l);
}

if (process.argv.includes('--serve')) void serve();
else
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
