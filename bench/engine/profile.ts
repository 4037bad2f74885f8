// "Where the time goes": `n` streams with the engine inline (one thread) and the mock LLM both
// under the CPU profiler, summarised by area (protocol, engine, mock, GC, node internals…) and by
// function self time.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MOCK_LLM_MODEL } from '../../src/lab/mock-llm/server.js';
import { NodeLoadEngine } from '../../src/engines/node/engine.js';
import { NdjsonFileSink } from '../../src/engines/node/ndjson-file-sink.js';
import { cpuBetween, type ProcessCpu, selfCpu } from './proc.js';
import { type CpuProfile, type RunningProfiler, startCpuProfiler } from './profiler.js';
import type { BenchServers } from './servers.js';
import { TPS } from './streams.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

function area(functionName: string, url: string): string {
  if (functionName === '(garbage collector)') return 'GC';
  if (url.startsWith('src/protocol')) return 'protocol (SSE parse, chunk JSON, integrity)';
  if (url.startsWith('src/engines')) return 'engine (recorders, samples, workload)';
  if (url.startsWith('src/lab')) return 'mock LLM code';
  if (url.startsWith('src/')) return 'other src';
  if (url.includes('undici')) return 'undici';
  if (url.startsWith('node:') || url === '' || url.startsWith('wasm'))
    return 'node internals / native (incl. socket syscalls)';
  if (url.startsWith('bench/')) return 'bench code';
  return 'other deps';
}

/** Where the time goes in one CPU profile: shares of busy samples by area, and the top functions by self time. */
export function summariseProfile(title: string, profile: CpuProfile, top = 12): string[] {
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
    let url = f.url.replace(/^file:\/\//, '');
    url = url.startsWith(REPO) ? url.slice(REPO.length) : url;
    url = url.replace(/^.*\/node_modules\//, 'node_modules/');
    const name = `${f.functionName || '(anonymous)'} ${url ? `${url}:${f.lineNumber + 1}` : ''}`.trim();
    byFn.set(name, (byFn.get(name) ?? 0) + hits);
    const a = area(f.functionName, url);
    byArea.set(a, (byArea.get(a) ?? 0) + hits);
  }
  const pct = (h: number): string => `${((100 * h) / Math.max(1, busy)).toFixed(1).padStart(5)} %`;
  const lines = [
    `${title}; ${((100 * busy) / Math.max(1, busy + idle)).toFixed(0)} % of samples busy; shares of busy time:`,
  ];
  for (const [a, h] of [...byArea].sort((x, y) => y[1] - x[1])) lines.push(`  ${pct(h)}  ${a}`);
  lines.push('  top functions by self time (inlined callees count in their caller):');
  for (const [fn, h] of [...byFn].sort((x, y) => y[1] - x[1]).slice(0, top)) lines.push(`  ${pct(h)}  ${fn}`);
  return lines;
}

/**
 * Where the time goes: `n` streams with the engine inline (one thread) and the mock both under
 * the CPU profiler, over a steady window after a ramp (profiling slows both down; the shares,
 * not the absolute numbers, are the point). Also the user/kernel split of each side.
 */
export async function profileStreams(s: BenchServers, n: number, top = 12): Promise<string[]> {
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
  let cpu0: ProcessCpu | undefined;
  let cpu1: ProcessCpu | undefined;
  let srv0: Promise<ProcessCpu> | undefined;
  let srv1: Promise<ProcessCpu> | undefined;
  let engineProfiler: Promise<RunningProfiler> | undefined;
  let engineProfile: Promise<CpuProfile> | undefined;
  let mockProfile: Promise<CpuProfile> | undefined;
  const started = setTimeout(() => {
    engineProfiler = startCpuProfiler();
    void s.profileStart();
    cpu0 = selfCpu();
    srv0 = s.cpu();
  }, rampMs + 500);
  const stopped = setTimeout(
    () => {
      cpu1 = selfCpu();
      srv1 = s.cpu();
      mockProfile = s.profileStop();
      engineProfile = engineProfiler?.then((p) => p.stop());
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
  const split = (c: ProcessCpu): string =>
    `${(c.cpuMs / windowMs).toFixed(2)} cores, ${Math.round((100 * c.userMs) / Math.max(1, c.cpuMs))} % user / ${Math.round((100 * c.systemMs) / Math.max(1, c.cpuMs))} % kernel`;
  const lines = [
    `Where the time goes: ${n} streams at ${TPS} tok/s, ${windowMs / 1000} s steady window, engine inline (one thread) and mock both profiled:`,
  ];
  if (cpu0 && cpu1) lines.push(`  engine process: ${split(cpuBetween(cpu0, cpu1))}`);
  if (srv0 && srv1) lines.push(`  mock process:   ${split(cpuBetween(await srv0, await srv1))}`);
  if (engineProfile) lines.push(...summariseProfile('engine thread', await engineProfile, top));
  if (mockProfile) lines.push(...summariseProfile('mock LLM process (main thread)', await mockProfile));
  return lines;
}
