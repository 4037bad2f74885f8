// Engine benchmark (issue 4 "Performance"): how many concurrent SSE streams at 20 tokens/s the
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
// Usage: npx tsx bench/engine-bench.ts [--streams 250,500,…] [--sockets 2500,5000,…]
//        [--window-seconds 12] [--ramp-seconds 10] [--workers N] [--retries 1] [--no-profile]
//        [--skip-streams] [--skip-sockets]

import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { profileStreams } from './engine/profile.js';
import {
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
  console.log(
    `engine bench: ${availableParallelism()} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}; servers in a child process sharing the cores`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'engine-bench-'));
  const servers = await startBenchServers();
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
      logSocketRow(row);
      if (!row.ok) break;
    }
  } finally {
    await servers.close();
    rmSync(dir, { recursive: true, force: true });
  }
  printStreamTable(streamRows);
  printSocketTable(socketRows);
  printSummary(streamRows, socketRows);
  for (const l of profile) console.log(l);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
