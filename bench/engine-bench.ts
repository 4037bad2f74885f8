// Engine benchmark (docs/engine-bench.md; issue 4 "Performance"): how many concurrent SSE streams at 20 tokens/s the
// Node engine sustains with client lag p99 < 5 ms, and how many idle browser clients it holds
// (connected, joined, answering pings, sending heartbeats) on this machine.
//
// Setup, so the numbers mean what they say:
// - The servers run in a CHILD process (bench/engine/servers.ts): the real mock LLM for the
//   streams and a minimal Socket.IO server for the sockets. The child still shares the cores.
// - Client lag = receive time − the mock's `sent_at` stamp, so the mock's own timer lateness does
//   not count; what counts is how long a written event waits before the engine reads it.
// - The engine runs as shipped: worker threads (one per core), every sample written to an NDJSON
//   file (the same sink the CLI uses); the file is read back after each step (bench/engine/scan.ts).
// - Streams last 10 s and VUs start evenly over one stream length, so the measured window (12 s
//   after the ramp) is the steady state: every stream's 50 ms ticks at its own phase, and a tenth
//   of the streams end and restart each second (a ramp of `--ramp-seconds 3` instead packs the
//   turnover of all streams into 3 s, which costs more; say which one a figure used).
// - Every step is bounded in time; a step fails when lag p99 ≥ 5 ms, when a stream errs, or
//   (sockets) when not every client joined, any disconnected, or heartbeats went missing. A failed
//   step is measured once more when other processes kept the machine busy (≥ 0.25 cores).
//
// Modules: bench/engine/servers.ts (the servers' child), proc.ts (CPU/RSS from /proc),
// cpu-window.ts (CPU over a window), scan.ts (sample file read-back), streams.ts / sockets.ts
// (the steps), profile.ts (where the time goes), report.ts (tables).
//
// - The floor (bench/engine/floor.ts): a bare `net` read loop on the same mock, the same request,
//   stream length and stream counts, parsing nothing; its CPU per event is what the sockets and
//   the event loop cost, the part of the engine's per-event CPU no client code can remove.
//
// Defaults fit `npm run bench` in a few minutes on 2 cores: streams 500…2000, floor at 1000 and
// 2000, one profile, 10,000 idle sockets. Larger sweeps by flag.
//
// Usage: npx tsx bench/engine-bench.ts [--streams 500,1000,…] [--floor-streams 1000,2000]
//        [--sockets 10000,…] [--window-seconds 8] [--ramp-seconds 10] [--workers N] [--retries 1]
//        [--no-profile] [--skip-hot-path] [--skip-streams] [--skip-floor] [--skip-sockets]
//        [--all-steps] (every stream step, not only up to the second failure)
//        [--no-loop-probe] (without the workers' event-loop delay and GC figures)
//        [--mock-nice N] (the servers' child at niceness N; see BenchServers.setNice)
//        [--variants default,w1,semi64 --ab-streams 1500 --ab-rounds 2]  (A/B of engine variants
//        at the same stream count, alternating; see bench/engine/variants.ts)

import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FloorRow, floorStep } from './engine/floor.js';
import { hotPathStep } from './engine/hot-path.js';
import { profileStreams } from './engine/profile.js';
import { type EngineVariant, parseVariant, withVariant } from './engine/variants.js';
import {
  logFloorRow,
  printFloorTable,
  printVariantTable,
  logSocketRow,
  logStreamRow,
  printSocketTable,
  printStreamTable,
  printSummary,
} from './engine/report.js';
import { startBenchServers } from './engine/servers.js';
import { type SocketRow, socketStep } from './engine/sockets.js';
import { busyMachine, STREAM_SECONDS, type StreamRow, streamStep } from './engine/streams.js';

function argList(name: string, fallback: number[]): number[] {
  const i = process.argv.indexOf(name);
  if (i < 0) return fallback;
  return (process.argv[i + 1] ?? '')
    .split(',')
    .map(Number)
    .filter((n) => n >= 0 && Number.isFinite(n));
}

