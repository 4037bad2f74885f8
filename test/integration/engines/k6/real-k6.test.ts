// The bundles run by real k6 binaries: API chats against the mock LLM, and k6's exit codes mapped
// to ours. Runs for every binary in OWUI_K6_BINARIES (comma-separated paths, e.g. several k6
// versions), else OWUI_K6_BINARY, else `k6` on PATH; each version is named in the test title.
// Without any k6 it is skipped with the reason printed (k6 is never installed by this project).

import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricName } from '../../../../src/core/metrics.js';
import { evaluateSamples } from '../../../../src/core/report/evaluate.js';
import type { SampleSink, SampleTags } from '../../../../src/core/samples.js';
import type { SloSpec } from '../../../../src/core/slo/spec.js';
import { UsageError } from '../../../../src/core/errors.js';
import { isVuException, K6LoadEngine, k6LogProblem, mapK6Exit } from '../../../../src/engines/k6/engine.js';
import { k6Binaries } from '../../../helpers/k6-binaries.js';
import { MOCK_LLM_MODEL, startMockLlm, type MockLlmServer } from '../../../../src/lab/mock-llm/server.js';

const binaries = k6Binaries('real-k6 tests');

class MemorySink implements SampleSink {
  readonly samples: { metric: MetricName; timeMs: number; value: number; tags: SampleTags }[] = [];
  write(metric: MetricName, timeMs: number, value: number, tags: SampleTags): void {
    this.samples.push({ metric, timeMs, value, tags });
  }
}

const e2eSlo = (lte: number): SloSpec => ({
  metric: 'e2e',
  client: 'api',
  stat: 'p50',
  lte,
  phases: ['all'],
});

if (binaries.length === 0)
  describe.skip('k6 scenarios on a real k6 (no k6 binary here)', () => it('needs k6'));

