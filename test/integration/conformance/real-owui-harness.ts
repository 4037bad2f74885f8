// A hand-started real Open WebUI deployment for the conformance suite, used until `lab up
// --openwebui real` can provide one: N pip-installed Open WebUI replicas (the venv under the
// owui-chaos cache), one shared SQLite database, one WEBUI_SECRET_KEY, Redis master + replica + 3
// Sentinels (REDIS_URL=redis://mymaster/0 and WEBSOCKET_MANAGER=redis, as the Redis HA guide
// says), the mock LLM as the OpenAI connection. Everything runs offline on 127.0.0.1.
//
// Replica 1 starts first (it runs the database migrations), the others after it is ready.

import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startMockLlm, type MockLlmServer } from '../../../src/lab/mock-llm/server.js';
import { findOpenWebui } from '../../../src/lab/openwebui/install.js';
import {
  type DaemonInfo,
  freePort,
  isAlive,
  sleep,
  spawnDaemon,
  stopProcess,
  tailFile,
} from '../../../src/infra/process/daemon.js';
import { startRedisTopology, stopRedisTopology } from '../../../src/lab/redis/redis-topology.js';
import type { RedisTopology } from '../../../src/infra/lab-state.js';

/** Where the Open WebUI venvs are cached: `<root>/<version>/bin/open-webui`. */
export function openWebuiCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env['OWUI_CHAOS_OPENWEBUI_CACHE'] ?? join(homedir(), '.cache', 'owui-chaos', 'openwebui');
}

/** The install `owui-chaos lab install` made (same lookup as the lab), else the bare cache path. */
export function openWebuiBinary(version: string, env: NodeJS.ProcessEnv = process.env): string {
  return findOpenWebui(version, env)?.bin ?? join(openWebuiCacheRoot(env), version, 'bin', 'open-webui');
}

export interface RealReplica {
  name: string;
  url: string;
  port: number;
  pid: number;
  logFile: string;
  daemon: DaemonInfo;
}

export interface RealOwui {
  version: string;
  replicas: RealReplica[];
  admin: { email: string; password: string };
  secretKey: string;
  corsOrigins: string[];
  redis: RedisTopology;
  llm: MockLlmServer;
  /** How long each replica took to answer /health and /ready (ms). */
  startupMs: number[];
  stop(): Promise<void>;
  /** Restarts a replica killed by a test (same port, env and data). */
  restartReplica(index: number): Promise<void>;
}

export const REAL_ADMIN_PASSWORD = 'owui-chaos-conformance-admin';

