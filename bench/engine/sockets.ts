// The idle browser clients step: `n` Node-engine browser clients connected to the bench servers'
// Socket.IO server, joined, answering pings and heartbeating, held 33 s after the last joined.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { NodeLoadEngine } from '../../src/engines/node/engine.js';
import { NdjsonFileSink } from '../../src/engines/node/ndjson-file-sink.js';
import type { Credentials } from '../../src/engines/node/provisioning.js';
import { scanSamples } from './scan.js';
import type { BenchServers } from './servers.js';

export interface SocketRow {
  sockets: number;
  joined: number;
  disconnects: number;
  heartbeats: number;
  connectP99: number;
  engineCpu: number;
  ok: boolean;
}

export async function socketStep(s: BenchServers, dir: string, n: number): Promise<SocketRow> {
  const file = join(dir, `sockets-${n}.ndjson`);
  const sink = new NdjsonFileSink(file);
  const rampMs = Math.max(2000, Math.min(15_000, n)); // ~1,000 connects per second
  // Hold until 33 s after the last client joined (every client has then answered a server ping,
  // 25 s, and sent a heartbeat, 30 s after joining); at most ramp + 80 s.
  const holdMs = 33_000;
  const durationMs = rampMs + 80_000;
  const stop = new AbortController();
  let allJoinedAt = 0;
  const users = Array.from({ length: n }, (_, i) => ({
    email: `bench-${i}@bench.invalid`,
    token: 'bench-token',
  }));
  const credentials: Credentials = { version: '0.11.0', apiTokens: [], users, signIns: 0 };
  const engine = new NodeLoadEngine({ credentials, socketRampMs: rampMs, finishGraceMs: 30_000 });
  const before = await s.stats();
  const cpu0 = process.cpuUsage();
  const t0 = Date.now();
  await engine.run(
    { durationMs, baseUrl: s.sioUrl, model: 'none', sockets: { vus: n, tokens: 1, chatIntervalMs: 0 } },
    sink,
    {
      signal: stop.signal,
      onProgress: (p) => {
        if (allJoinedAt === 0 && p.activeSockets === n) allJoinedAt = Date.now();
        if (allJoinedAt > 0 && Date.now() - allJoinedAt >= holdMs) stop.abort();
      },
    },
  );
  sink.close();
  const cpu = process.cpuUsage(cpu0);
  const wall = Date.now() - t0;
  const after = await s.stats();
  const r = await scanSamples(file, 0, Number.MAX_SAFE_INTEGER);
  rmSync(file, { force: true });
  const heartbeats = after.heartbeats - before.heartbeats;
  return {
    sockets: n,
    joined: r.maxActiveSockets,
    disconnects: r.disconnects,
    heartbeats,
    connectP99: r.connectP99,
    engineCpu: (cpu.user + cpu.system) / 1000 / wall,
    ok: allJoinedAt > 0 && r.maxActiveSockets === n && r.disconnects === 0 && heartbeats >= n,
  };
}
