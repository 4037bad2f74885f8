// Reporter benchmark: writes N synthetic samples (k6 `--out json` NDJSON, a 10-minute run with
// two faults) to a temp file, then evaluates and writes the reports, and prints samples, seconds
// and peak memory. Run: `npx tsx bench/report-bench.ts [samples…]` (default 250000 1000000).
// The reporter must stream: heap stays flat as the file grows (compare the two rows).

import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import type { Journal } from '../src/core/journal.js';
import { evaluateRun } from '../src/core/report/evaluate.js';
import { writeReports } from '../src/core/report/write.js';
import { pointLine } from '../src/core/samples.js';
import type { SloSpec } from '../src/core/slo/spec.js';
import { forceGc, trackPeakMemory } from './memory.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const RUN_MS = 600_000;

function journal(): Journal {
  const fault = (name: string, action: string, start: number, end: number) => [
    {
      name,
      kind: 'inject' as const,
      action,
      startedAt: T0 + start,
      endedAt: T0 + start + 20,
      status: 'succeeded' as const,
    },
    {
      name,
      kind: 'revert' as const,
      action,
      startedAt: T0 + end - 20,
      endedAt: T0 + end,
      status: 'succeeded' as const,
    },
  ];
  return {
    schemaVersion: 1,
    runId: 'bench',
    experiment: { title: 'reporter benchmark' },
    target: { name: 'synthetic', url: 'http://127.0.0.1' },
    engine: 'bench',
    startedAt: T0,
    endedAt: T0 + RUN_MS,
    status: 'completed',
    deviated: false,
    activities: [
      ...fault('redis-failover', 'redis.failover', 200_000, 215_000),
      ...fault('kill-replica', 'replica.kill', 400_000, 430_000),
    ],
  };
}

const SLOS: SloSpec[] = [
  { metric: 'ttft', stat: 'p95', lte: 1500, phases: ['baseline', 'fault', 'recovery'] },
  { metric: 'itl', stat: 'p99', lte: 200, phases: ['all'] },
  { metric: 'e2e', stat: 'p99.9', lte: 20_000, phases: ['all'] },
  {
    metric: 'stream_outcome',
    stat: 'rate',
    tags: { outcome: 'completed' },
    gte: 0.99,
    phases: ['baseline', 'recovery'],
  },
  { metric: 'http_errors', stat: 'count', lte: 0, phases: ['baseline'] },
  { metric: 'ws_reconnect_time', stat: 'p95', lte: 6000, phases: ['all'] },
];

async function generate(file: string, n: number): Promise<void> {
  const out = createWriteStream(file);
  let x = 12345;
  const rnd = (): number => ((x = (x * 1103515245 + 12345) % 2147483648), x / 2147483648);
  const hurt = (t: number): boolean => (t >= 200_000 && t < 225_000) || (t >= 400_000 && t < 440_000);
  let buffer = '';
  for (let i = 0; i < n; i++) {
    const rel = Math.floor((i / n) * RUN_MS);
    const t = T0 + rel;
    const k = i % 20;
    const client = i % 3 === 0 ? 'browser' : 'api';
    let line: string;
    if (k < 12) line = pointLine('itl', t, 20 + rnd() * 30 * (hurt(rel) ? 4 : 1), { client });
    else if (k < 15) line = pointLine('ttft', t, 200 + rnd() * 400 + (hurt(rel) ? 2000 : 0), { client });
    else if (k < 17) line = pointLine('e2e', t, 3000 + rnd() * 2000 + (hurt(rel) ? 5000 : 0), { client });
    else if (k < 19)
      line = pointLine('stream_outcome', t, 1, {
        client,
        outcome: hurt(rel) && rnd() < 0.2 ? 'truncated' : 'completed',
      });
    else if (hurt(rel) && rnd() < 0.3)
      line = pointLine('http_errors', t, 1, { status: '502', endpoint: '/api/chat/completions' });
    else line = pointLine('active_streams', t, 50 + Math.round(rnd() * 10), {});
    buffer += line;
    if (buffer.length > 1 << 20) {
      if (!out.write(buffer)) await once(out, 'drain');
      buffer = '';
    }
  }
  out.end(buffer);
  await once(out, 'finish');
}

interface Row {
  samples: number;
  fileMB: number;
  generateS: number;
  evaluateS: number;
  writeS: number;
  peakHeapMB: number;
  peakRssMB: number;
}

async function benchOnce(dir: string, n: number): Promise<Row> {
  const file = join(dir, `samples-${n}.ndjson`);
  let t = performance.now();
  await generate(file, n);
  const generateS = (performance.now() - t) / 1000;
  const fileMB = (await stat(file)).size / 1e6;
  forceGc();
  const memory = trackPeakMemory(20);
  t = performance.now();
  const results = await evaluateRun({ sampleFiles: [file], journal: journal(), slos: SLOS });
  const evaluateS = (performance.now() - t) / 1000;
  memory.sample();
  t = performance.now();
  await writeReports(results, join(dir, `report-${n}`));
  const writeS = (performance.now() - t) / 1000;
  const peak = memory.stop();
  if (results.input.samples !== n)
    throw new Error(`expected ${n} samples, the reporter saw ${results.input.samples}`);
  return {
    samples: n,
    fileMB,
    generateS,
    evaluateS,
    writeS,
    peakHeapMB: peak.heapBytes / 1e6,
    peakRssMB: peak.rssBytes / 1e6,
  };
}

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
const dir = await mkdtemp(join(tmpdir(), 'owui-report-bench-'));
try {
  const rows: Row[] = [];
  for (const n of sizes.length > 0 ? sizes : [250_000, 1_000_000]) rows.push(await benchOnce(dir, n));
  const header = [
    'samples',
    'file MB',
    'generate s',
    'evaluate s',
    'write reports s',
    'samples/s',
    'peak heap MB',
    'peak RSS MB',
  ];
  const cells = rows.map((r) => [
    r.samples.toLocaleString('en-US'),
    r.fileMB.toFixed(0),
    r.generateS.toFixed(2),
    r.evaluateS.toFixed(2),
    r.writeS.toFixed(2),
    Math.round(r.samples / r.evaluateS).toLocaleString('en-US'),
    r.peakHeapMB.toFixed(0),
    r.peakRssMB.toFixed(0),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: string[]): string => c.map((x, i) => x.padStart(widths[i] ?? 0)).join('  ');
  console.log(
    'report-bench: stream NDJSON → HDR histograms per phase → results.json / report.html / junit.xml',
  );
  console.log(line(header));
  for (const c of cells) console.log(line(c));
  const worst = rows.reduce((a, r) => Math.max(a, r.evaluateS + r.writeS), 0);
  console.log(
    worst < 30
      ? `OK: slowest report ${worst.toFixed(1)} s (< 30 s)`
      : `SLOW: slowest report ${worst.toFixed(1)} s (≥ 30 s)`,
  );
  if (worst >= 30) process.exitCode = 1;
} finally {
  await rm(dir, { recursive: true, force: true });
}