async function main(): Promise<void> {
  const windowSeconds = argList('--window-seconds', [8])[0] ?? 8;
  const rampSeconds = argList('--ramp-seconds', [STREAM_SECONDS])[0] ?? STREAM_SECONDS;
  const retries = argList('--retries', [1])[0] ?? 1;
  // --all-steps: run every step of the scan (default: stop after the second failed step).
  const allSteps = process.argv.includes('--all-steps');
  // The workers' event-loop delay and GC pauses beside each step (~1 % of a core per worker).
  const probeLoop = !process.argv.includes('--no-loop-probe');
  const mockNice = argList('--mock-nice', [0])[0] ?? 0;
  const workersArg = process.argv.indexOf('--workers');
  const workers = workersArg >= 0 ? Number(process.argv[workersArg + 1]) : undefined;
  const streamSteps = process.argv.includes('--skip-streams')
    ? []
    : argList('--streams', [500, 1000, 1500, 2000]);
  const floorSteps = process.argv.includes('--skip-floor') ? [] : argList('--floor-streams', [1000, 2000]);
  const variantsArg = process.argv.indexOf('--variants');
  const variants: EngineVariant[] =
    variantsArg >= 0 ? (process.argv[variantsArg + 1] ?? '').split(',').map(parseVariant) : [];
  const abStreams = argList('--ab-streams', [1500]);
  const abRounds = argList('--ab-rounds', [2])[0] ?? 2;
  const socketSteps = process.argv.includes('--skip-sockets') ? [] : argList('--sockets', [10_000]);
  console.log(
    `engine bench: ${availableParallelism()} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}; servers in a child process sharing the cores`,
  );
  if (!process.argv.includes('--skip-hot-path')) {
    // The engine's own per-event code, no network (bench/engine/hot-path.ts): median of 5 runs.
    await hotPathStep(500, 1);
    const runs: Awaited<ReturnType<typeof hotPathStep>>[] = [];
    for (let i = 0; i < 5; i++) runs.push(await hotPathStep(1000, 2));
    runs.sort((a, b) => a.nsPerEvent - b.nsPerEvent);
    const m = runs[2]!;
    console.log(
      `  engine code per event, no network (SSE parse, chunk template, integrity text, 3 samples; 1,000 streams round-robin): median ${(m.nsPerEvent / 1000).toFixed(2)} µs/event (min ${(runs[0]!.nsPerEvent / 1000).toFixed(2)}), GC ${m.gcMsPerMillionEvents.toFixed(0)} ms per million events, ${m.sampleBytesPerEvent.toFixed(0)} sample bytes/event, load ${(loadavg()[0] ?? 0).toFixed(2)}`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'engine-bench-'));
  const servers = await startBenchServers();
  servers.setNice(mockNice);
  console.log(`  mock LLM child at nice ${mockNice} (--mock-nice; 0 = the same priority as the engine)`);
  const streamRows: StreamRow[] = [];
  const socketRows: SocketRow[] = [];
  const floorRows: FloorRow[] = [];
  const profile: string[] = [];
  try {
    for (const n of streamSteps) {
      let row = await streamStep(servers, dir, n, { windowSeconds, rampSeconds, workers, probeLoop });
      logStreamRow(row);
      // Another process kept the machine busy: one more try, and the better of the two counts.
      for (let attempt = 2; !row.ok && attempt <= retries + 1 && busyMachine(row); attempt++) {
        const again = {
          ...(await streamStep(servers, dir, n, { windowSeconds, rampSeconds, workers, probeLoop })),
          attempt,
        };
        logStreamRow(again);
        if (again.ok || again.lagP99 < row.lagP99) row = again;
      }
      streamRows.push(row);
      if (!allSteps && !row.ok && streamRows.filter((r) => !r.ok).length >= 2) break; // past the knee
    }
    const abRows: { variant: string; row: StreamRow }[] = [];
    for (const n of variants.length > 0 ? abStreams : [])
      for (let round = 0; round < abRounds; round++)
        for (const v of variants) {
          const row = await withVariant(v, () =>
            streamStep(servers, dir, n, {
              windowSeconds,
              rampSeconds,
              workers: v.workers ?? workers,
              probeLoop,
              ...(v.streamTransport ? { streamTransport: v.streamTransport } : {}),
            }),
          );
          process.stdout.write(`  [${v.name}] `);
          logStreamRow(row);
          abRows.push({ variant: v.name, row });
        }
    printVariantTable(abRows);
    for (const n of floorSteps) {
      const row = await floorStep(servers, n, { windowSeconds, rampSeconds });
      floorRows.push(row);
      logFloorRow(row);
    }
    if (!process.argv.includes('--no-profile') && streamSteps.length > 0) {
      const best = Math.max(500, ...streamRows.filter((r) => r.ok).map((r) => r.streams));
      profile.push(...(await profileStreams(servers, Math.min(best, 1000))));
    }
    for (const n of socketSteps) {
      const row = await socketStep(servers, dir, n);
      socketRows.push(row);
      logSocketRow(row);
      if (!row.ok) break;
    }
  } finally {
    await servers.close();
    rmSync(dir, { recursive: true, force: true });
  }
  printStreamTable(streamRows);
  printFloorTable(floorRows, streamRows);
  printSocketTable(socketRows);
  printSummary(streamRows, socketRows);
  for (const l of profile) console.log(l);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
