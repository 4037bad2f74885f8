import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../../../src/core/errors.js';
import { faultWindows } from '../../../../src/core/journal.js';
import { evaluateRun, evaluateSamples } from '../../../../src/core/report/evaluate.js';
import { IncrementalSloEvaluator } from '../../../../src/core/report/incremental.js';
import { exitCodeFor } from '../../../../src/core/report/results.js';
import { pointLine } from '../../../../src/core/samples.js';
import { parseSloDocument } from '../../../../src/core/slo/load.js';
import type { SloSpec } from '../../../../src/core/slo/spec.js';
import { T0, journalWith, sample } from './synthetic.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'owui-report-eval-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ttftLines = (values: number[], client: 'api' | 'browser' = 'api'): string =>
  values.map((v, i) => pointLine('ttft', T0 + i * 10, v, { client })).join('');

describe('evaluateRun on NDJSON files', () => {
  it('gives known percentiles for 1..1000 ms and skips k6 Metric declarations', async () => {
    const file = join(dir, 'known.ndjson');
    const values = Array.from({ length: 1000 }, (_, i) => i + 1);
    await writeFile(file, '{"type":"Metric","metric":"ttft","data":{"type":"trend"}}\n' + ttftLines(values));
    const results = await evaluateRun({
      sampleFiles: [file],
      slos: [
        { metric: 'ttft', stat: 'p50', lte: 501, phases: ['all'] },
        { metric: 'ttft', stat: 'p99', lte: 980, phases: ['all'] },
      ],
    });
    expect(results.input.samples).toBe(1000);
    const all = results.summary.find((s) => s.metric === 'ttft' && s.phase === 'all' && s.client === 'all');
    expect(all?.p50).toBeCloseTo(500, -1);
    expect(Math.abs((all?.p99 ?? 0) - 990)).toBeLessThan(1);
    expect(results.slos.map((s) => s.verdict)).toEqual(['pass', 'breach']);
    expect(results.exitCode).toBe(10);
    expect(exitCodeFor(results)).toBe(10);
  });

  it('merging two files gives the histograms of one concatenated file', async () => {
    const a = Array.from({ length: 700 }, (_, i) => 10 + ((i * 37) % 500));
    const b = Array.from({ length: 900 }, (_, i) => 300 + ((i * 53) % 2000));
    await writeFile(join(dir, 'a.ndjson'), ttftLines(a, 'api'));
    await writeFile(join(dir, 'b.ndjson'), ttftLines(b, 'browser'));
    await writeFile(join(dir, 'ab.ndjson'), ttftLines(a, 'api') + ttftLines(b, 'browser'));
    const slos: SloSpec[] = [{ metric: 'ttft', stat: 'p99', lte: 3000, phases: ['all'] }];
    const split = await evaluateRun({ sampleFiles: [join(dir, 'a.ndjson'), join(dir, 'b.ndjson')], slos });
    const whole = await evaluateRun({ sampleFiles: [join(dir, 'ab.ndjson')], slos });
    expect(split.histograms.map((h) => h.encoded)).toEqual(whole.histograms.map((h) => h.encoded));
    expect(split.summary).toEqual(whole.summary);
    // Percentiles of the merge are not the average of the files' percentiles.
    const p99 = (r: typeof split, client: string) =>
      r.summary.find((s) => s.phase === 'all' && s.client === client)?.p99 ?? 0;
    expect(p99(split, 'all')).not.toBeCloseTo((p99(split, 'api') + p99(split, 'browser')) / 2, 0);
  });

  it('counts a truncated last line instead of failing the run, and rejects a file of garbage', async () => {
    const truncated = join(dir, 'truncated.ndjson');
    await writeFile(truncated, ttftLines([100, 200]) + '{"type":"Point","metric":"ttft","data":{"ti');
    const results = await evaluateRun({ sampleFiles: [truncated], slos: [] });
    expect(results.input.samples).toBe(2);
    expect(results.input.malformedLines).toBe(1);
    expect(results.input.warnings[0]).toContain('truncated.ndjson:3');

    const garbage = join(dir, 'garbage.ndjson');
    await writeFile(garbage, 'not json\nalso not json\n');
    const error = await evaluateRun({ sampleFiles: [garbage], slos: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).code).toBe('SAMPLES_INVALID');
  });
});

