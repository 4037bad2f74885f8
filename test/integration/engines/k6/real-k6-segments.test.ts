// A k6-operator run with several runners, simulated on one machine with real k6 (one block per
// version in OWUI_K6_BINARIES, else OWUI_K6_BINARY, else `k6`; skipped with the reason printed
// without k6): the chat-sse bundle at a fixed arrival rate in ONE k6 process, then in 3 processes
// with the execution segments k6-operator gives its runners, merged with
// `owui-chaos report show --samples`. The merged report must hold every runner's streams exactly
// once (merged = sum of the runners' files, every runner contributing) and match the single
// process within noise: the same number of streams (±10 %, k6 splits the rate by segment) and
// e2e p50 within 30 % (same mock pacing, loaded 2-core machine).

import { k6Binaries } from '../../../helpers/k6-binaries.js';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleScenarios } from '../../../../src/engines/k6/bundle.js';
import { scenarioConfigFromPlan } from '../../../../src/engines/k6/plan.js';
import { runSegments } from '../../../../src/engines/k6/segments.js';
import { hasXk6Sse, parseK6Version, targetFor } from '../../../../src/engines/k6/version.js';
import { MOCK_LLM_MODEL, startMockLlm, type MockLlmServer } from '../../../../src/lab/mock-llm/server.js';

const RUN_JS = resolve(import.meta.dirname, '..', '..', '..', '..', 'bin', 'run.js');
const RUNNERS = 3;

const binaries = k6Binaries('k6 execution-segment tests').map(({ binary, label, raw }) => ({
  binary,
  raw,
  version: label,
}));

interface Point {
  type: string;
  metric: string;
  data: { tags?: Record<string, string> };
}
interface SummaryRow {
  metric: string;
  phase: string;
  client: string;
  count: number;
  p50: number | null;
}

async function completedIn(file: string): Promise<Point[]> {
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Point)
    .filter(
      (p) => p.type === 'Point' && p.metric === 'stream_outcome' && p.data.tags?.outcome === 'completed',
    );
}

function reportShow(
  files: string[],
  out: string,
): { status: number | null; summary: SummaryRow[]; output: string } {
  const run = spawnSync(process.execPath, [RUN_JS, 'report', 'show', '--samples', ...files, '--out', out], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as {
    summary: SummaryRow[];
  };
  return { status: run.status, summary: results.summary, output: run.stdout + run.stderr };
}

const row = (summary: SummaryRow[], metric: string): SummaryRow | undefined =>
  summary.find((s) => s.metric === metric && s.phase === 'all' && s.client === 'api');

if (binaries.length === 0) describe.skip('k6 execution segments (no k6 binary here)', () => it('needs k6'));

describe.each(binaries)('k6 execution segments on real $version', ({ binary, raw, version: name }) => {
  let llm: MockLlmServer;
  let work: string;
  beforeAll(async () => {
    llm = await startMockLlm({ port: 0 });
    work = await mkdtemp(join(tmpdir(), 'owui-chaos-k6-segments-'));
  });
  afterAll(async () => {
    await llm?.close();
    await rm(work, { recursive: true, force: true });
  });

  it(`${RUNNERS} runners merged = one runner: every stream once, same totals and e2e within noise`, async () => {
    const version = parseK6Version(raw);
    const sse = hasXk6Sse(version) ? 'xk6' : 'plain';
    const [bundle] = await bundleScenarios({
      outDir: join(work, 'bundle'),
      target: targetFor(version),
      sse,
      names: ['chat-sse'],
    });
    const config = scenarioConfigFromPlan(
      {
        durationMs: 8000,
        baseUrl: llm.url,
        model: MOCK_LLM_MODEL,
        chat: { ratePerSecond: 6, maxInFlight: 24, tokens: 20 },
      },
      {
        version: '0.12.4',
        sse,
        chatPath: '/v1/chat/completions',
        gracefulStopMs: 10_000,
        pacing: { tokensPerSecond: 100 },
      },
    );
    const env = {
      ...process.env,
      OWUI_CONFIG: JSON.stringify(config),
      OWUI_API_TOKENS: '',
      OWUI_USER_TOKENS: '[]',
      K6_NO_USAGE_REPORT: 'true',
    };
    const common = { binary, script: bundle!.path, env, timeoutMs: 90_000 };
    const [single] = await runSegments({ ...common, runners: 1, outDir: join(work, 'single') });
    const split = await runSegments({ ...common, runners: RUNNERS, outDir: join(work, 'split') });
    expect(single?.exitCode, await readFile(single!.logFile, 'utf8')).toBe(0);
    for (const r of split) expect(r.exitCode, await readFile(r.logFile, 'utf8')).toBe(0);

    const singleCount = (await completedIn(single!.samplesFile)).length;
    const perRunner = await Promise.all(split.map(async (r) => (await completedIn(r.samplesFile)).length));
    // every segment did its share (rate 6/s over 3 runners: ~16 streams each)
    for (const [i, n] of perRunner.entries()) expect(n, `runner ${i + 1} of ${RUNNERS}`).toBeGreaterThan(0);
    // each runner's own samples carry its instance tag: a file never holds another runner's streams
    for (const r of split)
      expect(
        (await completedIn(r.samplesFile)).every((p) => p.data.tags?.instance_id === String(r.index)),
      ).toBe(true);

    const one = reportShow([single!.samplesFile], join(work, 'report-single'));
    const merged = reportShow(
      split.map((r) => r.samplesFile),
      join(work, 'report-merged'),
    );
    const mergedCount = row(merged.summary, 'stream_outcome')?.count ?? 0;
    // nothing double-counted or lost in the merge
    expect(mergedCount, merged.output).toBe(perRunner.reduce((a, b) => a + b, 0));
    expect(row(one.summary, 'stream_outcome')?.count).toBe(singleCount);
    // same load: ~48 arrivals at 6/s for 8 s, however it is split
    expect(singleCount).toBeGreaterThan(30);
    expect(Math.abs(mergedCount - singleCount)).toBeLessThanOrEqual(
      Math.max(3, Math.ceil(singleCount * 0.1)),
    );
    const p50One = row(one.summary, 'e2e')?.p50 ?? NaN;
    const p50Merged = row(merged.summary, 'e2e')?.p50 ?? NaN;
    expect(Math.abs(p50Merged - p50One) / p50One, `e2e p50 ${p50One} vs ${p50Merged}`).toBeLessThan(0.3);
    expect(row(merged.summary, 'e2e')?.count).toBe(mergedCount);
    console.log(
      `[segments] ${name}: 1 runner ${singleCount} streams, e2e p50 ${p50One} ms; ${RUNNERS} runners ${perRunner.join(' + ')} = ${mergedCount} merged, e2e p50 ${p50Merged} ms`,
    );

    // Negative control: 3 runners that each run the WHOLE load (no segments, as when the segment
    // flags are lost) triple the streams, and the same comparison catches it.
    const whole = await Promise.all(
      [1, 2, 3].map((i) => runSegments({ ...common, runners: 1, outDir: join(work, `whole-${i}`) })),
    );
    const tripled = reportShow(
      whole.map((w) => w[0]!.samplesFile),
      join(work, 'report-tripled'),
    );
    const tripledCount = row(tripled.summary, 'stream_outcome')?.count ?? 0;
    expect(tripledCount).toBeGreaterThan(singleCount * 2);
    expect(Math.abs(tripledCount - singleCount)).toBeGreaterThan(Math.max(3, Math.ceil(singleCount * 0.1)));
  }, 240_000);
});
