// Scaling the lab's replicas live, as an operator would (docs/capacity.md "Replica counts"): start
// the replicas that should serve, point nginx's upstream list at exactly them (`nginx -t`, then
// reload), wait until nginx routes only to them, then stop the rest with SIGTERM. No restart of
// the lab. Process replicas only.
//
// Contract: `planLabScale` is pure (what would change); `scaleLab` applies it and returns what it
// changed, including nginx's config bytes before, so the caller can persist the inverse BEFORE
// calling it (`nginx/restoreConfig` + `replicas/start` records). Replicas beyond the ones the lab
// was started with are added to state.json (cloned from the first one, on a free port), so
// `lab down` stops them too.

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PreflightError } from '../core/errors.js';
import { reloadNginx } from './nginx/nginx-process.js';
import { pollHealthy, probeReplica } from '../infra/http-probe.js';
import { freePort, isAlive, sleep, spawnDaemon, stopProcess, tailFile } from '../infra/process/daemon.js';
import { readLabState, writeLabState, type LabReplicaRecord, type LabState } from '../infra/lab-state.js';

export interface LabScalePlan {
  replicas: number;
  /** Replicas nginx will route to (the first n). */
  serve: string[];
  /** Running replicas beyond n: stopped after nginx no longer routes to them. */
  stop: string[];
  /** Replicas among the first n that are not running. */
  start: string[];
  /** Replica records to add (the lab has fewer than n). */
  add: number;
}

export function planLabScale(
  state: LabState,
  n: number,
  alive: (pid: number) => boolean = isAlive,
): LabScalePlan {
  if (!Number.isInteger(n) || n < 1) throw new Error(`cannot scale the lab to ${n} replicas`);
  const running = (r: LabReplicaRecord): boolean => r.pid !== undefined && alive(r.pid);
  const existing = state.replicas;
  const names = Array.from({ length: n }, (_, i) => existing[i]?.name ?? `owui-${i + 1}`);
  return {
    replicas: n,
    serve: names,
    stop: existing
      .slice(n)
      .filter(running)
      .map((r) => r.name),
    start: existing
      .slice(0, n)
      .filter((r) => !running(r))
      .map((r) => r.name),
    add: Math.max(0, n - existing.length),
  };
}

