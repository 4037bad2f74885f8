// k6 beside the Node engine (issue 16 "Side by side"): the same SSE chat workload, run by the
// Node engine and by k6 with the xk6-sse extension, against the same mock LLM in the same bench
// run. Skipped, with the reason printed, when no k6 binary is found (OWUI_K6_BINARIES, else
// OWUI_K6_BINARY, else `k6` on PATH); plain k6 cannot time SSE events, so it needs an xk6-sse
// build for lag figures and runs without them otherwise.
//
// Method (docs/k6.md "Side by side"):
// - The mock LLM runs in the engine bench's servers child (bench/engine/servers.ts, 127.0.0.1),
//   without pacing of its own: each prompt's directive asks for it. Each engine runs in another child
//   process (`--child`), so the engine's CPU and memory are read from /proc for that process tree
//   alone: for the Node engine the whole tree (main thread and workers); for k6 the k6 process
//   alone, and beside it the owui-chaos process that reads k6's JSON output ("+ ingest").
// - Workload: N closed-model API chat VUs, no think time, 40 tokens at 20 tokens/s per stream,
//   first token after 100 ms: N streams in flight. An event is one content SSE event a client
//   received (one `client_lag` sample).
// - Measured window: from 2 s after the first event the clients received (k6 has compiled the
//   bundle, the workers are up) to 1 s before the last; under 3 s of it and nothing is claimed.
//   CPU = utime + stime of the tree between the /proc samples (every 250 ms) nearest the window's
//   ends; peak RSS = the largest sum of VmHWM over the tree (k6 alone for k6) seen in the run.
// - Client lag = receive time − the mock LLM's send stamp in the chunk, the same definition in
//   both engines (k6 takes it from xk6-sse's event callback).
// - Idle browser clients (--idle-sockets, default 200, 40 s): connected to the servers child's
//   Socket.IO server, joined, answering pings, heartbeating, no chats; CPU per client and second
//   from 10 s after the start to 2 s before the end, peak RSS per client, and the server's own
//   count of connected sockets and heartbeats (so a client that never joined shows).
// - Scan: N rises through --clients (default 50,200,500) and stops for an engine at the first N
//   whose lag p99 is ≥ 5 ms; "held" is the largest N below it.
// The machine's 1-minute load average is printed beside each row: figures on a loaded machine
// are noisy.
//
// Usage: npx tsx bench/k6-vs-node-bench.ts [--clients 50,200,500] [--seconds 12] [--k6 PATH]
//        [--json FILE]   (default JSON: runs/bench/k6-vs-node.json)

import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { K6LoadEngine } from '../src/engines/k6/engine.js';
import { hasXk6Sse, parseK6Version } from '../src/engines/k6/version.js';
import { NodeLoadEngine } from '../src/engines/node/engine.js';
import { NdjsonFileSink } from '../src/engines/node/ndjson-file-sink.js';
import type { Credentials } from '../src/engines/node/provisioning.js';
import { MOCK_LLM_MODEL } from '../src/lab/mock-llm/server.js';
import { sampleProcessTree } from './engine/proc.js';
import { scanSamples } from './engine/scan.js';
import { startBenchServers, type BenchServers } from './engine/servers.js';
import { LAG_LIMIT_MS, TPS } from './engine/streams.js';

const SELF = fileURLToPath(import.meta.url);
const TOKENS = 40;

interface ChildArgs {
  engine: 'node' | 'k6';
  /** SSE chats against the mock LLM, or idle browser clients on the Socket.IO server. */
  workload: 'sse' | 'idle-sockets';
  binary?: string;
  baseUrl: string;
  clients: number;
  durationMs: number;
  file: string;
  workDir: string;
}

// ─── children ───────────────────────────────────────────────────────────────────────────────────

