// The floor: what reading the same SSE streams costs with no client logic at all. A bare `net`
// loop (reading with `onread`), one TCP connection per stream, sends the same request the engine sends (POST
// /v1/chat/completions with a ground-truth directive, the same pacing and length), reads the
// response bytes and parses nothing: it only watches the last bytes for the chunked terminator
// `0\r\n\r\n` to send its next request on the same connection (keep-alive, closed model like the
// engine). Its CPU per event is the cost of the syscalls and the event loop, the part of the
// engine's cost no parser or recorder change can remove.
//
// Events are counted by the mock LLM (its `tokensSent`, one content event per token here), so the
// floor needs no parsing; the engine row counts client_lag samples, which agree within a stream.
// Lag: the floor also finds each `"sent_at":` stamp in the bytes it reads (a byte search, no
// parse) and records receive time − stamp, as the engine's client_lag does. The floor's lag is
// what the mock and the kernel cost on their own: the part of the engine's lag no client code
// can remove.

import { connect, type Socket } from 'node:net';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { build, type Histogram } from 'hdr-histogram-js';
import { formatDirective } from '../../src/protocol/ground-truth.js';
import { buildApiChatBody } from '../../src/protocol/openwebui.js';
import { MOCK_LLM_MODEL } from '../../src/lab/mock-llm/server.js';
import { cpuMark, cpuWindow } from './cpu-window.js';
import type { BenchServers } from './servers.js';
import { FIRST_TOKEN_MS, pacedEventsPerSec, STREAM_SECONDS, TPS } from './streams.js';

export interface FloorRow {
  streams: number;
  eventsPerSec: number;
  /** eventsPerSec ÷ the paced rate: below MIN_PACE the mock fell behind. */
  pace: number;
  /** Lag (receive time − the mock's sent_at) of the events read in the window, ms. */
  lagP50: number;
  lagP99: number;
  lagMax: number;
  /** Streams that ended without the chunked terminator, or connections that failed. */
  errors: number;
  clientCpu: number;
  serverCpu: number;
  clientUsPerEvent: number;
  serverUsPerEvent: number;
  clientKernelShare: number;
  otherCpu: number | undefined;
  /** Steal time (cores) over the window: the hypervisor gave this VM's CPUs to other guests. */
  stealCpu: number | undefined;
  /** The mock's main-thread event-loop delay over the window (p99, max), ms. */
  mockLoopP99: number;
  mockLoopMax: number;
  load1: number;
}

/** One read buffer for every floor socket: each read is handled before the next one lands. */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);
const TERMINATOR = Buffer.from('0\r\n\r\n', 'latin1');
const SENT_AT = Buffer.from('"sent_at":', 'latin1');

/** Records receive time − each `"sent_at":` stamp in `chunk` (µs into `lag`). */
function recordLag(chunk: Buffer, nowMs: number, lag: Histogram): void {
  for (let at = chunk.indexOf(SENT_AT); at >= 0; at = chunk.indexOf(SENT_AT, at + SENT_AT.length)) {
    let end = at + SENT_AT.length;
    while (end < chunk.length && ((chunk[end]! >= 0x30 && chunk[end]! <= 0x39) || chunk[end] === 0x2e)) end++;
    // A stamp cut by the read boundary is skipped (rare: one event per write).
    if (end === chunk.length) continue;
    const sentAt = Number(chunk.toString('latin1', at + SENT_AT.length, end));
    if (Number.isFinite(sentAt)) lag.recordValue(Math.max(0, Math.round((nowMs - sentAt) * 1000)));
  }
}

async function mockTokensSent(s: BenchServers): Promise<number> {
  const r = await fetch(`${s.mockUrl}/stats`);
  return ((await r.json()) as { tokensSent: number }).tokensSent;
}

