// Targets of the conformance suite (docs/openwebui-protocol.md "Conformance"): the same probes run
// against the simulator lab and against real Open WebUI. A target names its replicas directly (no
// nginx in between: the probes need to pick the replica), the admin, the model, an origin that
// CORS_ALLOW_ORIGIN allows, and the faults the suite needs (Redis unreachable, a killed replica, a
// Sentinel failover), each implemented with real processes.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { labDown, labUp } from '../../../src/lab/lab.js';
import { LAB_MODEL } from '../../../src/lab/lab-target.js';
import type { LabState } from '../../../src/infra/lab-state.js';
import { isAlive, sleep, spawnDaemon, stopProcess } from '../../../src/infra/process/daemon.js';
import { pollHealthy, probeReplica } from '../../../src/infra/http-probe.js';
import { masterAddr, withRedisClient } from '../../../src/infra/redis-probe.js';
import { killRedisDataNodes, openWebuiBinary, startRealOwui } from './real-owui-harness.js';

export interface TargetReplica {
  name: string;
  url: string;
}

export interface ConformanceTarget {
  kind: 'simulator' | 'real';
  /** The version the server must report on /api/version. */
  version: string;
  replicas: TargetReplica[];
  admin: { email: string; password: string };
  model: string;
  /** An Origin that CORS_ALLOW_ORIGIN lists. */
  allowedOrigin: string;
  sentinels: Array<{ host: string; port: number }>;
  masterName: string;
  /** Makes Redis (master and replica) unreachable; the returned function restores it. */
  redisOutage(): Promise<() => Promise<void>>;
  /** SIGKILL of one replica's process. */
  killReplica(index: number): Promise<void>;
  /** Starts a killed replica again and waits until it is ready. */
  restartReplica(index: number): Promise<void>;
  /** Extra facts for the report (start-up times, RSS). */
  describe(): string;
  stop(): Promise<void>;
}

// ─── simulator lab ──────────────────────────────────────────────────────────────────────────────

