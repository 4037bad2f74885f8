// K6LoadEngine against a stand-in `k6` executable (a small Node script) that answers `version`
// and, for `run`, writes k6-shaped JSON Points to the `--out json=` file and exits with a chosen
// code. This checks what the engine does around k6 (preflight, bundling, env, streaming the
// samples, exit-code mapping, abort) on machines without k6; real-k6.test.ts runs the real binary.

import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoadGeneratorError, PreflightError } from '../../../../src/core/errors.js';
import type { MetricName } from '../../../../src/core/metrics.js';
import type { LoadPlan } from '../../../../src/core/ports.js';
import type { SampleSink, SampleTags } from '../../../../src/core/samples.js';
import { K6LoadEngine } from '../../../../src/engines/k6/engine.js';
import type { Credentials } from '../../../../src/engines/node/provisioning.js';

const FAKE_K6 = `#!/usr/bin/env node
const fs = require('fs');
const args = process.argv.slice(2);
if (args[0] === 'version') {
  console.log(process.env.FAKE_K6_VERSION || 'k6 v1.1.0 (commit/5f1ee51b4e, go1.24.4, linux/amd64)');
  process.exit(0);
}
const out = args[args.indexOf('--out') + 1].replace(/^json=/, '');
const script = args[args.length - 1];
fs.writeFileSync(process.env.FAKE_K6_RECORD, JSON.stringify({
  args, config: process.env.OWUI_CONFIG, secretsFile: process.env.OWUI_SECRETS_FILE,
  secretsMode: fs.statSync(process.env.OWUI_SECRETS_FILE).mode & 0o777,
  secrets: fs.readFileSync(process.env.OWUI_SECRETS_FILE, 'utf8'),
  tokenEnv: Object.keys(process.env).filter((k) => /TOKENS/.test(k)),
  script: fs.readFileSync(script, 'utf8'),
}));
const point = (metric, value, tags) => fs.appendFileSync(out, JSON.stringify({ type: 'Point', metric, data: { time: new Date().toISOString(), value, tags } }) + '\\n');
fs.appendFileSync(out, JSON.stringify({ type: 'Metric', metric: 'ttft', data: { type: 'trend' } }) + '\\n');
if (process.env.FAKE_K6_MODE === 'hang') {
  let i = 0;
  const timer = setInterval(() => point('ttft', 100 + i++, { client: 'api' }), 20);
  process.on('SIGINT', () => { clearInterval(timer); point('stream_outcome', 1, { client: 'api', outcome: 'cancelled' }); process.exit(105); });
  setTimeout(() => process.exit(3), 20000);
} else {
  for (let i = 0; i < 5; i++) point('ttft', 100 + i, { client: 'api', scenario: 'api' });
  point('http_req_duration', 12, {});
  point('dropped_iterations', 1, { scenario: 'api' });
  point('stream_outcome', 1, { client: 'api', outcome: 'completed' });
  console.error('time="2026-01-01T00:00:00Z" level=error msg="ReferenceError: boom"');
  if (process.env.FAKE_K6_VU_THROWS) fs.writeSync(2, 'time="2026-01-01T00:00:00Z" level=error msg="Error: boom in vu\\\\n\\\\tat default (file:///s.js:1:73(3))\\\\n" executor=shared-iterations hint="script exception" scenario=default source=stacktrace\\n');
  process.exit(Number(process.env.FAKE_K6_EXIT || 0));
}
`;

class MemorySink implements SampleSink {
  readonly samples: { metric: MetricName; value: number; tags: SampleTags }[] = [];
  write(metric: MetricName, _timeMs: number, value: number, tags: SampleTags): void {
    this.samples.push({ metric, value, tags });
  }
}

const credentials: Credentials = {
  version: '0.11.0',
  apiTokens: ['sk-0123456789abcdef0123456789abcdef'],
  users: [{ email: 'u1@example.test', token: 'jwt-user-1', id: 'u-1' }],
  signIns: 0,
};
const plan: LoadPlan = {
  durationMs: 2000,
  baseUrl: 'http://127.0.0.1:9',
  model: 'm1',
  chat: { vus: 2, thinkTimeMs: 100, tokens: 20 },
};

let dir: string;
let k6: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'owui-chaos-fake-k6-'));
  k6 = join(dir, 'k6');
  await writeFile(k6, FAKE_K6);
  await chmod(k6, 0o755);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function engine(
  env: Record<string, string>,
  extra: Partial<ConstructorParameters<typeof K6LoadEngine>[0]> = {},
): K6LoadEngine {
  // `#!/usr/bin/env node` needs node on PATH in the child.
  const path = `${dirname(process.execPath)}:${process.env.PATH ?? ''}`;
  return new K6LoadEngine({
    binary: k6,
    credentials,
    env: { PATH: path, ...env },
    workDir: join(dir, `work-${Math.random().toString(36).slice(2)}`),
    ...extra,
  });
}

