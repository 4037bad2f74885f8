// Real Open WebUI replicas for the lab (`lab up --openwebui real`): `open-webui serve` from the
// cached virtualenv (./install.ts), one process per replica, each with its own DATA_DIR, all
// sharing Postgres (through Toxiproxy `postgres`), Redis through Sentinel (the way Open WebUI's
// Redis HA guide configures it), one WEBUI_SECRET_KEY and the mock LLM (through Toxiproxy `llm`).
// Offline: nothing is downloaded at start (docs/real-lab.md).
//
// Contract: `realReplicaEnv` is pure (what each replica gets; the first one alone runs the
// database migrations); `startRealReplica` spawns one and returns at once with its record;
// `waitReplicaReady` resolves with the start-up time once /health and /ready both answer 200 and
// fails early (with the log's last lines) when the process exits; `replicaFacts` reads the
// version the replica reports and its resident memory.

import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PreflightError } from '../../core/errors.js';
import { pickEnv, spawnDaemon, tailFile } from '../../infra/process/daemon.js';
import { pollHealthy, probeReplica } from '../../infra/http-probe.js';
import type { LabReplicaRecord } from '../../infra/lab-state.js';
import type { OpenWebuiInstall } from './install.js';

export interface RealLabWiring {
  secretKey: string;
  /** nginx's origin (the browser origin CORS must allow). */
  nginxUrl: string;
  replicaUrls: string[];
  /** DATABASE_URL, already pointing at Toxiproxy `postgres`. */
  databaseUrl: string;
  masterName: string;
  /** Open WebUI takes ONE port for every Sentinel host, and every lab Sentinel is on 127.0.0.1,
   * so the replicas are given one Sentinel (the others still vote in failovers). */
  sentinelPort: number;
  /** `host:port` of Toxiproxy `llm`. */
  llmListen: string;
  keyPrefix: string;
}

export const LAB_OPENAI_KEY = 'sk-owui-chaos-lab';

/** The env every replica shares; `index` 0 is the one that runs the migrations. */
export function realReplicaEnv(w: RealLabWiring, index: number, dataDir: string): Record<string, string> {
  const redisUrl = `redis://${w.masterName}/0`;
  return {
    DATA_DIR: dataDir,
    WEBUI_SECRET_KEY: w.secretKey,
    WEBUI_URL: w.nginxUrl,
    CORS_ALLOW_ORIGIN: [w.nginxUrl, ...w.replicaUrls].join(';'),
    DATABASE_URL: w.databaseUrl,
    // Only the first replica migrates; it is started (and ready) before the others.
    ENABLE_DB_MIGRATIONS: index === 0 ? 'true' : 'false',
    REDIS_URL: redisUrl,
    REDIS_SENTINEL_HOSTS: '127.0.0.1',
    REDIS_SENTINEL_PORT: String(w.sentinelPort),
    REDIS_KEY_PREFIX: w.keyPrefix,
    WEBSOCKET_MANAGER: 'redis',
    WEBSOCKET_REDIS_URL: redisUrl,
    WEBSOCKET_SENTINEL_HOSTS: '127.0.0.1',
    WEBSOCKET_SENTINEL_PORT: String(w.sentinelPort),
    ENABLE_WEBSOCKET_SUPPORT: 'true',
    ENABLE_OLLAMA_API: 'false',
    ENABLE_OPENAI_API: 'true',
    OPENAI_API_BASE_URL: `http://${w.llmListen}/v1`,
    OPENAI_API_BASE_URLS: `http://${w.llmListen}/v1`,
    OPENAI_API_KEY: LAB_OPENAI_KEY,
    OPENAI_API_KEYS: LAB_OPENAI_KEY,
    ENABLE_API_KEYS: 'true',
    // Load users are plain users; the mock model has no access grant of its own.
    BYPASS_MODEL_ACCESS_CONTROL: 'true',
    ENABLE_SIGNUP: 'true',
    // Offline: no model downloads, no update check, no telemetry.
    OFFLINE_MODE: 'true',
    HF_HUB_OFFLINE: '1',
    TRANSFORMERS_OFFLINE: '1',
    RAG_EMBEDDING_ENGINE: 'openai',
    RAG_EMBEDDING_MODEL_AUTO_UPDATE: 'false',
    RAG_RERANKING_MODEL_AUTO_UPDATE: 'false',
    AUDIO_STT_ENGINE: 'openai',
    WHISPER_MODEL_AUTO_UPDATE: 'false',
    ENABLE_VERSION_UPDATE_CHECK: 'false',
    ANONYMIZED_TELEMETRY: 'false',
    DO_NOT_TRACK: 'true',
    SCARF_NO_ANALYTICS: 'true',
    PYTHONUNBUFFERED: '1',
    GLOBAL_LOG_LEVEL: 'INFO',
  };
}

