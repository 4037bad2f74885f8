// The lab: a complete local HA Open WebUI deployment on 127.0.0.1 (DESIGN §4).
//
//   client ─► nginx ─► owui-sim ×N ─► toxiproxy[llm] ─► mock LLM
//                         └─► toxiproxy[redis-master|redis-replica] ─► redis master/replica ◄─ 3 sentinels
//
// Each part (mock LLM, Toxiproxy, Redis + Sentinel, Postgres, replicas, nginx, admin) is one
// module in src/lab/parts/ behind the `LabPart` interface (src/lab/parts/part.ts); this file
// keeps only their order, the state file and the cleanup on failure.
//
// Contract:
// - `labUp` checks every part's prerequisites (binaries, install, Docker) before anything starts,
//   then starts the parts in `PARTS` order, each recorded in state.json right after it is
//   spawned, so `labDown` from another process can always clean up; then writes the target file.
//   It resolves only when every part is healthy; on any failure it stops everything it started
//   and throws a PreflightError whose cause carries the failing part's last log lines.
// - `labDown` is idempotent and works after a crash of `labUp`: it stops the parts back to front
//   (nothing in front keeps sending to a part already gone), then sweeps processes whose cwd lies
//   in the state dir or whose env carries the lab's marker; the replicas part removes containers
//   with the lab's label.
// - `labStatus` probes every part from outside; it never changes anything.
// The lab never prints: progress goes to `onProgress`.

import { randomBytes } from 'node:crypto';
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
import { PreflightError, UsageError, errorMessage } from '../core/errors.js';
import {
  defaultLabStateDir,
  labStatePath,
  readLabState,
  writeLabState,
  type LabState,
  type ReplicaEnvFlags,
} from '../infra/lab-state.js';
import { isAlive, freePort, stopProcess } from '../infra/process/daemon.js';
import { LAB_TARGET_FILE, labTargetFile, renderLabTarget } from './lab-target.js';
import { planMisconfig, recordedMisconfigs, type Misconfig, type MisconfigPlan } from './misconfig.js';
import { DEFAULT_OPENWEBUI_VERSION } from './openwebui/install.js';
import { adminPart } from './parts/admin.js';
import { mockLlmPart } from './parts/mock-llm.js';
import { nginxPart } from './parts/nginx.js';
import { LAB_DIR_ENV, PROJECT_DIR, PROXY_REDIS_MASTER, RUN_JS } from './parts/names.js';
import {
  hostPort,
  proxyNamed,
  type Buffering,
  type LabEndpoint,
  type LabPart,
  type LabPartStatus,
  type LabPrepared,
  type LabUpContext,
  type LabUpSettings,
  type NginxView,
  type ReplicasIn,
  type SentinelView,
  type ToxiproxyView,
} from './parts/part.js';
import { postgresPart } from './parts/postgres.js';
import { redisPart } from './parts/redis.js';
import { replicasPart } from './parts/replicas.js';
import { toxiproxyPart } from './parts/toxiproxy.js';

export * from './parts/names.js';
export type { Buffering, LabPartStatus, ReplicasIn } from './parts/part.js';

/** The start order; `labDown` and the endpoint table go back to front. */
const PARTS: readonly LabPart[] = [
  mockLlmPart,
  toxiproxyPart,
  redisPart,
  postgresPart,
  replicasPart,
  nginxPart,
  adminPart,
];
const BACK_TO_FRONT: readonly LabPart[] = [...PARTS].reverse();

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

/** Root holding every lab (`<root>/labs/<name>`). */
export function defaultLabRoot(env: NodeJS.ProcessEnv = process.env): string {
  return dirname(dirname(defaultLabStateDir('x', env)));
}

// ─── up ──────────────────────────────────────────────────────────────────────────────────────────

