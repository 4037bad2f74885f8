// The bundles run by a real k6 binary: API chats against the mock LLM, and k6's exit codes mapped
// to ours. Runs whenever `k6` is on PATH; otherwise skipped with the reason printed.

import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricName } from '../../../../src/core/metrics.js';
import type { SampleSink, SampleTags } from '../../../../src/core/samples.js';
import { K6LoadEngine, mapK6Exit } from '../../../../src/engines/k6/engine.js';
import { MOCK_LLM_MODEL, startMockLlm, type MockLlmServer } from '../../../../src/lab/mock-llm/server.js';

const probe = spawnSync('k6', ['version'], { encoding: 'utf8', timeout: 15_000 });
const hasK6 = probe.status === 0;
if (!hasK6)
  console.log(
    `[skip] real-k6 tests: no \`k6\` on PATH (${probe.error?.message ?? `exit ${probe.status}`}); install k6 to run them`,
  );

class MemorySink implements SampleSink {
  readonly samples: { metric: MetricName; value: number; tags: SampleTags }[] = [];
  write(metric: MetricName, _timeMs: number, value: number, tags: SampleTags): void {
    this.samples.push({ metric, value, tags });
  }
}

describe.skipIf(!hasK6)('k6 scenarios on a real k6', () => {
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

  it('runs chat-sse against the mock LLM: completed streams, exact integrity, ttfb and e2e', async () => {
    const engine = new K6LoadEngine({
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
    expect(sink.samples.some((s) => s.metric === 'ttfb')).toBe(true);
    expect(sink.samples.some((s) => s.metric === 'e2e')).toBe(true);
    // plain k6 reads bodies whole: ttft is not claimed
    expect(sink.samples.some((s) => s.metric === 'ttft')).toBe(false);
  });

  it('maps a failing script to K6_SCRIPT_ERROR (k6 exit 107)', () => {
    const script = join(work, 'throws.js');
    return writeFile(
      script,
      'export default function () { throw new Error("boom"); }\nexport const options = { iterations: 1 };\n',
    ).then(() => {
      const run = spawnSync('k6', ['run', '--quiet', '--address', '127.0.0.1:0', '--throw', script], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      const error = mapK6Exit(run.status, null, { stoppedByUs: false, stderrTail: run.stderr });
      expect(run.status).not.toBe(0);
      expect(error?.exitCode).toBe(12);
    });
  });
});
