// k6 beside the Node engine (issue 16 "Side by side"): the same workloads, run by the Node engine
// and by every k6 build given, against the same servers in the same bench run. Skipped, with the
// reason printed, when no k6 binary is found (--k6 PATH, else OWUI_K6_BINARIES, else
// OWUI_K6_BINARY, else `k6` on PATH).
//
// Method (docs/k6.md "Side by side"):
// - Each engine runs in a child process of its own, from the built engine (bench/k6/child.ts,
//   engine-child.mjs), so its CPU and memory are read from /proc for that process tree alone: the
//   Node engine's whole tree; k6's process alone, and beside it the tree with the owui-chaos
//   process that reads k6's JSON output ("+ ingest"). Peak RSS = the largest sum of VmHWM seen.
// - SSE (`--workloads sse`, xk6-sse builds only: plain k6 times no event): N closed-model API
//   chat VUs straight to the mock LLM (bench/engine/servers.ts), 40 tokens at 20 tokens/s, first
//   token after 100 ms. An event is one content SSE event (one `client_lag` sample); client lag
//   = receive time − the mock's send stamp, the same in both engines. Window: first event + 2 s to
//   last event − 1 s (≥ 3 s); CPU between the 250 ms /proc samples nearest its ends.
// - Chatting browser clients (`chat`): N clients through one Open WebUI simulator replica in
//   front of the mock LLM (bench/k6/chat-servers.ts), each starting a 40-token chat every 5 s;
//   client lag = timer drift of the loops that run the clients (bench/k6/browser-chat.ts).
// - Idle browser clients (`idle`, --idle-sockets, default 200, 40 s) on the bench's Socket.IO
//   server: CPU per client and second from 10 s after the start to 2 s before the end, peak RSS
//   per client, and the server's own count of connected sockets and heartbeats.
// - Scans: N rises through --clients (SSE, default 50,200,500) and --chat-clients (default
//   10,30,100,200). SSE stops at an engine's first N with lag p99 ≥ 5 ms and "held" is the N
//   before it; chat goes on while lag p99 < 20 ms and no chat failed (for CPU and memory at more
//   N) and "held" is the largest N held (browser-chat.ts). Chat steps run interleaved per N (Node, then
//   each k6), so the engines see the machine in the same state.
// The machine's 1-minute load average is printed beside each row: on a loaded machine the figures
// are noisy; compare engines within one run only.
//
// Usage: npx tsx bench/k6-vs-node-bench.ts [--workloads sse,chat,idle] [--clients 50,200,500]
//        [--seconds 12] [--chat-clients 10,30,100,200] [--chat-seconds 20]
//        [--idle-sockets 200] [--idle-seconds 40] [--k6 PATH] [--json FILE]
//        (default JSON: runs/bench/k6-vs-node.json; `npm run bench -- k6 --workloads chat` builds first)

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { k6Binaries } from '../test/helpers/k6-binaries.js';
import { scanSamples } from './engine/scan.js';
import { startBenchServers, type BenchServers } from './engine/servers.js';
import { LAG_LIMIT_MS, TPS } from './engine/streams.js';
import { chatStep, LAG_PROBE_EVERY_MS, LAG_PROBE_VUS, type ChatRow } from './k6/browser-chat.js';
import { startChatServers } from './k6/chat-servers.js';
import { CHAT_INTERVAL_MS, engineCpuMs, markAt, runChild, TOKENS } from './k6/child.js';

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
      tokens: TOKENS,
      tokensPerSecond: TPS,
      chatIntervalMs: 0,
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
  const cpuMs = windowOk ? engineCpuMs(engine, a, b) : 0;
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
      tokens: 1,
      tokensPerSecond: TPS,
      chatIntervalMs: 0,
      ...(binary ? { binary } : {}),
    },
    label,
    {
      during: () => {
        if (polling) return;
        polling = true;
        void servers
          .stats()
          .then((st) => (connectedMax = Math.max(connectedMax, st.connected)))
          .finally(() => (polling = false));
      },
    },
  );
  const after = await servers.stats();
  const a = markAt(run.marks, run.t0 + 10_000, 'after');
  const b = markAt(run.marks, run.t0 + seconds * 1000 - 2000, 'before');
  const ok = a !== undefined && b !== undefined && b.at - a.at >= 5000;
  const cpuMs = ok ? engineCpuMs(engine, a, b) : 0;
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