describe('K6LoadEngine with a stand-in k6', () => {
  it('adds extra outputs (e.g. Prometheus remote write for the dashboards) and the testid tag', async () => {
    const record = join(dir, 'record-extra.json');
    const e = engine(
      { FAKE_K6_RECORD: record, FAKE_K6_EXIT: '0' },
      { extraOutputs: ['experimental-prometheus-rw'], testId: 'run-42' },
    );
    await e.run(plan, new MemorySink(), {});
    const seen = JSON.parse(await readFile(record, 'utf8')) as { args: string[] };
    const joined = seen.args.join(' ');
    expect(joined).toMatch(/--out json=\S+ --out experimental-prometheus-rw --tag testid=run-42 /);
  });

  it('bundles for the detected k6, passes config and secrets separately, and streams catalogue samples', async () => {
    const record = join(dir, 'record-ok.json');
    const e = engine({
      FAKE_K6_RECORD: record,
      FAKE_K6_EXIT: '0',
      PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
    });
    const sink = new MemorySink();
    await e.run(plan, sink, {});
    expect(sink.samples.map((s) => s.metric)).toEqual([
      'ttft',
      'ttft',
      'ttft',
      'ttft',
      'ttft',
      'missed_starts',
      'stream_outcome',
    ]);
    expect(e.lastRun).toMatchObject({ k6: 'k6 v1.1.0', exitCode: 0, thresholdsFailed: false, samples: 7 });
    // k6 exited 0, yet its console carried a script error: kept in k6.log and surfaced.
    expect(e.lastRun?.problems).toEqual([{ level: 'error', message: 'ReferenceError: boom' }]);
    expect(await readFile(e.lastRun?.logFile ?? '', 'utf8')).toContain(
      'level=error msg="ReferenceError: boom"',
    );

    const seen = JSON.parse(await readFile(record, 'utf8')) as {
      args: string[];
      config: string;
      secretsFile: string;
      secretsMode: number;
      secrets: string;
      tokenEnv: string[];
      script: string;
    };
    expect(seen.args.slice(0, 1)).toEqual(['run']);
    expect(seen.args).toEqual(expect.arrayContaining(['--out', '--address', '127.0.0.1:0']));
    expect(seen.args.join(' ')).not.toContain('sk-0123');
    expect(JSON.parse(seen.config)).toMatchObject({
      baseUrl: 'http://127.0.0.1:9',
      model: 'm1',
      chat: { vus: 2, thinkTimeMs: 100, tokens: 20 },
    });
    expect(seen.config).not.toContain('sk-0123');
    // The tokens reach k6 in a file only we can read, removed when k6 has ended; none in its env.
    expect(JSON.parse(seen.secrets)).toEqual({
      apiTokens: ['sk-0123456789abcdef0123456789abcdef'],
      userTokens: [{ token: 'jwt-user-1', id: 'u-1' }],
    });
    expect(seen.secretsMode).toBe(0o600);
    expect(seen.tokenEnv).toEqual([]);
    expect(existsSync(seen.secretsFile)).toBe(false);
    // The stand-in says v1.1.0: k6/websockets only exists from v1.6.
    expect(seen.script).toContain('k6/experimental/websockets');
    expect(seen.script).toContain('export {');
  });

  it('treats exit 99 (k6 thresholds failed) as a finished load', async () => {
    const e = engine({ FAKE_K6_RECORD: join(dir, 'r99.json'), FAKE_K6_EXIT: '99' });
    await e.run(plan, new MemorySink(), {});
    expect(e.lastRun?.thresholdsFailed).toBe(true);
  });

  it('a VU exception fails the load even when k6 exits 0 (never a silent pass)', async () => {
    const e = engine({ FAKE_K6_RECORD: join(dir, 'rvu.json'), FAKE_K6_EXIT: '0', FAKE_K6_VU_THROWS: '1' });
    await expect(e.run(plan, new MemorySink(), {})).rejects.toMatchObject({
      code: 'K6_SCRIPT_ERROR',
      exitCode: 12,
      message: expect.stringMatching(/k6 exited 0, but 1 VU iteration\(s\) threw.*boom in vu/),
    });
    expect(e.lastRun).toMatchObject({ exitCode: 0, vuExceptions: 1 });
  });

  it('maps a script exception (107) to LoadGeneratorError with k6 output, never exit 107', async () => {
    const e = engine({ FAKE_K6_RECORD: join(dir, 'r107.json'), FAKE_K6_EXIT: '107' });
    const error = await e.run(plan, new MemorySink(), {}).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(LoadGeneratorError);
    expect(error).toMatchObject({ code: 'K6_SCRIPT_ERROR', exitCode: 12 });
    expect((error as Error).message).toMatch(/exit 107: script exception.*ReferenceError: boom/);
  });

  it('stops k6 with SIGINT on abort and keeps the samples written until then', async () => {
    const e = engine({ FAKE_K6_RECORD: join(dir, 'rhang.json'), FAKE_K6_MODE: 'hang' });
    const sink = new MemorySink();
    const controller = new AbortController();
    const progress: number[] = [];
    setTimeout(() => controller.abort(), 1500);
    await e.run(plan, sink, { signal: controller.signal, onProgress: (p) => progress.push(p.elapsedMs) });
    expect(e.lastRun?.exitCode).toBe(105);
    expect(sink.samples.filter((s) => s.metric === 'ttft').length).toBeGreaterThan(3);
    expect(sink.samples.at(-1)).toMatchObject({ metric: 'stream_outcome', tags: { outcome: 'cancelled' } });
    expect(progress.length).toBeGreaterThan(0);
  });

  it('fails preflight when k6 is missing or too old', async () => {
    const missing = new K6LoadEngine({ binary: join(dir, 'no-such-k6'), credentials });
    const error = await missing.run(plan, new MemorySink(), {}).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(PreflightError);
    expect(error).toMatchObject({ code: 'K6_NOT_FOUND', exitCode: 4 });
    expect((error as PreflightError).suggestions.join('\n')).toMatch(/Install k6/);

    const old = engine({
      FAKE_K6_VERSION: 'k6 v0.40.0 (2022-09-08T09:06:02+0000/v0.40.0-0-gb5e1b8bc, go1.19, linux/amd64)',
    });
    await expect(old.run(plan, new MemorySink(), {})).rejects.toMatchObject({ code: 'K6_TOO_OLD' });
  });
});
