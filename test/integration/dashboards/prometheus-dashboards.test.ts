// Proves the chaos-run dashboard against a real Prometheus (Debian's /usr/bin/prometheus, its own
// config and data dir, 127.0.0.1, free ports): `owui-chaos run --prometheus` serves /metrics during
// a short run on a real lab, Prometheus scrapes it every 2 s, and afterwards every panel query of
// dashboards/owui-chaos-k6.json — with Grafana's variables filled in as "All" — must return at least
// one series over the run. A panel whose query returns nothing fails the test.
//
// Not checked here, and why:
// - the two k6 built-ins (`k6_vus`, `k6_dropped_iterations_total`): only k6 sends them (they are
//   one target each on panels whose other targets are checked), and the two `ttfb` panels: plain k6
//   measures time to first byte where it cannot time the first token; the Node engine times tokens;
// - redis-sentinel.json and nginx.json read oliver006/redis_exporter and
//   nginx/nginx-prometheus-exporter (plus a `stub_status` location), which are not part of the lab;
//   they are checked only when those exporters are installed (not yet: see dashboards/README.md).

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  runExperimentCli,
  startTestLab,
  stopTestLab,
  waitFor,
  type CliRun,
  type TestLab,
} from '../app/support.js';
import { consoleApi, endSessions, startGameday } from '../gameday/support.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..', '..');
const PROMETHEUS = '/usr/bin/prometheus';
const FIXTURE = join(ROOT, 'test/fixtures/experiments/dashboards/every-panel.yaml');
/**
 * Targets only k6 can feed: its built-ins, and `ttfb`, which plain k6 measures instead of ttft
 * (the Node engine times the first token itself); see the header.
 */
const K6_ONLY = /\bk6_(vus|dropped_iterations_total|ttfb_\w+)\b/;
// Counters that only move on a broken deployment (a refused socket, a hostile stream) and a
// per-client sample written when the client ends (after the last scrape of a healthy run): their
// panels are proven by the misconfig and hostile-server tests, not by this healthy run.
const FAILURE_ONLY = /\bk6_(ws_connect_errors|ws_never_joined|protocol_errors)\w*\b/;

interface Panel {
  id: number;
  title?: string;
  type: string;
  targets?: Array<{ refId?: string; expr?: string }>;
  panels?: Panel[];
}

function panelsOf(file: string): Panel[] {
  const d = JSON.parse(readFileSync(join(ROOT, 'dashboards', file), 'utf8')) as { panels: Panel[] };
  const walk = (ps: Panel[]): Panel[] => ps.flatMap((p) => [p, ...walk(p.panels ?? [])]);
  return walk(d.panels).filter((p) => (p.targets ?? []).some((t) => t.expr !== undefined));
}

