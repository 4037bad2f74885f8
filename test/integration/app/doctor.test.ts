// `owui-chaos doctor` against a real lab (nginx, simulator replicas, Redis + Sentinel, Toxiproxy,
// mock LLM), through the built CLI: the healthy lab passes every check (the slow ones with a short
// silence); proxy buffering turned on (a real nginx reload, reverted after) fails exactly `sse`;
// bad input — an unreachable URL, a target without replica URLs, wrong credentials, a server that
// is not Open WebUI, an unknown check, a lab that is not up — gives a clear message and the right
// exit code. docs/doctor.md.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { DoctorReport } from '../../../src/core/doctor/report.js';
import { LocalNginxDriver } from '../../../src/drivers/nginx/nginx-driver.js';
import { labDown, labUp } from '../../../src/lab/lab.js';
import { parseMisconfigs } from '../../../src/lab/misconfig.js';
import { freePort } from '../../../src/infra/process/daemon.js';
import { fixture, runCli, sharedTestLab, type TestLab } from './support.js';

const lab = sharedTestLab('doctor');
let dir: string;
let html: Server;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'owui-doctor-'));
  // A web server that answers every path with a 200 HTML page (an SPA fallback, a wrong URL).
  html = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>not Open WebUI</title>');
  });
  await new Promise<void>((r) => html.listen(0, '127.0.0.1', r));
});
afterAll(async () => {
  await new Promise<void>((r) => html.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

async function doctor(
  l: TestLab,
  args: string[],
): Promise<{ code: number | null; report: DoctorReport; stderr: string }> {
  const out = await runCli(l, ['doctor', '--json', ...args], 180_000).exit;
  let report: DoctorReport;
  try {
    report = JSON.parse(out.stdout) as DoctorReport;
  } catch {
    throw new Error(`doctor printed no JSON (exit ${out.code}): ${out.stdout}\n${out.stderr}`);
  }
  return { code: out.code, report, stderr: out.stderr };
}

function statuses(r: DoctorReport): Record<string, string> {
  return Object.fromEntries(r.checks.map((c) => [c.id, c.status]));
}

interface TargetDoc {
  openwebui: { url: string; replicas?: unknown };
  auth: { admin: { password: string } };
  redis?: unknown;
}

/** The lab's target file with `edit` applied, written to a new file. */
function targetVariant(l: TestLab, name: string, edit: (t: TargetDoc) => void): string {
  const t = parse(readFileSync(l.state().targetFile!, 'utf8')) as TargetDoc;
  edit(t);
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(t));
  return file;
}

describe('owui-chaos doctor on the lab', () => {
  it('passes every check on the healthy lab, slow checks and upload included, and writes doctor.json', async () => {
    const l = lab();
    const out = join(dir, 'healthy');
    const { code, report } = await doctor(l, [
      '--lab-name',
      l.name,
      '--slow-check',
      '--silence',
      '8s',
      '--body-size',
      '1m',
      '--out',
      out,
    ]);
    expect(statuses(report)).toEqual({
      identity: 'pass',
      auth: 'pass',
      sse: 'pass',
      websocket: 'pass',
      cors: 'pass',
      secret: 'pass',
      delivery: 'pass',
      redis: 'pass',
      timeouts: 'pass',
      limits: 'pass',
    });
    expect(code).toBe(0);
    expect(report.exitCode).toBe(0);
    expect(report.checks.find((c) => c.id === 'sse')?.evidence['integrity']).toContain('garbled 0 %');
    const file = JSON.parse(readFileSync(join(out, 'doctor.json'), 'utf8')) as DoctorReport;
    expect(file.checks.map((c) => c.status)).toEqual(report.checks.map((c) => c.status));
  }, 120_000);

  it('fails exactly `sse` when nginx buffers (proxy_buffering on with an HTTP/1.0 upstream), with the fix', async () => {
    const l = lab();
    const s = l.state();
    const nginx = new LocalNginxDriver({
      configFile: s.nginx!.configFile,
      prefix: s.nginx!.prefix,
      binary: s.nginx!.binary,
    });
    const handle = await nginx.setBuffering(true);
    try {
      const { code, report } = await doctor(l, ['--lab-name', l.name]);
      const st = statuses(report);
      expect(st['sse']).toBe('fail');
      expect(Object.entries(st).filter(([id, v]) => v === 'fail' && id !== 'sse')).toEqual([]);
      const sse = report.checks.find((c) => c.id === 'sse')!;
      expect(sse.fix?.action).toContain('proxy_buffering off; proxy_cache off; proxy_http_version 1.1');
      expect(sse.fix?.guide.url).toMatch(/^https:\/\/docs\.openwebui\.com\//);
      expect(Number(sse.evidence['tokens per read (mean)'])).toBeGreaterThanOrEqual(4);
      expect(code).toBe(10);
    } finally {
      await handle.revert();
    }
  }, 120_000);

  it('human output: one line per check with its status, and the verdict', async () => {
    const l = lab();
    const out = await runCli(l, ['doctor', '--lab-name', l.name, '--only', 'identity,websocket,cors']).exit;
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^PASS {2}identity /m);
    expect(out.stdout).toMatch(/^PASS {2}websocket /m);
    expect(out.stdout).toMatch(/^PASS {2}cors /m);
    expect(out.stdout).not.toMatch(/^(PASS|SKIP) {2}sse /m);
    expect(out.stdout).toContain('3 passed, 0 warned, 0 failed, 0 skipped');
  }, 60_000);
});

describe('owui-chaos doctor on bad input', () => {
  it('an unreachable URL fails identity and skips what needs it (exit 10)', async () => {
    const l = lab();
    const port = await freePort();
    const file = targetVariant(l, 'unreachable', (t) => {
      t.openwebui.url = `http://127.0.0.1:${port}`;
      delete t.openwebui.replicas;
      delete t.redis;
    });
    const { code, report } = await doctor(l, ['--target', file]);
    expect(code).toBe(10);
    const identity = report.checks.find((c) => c.id === 'identity')!;
    expect(identity.status).toBe('fail');
    expect(identity.summary).toContain('does not answer');
    expect(identity.summary).toContain('ECONNREFUSED');
    for (const id of ['auth', 'sse', 'websocket', 'cors', 'limits'])
      expect(report.checks.find((c) => c.id === id)).toMatchObject({
        status: 'skip',
        summary: expect.stringContaining('identity'),
      });
  }, 60_000);

  it('a server that is not Open WebUI is named as such (exit 10)', async () => {
    const l = lab();
    const file = targetVariant(l, 'html', (t) => {
      t.openwebui.url = `http://127.0.0.1:${(html.address() as AddressInfo).port}`;
      delete t.openwebui.replicas;
      delete t.redis;
    });
    const { code, report } = await doctor(l, ['--target', file, '--only', 'identity,sse']);
    expect(code).toBe(10);
    expect(report.checks[0]).toMatchObject({
      id: 'identity',
      status: 'fail',
      summary: expect.stringContaining('is not Open WebUI'),
    });
    expect(report.checks[1]).toMatchObject({ id: 'sse', status: 'skip' });
  }, 60_000);

  it('a target without replica URLs or Sentinels skips the checks that need them, with the reason (exit 0)', async () => {
    const l = lab();
    const file = targetVariant(l, 'no-replicas', (t) => {
      delete t.openwebui.replicas;
      delete t.redis;
    });
    const { code, report } = await doctor(l, ['--target', file]);
    expect(code).toBe(0);
    expect(report.checks.find((c) => c.id === 'secret')).toMatchObject({
      status: 'skip',
      summary: expect.stringContaining('openwebui.replicas'),
    });
    expect(report.checks.find((c) => c.id === 'delivery')).toMatchObject({
      status: 'skip',
      summary: expect.stringContaining('openwebui.replicas'),
    });
    expect(report.checks.find((c) => c.id === 'redis')).toMatchObject({
      status: 'skip',
      summary: expect.stringContaining('redis.sentinels'),
    });
    expect(report.checks.find((c) => c.id === 'sse')?.status).toBe('pass');
    expect(report.summary).toContain('0 failed');
  }, 60_000);

  it('wrong credentials fail `auth` with the server’s reason and skip what needs a user (exit 10)', async () => {
    const l = lab();
    const file = targetVariant(l, 'bad-creds', (t) => {
      t.auth.admin.password = 'not-the-password';
    });
    const { code, report } = await doctor(l, ['--target', file]);
    expect(code).toBe(10);
    const auth = report.checks.find((c) => c.id === 'auth')!;
    expect(auth.status).toBe('fail');
    expect(auth.summary).toContain('HTTP 400');
    expect(auth.fix?.action).toContain('credentials');
    for (const id of ['secret', 'sse', 'delivery'])
      expect(report.checks.find((c) => c.id === id)?.status).toBe('skip');
    expect(report.checks.find((c) => c.id === 'websocket')?.status).toBe('pass');
  }, 60_000);

  it('an unknown check is a usage error (exit 2); a lab that is not up is named (exit 3)', async () => {
    const l = lab();
    const bad = await runCli(l, ['doctor', '--lab-name', l.name, '--only', 'sse,bogus']).exit;
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Unknown check(s) in --only: bogus');
    const none = await runCli(l, ['doctor', '--lab-name', 'no-such-lab']).exit;
    expect(none.code).toBe(3);
    expect(none.stderr).toContain('The lab `no-such-lab` is not up');
    expect(none.stderr).toContain('owui-chaos lab up --name no-such-lab');
  }, 60_000);
});

// The fast subset of the proof table (the whole table: `npm run test:doctor-matrix`): three
// mistakes in one lab, each caught by its own check, and `run` stopped at its preflight.
describe('owui-chaos doctor on a lab with no-upgrade-headers, cors-mismatch and pinned-redis-master', () => {
  let bad: TestLab | undefined;
  beforeAll(async () => {
    const home = mkdtempSync(join(tmpdir(), 'owui-doctor-bad-'));
    const name = `dr-bad-${process.pid}`;
    const stateDir = join(home, 'labs', name);
    bad = {
      home,
      name,
      stateDir,
      env: { ...process.env, OWUI_CHAOS_HOME: home },
      state: () => lab().state(),
    };
    const up = () =>
      labUp({
        name,
        stateDir,
        replicas: 2,
        misconfig: parseMisconfigs('no-upgrade-headers,cors-mismatch,pinned-redis-master'),
      });
    // One retry: on this shared machine a port picked free can be taken before nginx binds it.
    await up().catch((err: unknown) => {
      console.warn(`lab up failed once, retrying: ${err instanceof Error ? err.message : String(err)}`);
      return up();
    });
  }, 240_000);
  afterAll(async () => {
    if (!bad) return;
    await labDown(bad.stateDir);
    rmSync(bad.home, { recursive: true, force: true });
  }, 60_000);

  it('websocket FAIL (Upgrade headers), cors FAIL (own origin, measured on a replica), delivery SKIP (see cors), redis WARN (pinned); the rest pass', async () => {
    const { code, report } = await doctor(bad!, ['--lab-name', bad!.name]);
    expect(statuses(report)).toEqual({
      identity: 'pass',
      auth: 'pass',
      sse: 'pass',
      websocket: 'fail',
      cors: 'fail',
      secret: 'pass',
      // The replicas refuse the site's Origin, so the delivery probe's socket would be refused too.
      delivery: 'skip',
      redis: 'warn',
      timeouts: 'skip',
      limits: 'skip',
    });
    expect(code).toBe(10);
    expect(report.checks.find((c) => c.id === 'delivery')!.summary).toContain('see cors');
    const by = (id: string) => report.checks.find((c) => c.id === id)!;
    expect(by('websocket').fix?.action).toContain('proxy_set_header Upgrade $http_upgrade');
    expect(by('websocket').summary).toContain('directly on owui-1 it works');
    expect(by('cors').evidence['where']).toContain('directly');
    expect(by('cors').fix?.action).toContain('CORS_ALLOW_ORIGIN');
    expect(by('redis').fix?.action).toContain('REDIS_SENTINEL_HOSTS');
  }, 120_000);

  it('run stops at its preflight with exit 4, naming the websocket fix; nothing is started', async () => {
    const runDir = join(bad!.home, 'run');
    const out = await runCli(
      bad!,
      ['run', fixture('preflight-only'), '--lab-name', bad!.name, '--workers', '0', '--out', runDir],
      120_000,
    ).exit;
    expect(out.code, out.stderr).toBe(4);
    expect(out.stderr).toContain('PREFLIGHT_CHECK_FAILED');
    expect(out.stderr).toContain('proxy_set_header Upgrade');
    expect(existsSync(join(runDir, 'samples.ndjson'))).toBe(false);
  }, 120_000);
});
