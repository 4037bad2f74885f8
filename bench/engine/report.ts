// The engine bench's printed lines and tables.
import { availableParallelism } from 'node:os';
import type { FloorRow } from './floor.js';
import type { SocketRow } from './sockets.js';
import { LAG_LIMIT_MS, MIN_PACE, type StreamRow, TPS } from './streams.js';

const cores = availableParallelism();
const fmtOther = (v: number | undefined): string => (v === undefined ? '?' : v.toFixed(2));
const fmtPace = (pace: number): string =>
  `${Math.round(100 * pace)} % of the paced rate${pace < MIN_PACE ? ': the mock fell behind' : ''}`;

export function logStreamRow(row: StreamRow): void {
  const wl = row.workerLoop;
  console.log(
    `  streams ${row.streams}${row.attempt > 1 ? ` (try ${row.attempt})` : ''}: lag p50 ${row.lagP50.toFixed(2)} ms, p99 ${row.lagP99.toFixed(2)} ms, max ${row.lagMax.toFixed(1)} ms, ${row.eventsPerSec} events/s (${fmtPace(row.pace)}), errors ${row.errors}, engine ${row.engineCpu.toFixed(2)} cores (${row.engineUsPerEvent.toFixed(1)} µs/event), mock ${row.serverCpu.toFixed(2)} cores (${row.serverUsPerEvent.toFixed(1)} µs/event, loop delay p99 ${row.mockLoopP99.toFixed(1)} ms, max ${row.mockLoopMax.toFixed(1)} ms)${wl ? `, workers' loop delay p99 ${wl.delayP99.toFixed(1)} ms, max ${wl.delayMax.toFixed(1)} ms, GC ${wl.gcMsPerSec.toFixed(1)} ms/s per worker (longest ${wl.gcMaxMs.toFixed(1)} ms)` : ''}, other processes ${fmtOther(row.otherCpu)} cores, steal ${fmtOther(row.stealCpu)} cores, load ${row.load1.toFixed(2)} → ${row.ok ? 'ok' : 'FAIL'}`,
  );
}

export function logSocketRow(row: SocketRow): void {
  console.log(
    `  sockets ${row.sockets}: joined ${row.joined}, disconnects ${row.disconnects}, heartbeats ${row.heartbeats}, connect p99 ${row.connectP99.toFixed(0)} ms, engine CPU ${row.engineCpu.toFixed(2)} cores → ${row.ok ? 'ok' : 'FAIL'}`,
  );
}

export function printStreamTable(rows: StreamRow[]): void {
  if (rows.length === 0) return;
  console.log('');
  console.log(
    `| cores | SSE streams @ ${TPS} tok/s | lag p50 | lag p99 | events/s (of paced) | engine CPU | engine µs/event | workers' loop delay p99 / max | workers' GC ms/s (longest) | mock CPU | mock µs/event | mock loop delay p99 / max | other CPU | load 1m | result |`,
  );
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const r of rows)
    console.log(
      `| ${cores} | ${r.streams} | ${r.lagP50.toFixed(2)} ms | ${r.lagP99.toFixed(2)} ms | ${r.eventsPerSec} (${Math.round(100 * r.pace)} %) | ${r.engineCpu.toFixed(2)} | ${r.engineUsPerEvent.toFixed(1)} | ${r.workerLoop ? `${r.workerLoop.delayP99.toFixed(1)} / ${r.workerLoop.delayMax.toFixed(0)} ms` : '–'} | ${r.workerLoop ? `${r.workerLoop.gcMsPerSec.toFixed(1)} (${r.workerLoop.gcMaxMs.toFixed(1)} ms)` : '–'} | ${r.serverCpu.toFixed(2)} | ${r.serverUsPerEvent.toFixed(1)} | ${r.mockLoopP99.toFixed(1)} / ${r.mockLoopMax.toFixed(0)} ms | ${fmtOther(r.otherCpu)} | ${r.load1.toFixed(2)} | ${r.ok ? 'ok' : 'FAIL'}${r.attempt > 1 ? ` (try ${r.attempt})` : ''} |`,
    );
  console.log(
    "CPU columns are cores over the step (engine: this process, all its threads; mock: the child; other: every other process on the machine); µs/event = CPU per content event. Loop delay: how late a 1 ms timer ran on that thread (the engine workers: median of 250 ms intervals' p99, and the largest); a step below 95 % of the paced event rate is not at the asked load (the mock fell behind) and fails.",
  );
  console.log('');
}