export async function simulatorTarget(opts: {
  version: string;
  name: string;
  home: string;
}): Promise<ConformanceTarget> {
  const stateDir = join(opts.home, 'labs', opts.name);
  let state: LabState;
  try {
    state = await labUp({
      name: opts.name,
      stateDir,
      replicas: 2,
      replicaEnv: { OWUI_SIM_VERSION: opts.version, ENABLE_API_KEYS: 'true' },
      partBudgetMs: 60_000,
    });
  } catch (err) {
    await labDown(stateDir).catch(() => undefined);
    throw err;
  }
  const restarted: number[] = [];
  const toxi = state.toxiproxy!.url;
  const setProxies = async (enabled: boolean): Promise<void> => {
    for (const name of ['redis-master', 'redis-replica']) {
      const res = await fetch(`${toxi}/proxies/${name}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ enabled }),
      });
      if (!res.ok) throw new Error(`toxiproxy ${name} enabled=${enabled}: ${res.status}`);
    }
  };
  return {
    kind: 'simulator',
    version: opts.version,
    replicas: state.replicas.map((r) => ({ name: r.name, url: r.url })),
    admin: { email: state.admin!.email, password: state.admin!.password },
    model: LAB_MODEL,
    allowedOrigin: state.nginx!.url,
    sentinels: state.redis!.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })),
    masterName: state.redis!.masterName,
    redisOutage: async () => {
      await setProxies(false);
      return () => setProxies(true);
    },
    killReplica: async (index) => {
      const r = state.replicas[index]!;
      const pid = restarted[index] ?? r.pid!;
      process.kill(pid, 'SIGKILL');
      for (let i = 0; i < 250 && isAlive(pid); i++) await sleep(20);
    },
    restartReplica: async (index) => {
      const r = state.replicas[index]!;
      const d = await spawnDaemon({
        name: r.name,
        command: r.spawn.command,
        args: r.spawn.args,
        env: r.spawn.env,
        logFile: r.spawn.logFile,
        cwd: join(stateDir, 'replicas'),
      });
      restarted[index] = d.pid;
      await waitReady(r.url, 30_000);
    },
    describe: () => `simulator lab ${opts.name} (OWUI_SIM_VERSION=${opts.version}, 2 replicas)`,
    stop: async () => {
      for (const pid of restarted) if (pid) await stopProcess(pid, 3000);
      await labDown(stateDir);
    },
  };
}

// ─── real Open WebUI ────────────────────────────────────────────────────────────────────────────

/** Whether the venv of `version` is installed (setup ran). */
export function realInstalled(version: string): boolean {
  return existsSync(openWebuiBinary(version));
}

export async function realTarget(opts: { version: string; dir: string }): Promise<ConformanceTarget> {
  const owui = await startRealOwui({
    version: opts.version,
    replicas: 2,
    dir: opts.dir,
    onProgress: (m) => process.stderr.write(`[conformance] ${m}\n`),
  });
  return {
    kind: 'real',
    version: opts.version,
    replicas: owui.replicas.map((r) => ({ name: r.name, url: r.url })),
    admin: owui.admin,
    model: LAB_MODEL,
    allowedOrigin: owui.corsOrigins[0]!,
    sentinels: owui.redis.sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })),
    masterName: owui.redis.masterName,
    redisOutage: () => killRedisDataNodes(owui.redis),
    killReplica: async (index) => {
      const r = owui.replicas[index]!;
      process.kill(r.pid, 'SIGKILL');
      for (let i = 0; i < 250 && isAlive(r.pid); i++) await sleep(20);
    },
    restartReplica: (index) => owui.restartReplica(index),
    describe: () =>
      `real Open WebUI ${opts.version}, 2 replicas (start-up ${owui.startupMs.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ')}; RSS ${owui.replicas.map((r) => rssMb(r.pid)).join(', ')})`,
    stop: () => owui.stop(),
  };
}

function rssMb(pid: number): string {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1];
    return kb ? `${Math.round(Number(kb) / 1024)} MB` : '?';
  } catch {
    return '?';
  }
}

// ─── shared helpers ─────────────────────────────────────────────────────────────────────────────

export async function waitReady(url: string, budgetMs: number): Promise<void> {
  const last = await pollHealthy((timeoutMs) => probeReplica(url, { timeoutMs }), budgetMs, {
    intervalMs: 250,
  });
  if (!last.ok) throw new Error(`${url} not ready within ${budgetMs} ms (${last.reason})`);
}

/** Current master port as Sentinel reports it. */
export async function sentinelMaster(t: ConformanceTarget): Promise<number> {
  const m = await withRedisClient(t.sentinels[0]!, (r) => masterAddr(r, t.masterName));
  if (!m) throw new Error(`the Sentinel does not know \`${t.masterName}\``);
  return m.port;
}

/**
 * Waits (bounded) until every replica listens on `open-webui:tasks:commands` (PUBSUB NUMSUB on the
 * master), the channel a stop travels on to the replica running the task. Both servers subscribe
 * from a background task after start-up and re-subscribe with back-off after a lost connection, so
 * /ready does not promise it. Returns how long it waited (0 when all were listening at the first
 * look); throws with the count it saw.
 */
export async function waitTaskCommandListeners(t: ConformanceTarget, budgetMs = 30_000): Promise<number> {
  const start = Date.now();
  const channel = 'open-webui:tasks:commands'; // both targets run with the default REDIS_KEY_PREFIX
  let seen = 0;
  for (let look = 0; Date.now() - start < budgetMs; look++) {
    const master = await withRedisClient(t.sentinels[0]!, (r) => masterAddr(r, t.masterName));
    if (master) {
      const reply = (await withRedisClient(master, (r) => r.call('PUBSUB', 'NUMSUB', channel))) as [
        string,
        number,
      ];
      seen = Number(reply[1]);
      if (seen >= t.replicas.length) return look === 0 ? 0 : Date.now() - start;
    }
    await sleep(250);
  }
  throw new Error(
    `only ${seen} of ${t.replicas.length} replicas subscribed to ${channel} within ${budgetMs} ms: a stop would not reach them`,
  );
}

/** `SENTINEL FAILOVER` and wait (bounded) until every sentinel names the new master. */
export async function sentinelFailover(
  t: ConformanceTarget,
  budgetMs = 30_000,
): Promise<{ from: number; to: number }> {
  const from = await sentinelMaster(t);
  const s = t.sentinels[0]!;
  const c = new Redis({ host: s.host, port: s.port, lazyConnect: true, retryStrategy: () => null });
  c.on('error', () => undefined);
  const deadline = Date.now() + budgetMs;
  try {
    await c.connect();
    // Right after a Redis outage Sentinel may still flag the replica as down (NOGOODSLAVE) for a
    // moment; retry within the budget.
    for (;;) {
      try {
        await c.call('SENTINEL', 'failover', t.masterName);
        break;
      } catch (err) {
        if (!/NOGOODSLAVE/.test(String(err)) || Date.now() > deadline) throw err;
        await sleep(500);
      }
    }
  } finally {
    c.disconnect();
  }
  while (Date.now() < deadline) {
    const to = await sentinelMaster(t);
    if (to !== from) return { from, to };
    await sleep(200);
  }
  throw new Error(`Sentinel did not fail over within ${budgetMs} ms (master still :${from})`);
}