describe('a per-client share, as a user writes it (client as a tag)', () => {
  // 40 API streams all complete; 40 browser streams, every other one refused. Mixed capacity
  // sweeps judge each kind this way; once the share was taken over both kinds (docs/capacity.md
  // "Mixed sweeps"), which reported api 0.5 / browser 0.25 instead of 1.0 / 0.5.
  const samples = Array.from({ length: 80 }, (_, i) =>
    sample('stream_outcome', T0 + i * 100, 1, {
      client: i < 40 ? 'api' : 'browser',
      outcome: i >= 40 && i % 2 ? 'http_error' : 'completed',
    }),
  );
  const slos = parseSloDocument(
    [
      '- { metric: stream_outcome, stat: rate, tags: { outcome: completed, client: api }, gte: 0.98 }',
      '- { metric: stream_outcome, stat: rate, tags: { outcome: completed, client: browser }, gte: 0.98 }',
      '',
    ].join('\n'),
  );
  const journal = journalWith([]);

  it('catches the refused browser chats and leaves the healthy API chats alone', () => {
    const results = evaluateSamples(samples, { journal, slos });
    const row = (client: string) =>
      results.slos.find((s) => s.id.includes(`:${client}:`) && s.phase === 'all');
    expect(row('browser')).toMatchObject({ measured: 0.5, verdict: 'breach', samples: 40 });
    expect(row('api')).toMatchObject({ measured: 1, verdict: 'pass', samples: 40 });
  });

  it('the live evaluator agrees', () => {
    const live = new IncrementalSloEvaluator({ slos });
    for (const s of samples) live.add(s);
    const rows = live.evaluate({ windows: faultWindows(journal), faultsPlanned: true, horizon: Infinity });
    const all = rows.slos.filter((r) => r.phase === 'all').map((r) => [r.id, r.measured, r.verdict]);
    expect(all).toEqual([
      ['stream_outcome:rate:api:outcome=completed', 1, 'pass'],
      ['stream_outcome:rate:browser:outcome=completed', 0.5, 'breach'],
    ]);
  });
});

describe('evaluateSamples: phases, filters, verdicts', () => {
  const journal = journalWith([
    { name: 'kill', action: 'replica.kill', start: T0 + 10_000, end: T0 + 20_000 },
  ]);
  const samples = [
    ...Array.from({ length: 100 }, (_, i) =>
      sample('stream_outcome', T0 + i * 300, 1, {
        client: i % 2 ? 'api' : 'browser',
        outcome: i >= 40 && i < 60 ? 'truncated' : 'completed',
      }),
    ),
    sample('http_errors', T0 + 12_000, 1, { status: '502', endpoint: '/api/chat/completions' }),
    sample('http_errors', T0 + 13_000, 2, { status: '502', endpoint: '/api/chat/completions' }),
    sample('http_errors', T0 + 14_000, 1, { status: '401', endpoint: '/api/models' }),
    sample('ws_reconnects', T0 + 15_000, 1, { client: 'browser' }),
    { metric: 'http_reqs', timeMs: T0, value: 1, tags: {} },
  ];
  const results = evaluateSamples(samples, {
    journal,
    slos: [
      {
        metric: 'stream_outcome',
        stat: 'rate',
        tags: { outcome: 'completed' },
        gte: 0.99,
        phases: ['baseline', 'kill', 'recovery'],
      },
      {
        metric: 'stream_outcome',
        stat: 'rate',
        client: 'api',
        tags: { outcome: 'completed' },
        gte: 0.5,
        phases: ['fault'],
      },
      { metric: 'http_errors', stat: 'count', lte: 3, phases: ['fault', 'baseline'] },
      { metric: 'ttft', stat: 'p95', lte: 2000, phases: ['all', 'nonexistent'] },
    ],
  });
  const verdict = (id: string, phase: string) => results.slos.find((s) => s.id === id && s.phase === phase);

  it('judges shares per phase, by client and tag filter', () => {
    expect(verdict('stream_outcome:rate:outcome=completed', 'baseline')).toMatchObject({
      measured: 1,
      verdict: 'pass',
    });
    // Streams 40–59 (t = 12 s … 17.7 s) truncated; the kill window holds streams 34–66.
    expect(verdict('stream_outcome:rate:outcome=completed', 'kill')?.verdict).toBe('breach');
    expect(verdict('stream_outcome:rate:outcome=completed', 'kill')?.measured).toBeCloseTo(13 / 33);
    expect(verdict('stream_outcome:rate:api:outcome=completed', 'fault')?.verdict).toBe('breach');
    expect(verdict('stream_outcome:rate:outcome=completed', 'recovery')).toMatchObject({
      measured: 1,
      verdict: 'pass',
    });
  });

  it('sums counters and treats nothing counted as 0', () => {
    expect(verdict('http_errors:count', 'fault')).toMatchObject({ measured: 4, verdict: 'breach' });
    expect(verdict('http_errors:count', 'baseline')).toMatchObject({ measured: 0, verdict: 'pass' });
  });

  it('gives no-data for a metric never produced and for an unknown phase, and no data fails the verdict', () => {
    expect(verdict('ttft:p95', 'all')).toMatchObject({ verdict: 'no-data', measured: null });
    expect(verdict('ttft:p95', 'nonexistent')?.note).toMatch(/no phase `nonexistent`/);
    const onlyNoData = evaluateSamples(samples, {
      journal,
      slos: [{ metric: 'ttft', stat: 'p95', lte: 1, phases: ['all'] }],
    });
    // Silence is not a pass: a gating SLO that measured nothing fails (exit 10), and says so.
    expect(onlyNoData.exitCode).toBe(10);
    expect(onlyNoData.verdict).toBe('no-data');
    expect(onlyNoData.headline).toMatch(/0 of 1 SLO checks evaluated: no data is not a pass/);
  });

  it('an SLO that allows no data does not fail, but no SLO judged at all still is no pass', () => {
    const allowed: SloSpec = { metric: 'ttft', stat: 'p95', lte: 1, phases: ['all'], allowNoData: true };
    const withOther = evaluateSamples(samples, {
      journal,
      slos: [allowed, { metric: 'http_errors', stat: 'count', lte: 100, phases: ['all'] }],
    });
    expect(withOther).toMatchObject({ verdict: 'pass', exitCode: 0 });
    expect(withOther.headline).toMatch(/1 without data \(allowed\)/);
    const alone = evaluateSamples(samples, { journal, slos: [allowed] });
    expect(alone).toMatchObject({ verdict: 'no-data', exitCode: 10 });
    const none = evaluateSamples(samples, { journal, slos: [] });
    expect(none).toMatchObject({ verdict: 'no-data', exitCode: 10 });
    expect(none.headline).toMatch(/nothing to judge/);
  });

  it('counts outcomes, reconnects and errors by status and endpoint; skips foreign metrics', () => {
    expect(results.counts.streams).toMatchObject({ completed: 80, truncated: 20, http_error: 0 });
    expect(results.counts.httpErrors).toBe(4);
    expect(results.counts.httpErrorsBy).toEqual([
      { status: '502', endpoint: '/api/chat/completions', count: 3 },
      { status: '401', endpoint: '/api/models', count: 1 },
    ]);
    expect(results.counts.byPhase['kill']?.reconnects).toBe(1);
    expect(results.input.ignoredSamples).toBe(1);
  });

  it('merges defaults under the experiment SLOs by id', () => {
    const merged = evaluateSamples(samples, {
      journal,
      defaultSlos: [
        { metric: 'http_errors', stat: 'count', lte: 0, phases: ['baseline'] },
        { metric: 'ws_reconnects', stat: 'count', lte: 10, phases: ['all'] },
      ],
      slos: [{ metric: 'http_errors', stat: 'count', lte: 100, phases: ['all'] }],
    });
    expect(merged.slos.map((s) => [s.id, s.phase, s.verdict])).toEqual([
      ['http_errors:count', 'all', 'pass'],
      ['ws_reconnects:count', 'all', 'pass'],
    ]);
  });
});