export interface StartRealReplicaOptions {
  install: OpenWebuiInstall;
  name: string;
  port: number;
  /** The replica's directory (DATA_DIR and its log go there). */
  dir: string;
  env: Record<string, string>;
  /** Marker env (the lab's state dir) so `lab down` finds orphans. */
  markerEnv: Record<string, string>;
}

export async function startRealReplica(o: StartRealReplicaOptions): Promise<LabReplicaRecord> {
  mkdirSync(o.dir, { recursive: true });
  const logFile = join(o.dir, `${o.name}.log`);
  const env: Record<string, string> = {
    ...pickEnv(process.env, ['PATH', 'HOME', 'LANG', 'TZ']),
    ...o.markerEnv,
    ...o.env,
  };
  mkdirSync(env.DATA_DIR ?? join(o.dir, 'data'), { recursive: true });
  const spawn = {
    command: o.install.bin,
    args: ['serve', '--host', '127.0.0.1', '--port', String(o.port)],
    env,
    logFile,
  };
  const d = await spawnDaemon({ name: o.name, ...spawn, cwd: o.dir });
  return {
    name: o.name,
    port: o.port,
    url: `http://127.0.0.1:${o.port}`,
    mode: 'process',
    pid: d.pid,
    spawn,
    server: 'openwebui',
    version: o.install.version,
  };
}

/** Waits until healthy (src/infra/http-probe.ts: /health, then /ready); returns ms since `startedAt`. */
export async function waitReplicaReady(
  r: LabReplicaRecord,
  startedAt: number,
  budgetMs: number,
): Promise<number> {
  const last = await pollHealthy(
    (timeoutMs) => probeReplica(r.url, { timeoutMs }),
    Math.max(0, startedAt + budgetMs - Date.now()),
    { intervalMs: 250, probeTimeoutMs: 5000, watch: { pid: r.pid } },
  );
  if (last.ok) return Date.now() - startedAt;
  throw new PreflightError(
    `Open WebUI replica ${r.name} did not become ready within ${Math.round(budgetMs / 1000)} s (${last.reason})`,
    {
      code: 'LAB_PART_UNHEALTHY',
      suggestions: [`tail -n 80 ${r.spawn.logFile}`],
      cause: new Error(`last log lines of ${r.name}:\n${tailFile(r.spawn.logFile, 25) || '(log is empty)'}`),
    },
  );
}

/** What the replica says it is (`/api/version`) and its resident memory (with children). */
export async function replicaFacts(r: LabReplicaRecord): Promise<{ version?: string; rssBytes?: number }> {
  const out: { version?: string; rssBytes?: number } = {};
  try {
    const res = await fetch(`${r.url}/api/version`, { signal: AbortSignal.timeout(3000) });
    const body = (await res.json()) as { version?: unknown };
    if (typeof body.version === 'string') out.version = body.version;
  } catch {
    // reported as unknown
  }
  if (r.pid !== undefined) {
    const rss = treeRss(r.pid);
    if (rss > 0) out.rssBytes = rss;
  }
  return out;
}

