// `npm run bench -- console-cost [--minutes 30]`: what a game-day session with its console open
// costs the tool itself (docs/gameday.md "Console cost"). It starts a simulator lab, runs
// `owui-chaos gameday` on it with the built-in plan's modest load (8 API VUs, 8 browser clients)
// and `--prometheus`, keeps the console open in headless Chromium (playwright-core with Debian's
// chromium, as the console test does), and every 10 s samples the tool's process from /proc:
// CPU seconds (utime + stime of every thread, worker threads included), RSS, and the main
// thread's V8 heap (prom-client's nodejs_heap_size_used_bytes on the tool's /metrics). It prints
// one row a minute and the totals, plus the machine's load average during the session.
// Not part of the default `npm run bench` (its file name does not end in -bench.ts).

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { labDown, labUp } from '../src/lab/lab.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? Number(args[i + 1]) : dflt;
  if (!(v > 0)) throw new Error(`--${name} must be a positive number`);
  return v;
};
const MINUTES = flag('minutes', 2);
const SAMPLE_MS = 10_000;
const TICKS = 100; // USER_HZ on Linux

interface Sample {
  t: number;
  cpuS: number;
  rssMb: number;
  heapMb: number | null;
  load1: number;
}

function procCpuSeconds(pid: number): number {
  // Fields after the command name (which may hold spaces): utime is field 14, stime 15.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(rest[11]) + Number(rest[12])) / TICKS;
}

function procRssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function heapMb(metricsUrl: string | undefined): Promise<number | null> {
  if (!metricsUrl) return null;
  try {
    const text = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(3000) })).text();
    const m = /^nodejs_heap_size_used_bytes(?:\{[^}]*\})? ([\d.e+]+)/m.exec(text);
    return m ? Number(m[1]) / 1024 / 1024 : null;
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  mkdirSync(join(ROOT, '.owui-chaos'), { recursive: true });
  const home = mkdtempSync(join(ROOT, '.owui-chaos', 'bench-console-'));
  const name = `gd-cost-${process.pid}`;
  const stateDir = join(home, 'labs', name);
  const env = { ...process.env, OWUI_CHAOS_HOME: home };
  console.log(`console cost: ${MINUTES} min session on lab ${name} (2 simulator replicas)`);
  await labUp({ name, stateDir, replicas: 2, buffering: 'off' });
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'bin', 'run.js'),
      'gameday',
      '--lab-name',
      name,
      '--duration',
      `${MINUTES + 3}m`,
      '--prometheus',
      '127.0.0.1:0',
      '--out',
      join(home, 'run'),
    ],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
  try {
    const deadline = Date.now() + 120_000;
    let consoleUrl: string | undefined;
    let metricsUrl: string | undefined;
    while (Date.now() < deadline && !consoleUrl) {
      consoleUrl = /console: (http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+)/.exec(out)?.[1];
      metricsUrl = /prometheus: metrics at (http:\/\/\S+)/.exec(out)?.[1];
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    if (!consoleUrl) throw new Error(`gameday printed no console URL:\n${out}`);
    const page = await (await browser.newContext({ viewport: { width: 1600, height: 1300 } })).newPage();
    await page.goto(consoleUrl);
    await page.waitForFunction(
      () => ((globalThis as unknown as { __gd?: { points?: unknown[] } }).__gd?.points?.length ?? 0) > 3,
      undefined,
      { timeout: 60_000 },
    );
    const pid = child.pid!;
    const samples: Sample[] = [];
    const t0 = Date.now();
    const take = async (): Promise<void> =>
      void samples.push({
        t: Date.now() - t0,
        cpuS: procCpuSeconds(pid),
        rssMb: procRssMb(pid),
        heapMb: await heapMb(metricsUrl),
        load1: loadavg()[0] ?? NaN,
      });
    await take();
    while (Date.now() - t0 < MINUTES * 60_000) {
      await new Promise((r) => setTimeout(r, SAMPLE_MS - ((Date.now() - t0) % SAMPLE_MS)));
      await take();
    }
    const points = await page.evaluate(
      () => (globalThis as unknown as { __gd?: { points?: unknown[] } }).__gd?.points?.length ?? 0,
    );
    const u = new URL(consoleUrl);
    await fetch(`${u.origin}/api/finish`, {
      method: 'POST',
      headers: { 'x-owui-chaos-token': u.searchParams.get('token')!, 'content-type': 'application/json' },
      body: '{}',
    });
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 120_000))]);
    report(samples, points, code);
  } finally {
    await browser.close().catch(() => undefined);
    if (child.exitCode === null) {
      child.kill('SIGINT');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 60_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    await labDown(stateDir).catch((err: unknown) => console.error(`lab down: ${String(err)}`));
    rmSync(home, { recursive: true, force: true });
  }
}

function report(samples: Sample[], points: number, code: unknown): void {
  const fmt = (v: number | null, d = 1): string => (v === null || Number.isNaN(v) ? '-' : v.toFixed(d));
  console.log('\nminute  CPU %   RSS MB  heap MB  load1');
  const first = samples[0]!;
  let prev = first;
  for (const s of samples.slice(1)) {
    if (Math.round(s.t / 1000) % 60 !== 0) continue;
    const cpu = ((s.cpuS - prev.cpuS) / ((s.t - prev.t) / 1000)) * 100;
    console.log(
      `${String(Math.round(s.t / 60_000)).padStart(6)}  ${fmt(cpu).padStart(5)}  ${fmt(s.rssMb).padStart(7)}  ${fmt(s.heapMb).padStart(7)}  ${fmt(s.load1, 2).padStart(5)}`,
    );
    prev = s;
  }
  const last = samples[samples.length - 1]!;
  const seconds = (last.t - first.t) / 1000;
  const rss = samples.map((s) => s.rssMb);
  const heaps = samples.flatMap((s) => (s.heapMb === null ? [] : [s.heapMb]));
  const loads = samples.map((s) => s.load1);
  console.log(
    `\ntotal: ${fmt(last.cpuS - first.cpuS)} CPU s over ${fmt(seconds / 60)} min = ${fmt(((last.cpuS - first.cpuS) / seconds) * 100)} % of one core (load + console + metrics)`,
  );
  console.log(
    `RSS: start ${fmt(first.rssMb)} MB, end ${fmt(last.rssMb)} MB, max ${fmt(Math.max(...rss))} MB; heap (main thread): start ${fmt(heaps[0] ?? null)} MB, end ${fmt(heaps[heaps.length - 1] ?? null)} MB, max ${fmt(heaps.length ? Math.max(...heaps) : null)} MB`,
  );
  console.log(
    `machine load average (1 min) during the session: min ${fmt(Math.min(...loads), 2)}, mean ${fmt(loads.reduce((a, b) => a + b, 0) / loads.length, 2)}, max ${fmt(Math.max(...loads), 2)} (2 cores, shared)`,
  );
  console.log(`console points drawn in the page: ${points}; gameday exit: ${String(code)}`);
  if (typeof code !== 'number') process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