/** See the chat scan in main(). */
const CHAT_GO_ON_MS = 4 * LAG_LIMIT_MS;

function fmt(v: number | null, digits = 2): string {
  return v === null ? '—' : v.toFixed(digits);
}

const list = (v: string | undefined, dflt: string): number[] =>
  (v ?? dflt)
    .split(',')
    .map(Number)
    .filter((n) => n > 0);

interface Engine {
  kind: 'node' | 'k6';
  label: string;
  binary: string | undefined;
}

/** Node's figure over k6's at the same client count, per k6 build (the issue's aims). */
interface AimRow {
  engine: string;
  clients: number;
  cpuSecondsPer1000Events: number | null;
  rssKiBPerClient: number;
  peakRssMiB: number;
}

/** Peak RSS added per client between an engine's smallest and largest N (MiB), if it ran two. */
function marginalMiBPerClient(rows: readonly AimRow[], engine: string, ns: readonly number[]): number | null {
  const mine = rows.filter((r) => r.engine === engine && ns.includes(r.clients));
  const lo = mine[0];
  const hi = mine[mine.length - 1];
  return lo && hi && hi.clients > lo.clients
    ? (hi.peakRssMiB - lo.peakRssMiB) / (hi.clients - lo.clients)
    : null;
}

/**
 * Node's figure over k6's at the same client count, per k6 build (the issue's aims), and the
 * memory each added client costs (slope between the smallest and largest N both engines ran):
 * at small N the runtime's fixed base dominates memory per client.
 */