/** VmRSS of a process and its descendants, in bytes (Linux /proc). */
export function treeRss(pid: number): number {
  const children = new Map<number, number[]>();
  for (const e of safeReaddir('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(e));
      children.set(ppid, list);
    } catch {
      // gone
    }
  }
  let total = 0;
  const todo = [pid];
  while (todo.length) {
    const p = todo.pop()!;
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) total += Number(m[1]) * 1024;
    } catch {
      // gone
    }
    todo.push(...(children.get(p) ?? []));
  }
  return total;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

export interface UpRealReplicasOptions {
  install: OpenWebuiInstall;
  ports: number[];
  /** Where each replica's directory goes (`<dir>/<name>/`). */
  dir: string;
  wiring: RealLabWiring;
  markerEnv: Record<string, string>;
  /**
   * The final env of replica `index` (0 = owui-1) from the lab's own: where misconfig switches
   * and `--replica-env` overrides apply (src/lab/misconfig.ts `replicaEnvFor` has this shape; it
   * may also remove variables). Default: the lab's env unchanged.
   */
  envFor?: (base: Record<string, string>, index: number) => Record<string, string>;
  budgetMs: number;
  /** Called right after each spawn, so the caller persists the record before waiting. */
  onSpawn: (r: LabReplicaRecord) => void;
  progress: (message: string) => void;
}

/** Starts replica 1 alone (it migrates the database), then the others together; waits for all. */
export async function upRealReplicas(o: UpRealReplicasOptions): Promise<LabReplicaRecord[]> {
  const records: LabReplicaRecord[] = [];
  const start = async (i: number): Promise<{ r: LabReplicaRecord; at: number }> => {
    const name = `owui-${i + 1}`;
    const dir = join(o.dir, name);
    const base = realReplicaEnv(o.wiring, i, join(dir, 'data'));
    const env = o.envFor ? o.envFor(base, i) : base;
    const at = Date.now();
    const r = await startRealReplica({
      install: o.install,
      name,
      port: o.ports[i]!,
      dir,
      env,
      markerEnv: o.markerEnv,
    });
    records.push(r);
    o.onSpawn(r);
    return { r, at };
  };
  const ready = async ({ r, at }: { r: LabReplicaRecord; at: number }): Promise<void> => {
    r.startupMs = await waitReplicaReady(r, at, o.budgetMs);
    const facts = await replicaFacts(r);
    if (facts.version) r.version = facts.version;
    if (facts.rssBytes !== undefined) r.rssBytes = facts.rssBytes;
    if (facts.version !== o.install.version) {
      throw new PreflightError(
        `Replica ${r.name} reports Open WebUI ${facts.version ?? '(no version)'} but ${o.install.version} is installed in ${o.install.venv}`,
        { code: 'LAB_PART_UNHEALTHY', suggestions: [`tail -n 80 ${r.spawn.logFile}`] },
      );
    }
    o.progress(
      `${r.name} ready in ${(r.startupMs / 1000).toFixed(1)} s (Open WebUI ${r.version}, RSS ${formatMb(r.rssBytes)}) on ${r.url}`,
    );
  };
  o.progress(`starting Open WebUI ${o.install.version} replica owui-1 (it runs the database migrations)`);
  await ready(await start(0));
  if (o.ports.length > 1) {
    o.progress(`starting Open WebUI replicas owui-2…owui-${o.ports.length}`);
    const rest: Array<{ r: LabReplicaRecord; at: number }> = [];
    for (let i = 1; i < o.ports.length; i++) rest.push(await start(i));
    await Promise.all(rest.map(ready));
  }
  return records;
}

export function formatMb(bytes: number | undefined): string {
  return bytes === undefined ? '?' : `${Math.round(bytes / 1024 / 1024)} MB`;
}
