// The lab: a complete local HA Open WebUI deployment on 127.0.0.1 (DESIGN §4).
//
//   client ─► nginx ─► owui-sim ×N ─► toxiproxy[llm] ─► mock LLM
//                         └─► toxiproxy[redis-master|redis-replica] ─► redis master/replica ◄─ 3 sentinels
//
// Contract:
// - `labUp` starts, in order, the mock LLM, Toxiproxy (the real `toxiproxy-server` when on PATH,
//   else the lab's own) with proxy `llm`, the Redis topology and proxies `redis-master` /
//   `redis-replica`, N replicas (processes or containers), nginx; then signs up the admin through
//   nginx and writes the target file. Each part is recorded in state.json right after it is
//   spawned, so `labDown` from another process can always clean up. It resolves only when every
//   part is healthy; on any failure it stops everything it started and throws a PreflightError
//   whose cause carries the failing part's last log lines.
// - `labDown` is idempotent and works after a crash of `labUp`: besides what state.json records,
//   it sweeps processes whose cwd lies in the state dir or whose env carries the lab's marker, and
//   containers with the lab's label.
// - `labStatus` probes every part from outside; it never changes anything.
// The lab never prints: progress goes to `onProgress`.

import { randomBytes, randomUUID } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { PreflightError, UsageError, errorMessage } from '../core/errors.js';
import {
  connectDocker,
  containerGone,
  ensureBaseImage,
  removeLabContainers,
  startReplicaContainer,
} from './docker/docker-replicas.js';
import { LAB_MODEL, LAB_TARGET_FILE, labTargetFile, renderLabTarget } from './lab-target.js';
import {
  formatMisconfigs,
  nginxOptionsFor,
  planMisconfig,
  replicaEnvFor,
  type Misconfig,
  type ReplicaEnvFlags,
} from './misconfig.js';
import { nginxBinary, startNginx, stopNginx } from './nginx/nginx-process.js';
import { answeredByInstance } from './owui-sim/config.js';
import { requireBinary } from './process/binaries.js';
import { DEFAULT_OPENWEBUI_VERSION, findToxiproxyServer, requireOpenWebui } from './openwebui/install.js';
import { formatMb, replicaFacts, upRealReplicas } from './openwebui/replicas.js';
import {
  findPostgresBin,
  postgresStatus,
  postgresUrl,
  startPostgres,
  stopPostgres,
} from './postgres/postgres.js';
import {
  freePort,
  isAlive,
  sleep,
  spawnDaemon,
  stopProcess,
  tailFile,
  type DaemonInfo,
} from './process/daemon.js';
import { startRedisTopology, stopRedisTopology } from './redis/redis-topology.js';
import {
  defaultLabStateDir,
  labStatePath,
  readLabState,
  writeLabState,
  type LabProxyRecord,
  type LabReplicaRecord,
  type LabState,
  type SpawnRecord,
} from './state.js';

export type ReplicasIn = 'process' | 'docker';
export type Buffering = 'on' | 'off';

export interface LabUpOptions {
  name?: string;
  stateDir?: string;
  replicas?: number;
  replicasIn?: ReplicasIn;
  buffering?: Buffering;
  onProgress?: (message: string) => void;
  /** Budget for each part to become healthy. */
  partBudgetMs?: number;
  /** Extra env for every replica (tests: ping interval, retry count); `--replica-env KEY=VALUE`. */
  replicaEnv?: Record<string, string>;
  /** Extra env for one replica (key 1 = `owui-1`); `--replica-env N:KEY=VALUE`. Wins over `replicaEnv`. */
  replicaEnvByReplica?: Record<number, Record<string, string>>;
  /** The HA guides' mistakes to build in (src/lab/misconfig.ts, docs/lab-misconfig.md). */
  misconfig?: Misconfig[];
  /** The lab's simulator (default) or real Open WebUI from the install cache. */
  openwebui?: 'simulator' | 'real';
  openwebuiVersion?: string;
  /** Budget for each real Open WebUI replica to become ready (default 240 s). */
  replicaBudgetMs?: number;
}

/** Env var set on every lab process: lets `lab down` find orphans of a crashed `lab up`. */
export const LAB_DIR_ENV = 'OWUI_CHAOS_LAB_DIR';
export const MASTER_NAME = 'mymaster';
export const PROXY_LLM = 'llm';
export const PROXY_REDIS_MASTER = 'redis-master';
export const PROXY_REDIS_REPLICA = 'redis-replica';
export const PROXY_POSTGRES = 'postgres';

const HERE = dirname(fileURLToPath(import.meta.url));
/** Project root: this file is src/lab/lab.ts or dist/lab/lab.js. */
export const PROJECT_DIR = resolve(HERE, '..', '..');
export const RUN_JS = join(PROJECT_DIR, 'bin', 'run.js');

/** Root holding every lab (`<root>/labs/<name>`). */
export function defaultLabRoot(env: NodeJS.ProcessEnv = process.env): string {
  return dirname(dirname(defaultLabStateDir('x', env)));
}

// ─── up ──────────────────────────────────────────────────────────────────────────────────────────