/** One bare-loop stream slot: a keep-alive connection streaming answers back to back until `stopAt`. */
function slot(
  host: string,
  port: number,
  stopAt: number,
  onError: () => void,
  onData: (chunk: Buffer) => void,
): { done: Promise<void>; socket: Socket } {
  // Read as cheaply as Node can: `onread` into one shared buffer (no Buffer, no stream machinery
  // per read), as the engine's own stream connections do; a floor must not cost more than them.
  // The last bytes seen (a copy), to find the terminator when it straddles two reads.
  let tail: Buffer = Buffer.alloc(0);
  const onChunk = (chunk: Buffer): void => {
    onData(chunk);
    tail =
      chunk.length >= TERMINATOR.length
        ? Buffer.from(chunk.subarray(chunk.length - TERMINATOR.length))
        : Buffer.concat([tail, chunk]).subarray(-TERMINATOR.length);
    if (!tail.equals(TERMINATOR)) return;
    tail = Buffer.alloc(0);
    if (Date.now() < stopAt) request();
    else socket.end();
  };
  const socket = connect({
    host,
    port,
    noDelay: true,
    onread: {
      buffer: READ_BUFFER,
      callback: (n, buf) => {
        onChunk(buf.subarray(0, n) as Buffer);
        return true;
      },
    },
  });
  const request = (): void => {
    const body = JSON.stringify(
      buildApiChatBody({
        model: MOCK_LLM_MODEL,
        prompt: formatDirective({
          seed: Math.floor(Math.random() * 0x7fffffff),
          tokens: TPS * STREAM_SECONDS,
          tokensPerSecond: TPS,
          firstTokenMs: FIRST_TOKEN_MS,
        }),
      }),
    );
    socket.write(
      `POST /v1/chat/completions HTTP/1.1\r\nHost: ${host}:${port}\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  };
  const done = new Promise<void>((resolve) => {
    socket.on('connect', request);
    socket.on('error', () => {
      onError();
      resolve();
    });
    socket.on('close', () => resolve());
  });
  return { done, socket };
}

/** `n` bare-loop streams, started evenly over the ramp, measured over the same window as streamStep. */
export async function floorStep(
  s: BenchServers,
  n: number,
  o: { windowSeconds: number; rampSeconds: number },
): Promise<FloorRow> {
  const { hostname, port } = new URL(s.mockUrl);
  const rampMs = o.rampSeconds * 1000;
  const durationMs = rampMs + (o.windowSeconds + 2) * 1000;
  const t0 = Date.now();
  const stopAt = t0 + durationMs;
  let errors = 0;
  const windowFrom = t0 + rampMs + 1000;
  const windowTo = t0 + durationMs - 1000;
  const lag = build({ numberOfSignificantValueDigits: 3, autoResize: true, lowestDiscernibleValue: 1 });
  const onData = (chunk: Buffer): void => {
    const now = performance.timeOrigin + performance.now();
    if (now >= windowFrom && now <= windowTo) recordLag(chunk, now, lag);
  };
  const slots: { done: Promise<void>; socket: Socket }[] = [];
  const starts: NodeJS.Timeout[] = [];
  const started = new Promise<void>((resolve) => {
    if (n === 0) resolve();
    for (let i = 0; i < n; i++)
      starts.push(
        setTimeout(
          () => {
            slots.push(slot(hostname, Number(port), stopAt, () => void errors++, onData));
            if (slots.length === n) resolve();
          },
          (rampMs * i) / Math.max(1, n),
        ),
      );
  });
  const sleepUntil = (t: number): Promise<void> =>
    new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));
  await sleepUntil(windowFrom);
  const a = cpuMark(s);
  const tokens0 = mockTokensSent(s);
  await sleepUntil(windowTo);
  const b = cpuMark(s);
  const tokens1 = mockTokensSent(s);
  await started;
  // Every slot ends its current stream (≤ one stream length) after stopAt; bounded wait.
  const all = Promise.all(slots.map((x) => x.done));
  const limit = new Promise<void>((r) => setTimeout(r, (STREAM_SECONDS + 10) * 1000).unref());
  await Promise.race([all, limit]);
  for (const x of slots) x.socket.destroy();
  for (const t of starts) clearTimeout(t);
  const load1 = loadavg()[0] ?? 0;
  const w = await cpuWindow(a, b);
  const events = Math.max(1, (await tokens1) - (await tokens0));
  const lagP50 = lag.getValueAtPercentile(50) / 1000;
  const lagP99 = lag.getValueAtPercentile(99) / 1000;
  const lagMax = lag.maxValue / 1000;
  lag.destroy();
  return {
    streams: n,
    eventsPerSec: Math.round(events / (w.wallMs / 1000)),
    pace: events / (w.wallMs / 1000) / pacedEventsPerSec(n),
    lagP50,
    lagP99,
    lagMax,
    errors,
    clientCpu: w.client.cpuMs / w.wallMs,
    serverCpu: w.server.cpuMs / w.wallMs,
    clientUsPerEvent: (w.client.cpuMs * 1000) / events,
    serverUsPerEvent: (w.server.cpuMs * 1000) / events,
    clientKernelShare: w.client.systemMs / Math.max(1, w.client.cpuMs),
    otherCpu: w.otherCores,
    stealCpu: w.stealCores,
    mockLoopP99: w.serverLoop.p99,
    mockLoopMax: w.serverLoop.max,
    load1,
  };
}
