// Lab part: the N Open WebUI replicas behind nginx, in one of three kinds:
// - the lab's simulator as processes (`owui-chaos lab replica`, the default),
// - the simulator in Docker containers (`--replicas-in docker`),
// - real Open WebUI from the install cache as processes (`--openwebui real`, src/lab/openwebui).
// Every replica reaches the mock LLM, Redis and Postgres through their Toxiproxy proxies, gets the
// misconfiguration plan and `--replica-env` overrides (src/lab/misconfig.ts), and counts as
// healthy only when /health and /ready answer from the instance the lab started (a simulator
// replica's `OWUI_SIM_INSTANCE_ID`: another server on its port must not pass for it).

import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type Docker from 'dockerode';
import type { LabReplicaRecord, SpawnRecord } from '../../infra/lab-state.js';
import { pickEnv, spawnDaemon, stopProcess } from '../../infra/process/daemon.js';
import {
  connectDocker,
  containerGone,
  ensureBaseImage,
  removeLabContainers,
  startReplicaContainer,
} from '../docker/docker-replicas.js';
import { formatMisconfigs, replicaEnvFor } from '../misconfig.js';
import { requireOpenWebui } from '../openwebui/install.js';
import { formatMb, replicaFacts, upRealReplicas } from '../openwebui/replicas.js';
import { postgresUrl } from '../postgres/postgres.js';
import { probeReplica } from '../../infra/http-probe.js';
import { waitHealthy } from './health.js';
import {
  LAB_DIR_ENV,
  MASTER_NAME,
  PROJECT_DIR,
  PROXY_LLM,
  PROXY_POSTGRES,
  PROXY_REDIS_MASTER,
  PROXY_REDIS_REPLICA,
  RUN_JS,
} from './names.js';
import {
  hostPort,
  partDir,
  proxyNamed,
  type LabPart,
  type LabPartStatus,
  type LabUpContext,
} from './part.js';

export const replicasPart: LabPart = {
  name: 'replicas',

  async check({ settings, prepared }) {
    // Real Open WebUI: the install must be there before anything starts.
    if (settings.openwebui === 'real') prepared.install = requireOpenWebui(settings.openwebuiVersion);
    if (settings.replicasIn === 'docker') prepared.docker = await connectDocker();
  },

  async up(ctx) {
    const { settings, state, prepared, progress } = ctx;
    await ctx.wiring.ports();
    mkdirSync(join(settings.stateDir, 'db'), { recursive: true });
    partDir(settings.stateDir, 'replicas');
    const plan = ctx.wiring.plan();
    if (plan.misconfigs.length > 0)
      progress(`building in misconfiguration ${formatMisconfigs(plan.misconfigs)}`);
    if (prepared.docker) {
      progress('preparing the Docker base image');
      await ensureBaseImage(prepared.docker, partDir(settings.stateDir, 'docker'));
    }
    if (prepared.install) {
      await upReal(ctx);
    } else {
      progress(
        `starting ${settings.replicaCount} Open WebUI simulator replicas as ${settings.replicasIn === 'docker' ? 'containers' : 'processes'}`,
      );
      await upSimulators(ctx);
    }
    progress(`replicas ready: ${state.replicas.map((r) => `${r.name} ${r.url}`).join(', ')}`);
  },

  async status(state) {
    const parts: LabPartStatus[] = [];
    for (const r of state.replicas) {
      // Real Open WebUI: the version it reports now, not the one recorded at start.
      if (r.server === 'openwebui') {
        const live = await replicaFacts(r);
        r.version = live.version ?? 'unreachable';
        if (live.rssBytes !== undefined) r.rssBytes = live.rssBytes;
      }
      const ok = await probeReplica(r.url, { instance: r.spawn.env.OWUI_SIM_INSTANCE_ID });
      parts.push({
        part: 'replica',
        name: r.name,
        endpoint: r.url,
        ...(r.pid !== undefined ? { pid: r.pid } : {}),
        ...(r.containerId ? { containerId: r.containerId.slice(0, 12) } : {}),
        healthy: ok.ok,
        detail: `${replicaKind(r)}; ${ok.reason}`,
      });
    }
    return { parts };
  },

  async down(state, d) {
    await Promise.all(
      state.replicas.flatMap((r) =>
        r.pid === undefined ? [] : [d.attempt(r.name, () => stopProcess(r.pid!, 5000))],
      ),
    );
    if (state.replicasIn === 'docker' || state.replicas.some((r) => r.containerId)) {
      await d.attempt('containers', async () => {
        const docker = await connectDocker();
        d.containersRemoved(
          await removeLabContainers(
            docker,
            state.name,
            state.replicas.flatMap((r) => (r.containerId ? [r.containerId] : [])),
          ),
        );
      });
    }
  },

  endpoints(state) {
    return {
      rows: state.replicas.map((r) => ({
        part: 'replica',
        name: r.name,
        endpoint: r.url,
        ...(r.pid !== undefined ? { pid: r.pid } : {}),
        ...(r.containerName ? { container: r.containerName } : {}),
      })),
      pids: state.replicas.flatMap((r) => (r.pid !== undefined ? [{ part: r.name, pid: r.pid }] : [])),
      ports: state.replicas.map((r) => r.port),
    };
  },
};