export function printSocketTable(rows: SocketRow[]): void {
  if (rows.length === 0) return;
  console.log(
    '| cores | idle browser clients | joined | disconnects | heartbeats | connect p99 | engine CPU | result |',
  );
  console.log('|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const r of rows)
    console.log(
      `| ${cores} | ${r.sockets} | ${r.joined} | ${r.disconnects} | ${r.heartbeats} | ${r.connectP99.toFixed(0)} ms | ${r.engineCpu.toFixed(2)} | ${r.ok ? 'ok' : 'FAIL'} |`,
    );
}

export function printSummary(streamRows: StreamRow[], socketRows: SocketRow[]): void {
  const bestStreams = Math.max(0, ...streamRows.filter((r) => r.ok).map((r) => r.streams));
  const bestSockets = Math.max(0, ...socketRows.filter((r) => r.ok).map((r) => r.sockets));
  console.log('');
  if (streamRows.length > 0)
    console.log(
      `most concurrent SSE streams with client lag p99 < ${LAG_LIMIT_MS} ms: ${bestStreams} (target ≥ 2,000 on 2 cores)`,
    );
  if (socketRows.length > 0)
    console.log(`most concurrent idle browser clients held: ${bestSockets} (target ≥ 10,000 on 2 cores)`);
}

export function logFloorRow(row: FloorRow): void {
  console.log(
    `  floor ${row.streams} streams (bare net read loop): lag p50 ${row.lagP50.toFixed(2)} ms, p99 ${row.lagP99.toFixed(2)} ms, max ${row.lagMax.toFixed(1)} ms, ${row.eventsPerSec} events/s (${fmtPace(row.pace)}), errors ${row.errors}, client ${row.clientCpu.toFixed(2)} cores (${row.clientUsPerEvent.toFixed(1)} µs/event, ${Math.round(100 * row.clientKernelShare)} % kernel), mock ${row.serverCpu.toFixed(2)} cores (${row.serverUsPerEvent.toFixed(1)} µs/event, loop delay p99 ${row.mockLoopP99.toFixed(1)} ms, max ${row.mockLoopMax.toFixed(1)} ms), other processes ${fmtOther(row.otherCpu)} cores, steal ${fmtOther(row.stealCpu)} cores, load ${row.load1.toFixed(2)}`,
  );
}

/** The floor beside the engine at the same stream counts (same run, same servers). */
export function printFloorTable(floor: FloorRow[], engine: StreamRow[]): void {
  if (floor.length === 0) return;
  console.log(
    `| cores | SSE streams @ ${TPS} tok/s | floor lag p99 | engine lag p99 | floor µs/event | floor kernel | engine µs/event | engine ÷ floor | mock µs/event (floor run) | mock µs/event (engine run) | other CPU (floor run) | load 1m |`,
  );
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const f of floor) {
    const e = engine.find((r) => r.streams === f.streams);
    console.log(
      `| ${cores} | ${f.streams} | ${f.lagP99.toFixed(2)} ms | ${e ? `${e.lagP99.toFixed(2)} ms` : '–'} | ${f.clientUsPerEvent.toFixed(1)} | ${Math.round(100 * f.clientKernelShare)} % | ${e ? e.engineUsPerEvent.toFixed(1) : '–'} | ${e ? (e.engineUsPerEvent / Math.max(0.01, f.clientUsPerEvent)).toFixed(1) + '×' : '–'} | ${f.serverUsPerEvent.toFixed(1)} | ${e ? e.serverUsPerEvent.toFixed(1) : '–'} | ${fmtOther(f.otherCpu)} | ${f.load1.toFixed(2)} |`,
    );
  }
  for (const f of floor)
    if (f.lagP99 >= LAG_LIMIT_MS || f.pace < MIN_PACE)
      console.log(
        `at ${f.streams} streams even the floor misses (lag p99 ${f.lagP99.toFixed(2)} ms, ${fmtPace(f.pace)}): the limit there is the mock, the kernel or the machine, not the engine's code`,
      );
  console.log(
    "floor = a bare `net` loop reading the same streams from the same mock (one thread, no parsing; it finds the sent_at stamps by a byte search for its lag); µs/event = CPU per content event (floor: events counted by the mock). The floor's lag is what the mock, the kernel and the machine cost without any client code.",
  );
  console.log('');
}

/** A/B rows of engine variants (same run, alternating), then each variant's median µs/event. */
export function printVariantTable(rows: { variant: string; row: StreamRow }[]): void {
  if (rows.length === 0) return;
  console.log('');
  console.log(
    `| variant | SSE streams @ ${TPS} tok/s | lag p50 | lag p99 | lag max | engine µs/event | mock µs/event | other CPU | load 1m | result |`,
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const { variant, row: r } of rows)
    console.log(
      `| ${variant} | ${r.streams} | ${r.lagP50.toFixed(2)} ms | ${r.lagP99.toFixed(2)} ms | ${r.lagMax.toFixed(1)} ms | ${r.engineUsPerEvent.toFixed(1)} | ${r.serverUsPerEvent.toFixed(1)} | ${fmtOther(r.otherCpu)} | ${r.load1.toFixed(2)} | ${r.ok ? 'ok' : 'FAIL'} |`,
    );
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  for (const name of [...new Set(rows.map((r) => r.variant))]) {
    const mine = rows.filter((r) => r.variant === name).map((r) => r.row);
    console.log(
      `  ${name}: median engine ${median(mine.map((r) => r.engineUsPerEvent)).toFixed(1)} µs/event, median lag p99 ${median(mine.map((r) => r.lagP99)).toFixed(2)} ms over ${mine.length} steps`,
    );
  }
  console.log('');
}