export async function labUp(opts: LabUpOptions = {}): Promise<LabState> {
  const name = opts.name ?? 'default';
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) {
    throw new PreflightError(`Lab name \`${name}\` is not valid`, {
      code: 'LAB_NAME_INVALID',
      suggestions: ['owui-chaos lab up --name ci-1'],
    });
  }
  const stateDir = resolve(opts.stateDir ?? defaultLabStateDir(name));
  const replicaCount = opts.replicas ?? 3;
  const replicasIn = opts.replicasIn ?? 'process';
  const budget = opts.partBudgetMs ?? 30_000;
  const progress = opts.onProgress ?? (() => undefined);

  // Binaries first: a missing one fails before anything starts.
  const nginx = nginxBinary();
  requireBinary('redis-server', 'redis-server');
  requireBinary('redis-sentinel', 'redis-sentinel');
  if (!existsSync(RUN_JS) || !existsSync(join(PROJECT_DIR, 'dist', 'commands'))) {
    throw new PreflightError(`The owui-chaos CLI is not built (${join(PROJECT_DIR, 'dist')} is missing)`, {
      code: 'LAB_NOT_BUILT',
      suggestions: ['npm run build'],
    });
  }
  const realOwui = opts.openwebui === 'real';
  if (realOwui && replicasIn === 'docker') {
    throw new UsageError('Real Open WebUI replicas run as processes only (docker mode is not built yet)', {
      code: 'LAB_REAL_DOCKER_UNSUPPORTED',
      suggestions: ['owui-chaos lab up --openwebui real --replicas-in process'],
    });
  }
  // Real Open WebUI: the install and Postgres must be there before anything starts.
  const install = realOwui ? requireOpenWebui(opts.openwebuiVersion ?? DEFAULT_OPENWEBUI_VERSION) : undefined;
  if (realOwui && !findPostgresBin()) requireBinary('postgres', 'postgresql');
  const docker = replicasIn === 'docker' ? await connectDocker() : undefined;

  const previous = readLabState(stateDir);
  if (previous) {
    if (anyAlive(previous)) {
      throw new PreflightError(`Lab \`${name}\` is already running (state in ${stateDir})`, {
        code: 'LAB_ALREADY_RUNNING',
        suggestions: [`owui-chaos lab status --name ${name}`, `owui-chaos lab down --name ${name}`],
      });
    }
    await labDown(stateDir);
  }
  mkdirSync(stateDir, { recursive: true });
  // A new lab starts with an empty user store (the first signup must become the admin).
  rmSync(join(stateDir, 'db'), { recursive: true, force: true });

  const state: LabState = {
    schemaVersion: 1,
    name,
    stateDir,
    createdAt: new Date().toISOString(),
    ownerPid: process.pid,
    replicasIn,
    buffering: opts.buffering ?? 'off',
    replicas: [],
    secretKey: randomBytes(32).toString('hex'),
    misconfig: [...(opts.misconfig ?? [])],
    replicaEnv: { all: { ...opts.replicaEnv }, byReplica: { ...opts.replicaEnvByReplica } },
    openwebui: install
      ? { server: 'real', version: install.version, venv: install.venv }
      : { server: 'simulator' },
  };
  if (state.misconfig!.some((m) => m.name === 'buffering')) state.buffering = 'on';
  for (const n of Object.keys(state.replicaEnv!.byReplica).map(Number)) {
    if (!Number.isInteger(n) || n < 1 || n > replicaCount) {
      throw new PreflightError(
        `Per-replica env names replica ${n}, but the lab has replicas 1 to ${replicaCount}`,
        {
          code: 'REPLICA_ENV_INVALID',
          suggestions: [`owui-chaos lab up --replicas ${n}`],
        },
      );
    }
  }
  writeLabState(state);

  try {
    // 1. mock LLM
    progress('starting mock LLM');
    const llmPort = await freePort();
    const llmDir = partDir(stateDir, 'mock-llm');
    const llm = await spawnCli(stateDir, llmDir, 'mock-llm', ['mock-llm', '--port', String(llmPort)]);
    state.mockLlm = { ...llm, port: llmPort, url: `http://127.0.0.1:${llmPort}` };
    writeLabState(state);
    await waitHealthy('mock LLM', llm, budget, () => httpOk(`${state.mockLlm!.url}/v1/models`));
    progress(`mock LLM ready on ${state.mockLlm.url}`);

    // 2. Toxiproxy with the llm proxy
    const real = findToxiproxyServer();
    progress(real ? `starting toxiproxy-server (${real})` : 'starting the lab Toxiproxy server');
    const toxiPort = await freePort();
    const toxiDir = partDir(stateDir, 'toxiproxy');
    const toxi = real
      ? await spawnDaemon({
          name: 'toxiproxy',
          command: real,
          args: ['-host', '127.0.0.1', '-port', String(toxiPort)],
          logFile: join(toxiDir, 'toxiproxy.log'),
          env: { ...process.env, [LAB_DIR_ENV]: stateDir },
          cwd: toxiDir,
        })
      : await spawnCli(stateDir, toxiDir, 'toxiproxy', [
          'lab',
          'toxiproxy-server',
          '--port',
          String(toxiPort),
        ]);
    state.toxiproxy = {
      url: `http://127.0.0.1:${toxiPort}`,
      port: toxiPort,
      real: real !== undefined,
      daemon: toxi,
      proxies: [],
    };
    writeLabState(state);
    await waitHealthy('Toxiproxy', toxi, budget, () => httpOk(`${state.toxiproxy!.url}/version`));
    const llmProxy = await createProxy(state, toxi, PROXY_LLM, llmPort);
    progress(
      `Toxiproxy ready on ${state.toxiproxy.url} (proxy llm ${llmProxy.listen} → ${llmProxy.upstream})`,
    );

    // 3. Redis master + replica + 3 Sentinels, and their proxies
    progress('starting Redis master, replica and 3 Sentinels');
    const redis = await startRedisTopology({
      dir: partDir(stateDir, 'redis'),
      masterName: MASTER_NAME,
      readyBudgetMs: budget,
    });
    state.redis = redis;
    writeLabState(state);
    const masterProxy = await createProxy(state, toxi, PROXY_REDIS_MASTER, redis.master.port);
    const replicaProxy = await createProxy(state, toxi, PROXY_REDIS_REPLICA, redis.replica.port);
    progress(
      `Redis ready: master :${redis.master.port}, replica :${redis.replica.port}, sentinels ${redis.sentinels.map((s) => `:${s.port}`).join(' ')}`,
    );

    // 3b. real Open WebUI: the lab's own Postgres cluster, behind its proxy
    let pgProxy: LabProxyRecord | undefined;
    if (install) {
      progress('starting Postgres (own cluster in the state dir)');
      const pg = await startPostgres(
        { dir: partDir(stateDir, 'postgres'), readyBudgetMs: budget, env: { [LAB_DIR_ENV]: stateDir } },
        (rec) => {
          state.postgres = rec;
          writeLabState(state);
        },
      );
      pgProxy = await createProxy(state, toxi, PROXY_POSTGRES, pg.port);
      progress(`Postgres ${pg.version} ready on :${pg.port} (proxy postgres ${pgProxy.listen})`);
    }

    // 4. replicas (all ports picked up front: nginx and CORS need them)
    const nginxPort = await freePort();
    const ports: number[] = [];
    for (let i = 0; i < replicaCount; i++) ports.push(await freePort());
    const nginxUrl = `http://127.0.0.1:${nginxPort}`;
    const natMap: Record<string, { host: string; port: number }> = {
      [`127.0.0.1:${redis.master.port}`]: hostPort(masterProxy.listen),
      [`127.0.0.1:${redis.replica.port}`]: hostPort(replicaProxy.listen),
    };
    const dbDir = join(stateDir, 'db');
    mkdirSync(dbDir, { recursive: true });
    const replicasDir = partDir(stateDir, 'replicas');
    const commonEnv: Record<string, string> = {
      HOST: '127.0.0.1',
      WEBUI_SECRET_KEY: state.secretKey!,
      REDIS_URL: `redis://${MASTER_NAME}:6379/0`,
      // Sentinel ports differ per sentinel in the lab: host:port pairs; REDIS_SENTINEL_PORT for
      // readers that only take hosts (all sentinels are on 127.0.0.1).
      REDIS_SENTINEL_HOSTS: redis.sentinels.map((s) => `127.0.0.1:${s.port}`).join(','),
      REDIS_SENTINEL_PORT: String(redis.sentinels[0]!.port),
      REDIS_SENTINEL_MAX_RETRY_COUNT: '2',
      WEBSOCKET_MANAGER: 'redis',
      OPENAI_API_BASE_URL: `http://${llmProxy.listen}/v1`,
      OPENAI_API_KEY: 'sk-owui-chaos-lab',
      CORS_ALLOW_ORIGIN: [nginxUrl, ...ports.map((p) => `http://127.0.0.1:${p}`)].join(';'),
      BYPASS_MODEL_ACCESS_CONTROL: 'true',
      DATABASE_URL: `file:${dbDir}`,
      OWUI_SIM_REDIS_NATMAP: JSON.stringify(natMap),
    };
    const plan = planMisconfig(state.misconfig!, {
      replicaCount,
      secretKey: state.secretKey!,
      redisMaster: hostPort(masterProxy.listen),
    });
    if (plan.misconfigs.length > 0)
      progress(`building in misconfiguration ${formatMisconfigs(plan.misconfigs)}`);
    if (docker) {
      progress('preparing the Docker base image');
      await ensureBaseImage(docker, partDir(stateDir, 'docker'));
    }
    if (install) {
      await upRealReplicas({
        install,
        ports,
        dir: replicasDir,
        wiring: {
          secretKey: state.secretKey!,
          nginxUrl,
          replicaUrls: ports.map((p) => `http://127.0.0.1:${p}`),
          databaseUrl: postgresUrl(state.postgres!, pgProxy!.listen),
          masterName: MASTER_NAME,
          sentinelPort: redis.sentinels[0]!.port,
          llmListen: llmProxy.listen,
          keyPrefix: `open-webui-${name}`,
        },
        markerEnv: { [LAB_DIR_ENV]: stateDir },
        // The same misconfig plan and --replica-env overrides as simulator replicas get.
        envFor: (base, i) => replicaEnvFor(base, i, plan, state.replicaEnv),
        budgetMs: opts.replicaBudgetMs ?? 240_000,
        onSpawn: (r) => {
          state.replicas.push(r);
          writeLabState(state);
        },
        progress,
      });
      writeLabState(state);
    }
    if (!install)
      progress(
        `starting ${replicaCount} Open WebUI simulator replicas as ${replicasIn === 'docker' ? 'containers' : 'processes'}`,
      );
    for (let i = 0; i < (install ? 0 : replicaCount); i++) {
      const replicaName = `owui-${i + 1}`;
      const port = ports[i]!;
      const logFile = join(replicasDir, `${replicaName}.log`);
      const env: Record<string, string> = replicaEnvFor(
        {
          ...commonEnv,
          PORT: String(port),
          OWUI_SIM_REPLICA_NAME: replicaName,
          OWUI_SIM_INSTANCE_ID: randomUUID(),
        },
        i,
        plan,
        state.replicaEnv,
      );
      const record: LabReplicaRecord = {
        name: replicaName,
        port,
        url: `http://127.0.0.1:${port}`,
        mode: replicasIn,
        spawn: { command: process.execPath, args: [RUN_JS, 'lab', 'replica'], env, logFile },
      };
      if (docker) {
        const c = await startReplicaContainer(docker, {
          lab: name,
          replica: replicaName,
          env,
          projectDir: PROJECT_DIR,
          writableDirs: [dbDir, replicasDir],
          nodeBinary: process.execPath,
          runJs: RUN_JS,
          logFile,
        });
        record.containerId = c.id;
        record.containerName = c.name;
      } else {
        const spawn: SpawnRecord = {
          ...record.spawn,
          // The replica reads only its config env; PATH/HOME keep node itself working.
          env: { ...pick(process.env, ['PATH', 'HOME', 'LANG', 'TZ']), [LAB_DIR_ENV]: stateDir, ...env },
        };
        record.spawn = spawn;
        const d = await spawnDaemon({
          name: replicaName,
          command: spawn.command,
          args: spawn.args,
          env: spawn.env,
          logFile,
          cwd: replicasDir,
        });
        record.pid = d.pid;
      }
      state.replicas.push(record);
      writeLabState(state);
    }
    await Promise.all(
      state.replicas
        .filter((r) => r.server !== 'openwebui')
        .map((r) =>
          waitHealthy(
            `replica ${r.name}`,
            {
              logFile: r.spawn.logFile,
              ...(r.pid ? { pid: r.pid } : {}),
              ...(docker && r.containerId ? { gone: () => containerGone(docker, r.containerId!) } : {}),
            },
            budget,
            async () => {
              const instance = r.spawn.env.OWUI_SIM_INSTANCE_ID;
              return (
                (await jsonStatusOk(`${r.url}/health`, instance)) &&
                (await jsonStatusOk(`${r.url}/ready`, instance))
              );
            },
          ),
        ),
    );
    progress(`replicas ready: ${state.replicas.map((r) => `${r.name} ${r.url}`).join(', ')}`);

    // 5. nginx
    progress('starting nginx');
    const nginxPrefix = partDir(stateDir, 'nginx');
    const ngx = await startNginx({
      binary: nginx,
      prefix: nginxPrefix,
      config: {
        prefix: nginxPrefix,
        listenPort: nginxPort,
        upstreams: state.replicas.map((r) => ({ host: '127.0.0.1', port: r.port })),
        ...nginxOptionsFor(plan.nginx),
        buffering: state.buffering,
        ...(process.getuid?.() === 0 ? { user: 'root' } : {}),
      },
      readyBudgetMs: budget,
    });
    state.nginx = {
      name: ngx.name,
      pid: ngx.pid,
      logFile: ngx.logFile,
      command: ngx.command,
      args: ngx.args,
      port: ngx.port,
      url: ngx.url,
      configFile: ngx.configFile,
      prefix: ngx.prefix,
      binary: ngx.binary,
    };
    writeLabState(state);
    await waitHealthy('nginx', ngx, budget, () => jsonStatusOk(`${ngx.url}/health`));
    progress(`nginx ready on ${ngx.url} (buffering ${state.buffering})`);

    // 6. provision: first signup becomes the admin; then check the model path end to end.
    progress('signing up the lab admin');
    const admin = { email: `admin@${name}.owui-chaos.lab`, password: randomBytes(12).toString('base64url') };
    const token = await signupAdmin(ngx.url, admin.email, admin.password);
    state.admin = admin;
    if (plan.misconfigs.some((m) => m.name === 'secret-per-replica')) {
      // Built wrong on purpose: a token works only on the replica that signed it, so check each
      // replica's model path directly with a token of its own.
      for (const r of state.replicas)
        await checkModels(r.url, await signin(r.url, admin.email, admin.password));
    } else {
      await checkModels(ngx.url, token);
    }
    state.targetFile = labTargetFile(stateDir);
    writeFileSync(state.targetFile, renderLabTarget(state), { mode: 0o600 });
    writeLabState(state);
    progress(`lab \`${name}\` is up; target file ${state.targetFile}`);
    return state;
  } catch (err) {
    progress(`lab up failed: ${errorMessage(err)}; stopping what was started`);
    await labDown(stateDir).catch(() => undefined);
    throw err;
  }
}

