// Live SLO table benchmark (the game-day console, docs/gameday.md): a simulated 2-hour session with
// 20 faults, samples fed in time order to the incremental evaluator and the table refreshed once a
// simulated second (7,200 refreshes). Printed per sample count: retained heap after a GC, the
// evaluator's HDR histograms, the mean cost of one refresh at the start and at the end of the session, and —
// for comparison — what ONE refresh costs when the table re-reads every sample (the former design).
// The incremental table must stay flat: retained heap and refresh time do not grow with samples.
// Run: `npx tsx bench/slo-table-bench.ts [samples…]` (default 300000 1000000 3000000).

import { evaluateSamples } from '../src/core/report/evaluate.js';
import { IncrementalSloEvaluator } from '../src/core/report/incremental.js';
import type { Journal, JournalActivity } from '../src/core/journal.js';
import type { Sample } from '../src/core/samples.js';
import type { SloSpec } from '../src/core/slo/spec.js';
import { settledHeapBytes } from './memory.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const SESSION_MS = 2 * 3600_000;
const FAULTS = Array.from({ length: 20 }, (_, i) => ({
  name: `fault-${i + 1}`,
  start: T0 + 300_000 + i * 330_000,
  end: T0 + 300_000 + i * 330_000 + 120_000,
}));

const SLOS: SloSpec[] = [
  { metric: 'ttft', stat: 'p99', lte: 3000, phases: ['baseline', 'fault', 'recovery', 'all'] },
  { metric: 'itl', stat: 'p99', lte: 200, phases: ['all', 'fault'] },
  { metric: 'e2e', stat: 'p99.9', lte: 20_000, phases: ['all'] },
  {
    metric: 'stream_outcome',
    stat: 'rate',
    tags: { outcome: 'completed' },
    gte: 0.99,
    phases: ['baseline', 'recovery'],
  },
  { metric: 'http_errors', stat: 'count', lte: 0, phases: ['baseline', 'recovery'] },
];

function* samples(n: number): Generator<Sample> {
  let x = 12345;
  const rnd = (): number => ((x = (x * 1103515245 + 12345) % 2147483648), x / 2147483648);
  const hurt = (t: number): boolean => FAULTS.some((f) => t >= f.start && t < f.end);
  for (let i = 0; i < n; i++) {
    const t = T0 + Math.floor((i / n) * SESSION_MS);
    const k = i % 20;
    const client = i % 3 === 0 ? 'browser' : 'api';
    const h = hurt(t);
    if (k < 12) yield { metric: 'itl', timeMs: t, value: 20 + rnd() * 30 * (h ? 4 : 1), tags: { client } };
    else if (k < 15)
      yield { metric: 'ttft', timeMs: t, value: 200 + rnd() * 400 + (h ? 2000 : 0), tags: { client } };
    else if (k < 17)
      yield { metric: 'e2e', timeMs: t, value: 3000 + rnd() * 2000 + (h ? 5000 : 0), tags: { client } };
    else if (k < 19)
      yield {
        metric: 'stream_outcome',
        timeMs: t,
        value: 1,
        tags: { client, outcome: h && rnd() < 0.2 ? 'truncated' : 'completed' },
      };
    else yield { metric: 'active_streams', timeMs: t, value: 50 + Math.round(rnd() * 10), tags: {} };
  }
}

/** The windows a session knows at `now`: reverted ones closed, the injected one open until now. */
function windowsAt(now: number) {
  return FAULTS.filter((f) => f.start <= now).map((f) => ({
    name: f.name,
    action: 'toxic.latency',
    start: f.start,
    end: Math.min(f.end, now),
    ...(f.end > now ? { open: true } : {}),
  }));
}

function journalAt(now: number): Journal {
  const activities: JournalActivity[] = windowsAt(now).flatMap((w) => [
    {
      name: w.name,
      kind: 'inject' as const,
      action: w.action,
      startedAt: w.start,
      endedAt: w.start,
      status: 'succeeded' as const,
      windowEndsAt: w.end,
    },
    ...(w.open
      ? []
      : [
          {
            name: w.name,
            kind: 'revert' as const,
            action: w.action,
            startedAt: w.end,
            endedAt: w.end,
            status: 'succeeded' as const,
          },
        ]),
  ]);
  return {
    schemaVersion: 1,
    runId: 'bench',
    experiment: { title: 'slo table bench' },
    target: { name: 'synthetic', url: 'http://127.0.0.1' },
    engine: 'bench',
    startedAt: T0,
    endedAt: now,
    status: 'completed',
    deviated: false,
    activities,
  };
}

