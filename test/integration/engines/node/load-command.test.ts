// `owui-chaos load` end to end: the built CLI (dist/, like every CLI test) against an in-process
// Open WebUI simulator in front of the real mock LLM, through a target file.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromEnv, startOwuiSim, type OwuiSimHandle } from '../../../../src/lab/owui-sim/index.js';
import { startMockLlm, type MockLlmServer } from '../../../../src/lab/mock-llm/server.js';
import { readSamples } from './support.js';

const ROOT = resolve(import.meta.dirname, '../../../..');
const RUN_JS = join(ROOT, 'bin', 'run.js');
const built = existsSync(join(ROOT, 'dist', 'commands', 'load.js'));
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

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [RUN_JS, ...args], { cwd: dir });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

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
});