/** Replaces the `server` lines of `upstream openwebui` (their parameters kept from the first one). */
export function setUpstreams(config: string, upstreams: Array<{ host: string; port: number }>): string {
  if (upstreams.length === 0) throw new Error('nginx needs at least one upstream');
  const block = /(upstream openwebui \{\n(?:[ \t]*[a-z_]+;\n)*)((?:[ \t]*server [^\n]*\n)+)/;
  const m = block.exec(config);
  if (!m)
    throw new Error(
      'the nginx config has no `upstream openwebui` block with server lines (was it rendered by the lab?)',
    );
  const first = /^([ \t]*)server (\S+?)(\s[^\n;]*)?;/.exec(m[2]!);
  const indent = first?.[1] ?? '    ';
  const params = first?.[3] ?? '';
  const lines = upstreams.map((u) => `${indent}server ${u.host}:${u.port}${params};\n`).join('');
  return config.replace(block, `${m[1]}${lines}`);
}

export interface LabScaleResult {
  plan: LabScalePlan;
  /** nginx's config before the change (what a revert writes back). */
  configBefore: Buffer;
  serving: string[];
  durationMs: number;
}

export interface ScaleOptions {
  healthBudgetMs?: number;
  onProgress?: (message: string) => void;
}

export async function scaleLab(
  stateDir: string,
  n: number,
  opts: ScaleOptions = {},
): Promise<LabScaleResult> {
  const began = Date.now();
  const budget = opts.healthBudgetMs ?? 30_000;
  const progress = opts.onProgress ?? (() => undefined);
  let state = requireState(stateDir);
  const plan = planLabScale(state, n);
  const nginx = state.nginx!;
  const configBefore = readFileSync(nginx.configFile);

  // 1. add replica records the lab does not have yet (cloned from the first, on free ports)
  for (let i = state.replicas.length; i < n; i++) {
    const template = state.replicas[0]!;
    const name = `owui-${i + 1}`;
    const port = await freePort();
    const env = {
      ...template.spawn.env,
      PORT: String(port),
      OWUI_SIM_REPLICA_NAME: name,
      OWUI_SIM_INSTANCE_ID: randomUUID(),
    };
    state.replicas.push({
      name,
      port,
      url: `http://127.0.0.1:${port}`,
      mode: 'process',
      spawn: { ...template.spawn, env, logFile: join(template.spawn.logFile, '..', `${name}.log`) },
    });
    plan.start.push(name);
    writeLabState(state);
  }
  // 2. start the ones that should serve and are down
  for (const name of plan.start) {
    const record = state.replicas.find((r) => r.name === name)!;
    progress(`starting replica ${name}`);
    const d = await spawnDaemon({
      name,
      command: record.spawn.command,
      args: record.spawn.args,
      env: { ...process.env, ...record.spawn.env },
      logFile: record.spawn.logFile,
    });
    state = requireState(stateDir);
    state.replicas.find((r) => r.name === name)!.pid = d.pid;
    writeLabState(state);
  }
  await Promise.all(plan.serve.map((name) => waitReplicaReady(state, name, budget)));
  // 3. nginx routes to exactly the first n
  const serving = state.replicas.slice(0, n);
  const next = setUpstreams(
    configBefore.toString('utf8'),
    serving.map((r) => ({ host: '127.0.0.1', port: r.port })),
  );
  if (next !== configBefore.toString('utf8')) {
    progress(`nginx upstreams: ${serving.map((r) => r.name).join(', ')} (reload)`);
    await reloadNginx(nginx, next, configBefore.toString('utf8'));
    await waitRouting(nginx.url, new Set(serving.map((r) => `127.0.0.1:${r.port}`)), 10_000);
  }
  // 4. stop the rest (SIGTERM: graceful, as a scale-down does)
  for (const name of plan.stop) {
    const record = state.replicas.find((r) => r.name === name)!;
    progress(`stopping replica ${name}`);
    if (record.pid !== undefined) await stopProcess(record.pid, 5000);
  }
  return { plan, configBefore, serving: serving.map((r) => r.name), durationMs: Date.now() - began };
}

function requireState(stateDir: string): LabState {
  const state = readLabState(stateDir);
  if (!state?.nginx) {
    throw new PreflightError(`The lab in ${stateDir} is not up (no nginx in its state)`, {
      code: 'LAB_NOT_UP',
      suggestions: ['owui-chaos lab up'],
    });
  }
  if (state.replicas.some((r) => r.mode !== 'process')) {
    throw new PreflightError('Live scaling supports process replicas only', {
      code: 'LAB_SCALE_UNSUPPORTED',
      suggestions: ['owui-chaos lab up --replicas-in process'],
    });
  }
  return state;
}

async function waitReplicaReady(state: LabState, name: string, budgetMs: number): Promise<void> {
  const record = requireState(state.stateDir).replicas.find((r) => r.name === name)!;
  const last = await pollHealthy(
    (timeoutMs) => probeReplica(record.url, { timeoutMs, instance: record.spawn.env.OWUI_SIM_INSTANCE_ID }),
    budgetMs,
    { intervalMs: 100, watch: { pid: record.pid } },
  );
  if (last.ok) return;
  throw new PreflightError(
    `Replica ${name} did not become ready within ${Math.round(budgetMs / 1000)} s (${last.reason})`,
    {
      code: 'REPLICA_UNHEALTHY',
      suggestions: [`tail -n 50 ${record.spawn.logFile}`],
      cause: new Error(tailFile(record.spawn.logFile, 15) || 'log is empty'),
    },
  );
}

/** Polls nginx until a run of probes is served only by `upstreams` (new workers took the config). */
async function waitRouting(url: string, upstreams: Set<string>, budgetMs: number): Promise<void> {
  const deadline = Date.now() + budgetMs;
  let good = 0;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      const up = res.headers.get('x-upstream') ?? '';
      good = res.ok && upstreams.has(up) ? good + 1 : 0;
      if (good >= 2 * upstreams.size + 2) return;
    } catch {
      good = 0;
    }
    await sleep(20);
  }
  throw new PreflightError(
    `nginx at ${url} still routes outside ${[...upstreams].join(', ')} after its reload`,
    {
      code: 'LAB_SCALE_FAILED',
    },
  );
}