describe.each(binaries)('k6 scenarios on real $label', ({ binary, sse, version }) => {
  let llm: MockLlmServer;
  let work: string;
  beforeAll(async () => {
    llm = await startMockLlm({ port: 0 });
    work = await mkdtemp(join(tmpdir(), 'owui-chaos-real-k6-'));
  });
  afterAll(async () => {
    await llm?.close();
    await rm(work, { recursive: true, force: true });
  });

  it('runs chat-sse against the mock LLM: completed streams, exact integrity, timings', async () => {
    const engine = new K6LoadEngine({
      binary,
      chatPath: '/v1/chat/completions',
      workDir: join(work, 'sse'),
      gracefulStopMs: 10_000,
    });
    const sink = new MemorySink();
    await engine.run(
      {
        durationMs: 4000,
        baseUrl: llm.url,
        model: MOCK_LLM_MODEL,
        chat: { vus: 2, thinkTimeMs: 200, tokens: 40 },
      },
      sink,
      {},
    );
    const outcomes = sink.samples.filter((s) => s.metric === 'stream_outcome');
    expect(outcomes.length).toBeGreaterThan(0);
    expect(outcomes.every((s) => s.tags.outcome === 'completed' && s.tags.client === 'api')).toBe(true);
    const garbled = sink.samples.filter((s) => s.metric === 'garbled_token_rate');
    expect(garbled.length).toBe(outcomes.length);
    expect(garbled.every((s) => s.value === 0)).toBe(true);
    expect(sink.samples.some((s) => s.metric === 'e2e')).toBe(true);
    if (sse) {
      // xk6-sse hands over events as they arrive: first token and inter-token gaps are timed.
      expect(sink.samples.some((s) => s.metric === 'ttft')).toBe(true);
      expect(sink.samples.some((s) => s.metric === 'itl')).toBe(true);
    } else {
      // plain k6 reads bodies whole: time to first byte, and ttft is not claimed
      expect(sink.samples.some((s) => s.metric === 'ttfb')).toBe(true);
      expect(sink.samples.some((s) => s.metric === 'ttft')).toBe(false);
    }
  });

  // SLOs become k6 thresholds; k6 judges them too. Crossed → k6 exit 99, which is not a load
  // failure: the run went on, and our own verdict on the same SLO is a breach (exit 10).
  const thresholdRun = async (
    name: string,
    slo: SloSpec,
    extra: { abortOnFail?: boolean; durationMs: number },
  ) => {
    const engine = new K6LoadEngine({
      binary,
      chatPath: '/v1/chat/completions',
      workDir: join(work, name),
      gracefulStopMs: 5000,
      slos: [slo],
      ...(extra.abortOnFail ? { abortOnFail: true } : {}),
    });
    const sink = new MemorySink();
    await engine.run(
      {
        durationMs: extra.durationMs,
        baseUrl: llm.url,
        model: MOCK_LLM_MODEL,
        chat: { vus: 2, thinkTimeMs: 200, tokens: 20 },
      },
      sink,
      {},
    );
    const ours = evaluateSamples(sink.samples, { journal: null, slos: [slo] });
    return { last: engine.lastRun!, ours };
  };

  it('thresholds: met → k6 exit 0 and our exit 0; crossed → k6 exit 99 and our exit 10', async () => {
    const met = await thresholdRun('threshold-met', e2eSlo(60_000), { durationMs: 3000 });
    expect(met.last).toMatchObject({ exitCode: 0, thresholdsFailed: false, abortedByThreshold: false });
    expect(met.ours.exitCode).toBe(0);
    const crossed = await thresholdRun('threshold-crossed', e2eSlo(1), { durationMs: 3000 });
    expect(crossed.last).toMatchObject({ exitCode: 99, thresholdsFailed: true, abortedByThreshold: false });
    expect(crossed.last.problems).toContainEqual(
      expect.objectContaining({
        level: 'error',
        message: expect.stringMatching(/thresholds on metrics 'e2e.*crossed/),
      }),
    );
    expect(crossed.ours.exitCode).toBe(10);
    expect(crossed.ours.slos[0]).toMatchObject({ verdict: 'breach' });
  }, 90_000);

  it('abortOnFail: k6 stops itself well before the duration (exit 99), and our verdict is a breach', async () => {
    // delayAbortEval 10 s (thresholds.ts), duration 60 s: k6 stops at ~10–27 s (older k6 start slowly on a loaded machine).
    const run = await thresholdRun('threshold-abort', e2eSlo(1), { durationMs: 60_000, abortOnFail: true });
    expect(run.last).toMatchObject({ exitCode: 99, thresholdsFailed: true, abortedByThreshold: true });
    expect(run.last.elapsedMs).toBeLessThan(45_000);
    expect(run.ours.exitCode).toBe(10);
  }, 90_000);

  const runScript = async (name: string, source: string) => {
    const script = join(work, name);
    await writeFile(script, source);
    return spawnSync(binary, ['run', '--quiet', '--no-color', '--address', '127.0.0.1:0', script], {
      encoding: 'utf8',
      timeout: 60_000,
    });
  };

  it('maps a script that throws at init to K6_SCRIPT_ERROR (k6 exit 107 → our 12)', async () => {
    const run = await runScript(
      'throws-at-init.js',
      'throw new Error("boom");\nexport default function () {}\n',
    );
    const error = mapK6Exit(run.status, null, { stoppedByUs: false, stderrTail: run.stderr });
    expect(run.status).toBe(107);
    expect(error).toMatchObject({ code: 'K6_SCRIPT_ERROR', exitCode: 12 });
  });

  /** A short API-chat run against the mock LLM that must fail: its error. */
  const failureOf = (engine: K6LoadEngine, sink: MemorySink): Promise<unknown> =>
    engine
      .run(
        {
          durationMs: 3000,
          baseUrl: llm.url,
          model: MOCK_LLM_MODEL,
          chat: { vus: 1, thinkTimeMs: 200, tokens: 5 },
        },
        sink,
        {},
      )
      .then(
        () => new Error('the run did not fail'),
        (e: unknown) => e,
      );

  // k6 refusing its configuration (104; k6 < 1.0 exits 255 for some of it): with a K6_* setting
  // of the user's in effect it is usage (our 2), with only our options it is our bug (our 1).
  it('invalid config: a K6_* variable of the user → k6 104 (255 on v0.x) → our 2 naming it', async () => {
    const engine = new K6LoadEngine({
      binary,
      chatPath: '/v1/chat/completions',
      workDir: join(work, 'bad-env'),
      env: { K6_DURATION: 'banana' },
    });
    const error = await failureOf(engine, new MemorySink());
    expect([104, 255]).toContain(engine.lastRun?.exitCode);
    expect(error).toBeInstanceOf(UsageError);
    expect(error).toMatchObject({ code: 'K6_INVALID_CONFIG', exitCode: 2 });
    expect((error as Error).message).toMatch(/K6_DURATION.*banana.*in effect: K6_DURATION/);
  }, 60_000);

  it('invalid config in the options alone (a threshold k6 cannot parse) → k6 104 → our 1 (a bug of ours)', async () => {
    const run = await runScript(
      'bad-threshold.js',
      'export const options = { iterations: 1, thresholds: { e2e: ["p(50) <<< 5"] } };\nexport default function () {}\n',
    );
    expect(run.status).toBe(104);
    const error = mapK6Exit(run.status, null, {
      stoppedByUs: false,
      stderrTail: run.stderr,
      userK6Settings: [],
    });
    expect(error).toMatchObject({ code: 'K6_INVALID_CONFIG', exitCode: 1 });
    expect(error?.message).toMatch(/threshold.*bug in owui-chaos/);
  });

  it('test.abort() in setup → k6 108 → our 12 K6_SCRIPT_ABORTED quoting the reason', async () => {
    const run = await runScript(
      'aborts.js',
      'import exec from "k6/execution";\nexport const options = { iterations: 1 };\nexport function setup() { exec.test.abort("owui: k6/x/needed is missing"); }\nexport default function () {}\n',
    );
    expect(run.status).toBe(108);
    const error = mapK6Exit(run.status, null, { stoppedByUs: false, stderrTail: run.stderr });
    expect(error).toMatchObject({ code: 'K6_SCRIPT_ABORTED', exitCode: 12 });
    expect(error?.message).toMatch(/: owui: k6\/x\/needed is missing$/);
  });

  it("our scenario's own abort (setup cannot sign in) fails the load loudly: k6 108 → K6_SCRIPT_ABORTED", async () => {
    const engine = new K6LoadEngine({
      binary,
      chatPath: '/v1/chat/completions',
      workDir: join(work, 'abort-signin'),
      credentials: { version: '0.6.0', apiTokens: [], users: [], signIns: 0 },
      // the mock LLM has no /api/v1/auths/signin: setup() gets a 404 and aborts
      env: { OWUI_SIGNIN: JSON.stringify([{ email: 'nobody@example.com', password: 'x' }]) },
    });
    const sink = new MemorySink();
    const error = await failureOf(engine, sink);
    expect(engine.lastRun?.exitCode).toBe(108);
    expect(error).toMatchObject({ code: 'K6_SCRIPT_ABORTED', exitCode: 12 });
    expect((error as Error).message).toMatch(/sign-in of nobody@example.com failed with HTTP 404/);
    expect(sink.samples.filter((s) => s.metric === 'stream_outcome')).toHaveLength(0);
  }, 60_000);

  it('exec.test.fail() → k6 110 (k6 ≥ 1.0) → our 12 K6_MARKED_FAILED', async (ctx) => {
    if (/\bv0\./.test(version)) {
      console.log(`[skip] ${version} has no exec.test.fail() (exit 110 is new in k6 v1.0.0)`);
      ctx.skip();
    }
    const run = await runScript(
      'marks-failed.js',
      'import exec from "k6/execution";\nexport const options = { iterations: 1 };\nexport default function () { exec.test.fail("marked"); }\n',
    );
    expect(run.status).toBe(110);
    expect(mapK6Exit(run.status, null, { stoppedByUs: false, stderrTail: run.stderr })).toMatchObject({
      code: 'K6_MARKED_FAILED',
      exitCode: 12,
    });
  });

  it('a VU that throws leaves k6 at exit 0, so the error line is what must surface', async () => {
    // Real k6 only logs an exception inside the default function and goes on: the run "passes".
    const run = await runScript(
      'throws-in-vu.js',
      'export const options = { iterations: 1 };\nexport default function () { throw new Error("boom in vu"); }\n',
    );
    expect(run.status).toBe(0);
    const problems = `${run.stdout}\n${run.stderr}`
      .split('\n')
      .map(k6LogProblem)
      .filter((p) => p !== undefined);
    expect(problems).toEqual([
      expect.objectContaining({ level: 'error', message: expect.stringContaining('boom in vu') }),
    ]);
    // …and what the engine counts as a VU exception (then fails the load, engine-fake-k6.test.ts)
    const lines = `${run.stdout}\n${run.stderr}`.split('\n');
    expect(lines.filter(isVuException)).toHaveLength(1);
    expect(lines.filter((l) => isVuException(l) && l.includes('boom in vu'))).toHaveLength(1);
  });
});