function aims(rows: readonly AimRow[]): string[] {
  const out: string[] = [];
  const verdict = (v: number | null, aim: number): string =>
    v === null ? 'not measured' : v <= aim ? 'met' : 'NOT met';
  for (const k6label of [...new Set(rows.filter((r) => r.engine !== 'node').map((r) => r.engine))]) {
    const both: number[] = [];
    for (const node of rows.filter((r) => r.engine === 'node')) {
      const k6 = rows.find((r) => r.engine === k6label && r.clients === node.clients);
      if (!k6) continue;
      both.push(node.clients);
      const cpu =
        node.cpuSecondsPer1000Events !== null && k6.cpuSecondsPer1000Events
          ? node.cpuSecondsPer1000Events / k6.cpuSecondsPer1000Events
          : null;
      const mem = node.rssKiBPerClient / k6.rssKiBPerClient;
      out.push(
        `  ${String(node.clients).padStart(5)} clients vs ${k6label}: CPU/event node÷k6 ${fmt(cpu)} (aim ≤ 0.5: ${verdict(cpu, 0.5)}), memory/client ${fmt(mem)} (aim ≤ 0.25: ${verdict(mem, 0.25)})`,
      );
    }
    const n = marginalMiBPerClient(rows, 'node', both);
    const k = marginalMiBPerClient(rows, k6label, both);
    if (n !== null && k !== null && k > 0)
      out.push(
        `  memory per added client (${both[0]}→${both[both.length - 1]} clients): node ${fmt(n)} MiB, ${k6label} ${fmt(k)} MiB, node÷k6 ${fmt(n / k)} (aim ≤ 0.25: ${verdict(n / k, 0.25)})`,
      );
  }
  return out;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const flag = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  if (process.platform !== 'linux') {
    console.log('[skip] k6 vs Node: CPU and memory are read from /proc (Linux only)');
    return;
  }
  // The k6 builds: --k6 PATH, else OWUI_K6_BINARIES, else OWUI_K6_BINARY, else `k6` on PATH.
  const explicit = flag('--k6');
  if (explicit) process.env.OWUI_K6_BINARIES = explicit;
  const k6s = k6Binaries('k6 vs Node');
  if (k6s.length === 0) {
    console.log(
      '[skip] k6 vs Node: no k6 binary (set OWUI_K6_BINARIES or OWUI_K6_BINARY, or put k6 on PATH); this project never installs k6',
    );
    return;
  }
  const workloads = new Set((flag('--workloads') ?? 'sse,chat,idle').split(','));
  const clients = list(flag('--clients'), '50,200,500');
  const seconds = Math.max(8, Number(flag('--seconds') ?? 12));
  const chatClients = list(flag('--chat-clients'), '10,30,100,200');
  const chatSeconds = Math.max(15, Number(flag('--chat-seconds') ?? 20));
  // Every N for every engine, past lag and failed chats: memory and CPU compared at large N.
  const chatAllSteps = argv.includes('--all-steps');
  const idleClients = Number(flag('--idle-sockets') ?? 200);
  // Every client has heartbeated once 30 s after joining: 40 s shows it.
  const idleSeconds = Math.max(15, Number(flag('--idle-seconds') ?? 40));
  const jsonOut = flag('--json') ?? 'runs/bench/k6-vs-node.json';
  const engines: Engine[] = [
    { kind: 'node', label: 'node', binary: undefined },
    ...k6s.map((k) => ({ kind: 'k6' as const, label: k.label, binary: k.binary })),
  ];
  const dir = mkdtempSync(join(tmpdir(), 'owui-k6-vs-node-'));
  const rows: Row[] = [];
  const held: Record<string, number> = {};
  const chatRows: ChatRow[] = [];
  const chatHeld: Record<string, number> = {};
  const idleRows: IdleRow[] = [];
  const servers = workloads.has('sse') || workloads.has('idle') ? await startBenchServers() : undefined;
  try {
    if (servers && workloads.has('sse'))
      for (const engine of engines) {
        const k6 = k6s.find((k) => k.label === engine.label);
        if (k6 && !k6.sse) {
          console.log(
            `[skip] SSE with ${k6.label}: without xk6-sse k6 reads SSE bodies whole, so it times no event (no lag, no events to divide CPU by)`,
          );
          continue;
        }
        held[engine.label] = 0;
        for (const n of clients) {
          const row = await step(engine.kind, engine.binary, engine.label, servers.mockUrl, n, seconds, dir);
          rows.push(row);
          console.log(
            `sse  ${row.engine.padEnd(20)} ${String(n).padStart(5)} clients  ${String(row.events).padStart(7)} events  cpu/1k ${fmt(row.cpuSecondsPer1000Events, 3)} s${row.treeCpuSecondsPer1000Events === null ? '' : ` (+ ingest ${fmt(row.treeCpuSecondsPer1000Events, 3)} s)`}  peak RSS ${row.peakRssMiB.toFixed(0)} MiB (${row.rssKiBPerClient.toFixed(0)} KiB/client)  lag p50 ${fmt(row.lagP50Ms)} p99 ${fmt(row.lagP99Ms)} ms  completed ${row.completed}  load ${row.load1.toFixed(2)}`,
          );
          if (row.lagP99Ms === null || row.lagP99Ms >= LAG_LIMIT_MS) break;
          held[engine.label] = n;
        }
      }
    if (workloads.has('chat')) {
      const chat = await startChatServers(Math.max(...chatClients));
      try {
        // Interleaved per N (node, then each k6), so both engines see the machine in the same state.
        // An engine goes on past an N not held while its lag p99 stays under CHAT_GO_ON_MS with
        // no failed chat, so CPU and memory are compared at more N; "held" is the largest N
        // held (one noisy step at a small N does not hide a larger N that held).
        const going = new Set(engines.map((e) => e.label));
        for (const e of engines) chatHeld[e.label] = 0;
        for (const n of chatClients)
          for (const engine of engines.filter((e) => going.has(e.label))) {
            const file = join(dir, `credentials-${n}.json`);
            writeFileSync(
              file,
              JSON.stringify({ ...chat.credentials, users: chat.credentials.users.slice(0, n) }),
            );
            const row = await chatStep(
              engine.kind,
              engine.binary,
              engine.label,
              chat.url,
              file,
              n,
              chatSeconds,
              dir,
            );
            chatRows.push(row);
            console.log(
              `chat ${row.engine.padEnd(20)} ${String(n).padStart(5)} clients  ${String(row.events).padStart(7)} events  cpu/1k ${fmt(row.cpuSecondsPer1000Events, 3)} s${row.treeCpuSecondsPer1000Events === null ? '' : ` (+ ingest ${fmt(row.treeCpuSecondsPer1000Events, 3)} s)`}  peak RSS ${row.peakRssMiB.toFixed(0)} MiB (${row.rssKiBPerClient.toFixed(0)} KiB/client)  loop lag p50 ${fmt(row.lagP50Ms, 0)} p99 ${fmt(row.lagP99Ms, 0)} max ${fmt(row.lagMaxMs, 0)} ms (${row.lagSamples} samples)  joins ${row.joins}  outcomes ${JSON.stringify(row.outcomes)}  load ${row.load1.toFixed(2)}`,
            );
            if (row.held) chatHeld[engine.label] = Math.max(chatHeld[engine.label] ?? 0, n);
            if (
              !chatAllSteps &&
              (!row.measured || (row.lagP99Ms ?? Infinity) >= CHAT_GO_ON_MS || row.failedChats > 0)
            )
              going.delete(engine.label);
          }
      } finally {
        await chat.close();
      }
    }
    if (servers && workloads.has('idle') && idleClients > 0)
      for (const engine of engines) {
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
          `idle ${row.engine.padEnd(20)} ${String(row.clients).padStart(5)} idle sockets  connected max ${row.connectedMax}  heartbeats ${row.heartbeats}  cpu ${fmt(row.cpuMicrosPerClientSecond, 1)} µs/client/s  peak RSS ${row.peakRssMiB.toFixed(0)} MiB (${row.rssKiBPerClient.toFixed(0)} KiB/client)  load ${row.load1.toFixed(2)}`,
        );
      }
  } finally {
    await servers?.close();
    rmSync(dir, { recursive: true, force: true });
  }
  if (rows.length > 0) {
    console.log(`\nSSE: most clients held at lag p99 < ${LAG_LIMIT_MS} ms (of ${clients.join(', ')}):`);
    for (const [engine, n] of Object.entries(held)) console.log(`  ${engine.padEnd(20)} ${n || 'none'}`);
    console.log('SSE, Node against each k6 build:');
    for (const line of aims(rows.filter((r) => r.cpuSecondsPer1000Events !== null))) console.log(line);
  }
  if (chatRows.length > 0) {
    console.log(
      `\nchatting browser clients: the most held (largest N) at loop lag p99 < ${LAG_LIMIT_MS} ms, all joined, no failed chat (of ${chatClients.join(', ')}):`,
    );
    for (const [engine, n] of Object.entries(chatHeld)) console.log(`  ${engine.padEnd(20)} ${n || 'none'}`);
    console.log('chatting browser clients, Node against each k6 build:');
    for (const line of aims(chatRows)) console.log(line);
  }
  mkdirSync(dirname(jsonOut), { recursive: true });
  writeFileSync(
    jsonOut,
    JSON.stringify(
      {
        k6: k6s.map((k) => k.label),
        sse: {
          workload: {
            tokens: TOKENS,
            tokensPerSecond: TPS,
            seconds,
            windowFrom: 'first event + 2 s',
            windowTo: 'last event - 1 s',
          },
          rows,
          held,
        },
        browserChat: {
          workload: {
            tokens: TOKENS,
            tokensPerSecond: TPS,
            chatIntervalMs: CHAT_INTERVAL_MS,
            seconds: chatSeconds,
            lag: `timer drift, one timer every ${LAG_PROBE_EVERY_MS} ms per Node worker thread and in k6's first ${LAG_PROBE_VUS} VUs`,
            windowFrom: 'first event + 3 s',
            windowTo: 'last event - 1 s',
          },
          rows: chatRows,
          held: chatHeld,
        },
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