describe('stream_outcome shares', () => {
  it('leave out streams the load generator cancelled itself (deadline, Ctrl-C)', () => {
    const samples = [
      ...Array.from({ length: 9 }, (_, i) =>
        sample('stream_outcome', T0 + i * 100, 1, { client: 'api', outcome: 'completed' }),
      ),
      sample('stream_outcome', T0 + 950, 1, { client: 'api', outcome: 'cancelled' }),
      sample('stream_outcome', T0 + 960, 1, { client: 'api', outcome: 'truncated' }),
    ];
    const results = evaluateSamples(samples, {
      slos: [
        {
          metric: 'stream_outcome',
          stat: 'rate',
          tags: { outcome: 'completed' },
          gte: 0.95,
          phases: ['all'],
        },
        {
          metric: 'stream_outcome',
          stat: 'rate',
          client: 'api',
          tags: { outcome: 'cancelled' },
          lte: 1,
          phases: ['all'],
        },
      ],
    });
    // 9 completed of 10 judged streams (the cancelled one is not judged): 90 %, a breach of 95 %.
    expect(results.slos[0]).toMatchObject({ measured: 0.9, verdict: 'breach' });
    // Asking for the cancelled share itself still works (1 of 10 judged).
    expect(results.slos[1]?.measured).toBeCloseTo(0.1);
  });
});

describe('evaluateSamples: which target and release the verdict is about', () => {
  it('names the Open WebUI release the target reported at preflight, and only when it did', () => {
    const base = journalWith([]);
    const withVersion = evaluateSamples([sample('ttft', T0, 100, { client: 'api' })], {
      journal: { ...base, target: { ...base.target, version: '0.12.4' } },
      slos: [],
    });
    expect(withVersion.run.target).toBe('lab (http://127.0.0.1:1, Open WebUI 0.12.4)');
    const older = evaluateSamples([sample('ttft', T0, 100, { client: 'api' })], { journal: base, slos: [] });
    expect(older.run.target).toBe('lab (http://127.0.0.1:1)');
  });
});