interface Row {
  samples: number;
  ingestS: number;
  firstRefreshMs: number;
  lastRefreshMs: number;
  heapMB: number;
  histograms: number;
  rereadMs: number;
}

function benchOnce(n: number): Row {
  const heap0 = settledHeapBytes();
  const inc = new IncrementalSloEvaluator({ slos: SLOS, trackAll: true });
  const refreshTimes: number[] = [];
  let nextRefresh = T0 + 1000;
  const t0 = performance.now();
  for (const s of samples(n)) {
    inc.add(s);
    while (s.timeMs >= nextRefresh) {
      const r0 = performance.now();
      const w = windowsAt(nextRefresh);
      inc.advance(w, nextRefresh - 5000);
      inc.judgeSlos(SLOS, w, w.length > 0);
      refreshTimes.push(performance.now() - r0);
      nextRefresh += 1000;
    }
  }
  const ingestS = (performance.now() - t0) / 1000;
  const heapMB = (settledHeapBytes() - heap0) / 1e6;
  const size = inc.size();
  // Median: one refresh's own cost, not a GC pause of the sample generator or another process.
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  // The former design: one refresh = one pass over every sample so far (here: the whole session).
  // Measured up to 1M samples (beyond, it only grows and takes minutes on a loaded machine).
  let rereadMs = Number.NaN;
  if (n <= 1_000_000) {
    const r0 = performance.now();
    evaluateSamples(samples(n), { journal: journalAt(T0 + SESSION_MS), slos: SLOS });
    rereadMs = performance.now() - r0;
  }
  return {
    samples: n,
    ingestS,
    firstRefreshMs: median(refreshTimes.slice(0, 300)),
    lastRefreshMs: median(refreshTimes.slice(-300)),
    heapMB,
    histograms: size.histograms,
    rereadMs,
  };
}

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
const header = [
  'samples',
  'ingest+refresh s',
  'median refresh ms (first 5 min)',
  'median refresh ms (last 5 min)',
  'retained heap MB',
  'HDR histograms',
  'one re-reading refresh ms',
];
const cellsOf = (r: Row): string[] => [
  r.samples.toLocaleString('en-US'),
  r.ingestS.toFixed(1),
  r.firstRefreshMs.toFixed(2),
  r.lastRefreshMs.toFixed(2),
  r.heapMB.toFixed(1),
  String(r.histograms),
  Number.isNaN(r.rereadMs) ? '(not run)' : r.rereadMs.toFixed(0),
];
const widths = header.map((h) => Math.max(h.length, 9));
const line = (c: string[]): string => c.map((x, i) => x.padStart(widths[i] ?? 0)).join('  ');
console.log('slo-table-bench: a 2 h game day, 20 faults, the live SLO table refreshed every second');
console.log(line(header));
const rows: Row[] = [];
for (const n of sizes.length > 0 ? sizes : [300_000, 1_000_000, 3_000_000]) {
  const r = benchOnce(n);
  rows.push(r);
  console.log(line(cellsOf(r)));
}
// Flat: the largest run's retained heap and last-refresh cost within 2× (+ small absolute slack)
// of the smallest run's, although it has 10× the samples.
const small = rows[0]!;
const big = rows[rows.length - 1]!;
const flatHeap = big.heapMB <= small.heapMB * 2 + 5;
const flatRefresh = big.lastRefreshMs <= small.lastRefreshMs * 2 + 1;
console.log(
  flatHeap && flatRefresh
    ? `OK: flat — retained heap ${small.heapMB.toFixed(1)} → ${big.heapMB.toFixed(1)} MB, refresh ${small.lastRefreshMs.toFixed(2)} → ${big.lastRefreshMs.toFixed(2)} ms for ${(big.samples / small.samples).toFixed(0)}× the samples`
    : `NOT FLAT: heap ${small.heapMB.toFixed(1)} → ${big.heapMB.toFixed(1)} MB, refresh ${small.lastRefreshMs.toFixed(2)} → ${big.lastRefreshMs.toFixed(2)} ms`,
);
if (!flatHeap || !flatRefresh) process.exitCode = 1;
