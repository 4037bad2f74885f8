// k6 beside the Node engine (issue 16 "Side by side"): the same SSE chat workload, run by the
// Node engine and by k6 with the xk6-sse extension, against the same mock LLM in the same bench
// run. Skipped, with the reason printed, when no k6 binary is found (OWUI_K6_BINARIES, else
// OWUI_K6_BINARY, else `k6` on PATH); plain k6 cannot time SSE events, so it needs an xk6-sse
// build for lag figures and runs without them otherwise.
//
// Method (docs/k6.md "Side by side"):
// - The mock LLM runs in its own child process (127.0.0.1). Each engine runs in another child
//   process (`--child`), so the engine's CPU and memory are read from /proc for that process tree
//   alone: for the Node engine the whole tree (main thread and workers); for k6 the k6 process
//   alone, and beside it the owui-chaos process that reads k6's JSON output ("+ ingest").
// - Workload: N closed-model API chat VUs, no think time, 40 tokens at 20 tokens/s per stream,
//   first token after 100 ms: N streams in flight. An event is one content SSE event a client
//   received (one `client_lag` sample).
// - Measured window: from 4 s after the start (k6 and the workers are up, every VU is streaming)
//   to 1 s before the end. CPU = utime + stime of the tree over the window; peak RSS = the
//   largest sum of RSS over the tree, sampled every 250 ms over the whole run.
// - Client lag = receive time − the mock LLM's send stamp in the chunk, the same definition in
//   both engines (k6 takes it from xk6-sse's event callback).
// - Scan: N rises through --clients (default 50,200,500) and stops for an engine at the first N
//   whose lag p99 is ≥ 5 ms; "held" is the largest N below it.
// The machine's 1-minute load average is printed beside each row: figures on a loaded machine
// are noisy.
//
// Usage: npx tsx bench/k6-vs-node-bench.ts [--clients 50,200,500] [--seconds 12] [--k6 PATH]
//        [--json FILE]   (default JSON: runs/bench/k6-vs-node.json)

import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { K6LoadEngine } from '../src/engines/k6/engine.js';
import { hasXk6Sse, parseK6Version } from '../src/engines/k6/version.js';
import { NodeLoadEngine } from '../src/engines/node/engine.js';
import { NdjsonFileSink } from '../src/engines/node/ndjson-file-sink.js';
import { MOCK_LLM_MODEL, startMockLlm } from '../src/lab/mock-llm/server.js';

const SELF = fileURLToPath(import.meta.url);
const LAG_LIMIT_MS = 5;
const TPS = 20;
const TOKENS = 40;
const WARMUP_MS = 4000;
const PAGE = 4096;
const TICK_MS = 10; // USER_HZ = 100 on Linux

interface ChildArgs {
  engine: 'node' | 'k6';
  binary?: string;
  baseUrl: string;
  clients: number;
  durationMs: number;
  file: string;
  workDir: string;
}

// ─── children ───────────────────────────────────────────────────────────────────────────────────

async function serveMock(): Promise<void> {
  const llm = await startMockLlm({ port: 0, pacing: { tokensPerSecond: TPS, firstTokenMs: 100 } });
  process.stdout.write(`${llm.url}\n`);
  process.once('SIGTERM', () => void llm.close().then(() => process.exit(0)));
}

async function runEngine(a: ChildArgs): Promise<void> {
  const sink = new NdjsonFileSink(a.file);
  const pacing = { tokensPerSecond: TPS, firstTokenMs: 100 };
  const engine =
    a.engine === 'node'
      ? new NodeLoadEngine({ chatPath: '/v1/chat/completions', pacing, finishGraceMs: 20_000 })
      : new K6LoadEngine({
          binary: a.binary ?? 'k6',
          chatPath: '/v1/chat/completions',
          pacing,
          workDir: a.workDir,
          gracefulStopMs: 5000,
        });
  await engine.run(
    {
      durationMs: a.durationMs,
      baseUrl: a.baseUrl,
      model: MOCK_LLM_MODEL,
      chat: { vus: a.clients, thinkTimeMs: 0, tokens: TOKENS },
    },
    sink,
    {},
  );
  sink.close();
}

// ─── /proc ──────────────────────────────────────────────────────────────────────────────────────

interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  cpuMs: number;
  rssBytes: number;
}

function readProc(): Map<number, ProcStat> {
  const all = new Map<number, ProcStat>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = text.lastIndexOf(')');
      const comm = text.slice(text.indexOf('(') + 1, close);
      const f = text.slice(close + 2).split(' ');
      // after the comm: state(0) ppid(1) … utime(11) stime(12) … rss(21)
      all.set(Number(entry), {
        pid: Number(entry),
        ppid: Number(f[1]),
        comm,
        cpuMs: (Number(f[11]) + Number(f[12])) * TICK_MS,
        rssBytes: Number(f[21]) * PAGE,
      });
    } catch {
      // the process ended between readdir and read
    }
  }
  return all;
}