export async function labUp(opts: LabUpOptions = {}): Promise<LabState> {
  const settings = upSettings(opts);
  const { name, stateDir } = settings;
  const misconfig = [...(opts.misconfig ?? [])];
  const progress = opts.onProgress ?? (() => undefined);
  if (!existsSync(RUN_JS) || !existsSync(join(PROJECT_DIR, 'dist', 'commands'))) {
    throw new PreflightError(`The owui-chaos CLI is not built (${join(PROJECT_DIR, 'dist')} is missing)`, {
      code: 'LAB_NOT_BUILT',
      suggestions: ['npm run build'],
    });
  }
  // Every part's prerequisites first: a missing one fails before anything starts.
  const prepared: LabPrepared = {};
  for (const part of PARTS) await part.check?.({ settings, prepared });

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

  const install = prepared.install;
  const state: LabState = {
    schemaVersion: 1,
    name,
    stateDir,
    createdAt: new Date().toISOString(),
    ownerPid: process.pid,
    replicasIn: settings.replicasIn,
    buffering: opts.buffering ?? 'off',
    replicas: [],
    secretKey: randomBytes(32).toString('hex'),
    misconfig,
    replicaEnv: { all: { ...opts.replicaEnv }, byReplica: { ...opts.replicaEnvByReplica } },
    openwebui: install
      ? { server: 'real', version: install.version, venv: install.venv }
      : { server: 'simulator' },
  };
  if (misconfig.some((m) => m.name === 'buffering')) state.buffering = 'on';
  for (const n of Object.keys(state.replicaEnv!.byReplica).map(Number)) {
    if (!Number.isInteger(n) || n < 1 || n > settings.replicaCount) {
      throw new PreflightError(
        `Per-replica env names replica ${n}, but the lab has replicas 1 to ${settings.replicaCount}`,
        { code: 'REPLICA_ENV_INVALID', suggestions: [`owui-chaos lab up --replicas ${n}`] },
      );
    }
  }
  writeLabState(state);

  const ctx: LabUpContext = {
    settings,
    state,
    prepared,
    wiring: wiring(state, settings, misconfig),
    save: () => writeLabState(state),
    progress,
  };
  try {
    for (const part of PARTS) await part.up(ctx);
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

function upSettings(opts: LabUpOptions): LabUpSettings {
  const name = opts.name ?? 'default';
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) {
    throw new PreflightError(`Lab name \`${name}\` is not valid`, {
      code: 'LAB_NAME_INVALID',
      suggestions: ['owui-chaos lab up --name ci-1'],
    });
  }
  const replicasIn = opts.replicasIn ?? 'process';
  const openwebui = opts.openwebui ?? 'simulator';
  if (openwebui === 'real' && replicasIn === 'docker') {
    throw new UsageError('Real Open WebUI replicas run as processes only (docker mode is not built yet)', {
      code: 'LAB_REAL_DOCKER_UNSUPPORTED',
      suggestions: ['owui-chaos lab up --openwebui real --replicas-in process'],
    });
  }
  return {
    name,
    stateDir: resolve(opts.stateDir ?? defaultLabStateDir(name)),
    replicaCount: opts.replicas ?? 3,
    replicasIn,
    budgetMs: opts.partBudgetMs ?? 30_000,
    openwebui,
    openwebuiVersion: opts.openwebuiVersion ?? DEFAULT_OPENWEBUI_VERSION,
    replicaBudgetMs: opts.replicaBudgetMs ?? 240_000,
  };
}

/** What parts hand each other: the front ports (picked once, up front) and the misconfig plan. */
function wiring(state: LabState, settings: LabUpSettings, misconfig: Misconfig[]): LabUpContext['wiring'] {
  let ports: Promise<{ nginx: number; replicas: number[] }> | undefined;
  let plan: MisconfigPlan | undefined;
  return {
    ports: () =>
      (ports ??= (async () => {
        const nginx = await freePort();
        const replicas: number[] = [];
        for (let i = 0; i < settings.replicaCount; i++) replicas.push(await freePort());
        return { nginx, replicas };
      })()),
    plan: () =>
      (plan ??= planMisconfig(misconfig, {
        replicaCount: settings.replicaCount,
        secretKey: state.secretKey!,
        redisMaster: hostPort(proxyNamed(state, PROXY_REDIS_MASTER).listen),
      })),
  };
}

function anyAlive(state: LabState): boolean {
  return labPids(state).some((p) => isAlive(p.pid));
}

/** Every pid state.json records, with a part name. */
export function labPids(state: LabState): Array<{ part: string; pid: number }> {
  return BACK_TO_FRONT.flatMap((p) => p.endpoints(state).pids);
}

/** Every TCP port state.json records (to check nothing listens after `lab down`). */
export function labPorts(state: LabState): number[] {
  return BACK_TO_FRONT.flatMap((p) => p.endpoints(state).ports);
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
  if (state) {
    const d = {
      attempt: async (label: string, stop: () => Promise<void>): Promise<void> => {
        try {
          await stop();
          result.stopped.push(label);
        } catch (err) {
          result.errors.push(`${label}: ${errorMessage(err)}`);
        }
      },
      containersRemoved: (ids: string[]) => void result.containersRemoved.push(...ids),
    };
    for (const part of BACK_TO_FRONT) await part.down(state, d);
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
  sentinels: SentinelView[];
  nginx?: NginxView;
  toxiproxy?: ToxiproxyView;
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
  const status: LabStatus = {
    name: state.name,
    stateDir,
    running: anyAlive(state) || state.replicas.some((r) => r.containerId),
    healthy: false,
    replicasIn: state.replicasIn,
    buffering: state.buffering,
    misconfig: recordedMisconfigs(state.misconfig),
    parts: [],
    sentinels: [],
  };
  if (state.replicaEnv) status.replicaEnv = state.replicaEnv;
  if (state.targetFile) status.targetFile = state.targetFile;
  for (const part of PARTS) {
    const report = await part.status(state, opts);
    status.parts.push(...report.parts);
    if (report.sentinels) status.sentinels.push(...report.sentinels);
    if (report.nginx) status.nginx = report.nginx;
    if (report.toxiproxy) status.toxiproxy = report.toxiproxy;
  }
  status.healthy = status.parts.length > 0 && status.parts.every((p) => p.healthy);
  return status;
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
  endpoints: LabEndpoint[];
}

export function labSummary(state: LabState): LabSummary {
  const summary: LabSummary = {
    name: state.name,
    stateDir: state.stateDir,
    replicasIn: state.replicasIn,
    buffering: state.buffering,
    misconfig: recordedMisconfigs(state.misconfig),
    openwebui: {
      server: state.openwebui?.server ?? 'simulator',
      ...(state.openwebui?.version ? { version: state.openwebui.version } : {}),
    },
    endpoints: BACK_TO_FRONT.flatMap((p) => p.endpoints(state).rows),
  };
  if (state.targetFile) summary.targetFile = state.targetFile;
  if (state.nginx) summary.url = state.nginx.url;
  if (state.admin) summary.admin = { email: state.admin.email };
  return summary;
}