async function runEngine(a: ChildArgs): Promise<void> {
  const sink = new NdjsonFileSink(a.file);
  const pacing = { tokensPerSecond: TPS, firstTokenMs: 100 };
  const idle = a.workload === 'idle-sockets';
  // The bench's Socket.IO server accepts any token (bench/engine/servers.ts).
  const credentials: Credentials = {
    version: '0.11.0',
    apiTokens: [],
    users: Array.from({ length: idle ? a.clients : 0 }, (_, i) => ({
      email: `bench-${i}@bench.invalid`,
      token: 'bench-token',
    })),
    signIns: 0,
  };
  const engine =
    a.engine === 'node'
      ? new NodeLoadEngine({
          credentials,
          chatPath: '/v1/chat/completions',
          pacing,
          finishGraceMs: 20_000,
          socketRampMs: 2000,
        })
      : new K6LoadEngine({
          binary: a.binary ?? 'k6',
          credentials,
          chatPath: '/v1/chat/completions',
          pacing,
          workDir: a.workDir,
          gracefulStopMs: 5000,
        });
  await engine.run(
    idle
      ? {
          durationMs: a.durationMs,
          baseUrl: a.baseUrl,
          model: 'none',
          sockets: { vus: a.clients, tokens: 1, chatIntervalMs: 0 },
        }
      : {
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

interface Row {
  engine: string;
  clients: number;
  /** Steady traffic measured (see the window in `step`). */
  windowSeconds: number;
  /** Content events received in the window (client_lag samples). */
  events: number;
  /** Chats completed in the whole run, and every outcome. */
  completed: number;
  outcomes: Record<string, number>;
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

/** The k6 process under the engine child (its comm starts with `k6`), if it runs now. */
function k6Pid(pids: readonly number[]): number | undefined {
  for (const pid of pids) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('k6')) return pid;
    } catch {
      // gone
    }
  }
  return undefined;
}

interface Mark {
  at: number;
  treeMs: number;
  k6Ms: number;
}

/** The mark nearest to `at` on the side given (the window's CPU is taken between real samples). */
function markAt(marks: readonly Mark[], at: number, side: 'after' | 'before'): Mark | undefined {
  return side === 'after' ? marks.find((m) => m.at >= at) : [...marks].reverse().find((m) => m.at <= at);
}

interface ChildRun {
  t0: number;
  marks: Mark[];
  peakRssBytes: number;
  file: string;
}

/** Runs one engine child to its end, sampling its process tree (and k6 alone) every 250 ms. */
async function runChild(args: ChildArgs, label: string, during?: () => void): Promise<ChildRun> {
  const child = spawn(process.execPath, [...process.execArgv, SELF, '--child', JSON.stringify(args)], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const pid = child.pid ?? 0;
  const t0 = Date.now();
  const marks: Mark[] = [];
  let peak = 0;
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const hardStop = setTimeout(() => child.kill('SIGKILL'), args.durationMs + 90_000);
  let done = false;
  void exited.then(() => (done = true));
  while (!done) {
    const tree = sampleProcessTree(pid);
    const k6 = tree && args.engine === 'k6' ? k6Pid(tree.pids) : undefined;
    const k6Tree = k6 === undefined ? undefined : sampleProcessTree(k6);
    if (tree) {
      marks.push({ at: tree.at, treeMs: tree.cpuMs, k6Ms: k6Tree?.cpuMs ?? 0 });
      peak = Math.max(peak, args.engine === 'k6' ? (k6Tree?.peakRssBytes ?? 0) : tree.peakRssBytes);
    }
    during?.();
    await Promise.race([exited, new Promise((r) => setTimeout(r, 250))]);
  }
  clearTimeout(hardStop);
  const code = await exited;
  if (code !== 0) throw new Error(`${label} with ${args.clients} clients: the engine exited ${code}`);
  return { t0, marks, peakRssBytes: peak, file: args.file };
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
  const run = await runChild(
    {
      engine,
      workload: 'sse',
      baseUrl,
      clients,
      durationMs: seconds * 1000,
      file: join(dir, `${label.replace(/\W+/g, '-')}-${clients}.ndjson`),
      workDir: join(dir, `k6-${clients}`),
      ...(binary ? { binary } : {}),
    },
    label,
  );
  const { t0, marks, file } = run;
  const peak = run.peakRssBytes;
  // The window: from 2 s after the first event the clients received to 1 s before the last, so
  // neither the engine's start (workers, k6 compiling the bundle) nor its stop is counted.
  const all = await scanSamples(file, 0, Number.MAX_SAFE_INTEGER);
  const tenths = Array.from({ length: Math.ceil((Date.now() - t0) / 100) }, (_, i) => t0 + i * 100);
  const withEvents = tenths.filter((t) => all.eventsBetween(t, t + 100) > 0);
  const first = withEvents[0];
  const last = withEvents[withEvents.length - 1];
  const a = first === undefined ? undefined : markAt(marks, first + 2000, 'after');
  const b = last === undefined ? undefined : markAt(marks, last - 1000, 'before');
  const windowOk = a !== undefined && b !== undefined && b.at - a.at >= 3000;
  const scan = windowOk ? await scanSamples(file, a.at, b.at) : undefined;
  const events = scan && windowOk ? all.eventsBetween(a.at, b.at) : 0;
  const cpuMs = windowOk ? (engine === 'k6' ? b.k6Ms - a.k6Ms : b.treeMs - a.treeMs) : 0;
  const per1000 = (ms: number): number | null => (events > 0 ? ms / events : null);
  if (!windowOk)
    console.log(`[warn] ${label} with ${clients} clients: under 3 s of steady traffic, nothing measured`);
  return {
    engine: label,
    clients,
    windowSeconds: windowOk ? (b.at - a.at) / 1000 : 0,
    events,
    completed: all.outcomes['completed'] ?? 0,
    outcomes: all.outcomes,
    cpuSeconds: cpuMs / 1000,
    cpuSecondsPer1000Events: per1000(cpuMs),
    treeCpuSecondsPer1000Events: engine === 'k6' && windowOk ? per1000(b.treeMs - a.treeMs) : null,
    peakRssMiB: peak / 2 ** 20,
    rssKiBPerClient: peak / 1024 / clients,
    lagP50Ms: scan && scan.lag.count > 0 ? scan.lag.p50 : null,
    lagP99Ms: scan && scan.lag.count > 0 ? scan.lag.p99 : null,
    load1: loadavg()[0] ?? 0,
  };
}

interface IdleRow {
  engine: string;
  clients: number;
  /** Most sockets the server saw connected at once, and heartbeats it received in the run. */
  connectedMax: number;
  heartbeats: number;
  /** CPU per idle client and second over the window (10 s after the start to 2 s before the end), µs. */
  cpuMicrosPerClientSecond: number | null;
  peakRssMiB: number;
  rssKiBPerClient: number;
  load1: number;
}

/**
 * Idle browser clients (connected, joined, answering pings, heartbeating every 30 s, no chats) on
 * the bench's Socket.IO server, held `seconds`: what one more open tab costs each engine.
 */
async function idleStep(
  engine: 'node' | 'k6',
  binary: string | undefined,
  label: string,
  servers: BenchServers,
  clients: number,
  seconds: number,
  dir: string,
): Promise<IdleRow> {
  const before = await servers.stats();
  let connectedMax = 0;
  let polling = false;
  const run = await runChild(
    {
      engine,
      workload: 'idle-sockets',
      baseUrl: servers.sioUrl,
      clients,
      durationMs: seconds * 1000,
      file: join(dir, `idle-${label.replace(/\W+/g, '-')}-${clients}.ndjson`),
      workDir: join(dir, `k6-idle-${clients}`),
      ...(binary ? { binary } : {}),
    },
    label,
    () => {
      if (polling) return;
      polling = true;
      void servers
        .stats()
        .then((st) => (connectedMax = Math.max(connectedMax, st.connected)))
        .finally(() => (polling = false));
    },
  );
  const after = await servers.stats();
  const a = markAt(run.marks, run.t0 + 10_000, 'after');
  const b = markAt(run.marks, run.t0 + seconds * 1000 - 2000, 'before');
  const ok = a !== undefined && b !== undefined && b.at - a.at >= 5000;
  const cpuMs = ok ? (engine === 'k6' ? b.k6Ms - a.k6Ms : b.treeMs - a.treeMs) : 0;
  return {
    engine: label,
    clients,
    connectedMax,
    heartbeats: after.heartbeats - before.heartbeats,
    cpuMicrosPerClientSecond: ok ? (cpuMs * 1000) / clients / ((b.at - a.at) / 1000) : null,
    peakRssMiB: run.peakRssBytes / 2 ** 20,
    rssKiBPerClient: run.peakRssBytes / 1024 / clients,
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
  const idleClients = Number(flag('--idle-sockets') ?? 200);
  // Every client has heartbeated once 30 s after joining: 40 s shows it.
  const idleSeconds = Math.max(15, Number(flag('--idle-seconds') ?? 40));
  const jsonOut = flag('--json') ?? 'runs/bench/k6-vs-node.json';
  const dir = mkdtempSync(join(tmpdir(), 'owui-k6-vs-node-'));
  const servers = await startBenchServers();
  const rows: Row[] = [];
  const held: Record<string, number> = {};
  const idleRows: IdleRow[] = [];
  try {
    for (const engine of [
      { kind: 'node' as const, label: 'node', binary: undefined },
      { kind: 'k6' as const, label: k6.label, binary: k6.binary },
    ]) {
      held[engine.label] = 0;
      for (const n of clients) {
        const row = await step(engine.kind, engine.binary, engine.label, servers.mockUrl, n, seconds, dir);
        rows.push(row);
        console.log(
          `${row.engine.padEnd(20)} ${String(n).padStart(5)} clients  ${String(row.events).padStart(7)} events  cpu/1k ${fmt(row.cpuSecondsPer1000Events, 3)} s${row.treeCpuSecondsPer1000Events === null ? '' : ` (+ ingest ${fmt(row.treeCpuSecondsPer1000Events, 3)} s)`}  peak RSS ${row.peakRssMiB.toFixed(0)} MiB (${row.rssKiBPerClient.toFixed(0)} KiB/client)  lag p50 ${fmt(row.lagP50Ms)} p99 ${fmt(row.lagP99Ms)} ms  completed ${row.completed}  load ${row.load1.toFixed(2)}`,
        );
        if (row.lagP99Ms === null || row.lagP99Ms >= LAG_LIMIT_MS) break;
        held[engine.label] = n;
      }
    }
    if (idleClients > 0)
      for (const engine of [
        { kind: 'node' as const, label: 'node', binary: undefined },
        { kind: 'k6' as const, label: k6.label, binary: k6.binary },
      ]) {
        const row = await idleStep(
          engine.kind,
          engine.binary,
          engine.label,
          servers,
          idleClients,
          idleSeconds,
          dir,
        );
        idleRows.push(row);
        console.log(
          `${row.engine.padEnd(20)} ${String(row.clients).padStart(5)} idle sockets  connected max ${row.connectedMax}  heartbeats ${row.heartbeats}  cpu ${fmt(row.cpuMicrosPerClientSecond, 1)} µs/client/s  peak RSS ${row.peakRssMiB.toFixed(0)} MiB (${row.rssKiBPerClient.toFixed(0)} KiB/client)  load ${row.load1.toFixed(2)}`,
        );
      }
  } finally {
    await servers.close();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\nmost clients held at lag p99 < ${LAG_LIMIT_MS} ms (of ${clients.join(', ')}):`);
  for (const [engine, n] of Object.entries(held)) console.log(`  ${engine.padEnd(20)} ${n || 'none'}`);
  mkdirSync(dirname(jsonOut), { recursive: true });
  writeFileSync(
    jsonOut,
    JSON.stringify(
      {
        workload: {
          tokens: TOKENS,
          tokensPerSecond: TPS,
          seconds,
          windowFrom: 'first event + 2 s',
          windowTo: 'last event - 1 s',
        },
        k6: k6.label,
        rows,
        held,
        idleSockets: { seconds: idleSeconds, rows: idleRows },
        loadAverage: loadavg(),
      },
      null,
      2,
    ),
  );
  console.log(`written: ${jsonOut}`);
}

await main();
