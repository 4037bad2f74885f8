// `owui-chaos load` end to end: the built CLI (dist/, like every CLI test) against an in-process
// Open WebUI simulator in front of the real mock LLM, through a target file.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromEnv, startOwuiSim, type OwuiSimHandle } from '../../../../src/lab/owui-sim/index.js';
import { startMockLlm, type MockLlmServer } from '../../../../src/lab/mock-llm/server.js';
import { readSamples } from './support.js';
import { cliBuilt, runCli } from '../../../helpers/run-cli.js';

const built = cliBuilt('load');
let mock: MockLlmServer;
let sim: OwuiSimHandle;
let dir: string;
let targetFile: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'owui-load-cmd-'));
  writeFileSync(
    join(dir, 'completed.yaml'),
    'slos:\n  - { metric: stream_outcome, client: api, stat: rate, tags: { outcome: completed }, gte: 0.9 }\n',
  );
  mock = await startMockLlm({ port: 0 });
  sim = await startOwuiSim(
    configFromEnv({
      PORT: '0',
      OPENAI_API_BASE_URL: `${mock.url}/v1`,
      WEBUI_SECRET_KEY: 'k',
      BYPASS_MODEL_ACCESS_CONTROL: 'true',
    }),
    { log: () => undefined },
  );
  await fetch(`${sim.url}/api/v1/auths/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Admin', email: 'admin@load.test', password: 'pw' }),
  });
  targetFile = join(dir, 'target.yaml');
  writeFileSync(
    targetFile,
    `openwebui:\n  url: ${sim.url}\nauth:\n  admin: { email: admin@load.test, password: pw }\n  users:\n    provision: { count: 10, password: load-pw }\nmodel: owui-chaos-mock\n`,
  );
});

afterAll(async () => {
  await sim?.kill();
  await mock?.close();
  rmSync(dir, { recursive: true, force: true });
});

const cli = (args: string[]) => runCli(args, { cwd: dir, timeoutMs: 60_000 });

describe('owui-chaos load', () => {
  it('runs API streams and browser clients, writes samples.ndjson, returns the summary under --json', async ({
    skip,
  }) => {
    if (!built) {
      console.warn('SKIPPED: dist/ is not built (npm run build)');
      skip('dist/ is not built');
    }
    const out = join(dir, 'run');
    const r = await cli([
      'load',
      // These cases are about the summary table and JSON; a 3 s load is too short for the default
      // SLOs (gating is tested with the SLO tests of load).
      '--no-default-slos',
      '--slo',
      join(dir, 'completed.yaml'),
      '--target',
      targetFile,
      '--chat-vus',
      '3',
      '--socket-vus',
      '2',
      '--socket-chat-interval',
      '1s',
      '--duration',
      '3s',
      '--tokens',
      '20',
      '--tps',
      '100',
      '--out',
      out,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as {
      samplesFile: string;
      metrics: Array<{ metric: string; count: number; p95?: number; by?: Record<string, number> }>;
      totals: { errors: number };
    };
    expect(result.samplesFile).toBe(join(out, 'samples.ndjson'));
    const outcome = result.metrics.find((m) => m.metric === 'stream_outcome');
    expect(outcome?.by?.['api:completed']).toBeGreaterThan(3);
    expect(outcome?.by?.['browser:completed']).toBeGreaterThan(0);
    expect(result.metrics.find((m) => m.metric === 'ttft')?.p95).toBeGreaterThan(0);
    expect(result.totals.errors).toBe(0);
    expect(readSamples(result.samplesFile).some((s) => s.metric === 'ws_connect_time')).toBe(true);
  }, 90_000);

  it('prints a per-metric table without --json', async ({ skip }) => {
    if (!built) skip('dist/ is not built');
    const r = await cli([
      'load',
      // These cases are about the summary table and JSON; a 3 s load is too short for the default
      // SLOs (gating is tested with the SLO tests of load).
      '--no-default-slos',
      '--slo',
      join(dir, 'completed.yaml'),
      '--target',
      targetFile,
      '--chat-vus',
      '2',
      '--duration',
      '2s',
      '--tokens',
      '10',
      '--tps',
      '100',
      '--out',
      join(dir, 'run2'),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^metric\s+count\s+p50\s+p95\s+p99\s+max/m);
    expect(r.stdout).toMatch(/^ttft\s+\d+/m);
    expect(r.stdout).toMatch(/api:completed=\d+/);
  }, 60_000);

  it('no load is a usage error (exit 2); a missing target file is invalid input (exit 3)', async ({
    skip,
  }) => {
    if (!built) skip('dist/ is not built');
    const none = await cli(['load', '--target', targetFile, '--duration', '2s']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/nothing to run/);
    const missing = await cli(['load', '--target', join(dir, 'nope.yaml'), '--chat-vus', '1']);
    expect(missing.code).toBe(3);
  }, 60_000);

  it('a bad flag value is a usage error (exit 2) naming the flag, never 1 or 4', async ({ skip }) => {
    if (!built) skip('dist/ is not built');
    for (const [flag, value] of [
      ['--duration', '5 minutes'],
      ['--chat-rate', 'fast'],
      ['--think-time', 'soon'],
      ['--socket-chat-interval', '1 week'],
    ] as const) {
      const r = await cli(['load', '--target', targetFile, '--chat-vus', '1', flag, value]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`${flag} "${value}"`);
      expect(r.stderr).toMatch(/Try this:\n {2}--\S+ \S+/);
      expect(r.stderr).not.toMatch(/Parsing --/);
    }
  }, 60_000);

  it('a bare --duration is seconds and think time defaults to 1 s, as in experiments', async ({ skip }) => {
    if (!built) skip('dist/ is not built');
    const home = join(dir, 'home');
    const r = await runCli(
      [
        'load',
        '--no-default-slos',
        '--slo',
        join(dir, 'completed.yaml'),
        '--target',
        targetFile,
        '--chat-vus',
        '1',
        '--duration',
        '2',
        '--tokens',
        '5',
        '--tps',
        '100',
      ],
      { cwd: dir, timeoutMs: 60_000, env: { OWUI_CHAOS_HOME: home }, ensureExitCode: 0, json: true },
    );
    const result = r.json as { plan: { durationMs: number; chat: { thinkTimeMs: number } }; runDir: string };
    expect(result.plan.durationMs).toBe(2000);
    expect(result.plan.chat.thinkTimeMs).toBe(1000);
    // The run directory honours OWUI_CHAOS_HOME like every other command (it used to be ./.owui-chaos).
    expect(result.runDir.startsWith(join(home, 'runs'))).toBe(true);
    expect(existsSync(join(result.runDir, 'samples.ndjson'))).toBe(true);
  }, 60_000);
});
