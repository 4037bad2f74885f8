// The bench servers, in a CHILD process so that their CPU is measured apart from the client's:
//
// - the real mock LLM (src/lab/mock-llm) for SSE streams (`mockUrl`, POST /v1/chat/completions);
// - a minimal Socket.IO server (the `socket.io` package, websocket only, at /ws/socket.io, Open
//   WebUI's ping 25 s / timeout 20 s, `user-join` acked, `heartbeat` counted, `GET /api/version`)
//   for browser clients (`sioUrl`). Not the Open WebUI simulator: its Redis and JWT work would
//   measure the simulator, not the client;
// - on `sioUrl`: GET /stats (socket counters and the child's CPU), POST /profile/start|stop (the
//   child's own CPU profile).
//
// Use from any bench (the Node engine's or another client's, e.g. k6):
//   const servers = await startBenchServers();
//   const a = servers.cpu(); … run the client against servers.mockUrl / servers.sioUrl …
//   const b = servers.cpu(); cpuBetween(a, b)  // the servers' CPU over the step
//   await servers.close();
// The child still shares the machine's cores with the client under test.

import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';
import { createServer } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Server } from 'socket.io';
import { startMockLlm } from '../../src/lab/mock-llm/server.js';
import { type ProcessCpu, selfCpu, sampleProcessTree } from './proc.js';
import { type CpuProfile, type RunningProfiler, startCpuProfiler } from './profiler.js';

const CHILD_ENTRY = fileURLToPath(new URL('./serve.ts', import.meta.url));

export interface SocketStats {
  /** Sockets connected now. */
  connected: number;
  /** `user-join` events acked, `heartbeat` events received, disconnects, since the child started. */
  joins: number;
  heartbeats: number;
  disconnects: number;
}

/** Event-loop delay of the servers' main thread since the last reset, ms. */
export interface LoopDelay {
  p50: number;
  p99: number;
  max: number;
}

export interface ServerStats extends SocketStats {
  /** CPU of the servers' process (user + system), and its user part, ms since it started. */
  cpuMs: number;
  userMs: number;
}

export interface BenchServers {
  /** The child's pid (for sampleProcessTree). */
  pid: number;
  /** Mock LLM base URL: POST `${mockUrl}/v1/chat/completions`. */
  mockUrl: string;
  /** Socket.IO server base URL (Open WebUI's path /ws/socket.io). */
  sioUrl: string;
  /** Socket counters and the child's CPU, from the child itself. */
  stats(): Promise<ServerStats>;
  /** The child's CPU now (from /proc; falls back to stats() off Linux), ms since it started. */
  cpu(): Promise<ProcessCpu>;
  /**
   * Sets the niceness of every thread of the child (Linux: per thread; threads it starts later
   * inherit it from their creator). A niced mock leaves the cores to the client first when both
   * are runnable, closer to a real deployment where the model server runs on other machines;
   * whether it still keeps its pace is checked per step (the paced-rate column).
   */
  setNice(nice: number): void;
  /** The child's event-loop delay since the previous call (each call resets it). */
  loopDelay(): Promise<LoopDelay>;
  /** CPU profile of the child's main thread between start and stop. */
  profileStart(): Promise<void>;
  profileStop(): Promise<CpuProfile>;
  close(): Promise<void>;
}

/** Starts the servers' child process and waits (≤ 30 s) until it listens. */
export async function startBenchServers(): Promise<BenchServers> {
  const child: ChildProcess = spawn(process.execPath, [...process.execArgv, CHILD_ENTRY], {
    // stdin is a pipe the child watches: when this process dies (even by SIGKILL) the pipe
    // closes and the child exits, so no server outlives its bench.
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error('bench servers did not start within 30 s'));
    }, 30_000);
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(buf.slice(0, nl));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`bench servers exited with ${code}`));
    });
  });
  const { mockUrl, sioUrl } = JSON.parse(line) as { mockUrl: string; sioUrl: string };
  const pid = child.pid!;
  const stats = async (): Promise<ServerStats> =>
    (await (await fetch(`${sioUrl}/stats`)).json()) as ServerStats;
  return {
    pid,
    mockUrl,
    sioUrl,
    stats,
    cpu: async () => {
      const s = sampleProcessTree(pid);
      if (s) return s;
      const st = await stats();
      return { cpuMs: st.cpuMs, userMs: st.userMs, systemMs: st.cpuMs - st.userMs };
    },
    setNice: (nice) => {
      let tids: number[] = [pid];
      try {
        tids = readdirSync(`/proc/${pid}/task`).map(Number);
      } catch {
        // not Linux: the process priority is all there is
      }
      for (const tid of tids) setPriority(tid, nice);
    },
    loopDelay: async () => (await (await fetch(`${sioUrl}/loop-delay`)).json()) as LoopDelay,
    profileStart: async () => {
      await (await fetch(`${sioUrl}/profile/start`, { method: 'POST' })).arrayBuffer();
    },
    profileStop: async () =>
      (await (await fetch(`${sioUrl}/profile/stop`, { method: 'POST' })).json()) as CpuProfile,
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The child's main: runs the servers until SIGTERM (see serve.ts). */
export async function serveBenchServers(): Promise<void> {
  const mock = await startMockLlm({ port: 0 });
  const stats: SocketStats = { connected: 0, joins: 0, heartbeats: 0, disconnects: 0 };
  let profiler: RunningProfiler | undefined;
  // 1 ms resolution: a timer fires that often and the delay of each is recorded.
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const json = (res: import('node:http').ServerResponse, body: unknown): void => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const http = createServer((req, res) => {
    if (req.url === '/api/version') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"version":"0.11.0","deployment_id":"bench"}');
      return;
    }
    if (req.url === '/profile/start') {
      void (profiler ? Promise.resolve() : startCpuProfiler().then((p) => void (profiler = p))).then(() =>
        json(res, {}),
      );
      return;
    }
    if (req.url === '/profile/stop') {
      const p = profiler;
      profiler = undefined;
      void (p ? p.stop() : Promise.resolve({ nodes: [] })).then((profile) => json(res, profile));
      return;
    }
    if (req.url === '/loop-delay') {
      // The histogram is in ns and includes the 1 ms resolution sleep itself: report the delay.
      const ms = (ns: number): number => Math.max(0, ns / 1e6 - 1);
      json(res, { p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max) });
      loop.reset();
      return;
    }
    if (req.url === '/stats') {
      const cpu = selfCpu();
      json(res, { ...stats, cpuMs: cpu.cpuMs, userMs: cpu.userMs });
      return;
    }
    res.writeHead(404).end();
  });
  http.maxConnections = 100_000;
  const io = new Server(http, {
    path: '/ws/socket.io',
    transports: ['websocket'],
    pingInterval: 25_000,
    pingTimeout: 20_000,
    perMessageDeflate: false,
  });
  io.on('connection', (socket) => {
    stats.connected++;
    socket.on('user-join', (_data: unknown, ack?: (r: unknown) => void) => {
      stats.joins++;
      ack?.({ id: 'u', name: 'bench' });
    });
    socket.on('heartbeat', () => void stats.heartbeats++);
    socket.on('disconnect', () => {
      stats.connected--;
      stats.disconnects++;
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const sioUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  process.stdout.write(JSON.stringify({ mockUrl: mock.url, sioUrl }) + '\n');
  const stop = (): void => {
    io.close();
    void mock.close().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  // The parent holds our stdin open; its end means the parent is gone.
  process.stdin.on('end', stop);
  process.stdin.on('error', stop);
  process.stdin.resume();
}