/** CPU and RSS of a process tree, split into the k6 process(es) and the rest. */
function treeOf(root: number): { cpuMs: number; rssBytes: number; k6CpuMs: number; k6RssBytes: number } {
  const all = readProc();
  const tree = new Set([root]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of all.values())
      if (!tree.has(p.pid) && tree.has(p.ppid)) {
        tree.add(p.pid);
        grew = true;
      }
  }
  const r = { cpuMs: 0, rssBytes: 0, k6CpuMs: 0, k6RssBytes: 0 };
  for (const pid of tree) {
    const p = all.get(pid);
    if (!p) continue;
    r.cpuMs += p.cpuMs;
    r.rssBytes += p.rssBytes;
    if (p.comm.startsWith('k6')) {
      r.k6CpuMs += p.cpuMs;
      r.k6RssBytes += p.rssBytes;
    }
  }
  return r;
}

// ─── parent ─────────────────────────────────────────────────────────────────────────────────────

interface Row {
  engine: string;
  clients: number;
  events: number;
  errors: number;
  cpuSeconds: number;
  cpuSecondsPer1000Events: number | null;
  /** k6 runs: the tree with our JSON ingest (the owui-chaos process that runs k6). */
  treeCpuSecondsPer1000Events: number | null;
  peakRssMiB: number;
  rssKiBPerClient: number;
  lagP50Ms: number | null;
  lagP99Ms: number | null;
  load1: number;
}

function quantile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * q) - 1))] ?? null;
}

async function startMockProcess(): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', SELF, '--serve-mock'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the mock LLM did not start within 30 s')), 30_000);
    createInterface({ input: child.stdout }).once('line', (line) => {
      clearTimeout(timer);
      resolve(line.trim());
    });
    child.once('exit', (code) => reject(new Error(`the mock LLM exited (${code})`)));
  });
  return { url, stop: () => child.kill('SIGTERM') };
}

async function step(
  engine: 'node' | 'k6',
  binary: string | undefined,
  label: string,
  baseUrl: string,
  clients: number,
  seconds: number,
  dir: string,
): Promise<Row> {
  const file = join(dir, `${label.replace(/\W+/g, '-')}-${clients}.ndjson`);
  const args: ChildArgs = {
    engine,
    baseUrl,
    clients,
    durationMs: seconds * 1000,
    file,
    workDir: join(dir, `k6-${clients}`),
    ...(binary ? { binary } : {}),
  };
  const child = spawn(process.execPath, ['--import', 'tsx', SELF, '--child', JSON.stringify(args)], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const pid = child.pid ?? 0;
  const t0 = Date.now();
  const windowFrom = t0 + WARMUP_MS;
  const windowTo = t0 + seconds * 1000 - 1000;
  let from: ReturnType<typeof treeOf> | undefined;
  let to: ReturnType<typeof treeOf> | undefined;
  let peak = 0;
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const hardStop = setTimeout(() => child.kill('SIGKILL'), seconds * 1000 + 90_000);
  let done = false;
  void exited.then(() => (done = true));
  while (!done) {
    const now = Date.now();
    const t = treeOf(pid);
    peak = Math.max(peak, engine === 'k6' ? t.k6RssBytes : t.rssBytes);
    if (!from && now >= windowFrom) from = t;
    if (!to && now >= windowTo) to = t;
    await Promise.race([exited, new Promise((r) => setTimeout(r, 250))]);
  }
  clearTimeout(hardStop);
  const code = await exited;
  if (code !== 0) throw new Error(`${label} with ${clients} clients: the engine exited ${code}`);
  const a = from ?? { cpuMs: 0, rssBytes: 0, k6CpuMs: 0, k6RssBytes: 0 };
  const b = to ?? a;
  const lags: number[] = [];
  let errors = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.includes('"client_lag"') && !line.includes('"stream_outcome"')) continue;
    const p = JSON.parse(line) as {
      metric: string;
      data: { time: string; value: number; tags: Record<string, string> };
    };
    const at = Date.parse(p.data.time);
    if (at < windowFrom || at > windowTo) continue;
    if (p.metric === 'client_lag') lags.push(p.data.value);
    else if (p.data.tags.outcome !== 'completed') errors++;
  }
  lags.sort((x, y) => x - y);
  const cpuMs = engine === 'k6' ? b.k6CpuMs - a.k6CpuMs : b.cpuMs - a.cpuMs;
  const per1000 = (ms: number): number | null => (lags.length > 0 ? ms / 1000 / (lags.length / 1000) : null);
  return {
    engine: label,
    clients,
    events: lags.length,
    errors,
    cpuSeconds: cpuMs / 1000,
    cpuSecondsPer1000Events: per1000(cpuMs),
    treeCpuSecondsPer1000Events: engine === 'k6' ? per1000(b.cpuMs - a.cpuMs) : null,
    peakRssMiB: peak / 2 ** 20,
    rssKiBPerClient: peak / 1024 / clients,
    lagP50Ms: quantile(lags, 0.5),
    lagP99Ms: quantile(lags, 0.99),
    load1: loadavg()[0] ?? 0,
  };
}