function partDir(stateDir: string, part: string): string {
  const dir = join(stateDir, part);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function pick(env: NodeJS.ProcessEnv, keys: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of keys) {
    const v = env[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

function hostPort(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  return { host: listen.slice(0, i) || '127.0.0.1', port: Number(listen.slice(i + 1)) };
}

/** Spawns `node bin/run.js <args>` as a detached lab daemon. */
async function spawnCli(stateDir: string, dir: string, name: string, args: string[]): Promise<DaemonInfo> {
  return spawnDaemon({
    name,
    command: process.execPath,
    args: [RUN_JS, ...args],
    logFile: join(dir, `${name}.log`),
    env: { ...process.env, [LAB_DIR_ENV]: stateDir },
    cwd: dir,
  });
}

/** Polls `check` until true; fails early when the part's process died; error carries the log tail. */
async function waitHealthy(
  part: string,
  proc: { pid?: number; logFile: string; gone?: () => Promise<string | undefined> },
  budgetMs: number,
  check: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + budgetMs;
  let reason = 'not healthy yet';
  while (Date.now() < deadline) {
    if (proc.pid !== undefined && !isAlive(proc.pid)) {
      reason = `process ${proc.pid} exited`;
      break;
    }
    const gone = await proc.gone?.().catch(() => undefined);
    if (gone !== undefined) {
      reason = gone;
      break;
    }
    try {
      if (await check()) return;
    } catch (err) {
      reason = errorMessage(err);
    }
    await sleep(100);
  }
  throw new PreflightError(
    `The lab's ${part} did not become healthy within ${Math.round(budgetMs / 1000)} s (${reason})`,
    {
      code: 'LAB_PART_UNHEALTHY',
      suggestions: [`cat ${proc.logFile}`],
      cause: new Error(`last log lines of ${part}:\n${tailFile(proc.logFile, 20) || '(log is empty)'}`),
    },
  );
}

async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  await res.arrayBuffer();
  return res.ok;
}

async function jsonStatusOk(url: string, instance?: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  const text = await res.text();
  if (!res.ok) return false;
  if (!answeredByInstance(res.headers, instance))
    throw new Error(`${url} answered, but not from this replica (port taken?)`);
  try {
    return (JSON.parse(text) as { status?: unknown }).status === true;
  } catch {
    return false;
  }
}

async function createProxy(
  state: LabState,
  toxi: DaemonInfo,
  name: string,
  upstreamPort: number,
): Promise<LabProxyRecord> {
  const url = state.toxiproxy!.url;
  const listenPort = await freePort();
  const body = {
    name,
    listen: `127.0.0.1:${listenPort}`,
    upstream: `127.0.0.1:${upstreamPort}`,
    enabled: true,
  };
  const res = await fetch(`${url}/proxies`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  if (res.status !== 201) {
    throw new PreflightError(`Toxiproxy refused to create proxy \`${name}\` (HTTP ${res.status})`, {
      code: 'LAB_PART_UNHEALTHY',
      suggestions: [`cat ${toxi.logFile}`],
      cause: new Error(`${text}\n${tailFile(toxi.logFile, 10)}`),
    });
  }
  const created = JSON.parse(text) as { listen?: string; upstream?: string };
  const record: LabProxyRecord = {
    name,
    listen: created.listen ?? body.listen,
    upstream: created.upstream ?? body.upstream,
  };
  state.toxiproxy!.proxies.push(record);
  writeLabState(state);
  return record;
}

async function signupAdmin(baseUrl: string, email: string, password: string): Promise<string> {
  const res = await fetch(`${baseUrl}/api/v1/auths/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'owui-chaos lab admin', email, password }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let body: { token?: string; role?: string } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // reported below
  }
  if (!res.ok || typeof body.token !== 'string' || body.role !== 'admin') {
    throw new PreflightError(
      `Signing up the lab admin through nginx failed (HTTP ${res.status}, role ${body.role ?? 'none'})`,
      {
        code: 'LAB_PROVISION_FAILED',
        cause: new Error(text.slice(0, 500)),
      },
    );
  }
  return body.token;
}

async function signin(baseUrl: string, email: string, password: string): Promise<string> {
  const res = await fetch(`${baseUrl}/api/v1/auths/signin`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let body: { token?: string } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // reported below
  }
  if (!res.ok || typeof body.token !== 'string') {
    throw new PreflightError(`Signing in the lab admin at ${baseUrl} failed (HTTP ${res.status})`, {
      code: 'LAB_PROVISION_FAILED',
      cause: new Error(text.slice(0, 500)),
    });
  }
  return body.token;
}

async function checkModels(baseUrl: string, token: string): Promise<void> {
  const res = await fetch(`${baseUrl}/api/models`, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let ids: string[] = [];
  try {
    ids = ((JSON.parse(text) as { data?: Array<{ id?: string }> }).data ?? []).map((m) => String(m.id));
  } catch {
    // reported below
  }
  if (!res.ok || !ids.includes(LAB_MODEL)) {
    throw new PreflightError(
      `The lab does not list model \`${LAB_MODEL}\` at ${baseUrl} (HTTP ${res.status})`,
      {
        code: 'LAB_PROVISION_FAILED',
        cause: new Error(text.slice(0, 500)),
      },
    );
  }
}

function anyAlive(state: LabState): boolean {
  return labPids(state).some((p) => isAlive(p.pid));
}

/** Every pid state.json records, with a part name. */
export function labPids(state: LabState): Array<{ part: string; pid: number }> {
  const out: Array<{ part: string; pid: number }> = [];
  if (state.nginx) out.push({ part: 'nginx', pid: state.nginx.pid });
  for (const r of state.replicas) if (r.pid !== undefined) out.push({ part: r.name, pid: r.pid });
  if (state.redis) {
    out.push(
      { part: 'redis-master', pid: state.redis.master.pid },
      { part: 'redis-replica', pid: state.redis.replica.pid },
    );
    for (const s of state.redis.sentinels) out.push({ part: s.name, pid: s.pid });
  }
  if (state.postgres) out.push({ part: 'postgres', pid: state.postgres.pid });
  if (state.toxiproxy?.daemon) out.push({ part: 'toxiproxy', pid: state.toxiproxy.daemon.pid });
  if (state.mockLlm) out.push({ part: 'mock-llm', pid: state.mockLlm.pid });
  return out;
}

/** Every TCP port state.json records (to check nothing listens after `lab down`). */
export function labPorts(state: LabState): number[] {
  const ports: number[] = [];
  if (state.nginx) ports.push(state.nginx.port);
  for (const r of state.replicas) ports.push(r.port);
  if (state.redis)
    ports.push(
      state.redis.master.port,
      state.redis.replica.port,
      ...state.redis.sentinels.map((s) => s.port),
    );
  if (state.toxiproxy)
    ports.push(state.toxiproxy.port, ...state.toxiproxy.proxies.map((p) => hostPort(p.listen).port));
  if (state.postgres) ports.push(state.postgres.port);
  if (state.mockLlm) ports.push(state.mockLlm.port);
  return ports;
}

// ─── down ────────────────────────────────────────────────────────────────────────────────────────

export interface LabDownResult {
  name: string;
  stateDir: string;
  /** Parts stopped (or found already gone). */
  stopped: string[];
  containersRemoved: string[];
  /** Orphans found by the sweep (processes state.json did not record). */
  orphans: number[];
  errors: string[];
}

export async function labDown(stateDir: string): Promise<LabDownResult> {
  stateDir = resolve(stateDir);
  const state = readLabState(stateDir);
  const result: LabDownResult = {
    name: state?.name ?? stateDir.split(sep).pop() ?? '',
    stateDir,
    stopped: [],
    containersRemoved: [],
    orphans: [],
    errors: [],
  };
  const attempt = async (part: string, fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
      result.stopped.push(part);
    } catch (err) {
      result.errors.push(`${part}: ${errorMessage(err)}`);
    }
  };
  if (state) {
    // Front to back, so nothing in front keeps sending to a part that is already gone.
    if (state.nginx) await attempt('nginx', () => stopNginx(state.nginx!.pid));
    await Promise.all(
      state.replicas
        .filter((r) => r.pid !== undefined)
        .map((r) => attempt(r.name, () => stopProcess(r.pid!, 5000))),
    );
    if (state.replicasIn === 'docker' || state.replicas.some((r) => r.containerId)) {
      await attempt('containers', async () => {
        const docker = await connectDocker();
        result.containersRemoved = await removeLabContainers(
          docker,
          state.name,
          state.replicas.flatMap((r) => (r.containerId ? [r.containerId] : [])),
        );
      });
    }
    if (state.postgres) await attempt('postgres', () => stopPostgres(state.postgres!));
    if (state.redis) await attempt('redis', () => stopRedisTopology(state.redis!));
    if (state.toxiproxy?.daemon)
      await attempt('toxiproxy', () => stopProcess(state.toxiproxy!.daemon!.pid, 3000));
    if (state.mockLlm) await attempt('mock-llm', () => stopProcess(state.mockLlm!.pid, 3000));
  }
  // Orphans: parts spawned by a `lab up` that crashed before recording them.
  for (const pid of findLabProcesses(stateDir)) {
    result.orphans.push(pid);
    await stopProcess(pid, 3000).catch((err: unknown) =>
      result.errors.push(`pid ${pid}: ${errorMessage(err)}`),
    );
  }
  if (result.errors.length === 0) {
    rmSync(labStatePath(stateDir), { force: true });
    rmSync(join(stateDir, LAB_TARGET_FILE), { force: true });
  }
  return result;
}

/** Stops every lab under `<root>/labs/`. */
export async function labDownAll(root: string = defaultLabRoot()): Promise<LabDownResult[]> {
  const labs = join(root, 'labs');
  if (!existsSync(labs)) return [];
  const results: LabDownResult[] = [];
  for (const entry of readdirSync(labs, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    results.push(await labDown(join(labs, entry.name)));
  }
  return results;
}

/** Processes (other than this one) whose cwd is inside `stateDir` or whose env names it. */
export function findLabProcesses(stateDir: string): number[] {
  const found: number[] = [];
  const self = new Set([process.pid, process.ppid]);
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found;
  }
  const marker = `${LAB_DIR_ENV}=${stateDir}\0`;
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (self.has(pid)) continue;
    try {
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      if (cwd === stateDir || cwd.startsWith(stateDir + sep)) {
        if (isAlive(pid)) found.push(pid);
        continue;
      }
      const environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
      if (`${environ}\0`.includes(marker) && isAlive(pid)) found.push(pid);
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

// ─── status ──────────────────────────────────────────────────────────────────────────────────────

export interface LabPartStatus {
  part: 'mock-llm' | 'toxiproxy' | 'redis' | 'sentinel' | 'postgres' | 'replica' | 'nginx';
  name: string;
  endpoint: string;
  pid?: number;
  containerId?: string;
  healthy: boolean;
  detail: string;
}

export interface LabStatus {
  name: string;
  stateDir: string;
  running: boolean;
  healthy: boolean;
  replicasIn?: ReplicasIn;
  buffering?: Buffering;
  /** The switches the lab was started with (`lab up --misconfig`); [] for a healthy lab. */
  misconfig: Misconfig[];
  /** `lab up --replica-env` as given. */
  replicaEnv?: ReplicaEnvFlags;
  targetFile?: string;
  parts: LabPartStatus[];
  /** The master address each Sentinel reports. */
  sentinels: Array<{ name: string; port: number; master?: string; error?: string }>;
  nginx?: {
    url: string;
    probes: number;
    upstreams: Record<string, number>;
    replicas: Record<string, number>;
    errors: number;
  };
  toxiproxy?: {
    url: string;
    proxies: Array<{ name: string; listen: string; upstream: string; enabled: boolean; toxics: unknown[] }>;
  };
}

export async function labStatus(stateDir: string, opts: { nginxProbes?: number } = {}): Promise<LabStatus> {
  stateDir = resolve(stateDir);
  const state = readLabState(stateDir);
  if (!state)
    return {
      name: stateDir.split(sep).pop() ?? '',
      stateDir,
      running: false,
      healthy: false,
      misconfig: [],
      parts: [],
      sentinels: [],
    };
  const parts: LabPartStatus[] = [];
  const status: LabStatus = {
    name: state.name,
    stateDir,
    running: anyAlive(state) || state.replicas.some((r) => r.containerId),
    healthy: false,
    replicasIn: state.replicasIn,
    buffering: state.buffering,
    misconfig: state.misconfig ?? [],
    parts,
    sentinels: [],
  };
  if (state.replicaEnv) status.replicaEnv = state.replicaEnv;
  if (state.targetFile) status.targetFile = state.targetFile;

  if (state.mockLlm) {
    const ok = await probe(() => httpOk(`${state.mockLlm!.url}/v1/models`));
    parts.push({
      part: 'mock-llm',
      name: 'mock-llm',
      endpoint: state.mockLlm.url,
      pid: state.mockLlm.pid,
      healthy: ok.ok,
      detail: ok.detail,
    });
  }
  if (state.toxiproxy) {
    const t = state.toxiproxy;
    try {
      const res = await fetch(`${t.url}/proxies`, { signal: AbortSignal.timeout(2000) });
      const proxies = (await res.json()) as Record<
        string,
        { name: string; listen: string; upstream: string; enabled: boolean; toxics?: unknown[] }
      >;
      status.toxiproxy = {
        url: t.url,
        proxies: Object.values(proxies).map((p) => ({
          name: p.name,
          listen: p.listen,
          upstream: p.upstream,
          enabled: p.enabled,
          toxics: p.toxics ?? [],
        })),
      };
      const missing = t.proxies.filter((p) => !(p.name in proxies)).map((p) => p.name);
      parts.push({
        part: 'toxiproxy',
        name: t.real ? 'toxiproxy-server' : 'toxiproxy (lab)',
        endpoint: t.url,
        ...(t.daemon ? { pid: t.daemon.pid } : {}),
        healthy: res.ok && missing.length === 0,
        detail: missing.length
          ? `proxies missing: ${missing.join(', ')}`
          : `${Object.keys(proxies).length} proxies`,
      });
    } catch (err) {
      parts.push({
        part: 'toxiproxy',
        name: 'toxiproxy',
        endpoint: t.url,
        ...(t.daemon ? { pid: t.daemon.pid } : {}),
        healthy: false,
        detail: errorMessage(err),
      });
    }
  }
  if (state.redis) {
    for (const node of [state.redis.master, state.redis.replica]) {
      const r = await redisRole(node.port);
      parts.push({
        part: 'redis',
        name: node.name,
        endpoint: `127.0.0.1:${node.port}`,
        pid: node.pid,
        healthy: r.ok,
        detail: r.detail,
      });
    }
    for (const s of state.redis.sentinels) {
      const m = await sentinelMaster(s.port, state.redis.masterName);
      status.sentinels.push({
        name: s.name,
        port: s.port,
        ...(m.master ? { master: m.master } : {}),
        ...(m.error ? { error: m.error } : {}),
      });
      parts.push({
        part: 'sentinel',
        name: s.name,
        endpoint: `127.0.0.1:${s.port}`,
        pid: s.pid,
        healthy: m.master !== undefined,
        detail: m.master ? `master ${m.master}` : (m.error ?? ''),
      });
    }
  }
  if (state.postgres) {
    const pg = await postgresStatus(state.postgres);
    parts.push({
      part: 'postgres',
      name: 'postgres',
      endpoint: `127.0.0.1:${state.postgres.port}`,
      pid: state.postgres.pid,
      healthy: pg.ok,
      detail: pg.detail,
    });
  }
  for (const r of state.replicas) {
    // Real Open WebUI: the version it reports now, not the one recorded at start.
    if (r.server === 'openwebui') {
      const live = await replicaFacts(r);
      r.version = live.version ?? 'unreachable';
      if (live.rssBytes !== undefined) r.rssBytes = live.rssBytes;
    }
    const ok = await probe(async () => {
      const res = await fetch(`${r.url}/ready`, { signal: AbortSignal.timeout(2000) });
      const text = await res.text();
      if (!res.ok) throw new Error(`/ready ${res.status} ${text.slice(0, 100)}`);
      return true;
    });
    parts.push({
      part: 'replica',
      name: r.name,
      endpoint: r.url,
      ...(r.pid !== undefined ? { pid: r.pid } : {}),
      ...(r.containerId ? { containerId: r.containerId.slice(0, 12) } : {}),
      healthy: ok.ok,
      detail: `${replicaKind(r)}; ${ok.ok ? '/ready 200' : ok.detail}`,
    });
  }
  if (state.nginx) {
    const n = {
      url: state.nginx.url,
      probes: opts.nginxProbes ?? 2 * Math.max(1, state.replicas.length),
      upstreams: {} as Record<string, number>,
      replicas: {} as Record<string, number>,
      errors: 0,
    };
    for (let i = 0; i < n.probes; i++) {
      try {
        const res = await fetch(`${state.nginx.url}/health`, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        const up = res.headers.get('x-upstream') ?? '?';
        // The simulator names itself; real Open WebUI does not, so nginx's upstream address names it.
        const rep =
          res.headers.get('x-owui-replica') ??
          state.replicas.find((r) => up === `127.0.0.1:${r.port}`)?.name ??
          '?';
        n.upstreams[up] = (n.upstreams[up] ?? 0) + 1;
        n.replicas[rep] = (n.replicas[rep] ?? 0) + 1;
        if (!res.ok) n.errors++;
      } catch {
        n.errors++;
      }
    }
    status.nginx = n;
    parts.push({
      part: 'nginx',
      name: 'nginx',
      endpoint: state.nginx.url,
      pid: state.nginx.pid,
      healthy: n.errors === 0,
      detail: `buffering ${state.buffering}; served by ${
        Object.entries(n.replicas)
          .map(([k, v]) => `${k}×${v}`)
          .join(' ') || 'none'
      }${n.errors ? `; ${n.errors} failed probes` : ''}`,
    });
  }
  status.healthy = parts.length > 0 && parts.every((p) => p.healthy);
  return status;
}

/** "Open WebUI 0.12.4 (real), started in 41.2 s, RSS 1400 MB" or "simulator". */
function replicaKind(r: LabReplicaRecord): string {
  if (r.server !== 'openwebui') return 'simulator';
  const start = r.startupMs === undefined ? '' : `, started in ${(r.startupMs / 1000).toFixed(1)} s`;
  return `Open WebUI ${r.version ?? '?'} (real)${start}, RSS ${formatMb(r.rssBytes)}`;
}

async function probe(fn: () => Promise<boolean>): Promise<{ ok: boolean; detail: string }> {
  try {
    const ok = await fn();
    return { ok, detail: ok ? 'ok' : 'unhealthy' };
  } catch (err) {
    return { ok: false, detail: errorMessage(err) };
  }
}

async function withRedis<T>(port: number, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1000,
    commandTimeout: 2000,
  });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

async function redisRole(port: number): Promise<{ ok: boolean; detail: string }> {
  try {
    const info = await withRedis(port, (r) => r.info('replication'));
    const role = /role:(\w+)/.exec(info)?.[1] ?? '?';
    const link = /master_link_status:(\w+)/.exec(info)?.[1];
    return {
      ok: role === 'master' || link === 'up',
      detail: link ? `role ${role}, link ${link}` : `role ${role}`,
    };
  } catch (err) {
    return { ok: false, detail: errorMessage(err) };
  }
}

async function sentinelMaster(
  port: number,
  masterName: string,
): Promise<{ master?: string; error?: string }> {
  try {
    const reply = (await withRedis(port, (r) =>
      r.call('SENTINEL', 'get-master-addr-by-name', masterName),
    )) as string[] | null;
    if (!reply) return { error: `no master known for ${masterName}` };
    return { master: `${reply[0]}:${reply[1]}` };
  } catch (err) {
    return { error: errorMessage(err) };
  }
}

// ─── summary (for `lab up --json` and the endpoint table) ────────────────────────────────────────

export interface LabSummary {
  name: string;
  stateDir: string;
  targetFile?: string;
  replicasIn: ReplicasIn;
  buffering: Buffering;
  misconfig: Misconfig[];
  url?: string;
  admin?: { email: string };
  /** What the replicas are: the simulator, or real Open WebUI of this version. */
  openwebui: { server: 'simulator' | 'real'; version?: string };
  endpoints: Array<{ part: string; name: string; endpoint: string; pid?: number; container?: string }>;
}

export function labSummary(state: LabState): LabSummary {
  const endpoints: LabSummary['endpoints'] = [];
  if (state.nginx)
    endpoints.push({ part: 'nginx', name: 'nginx', endpoint: state.nginx.url, pid: state.nginx.pid });
  for (const r of state.replicas) {
    endpoints.push({
      part: 'replica',
      name: r.name,
      endpoint: r.url,
      ...(r.pid !== undefined ? { pid: r.pid } : {}),
      ...(r.containerName ? { container: r.containerName } : {}),
    });
  }
  if (state.redis) {
    endpoints.push({
      part: 'redis',
      name: state.redis.master.name,
      endpoint: `127.0.0.1:${state.redis.master.port}`,
      pid: state.redis.master.pid,
    });
    endpoints.push({
      part: 'redis',
      name: state.redis.replica.name,
      endpoint: `127.0.0.1:${state.redis.replica.port}`,
      pid: state.redis.replica.pid,
    });
    for (const s of state.redis.sentinels)
      endpoints.push({ part: 'sentinel', name: s.name, endpoint: `127.0.0.1:${s.port}`, pid: s.pid });
  }
  if (state.postgres)
    endpoints.push({
      part: 'postgres',
      name: 'postgres',
      endpoint: `127.0.0.1:${state.postgres.port}`,
      pid: state.postgres.pid,
    });
  if (state.toxiproxy) {
    endpoints.push({
      part: 'toxiproxy',
      name: state.toxiproxy.real ? 'toxiproxy-server' : 'toxiproxy (lab)',
      endpoint: state.toxiproxy.url,
      ...(state.toxiproxy.daemon ? { pid: state.toxiproxy.daemon.pid } : {}),
    });
    for (const p of state.toxiproxy.proxies)
      endpoints.push({ part: 'proxy', name: p.name, endpoint: `${p.listen} → ${p.upstream}` });
  }
  if (state.mockLlm)
    endpoints.push({
      part: 'mock-llm',
      name: 'mock-llm',
      endpoint: state.mockLlm.url,
      pid: state.mockLlm.pid,
    });
  const summary: LabSummary = {
    name: state.name,
    stateDir: state.stateDir,
    replicasIn: state.replicasIn,
    buffering: state.buffering,
    misconfig: state.misconfig ?? [],
    openwebui: {
      server: state.openwebui?.server ?? 'simulator',
      ...(state.openwebui?.version ? { version: state.openwebui.version } : {}),
    },
    endpoints,
  };
  if (state.targetFile) summary.targetFile = state.targetFile;
  if (state.nginx) summary.url = state.nginx.url;
  if (state.admin) summary.admin = { email: state.admin.email };
  return summary;
}