/** Real Open WebUI: replica 1 first (it migrates the database), then the others. */
async function upReal(ctx: LabUpContext): Promise<void> {
  const { settings, state, save, progress } = ctx;
  const install = ctx.prepared.install!;
  const ports = await ctx.wiring.ports();
  const plan = ctx.wiring.plan();
  await upRealReplicas({
    install,
    ports: ports.replicas,
    dir: partDir(settings.stateDir, 'replicas'),
    wiring: {
      secretKey: state.secretKey!,
      nginxUrl: `http://127.0.0.1:${ports.nginx}`,
      replicaUrls: ports.replicas.map((p) => `http://127.0.0.1:${p}`),
      databaseUrl: postgresUrl(state.postgres!, proxyNamed(state, PROXY_POSTGRES).listen),
      masterName: MASTER_NAME,
      sentinelPort: state.redis!.sentinels[0]!.port,
      llmListen: proxyNamed(state, PROXY_LLM).listen,
      keyPrefix: `open-webui-${settings.name}`,
    },
    markerEnv: { [LAB_DIR_ENV]: settings.stateDir },
    // The same misconfig plan and --replica-env overrides as simulator replicas get.
    envFor: (base, i) => replicaEnvFor(base, i, plan, state.replicaEnv),
    budgetMs: settings.replicaBudgetMs,
    onSpawn: (r) => {
      state.replicas.push(r);
      save();
    },
    progress,
  });
  save();
}

/** The simulator, as processes or containers; each recorded as soon as it is spawned. */
async function upSimulators(ctx: LabUpContext): Promise<void> {
  const { settings, state, save } = ctx;
  const docker = ctx.prepared.docker;
  const ports = await ctx.wiring.ports();
  const plan = ctx.wiring.plan();
  const redis = state.redis!;
  const master = proxyNamed(state, PROXY_REDIS_MASTER);
  const replica = proxyNamed(state, PROXY_REDIS_REPLICA);
  const dbDir = join(settings.stateDir, 'db');
  const replicasDir = partDir(settings.stateDir, 'replicas');
  const nginxUrl = `http://127.0.0.1:${ports.nginx}`;
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
    OPENAI_API_BASE_URL: `http://${proxyNamed(state, PROXY_LLM).listen}/v1`,
    OPENAI_API_KEY: 'sk-owui-chaos-lab',
    CORS_ALLOW_ORIGIN: [nginxUrl, ...ports.replicas.map((p) => `http://127.0.0.1:${p}`)].join(';'),
    BYPASS_MODEL_ACCESS_CONTROL: 'true',
    DATABASE_URL: `file:${dbDir}`,
    OWUI_SIM_REDIS_NATMAP: JSON.stringify({
      [`127.0.0.1:${redis.master.port}`]: hostPort(master.listen),
      [`127.0.0.1:${redis.replica.port}`]: hostPort(replica.listen),
    }),
  };
  for (let i = 0; i < settings.replicaCount; i++) {
    const name = `owui-${i + 1}`;
    const port = ports.replicas[i]!;
    const logFile = join(replicasDir, `${name}.log`);
    const env: Record<string, string> = replicaEnvFor(
      { ...commonEnv, PORT: String(port), OWUI_SIM_REPLICA_NAME: name, OWUI_SIM_INSTANCE_ID: randomUUID() },
      i,
      plan,
      state.replicaEnv,
    );
    const record: LabReplicaRecord = {
      name,
      port,
      url: `http://127.0.0.1:${port}`,
      mode: settings.replicasIn,
      spawn: { command: process.execPath, args: [RUN_JS, 'lab', 'replica'], env, logFile },
    };
    if (docker) {
      const c = await startReplicaContainer(docker, {
        lab: settings.name,
        replica: name,
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
        env: {
          ...pickEnv(process.env, ['PATH', 'HOME', 'LANG', 'TZ']),
          [LAB_DIR_ENV]: settings.stateDir,
          ...env,
        },
      };
      record.spawn = spawn;
      const d = await spawnDaemon({
        name,
        command: spawn.command,
        args: spawn.args,
        env: spawn.env,
        logFile,
        cwd: replicasDir,
      });
      record.pid = d.pid;
    }
    state.replicas.push(record);
    save();
  }
  await Promise.all(state.replicas.map((r) => waitSimulatorHealthy(r, docker, settings.budgetMs)));
}

/** Healthy as src/infra/http-probe.ts says, from the instance the lab started. */
function waitSimulatorHealthy(
  r: LabReplicaRecord,
  docker: Docker | undefined,
  budgetMs: number,
): Promise<void> {
  return waitHealthy(
    `replica ${r.name}`,
    {
      logFile: r.spawn.logFile,
      ...(r.pid ? { pid: r.pid } : {}),
      ...(docker && r.containerId ? { gone: () => containerGone(docker, r.containerId!) } : {}),
    },
    budgetMs,
    (timeoutMs) => probeReplica(r.url, { timeoutMs, instance: r.spawn.env.OWUI_SIM_INSTANCE_ID }),
  );
}

/** "Open WebUI 0.12.4 (real), started in 41.2 s, RSS 1400 MB" or "simulator". */
function replicaKind(r: LabReplicaRecord): string {
  if (r.server !== 'openwebui') return 'simulator';
  const start = r.startupMs === undefined ? '' : `, started in ${(r.startupMs / 1000).toFixed(1)} s`;
  return `Open WebUI ${r.version ?? '?'} (real)${start}, RSS ${formatMb(r.rssBytes)}`;
}
