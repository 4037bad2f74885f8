// The SSE streams step: `n` closed-model VUs of the Node engine against the bench servers' mock
// LLM, each streaming STREAM_SECONDS-long answers at TPS tokens/s back to back.
import type { StreamTransport } from '../../src/engines/node/http.js';
import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { MOCK_LLM_MODEL } from '../../src/lab/mock-llm/server.js';
import { type LoopLogEntry, NodeLoadEngine } from '../../src/engines/node/engine.js';
import { NdjsonFileSink } from '../../src/engines/node/ndjson-file-sink.js';
import { type CpuMark, cpuMark, cpuWindow } from './cpu-window.js';
import { scanSamples } from './scan.js';
import type { BenchServers } from './servers.js';

export const LAG_LIMIT_MS = 5;
export const TPS = 20;
/** Length of one benchmark stream: TPS × STREAM_SECONDS content tokens. */
export const STREAM_SECONDS = 10;
/** The first token's delay asked of the mock, ms. */
export const FIRST_TOKEN_MS = 100;
/** Below this share of the paced event rate, the mock fell behind: the step is not at the asked load. */
export const MIN_PACE = 0.95;

/** Content events per second `n` back-to-back streams get when the mock keeps its pace. */
export function pacedEventsPerSec(n: number): number {
  const tokens = TPS * STREAM_SECONDS;
  return (n * tokens) / (FIRST_TOKEN_MS / 1000 + (tokens - 1) / TPS);
}

/** A failed step is measured again when something else kept the machine this busy (cores). */
export const BUSY_MACHINE_CORES = 0.25;

export interface StreamRow {
  streams: number;
  lagP50: number;
  lagP99: number;
  lagMax: number;
  eventsPerSec: number;
  /** eventsPerSec ÷ the paced rate (pacedEventsPerSec): below MIN_PACE the mock fell behind. */
  pace: number;
  completed: number;
  errors: number;
  engineCpu: number;
  serverCpu: number;
  /** Engine and mock CPU per content event, µs. */
  engineUsPerEvent: number;
  serverUsPerEvent: number;
  /** CPU used by other processes on the machine during the step (cores), when known. */
  otherCpu: number | undefined;
  /** Steal time (cores) over the window: the hypervisor gave this VM's CPUs to other guests. */
  stealCpu: number | undefined;
  /** The mock's main-thread event-loop delay over the window (p99, max), ms. */
  mockLoopP99: number;
  mockLoopMax: number;
  /** The engine workers' loops over the window (with the probe; else undefined). */
  workerLoop: WorkerLoop | undefined;
  load1: number;
  attempt: number;
  ok: boolean;
}

export interface StreamStepOptions {
  windowSeconds: number;
  rampSeconds: number;
  workers: number | undefined;
  /** Measure the workers' event-loop delay and GC pauses (the engine option probeLoop). */
  probeLoop?: boolean;
  /** The engine option streamTransport (default: the engine's default). */
  streamTransport?: StreamTransport;
}

/** The engine workers' event loops over a window, from the engine's loopLog (250 ms intervals). */
export interface WorkerLoop {
  /** Median over intervals and workers of each interval's delay p99, and the largest delay, ms. */
  delayP99: number;
  delayMax: number;
  /** GC pause time per worker and second, ms, and the longest pause. */
  gcMsPerSec: number;
  gcMaxMs: number;
}

export function summariseLoop(log: LoopLogEntry[], fromMs: number, toMs: number): WorkerLoop | undefined {
  const inWindow = log.filter((e) => e.atMs >= fromMs && e.atMs <= toMs);
  if (inWindow.length === 0) return undefined;
  const p99s = inWindow.map((e) => e.delayP99Ms).sort((a, b) => a - b);
  const workers = new Set(inWindow.map((e) => e.worker)).size;
  const seconds = Math.max(0.001, (toMs - fromMs) / 1000);
  return {
    delayP99: p99s[Math.floor(p99s.length / 2)] ?? 0,
    delayMax: Math.max(...inWindow.map((e) => e.delayMaxMs)),
    gcMsPerSec: inWindow.reduce((a, e) => a + e.gcMs, 0) / workers / seconds,
    gcMaxMs: Math.max(...inWindow.map((e) => e.gcMaxMs)),
  };
}

/**
 * One step: `n` closed-model VUs, each streaming STREAM_SECONDS-long answers back to back. VUs
 * start evenly over `rampMs` (default one stream length: stream starts, and so ends, are then
 * spread evenly, and the steady state has n / STREAM_SECONDS stream turnovers per second, as any
 * long-running closed model of such streams does). Lag and CPU are measured over the window from
 * ramp + 1 s to the deadline − 1 s.
 */
export async function streamStep(
  s: BenchServers,
  dir: string,
  n: number,
  o: StreamStepOptions,
): Promise<StreamRow> {
  const file = join(dir, `streams-${n}.ndjson`);
  const sink = new NdjsonFileSink(file);
  const rampMs = o.rampSeconds * 1000;
  const durationMs = rampMs + (o.windowSeconds + 2) * 1000;
  const engine = new NodeLoadEngine({
    ...(o.workers !== undefined ? { workers: o.workers } : {}),
    chatPath: '/v1/chat/completions',
    pacing: { tokensPerSecond: TPS, firstTokenMs: FIRST_TOKEN_MS },
    chatStages: [{ durationMs: rampMs, target: n }],
    finishGraceMs: 20_000,
    ...(o.probeLoop ? { probeLoop: true } : {}),
    ...(o.streamTransport ? { streamTransport: o.streamTransport } : {}),
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
  const w = await cpuWindow(a, b);
  const r = await scanSamples(file, windowFrom, windowTo);
  rmSync(file, { force: true });
  const errors = Object.entries(r.outcomes)
    .filter(([outcome]) => outcome !== 'completed' && outcome !== 'cancelled')
    .reduce((acc, [, c]) => acc + c, 0);
  // Content events in the CPU window, from the file's client_lag samples (one per event).
  const events = Math.max(1, r.eventsBetween(a.at, b.at));
  const eventsPerSec = Math.round(r.lag.count / ((windowTo - windowFrom) / 1000));
  const pace = eventsPerSec / pacedEventsPerSec(n);
  return {
    streams: n,
    lagP50: r.lag.p50,
    lagP99: r.lag.p99,
    lagMax: r.lag.max,
    eventsPerSec,
    pace,
    completed: r.outcomes.completed ?? 0,
    errors,
    engineCpu: w.client.cpuMs / w.wallMs,
    serverCpu: w.server.cpuMs / w.wallMs,
    engineUsPerEvent: (w.client.cpuMs * 1000) / events,
    serverUsPerEvent: (w.server.cpuMs * 1000) / events,
    otherCpu: w.otherCores,
    stealCpu: w.stealCores,
    mockLoopP99: w.serverLoop.p99,
    mockLoopMax: w.serverLoop.max,
    workerLoop: summariseLoop(engine.loopLog, a.at, b.at),
    load1,
    attempt: 1,
    ok: r.lag.p99 < LAG_LIMIT_MS && errors === 0 && r.lag.count > 0 && pace >= MIN_PACE,
  };
}

export function busyMachine(r: StreamRow): boolean {
  return r.otherCpu === undefined ? r.load1 > 1 : r.otherCpu >= BUSY_MACHINE_CORES;
}