/** Grafana's variables as a dashboard set to "All" over the run would send them. */
function substitute(expr: string, rangeS: number): string {
  return expr
    .replaceAll('$__rate_interval', '20s')
    .replaceAll('$__range', `${rangeS}s`)
    .replace(/\$(testid|client|instance)\b/g, '.*');
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

let lab: TestLab | undefined;
let work: string;
let prom: ChildProcess | undefined;
let promUrl: string;
let run: { startS: number; endS: number; output: string; code: number | null };
/** The port Prometheus scrapes (the run's /metrics, then the game day's). */
let metricsPort: number;
const sessions: CliRun[] = [];

async function seriesCount(expr: string): Promise<number> {
  const q = new URLSearchParams({
    query: substitute(expr, Math.ceil(run.endS - run.startS)),
    start: String(run.startS),
    end: String(run.endS),
    step: '2',
  });
  const res = await fetch(`${promUrl}/api/v1/query_range?${q}`);
  const body = (await res.json()) as { status: string; error?: string; data?: { result: unknown[] } };
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error}`);
  return body.data!.result.length;
}

beforeAll(async () => {
  // A missing Prometheus fails the file (it is part of the lab's setup), never skips it.
  if (!existsSync(PROMETHEUS)) {
    throw new Error(`${PROMETHEUS} is not installed; scripts/setup.sh installs Debian's prometheus package`);
  }
  work = mkdtempSync(join(tmpdir(), 'owui-gd-prom-'));
  lab = await startTestLab('gd-prom');
  metricsPort = await freePort();
  const promPort = await freePort();
  promUrl = `http://127.0.0.1:${promPort}`;
  writeFileSync(
    join(work, 'prometheus.yml'),
    [
      // 2 s (not 1 s): on a busy machine a scrape may take over a second, and the timeout cannot
      // exceed the interval.
      'global: { scrape_interval: 2s, scrape_timeout: 2s, evaluation_interval: 2s }',
      'scrape_configs:',
      '  - job_name: owui-chaos',
      `    static_configs: [{ targets: ['127.0.0.1:${metricsPort}'] }]`,
      '',
    ].join('\n'),
  );
  prom = spawn(
    PROMETHEUS,
    [
      `--config.file=${join(work, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(work, 'data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      '--storage.tsdb.retention.time=1h',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let promLog = '';
  prom.once('error', (e) => (promLog += `spawn failed: ${e.message}`));
  prom.stderr!.on('data', (d: Buffer) => (promLog = (promLog + d.toString()).slice(-4000)));
  await waitFor(
    `Prometheus ready on ${promUrl}`,
    async () => ((await fetch(`${promUrl}/-/ready`)).ok ? true : undefined),
    30_000,
    250,
  ).catch((e: Error) => {
    throw new Error(`${e.message}; Prometheus log: ${promLog.slice(-1000) || '(empty)'}`);
  });

  const startS = Date.now() / 1000;
  const cli = runExperimentCli(lab, FIXTURE, join(work, 'run'), ['--prometheus', `127.0.0.1:${metricsPort}`]);
  const exit = await cli.exit;
  run = { startS, endS: Date.now() / 1000, output: exit.stdout + exit.stderr, code: exit.code };
}, 240_000);

afterAll(async () => {
  await endSessions(sessions);
  if (prom && prom.exitCode === null) {
    prom.kill('SIGTERM');
    await new Promise((r) => prom!.once('exit', r));
  }
  const alive = await stopTestLab(lab);
  rmSync(work, { recursive: true, force: true });
  expect(alive).toEqual([]);
}, 120_000);

describe('dashboards against a real Prometheus scraping `run --prometheus`', () => {
  it('the run printed its metrics URL and finished', () => {
    expect(run.output).toMatch(/prometheus: metrics at http:\/\/127\.0\.0\.1:\d+\/metrics/);
    expect(run.code, run.output).toBe(0);
    // The faults that feed the socket and error panels happened.
    expect(run.output).toMatch(/reverted llm-down/);
  });

  it('every panel query of owui-chaos-k6.json returns at least one series', async () => {
    const rows: Array<{ panel: string; ref: string; series: number; k6Only: boolean }> = [];
    for (const p of panelsOf('owui-chaos-k6.json')) {
      for (const t of p.targets ?? []) {
        if (t.expr === undefined) continue;
        rows.push({
          panel: `${p.id} ${p.title ?? ''}`,
          ref: t.refId ?? '',
          series: await seriesCount(t.expr),
          k6Only: K6_ONLY.test(t.expr) || FAILURE_ONLY.test(t.expr),
        });
      }
    }
    console.log(
      'panel × series found:\n' +
        rows.map((r) => `  ${r.panel} [${r.ref}]: ${r.series}${r.k6Only ? ' (k6 only)' : ''}`).join('\n'),
    );
    const empty = rows.filter((r) => !r.k6Only && r.series === 0).map((r) => `${r.panel} [${r.ref}]`);
    expect(empty).toEqual([]);
    // Every panel shows something, also those with a k6-only target.
    const panels = new Set(rows.map((r) => r.panel));
    const emptyPanels = [...panels].filter((p) => {
      const targets = rows.filter((r) => r.panel === p);
      return !targets.every((r) => r.k6Only) && targets.every((r) => r.series === 0);
    });
    expect(emptyPanels).toEqual([]);
    expect(rows.length).toBeGreaterThan(60);
  });

  it('the $testid variable lists the run', async () => {
    const res = await fetch(`${promUrl}/api/v1/label/testid/values?match[]=k6_stream_outcome_total`);
    const body = (await res.json()) as { data: string[] };
    expect(body.data).toEqual(['run']); // the run directory's name (--out …/run)
  });

  it('negative controls: a misspelt metric and a native-histogram-only query return nothing', async () => {
    // The check above can fail: a query naming a metric that is not served finds no series …
    expect(
      await seriesCount('histogram_quantile(0.95, sum by (client, le) (rate(k6_ttft_second_bucket[20s])))'),
    ).toBe(0);
    // … and the classic-histogram alternatives are what make the latency panels work: the
    // native-histogram half alone (as k6 needs it) is empty for `--prometheus`.
    expect(await seriesCount('histogram_quantile(0.95, sum by (client) (rate(k6_ttft_seconds[20s])))')).toBe(
      0,
    );
    expect(
      await seriesCount('histogram_quantile(0.95, sum by (client, le) (rate(k6_ttft_seconds_bucket[20s])))'),
    ).toBeGreaterThan(0);
  });

  it('labels samples by phase and fault', async () => {
    const res = await fetch(
      `${promUrl}/api/v1/series?${new URLSearchParams({ 'match[]': 'k6_ttft_seconds_count', start: String(run.startS), end: String(run.endS) })}`,
    );
    const body = (await res.json()) as { data: Array<Record<string, string>> };
    const phases = new Set(body.data.map((s) => `${s.phase}/${s.fault ?? ''}`));
    expect(phases).toContain('baseline/');
    expect(phases).toContain('fault/kill-1');
    expect(phases).toContain('recovery/');
  });
});

describe('gameday --annotate prometheus against the same Prometheus', () => {
  /** Series of an instant query now. */
  const instant = async (
    query: string,
  ): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> => {
    const res = await fetch(`${promUrl}/api/v1/query?${new URLSearchParams({ query })}`);
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
    };
    if (body.status !== 'success') throw new Error(`${query}: ${body.error}`);
    return body.data!.result;
  };

  it('owui_chaos_fault_active is 1 inside the fault window and 0 after; no series at 1 before', async () => {
    const s = startGameday(lab!, join(work, 'gameday'), {
      duration: '4m',
      extra: ['--prometheus', `127.0.0.1:${metricsPort}`, '--annotate', 'prometheus'],
    });
    sessions.push(s.cli);
    const url = await s.url();
    // A note first: once Prometheus has its counter, it scrapes this session.
    expect(
      (await consoleApi(url, '/api/note', { kind: 'observation', text: 'before any fault' })).status,
    ).toBe(200);
    await waitFor(
      'Prometheus to scrape the game day',
      async () => ((await instant('owui_chaos_notes_total')).length > 0 ? true : undefined),
      60_000,
      1000,
    );
    // Negative control: no fault yet, nothing at 1.
    expect(await instant('owui_chaos_fault_active == 1')).toEqual([]);
    const inj = await consoleApi(url, '/api/inject', {
      name: 'prom-slow',
      action: 'toxic.latency',
      params: { proxy: 'llm', latency: 200 },
    });
    expect(inj.status, JSON.stringify(inj.body)).toBe(200);
    const inside = await waitFor(
      'the fault window at 1 in Prometheus',
      async () => {
        const r = await instant('owui_chaos_fault_active == 1');
        return r.length > 0 ? r : undefined;
      },
      60_000,
      1000,
    );
    expect(inside.map((r) => [r.metric.fault, r.metric.action])).toEqual([['prom-slow', 'toxic.latency']]);
    // The dashboards' annotation query returns the window.
    expect((await instant('max by (fault, action, run) (owui_chaos_fault_active) > 0')).length).toBe(1);
    expect((await consoleApi(url, '/api/revert', { name: 'prom-slow' })).status).toBe(200);
    await waitFor(
      'the fault window back at 0 in Prometheus',
      async () => {
        const zero = await instant('owui_chaos_fault_active{fault="prom-slow"} == 0');
        return zero.length === 1 && (await instant('owui_chaos_fault_active == 1')).length === 0
          ? true
          : undefined;
      },
      60_000,
      1000,
    );
    expect((await instant('max by (fault, action, run) (owui_chaos_fault_active) > 0')).length).toBe(0);
    expect((await consoleApi(url, '/api/finish', {})).status).toBe(200);
    await s.cli.exit;
  }, 240_000);

  it('--annotate prometheus without --prometheus is a usage error', async () => {
    const s = startGameday(lab!, join(work, 'gameday-2'), { extra: ['--annotate', 'prometheus'] });
    sessions.push(s.cli);
    const exit = await s.cli.exit;
    expect(exit.code).toBe(2);
    expect(exit.stdout + exit.stderr).toMatch(/--annotate prometheus needs --prometheus/);
  }, 60_000);
});