function findK6(explicit: string | undefined): { binary: string; label: string; sse: boolean } | undefined {
  const candidates = explicit
    ? [explicit]
    : (process.env.OWUI_K6_BINARIES ?? process.env.OWUI_K6_BINARY ?? 'k6')
        .split(',')
        .map((b) => b.trim())
        .filter(Boolean);
  const found: { binary: string; label: string; sse: boolean }[] = [];
  for (const binary of candidates) {
    const probe = spawnSync(binary, ['version'], { encoding: 'utf8', timeout: 15_000 });
    const version = probe.status === 0 ? parseK6Version(probe.stdout) : undefined;
    if (version)
      found.push({
        binary,
        label: `${version.raw}${hasXk6Sse(version) ? ' + xk6-sse' : ''}`,
        sse: hasXk6Sse(version),
      });
    else
      console.log(
        `[skip] k6 \`${binary}\`: \`${binary} version\` did not run (${probe.error?.message ?? `exit ${probe.status}`})`,
      );
  }
  return found.find((k) => k.sse) ?? found[0];
}

function fmt(v: number | null, digits = 2): string {
  return v === null ? '—' : v.toFixed(digits);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const flag = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  if (argv[0] === '--serve-mock') return serveMock();
  if (argv[0] === '--child') return runEngine(JSON.parse(argv[1] ?? '{}') as ChildArgs);
  if (process.platform !== 'linux') {
    console.log('[skip] k6 vs Node: CPU and memory are read from /proc (Linux only)');
    return;
  }
  const k6 = findK6(flag('--k6'));
  if (!k6) {
    console.log(
      '[skip] k6 vs Node: no k6 binary (set OWUI_K6_BINARIES or OWUI_K6_BINARY, or put k6 on PATH); this project never installs k6',
    );
    return;
  }
  if (!k6.sse)
    console.log(
      `[note] ${k6.label} has no xk6-sse: it reads SSE bodies whole, so its lag is not measurable (—)`,
    );
  const clients = (flag('--clients') ?? '50,200,500')
    .split(',')
    .map(Number)
    .filter((n) => n > 0);
  const seconds = Math.max(8, Number(flag('--seconds') ?? 12));
  const jsonOut = flag('--json') ?? 'runs/bench/k6-vs-node.json';
  const dir = mkdtempSync(join(tmpdir(), 'owui-k6-vs-node-'));
  const mock = await startMockProcess();
  const rows: Row[] = [];
  const held: Record<string, number> = {};
  try {
    for (const engine of [
      { kind: 'node' as const, label: 'node', binary: undefined },
      { kind: 'k6' as const, label: k6.label, binary: k6.binary },
    ]) {
      held[engine.label] = 0;
      for (const n of clients) {
        const row = await step(engine.kind, engine.binary, engine.label, mock.url, n, seconds, dir);
        rows.push(row);
        console.log(
          `${row.engine.padEnd(20)} ${String(n).padStart(5)} clients  ${String(row.events).padStart(7)} events  cpu/1k ${fmt(row.cpuSecondsPer1000Events, 3)} s${row.treeCpuSecondsPer1000Events === null ? '' : ` (+ ingest ${fmt(row.treeCpuSecondsPer1000Events, 3)} s)`}  peak RSS ${row.peakRssMiB.toFixed(0)} MiB (${row.rssKiBPerClient.toFixed(0)} KiB/client)  lag p50 ${fmt(row.lagP50Ms)} p99 ${fmt(row.lagP99Ms)} ms  errors ${row.errors}  load ${row.load1.toFixed(2)}`,
        );
        if (row.lagP99Ms === null || row.lagP99Ms >= LAG_LIMIT_MS || row.errors > 0) break;
        held[engine.label] = n;
      }
    }
  } finally {
    mock.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\nmost clients held at lag p99 < ${LAG_LIMIT_MS} ms (of ${clients.join(', ')}):`);
  for (const [engine, n] of Object.entries(held)) console.log(`  ${engine.padEnd(20)} ${n || 'none'}`);
  mkdirSync(dirname(jsonOut), { recursive: true });
  writeFileSync(
    jsonOut,
    JSON.stringify(
      {
        workload: { tokens: TOKENS, tokensPerSecond: TPS, seconds, warmupMs: WARMUP_MS },
        k6: k6.label,
        rows,
        held,
      },
      null,
      2,
    ),
  );
  console.log(`written: ${jsonOut}`);
}

await main();