export async function startRealOwui(opts: {
  version: string;
  replicas: number;
  dir: string;
  onProgress?: (m: string) => void;
  readyBudgetMs?: number;
}): Promise<RealOwui> {
  const bin = openWebuiBinary(opts.version);
  if (!existsSync(bin)) {
    throw new Error(
      `Open WebUI ${opts.version} is not installed (${bin} missing): run bash scripts/setup.sh, or ` +
        `uv venv --python python3.11 ${join(openWebuiCacheRoot(), opts.version)} && ` +
        `VIRTUAL_ENV=${join(openWebuiCacheRoot(), opts.version)} uv pip install open-webui==${opts.version}`,
    );
  }
  const progress = opts.onProgress ?? (() => undefined);
  const budget = opts.readyBudgetMs ?? 600_000;
  rmSync(opts.dir, { recursive: true, force: true });
  mkdirSync(opts.dir, { recursive: true });

  const llm = await startMockLlm({ host: '127.0.0.1', port: 0 });
  let redis: RedisTopology | undefined;
  const replicas: RealReplica[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(replicas.map((r) => stopProcess(r.pid, 8000)));
    if (redis) await stopRedisTopology(redis);
    await llm.close();
  };
  try {
    redis = await startRedisTopology({ dir: join(opts.dir, 'redis'), masterName: 'mymaster' });
    const ports: number[] = [];
    for (let i = 0; i < opts.replicas; i++) ports.push(await freePort());
    const corsOrigins = ports.map((p) => `http://127.0.0.1:${p}`);
    const secretKey = `owui-chaos-conformance-${Date.now()}`;
    const dbFile = join(opts.dir, 'webui.db');
    const common: Record<string, string> = {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: process.env['HOME'] ?? '/root',
      LANG: 'C.UTF-8',
      WEBUI_SECRET_KEY: secretKey,
      DATABASE_URL: `sqlite:///${dbFile}`,
      OFFLINE_MODE: 'true',
      HF_HUB_OFFLINE: '1',
      ENABLE_OLLAMA_API: 'false',
      RAG_EMBEDDING_MODEL_AUTO_UPDATE: 'false',
      WHISPER_MODEL_AUTO_UPDATE: 'false',
      AUDIO_STT_ENGINE: 'openai',
      RAG_EMBEDDING_ENGINE: 'openai',
      ENABLE_API_KEYS: 'true',
      ENABLE_API_KEY: 'true',
      OPENAI_API_BASE_URL: `${llm.url}/v1`,
      OPENAI_API_KEY: 'sk-owui-chaos-lab',
      BYPASS_MODEL_ACCESS_CONTROL: 'true',
      CORS_ALLOW_ORIGIN: corsOrigins.join(';'),
      REDIS_URL: `redis://${redis.masterName}:6379/0`,
      REDIS_SENTINEL_HOSTS: '127.0.0.1',
      REDIS_SENTINEL_PORT: String(redis.sentinels[0]!.port),
      WEBSOCKET_MANAGER: 'redis',
      WEBSOCKET_REDIS_URL: `redis://${redis.masterName}:6379/0`,
      WEBSOCKET_SENTINEL_HOSTS: '127.0.0.1',
      WEBSOCKET_SENTINEL_PORT: String(redis.sentinels[0]!.port),
      REDIS_KEY_PREFIX: 'open-webui',
      // Background title/tag generation would send extra requests to the mock LLM.
      ENABLE_TITLE_GENERATION: 'false',
      ENABLE_TAGS_GENERATION: 'false',
      ENABLE_FOLLOW_UP_GENERATION: 'false',
      ENABLE_VERSION_UPDATE_CHECK: 'false',
      SCARF_NO_ANALYTICS: 'true',
      DO_NOT_TRACK: 'true',
      ANONYMIZED_TELEMETRY: 'false',
    };
    const startupMs: number[] = [];
    const spawnReplica = async (i: number): Promise<RealReplica> => {
      const name = `owui-${i + 1}`;
      const dataDir = join(opts.dir, name);
      mkdirSync(dataDir, { recursive: true });
      const logFile = join(opts.dir, `${name}.log`);
      const daemon = await spawnDaemon({
        name,
        command: bin,
        args: ['serve', '--host', '127.0.0.1', '--port', String(ports[i])],
        logFile,
        env: {
          ...common,
          DATA_DIR: dataDir,
          // Only the first replica migrates the shared database.
          ENABLE_DB_MIGRATIONS: i === 0 ? 'true' : 'false',
        },
        cwd: dataDir,
      });
      return { name, url: `http://127.0.0.1:${ports[i]}`, port: ports[i]!, pid: daemon.pid, logFile, daemon };
    };
    const waitReady = async (r: RealReplica): Promise<number> => {
      const start = Date.now();
      while (Date.now() - start < budget) {
        if (!isAlive(r.pid)) {
          throw new Error(`real Open WebUI ${r.name} exited during start-up:\n${tailFile(r.logFile, 30)}`);
        }
        if ((await statusOk(`${r.url}/health`)) && (await statusOk(`${r.url}/ready`))) {
          return Date.now() - start;
        }
        await sleep(500);
      }
      throw new Error(
        `real Open WebUI ${r.name} not ready within ${budget / 1000} s:\n${tailFile(r.logFile, 30)}`,
      );
    };
    progress(`starting real Open WebUI ${opts.version} replica 1`);
    replicas.push(await spawnReplica(0));
    startupMs.push(await waitReady(replicas[0]!));
    progress(`replica 1 ready after ${startupMs[0]} ms; starting ${opts.replicas - 1} more`);
    const rest: RealReplica[] = [];
    for (let i = 1; i < opts.replicas; i++) rest.push(await spawnReplica(i));
    replicas.push(...rest);
    startupMs.push(...(await Promise.all(rest.map(waitReady))));

    const admin = { email: 'admin@conformance.owui-chaos.lab', password: REAL_ADMIN_PASSWORD };
    const res = await fetch(`${replicas[0]!.url}/api/v1/auths/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Conformance Admin', ...admin }),
    });
    if (!res.ok) throw new Error(`admin signup failed: ${res.status} ${await res.text()}`);

    return {
      version: opts.version,
      replicas,
      admin,
      secretKey,
      corsOrigins,
      redis,
      llm,
      startupMs,
      stop: stopAll,
      restartReplica: async (index) => {
        const old = replicas[index]!;
        await stopProcess(old.pid, 5000);
        const d = await spawnDaemon({
          name: old.name,
          command: old.daemon.command,
          args: old.daemon.args,
          logFile: old.logFile,
          env: { ...common, DATA_DIR: join(opts.dir, old.name), ENABLE_DB_MIGRATIONS: 'false' },
          cwd: join(opts.dir, old.name),
        });
        old.pid = d.pid;
        old.daemon = d;
        await waitReady(old);
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

async function statusOk(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    const body = (await res.json()) as { status?: unknown };
    return res.status === 200 && body.status === true;
  } catch {
    return false;
  }
}

/** Stops the Redis data nodes (master and replica) by SIGKILL; returns a function that restarts them. */
export async function killRedisDataNodes(topology: RedisTopology): Promise<() => Promise<void>> {
  const nodes = [topology.master, topology.replica];
  for (const n of nodes) {
    try {
      process.kill(n.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const n of nodes) for (let i = 0; i < 200 && isAlive(n.pid); i++) await sleep(20);
  return async () => {
    for (const n of nodes) {
      const d = await spawnDaemon({ name: n.name, command: n.command, args: n.args, logFile: n.logFile });
      n.pid = d.pid;
    }
    for (const n of nodes) {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const c = new Redis({
          port: n.port,
          host: '127.0.0.1',
          lazyConnect: true,
          retryStrategy: () => null,
        });
        c.on('error', () => undefined);
        try {
          await c.connect();
          // The replica must have resynced, or a later SENTINEL FAILOVER finds no good replica.
          const synced = n !== topology.replica || /master_link_status:up/.test(await c.info('replication'));
          if ((await c.ping()) === 'PONG' && synced) break;
        } catch {
          // not yet
        } finally {
          c.disconnect();
        }
        if (Date.now() > deadline) throw new Error(`${n.name} did not come back (or did not resync)`);
        await sleep(100);
      }
    }
  };
}
