// The lab's state directory: `state.json` records every process and container the lab started,
// with enough to stop or re-spawn each one from a NEW process (after a crash of `lab up`, for
// `lab down`, for the lab-process replica driver and for `owui-chaos rollback`).
// The file is the contract between the lab (src/lab, which writes it) and the drivers that change
// a running lab (src/drivers), so its schema lives here, outside both: drivers never import the lab.

import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DaemonInfo } from './process/daemon.js';

/** One `lab up --misconfig` switch as recorded (names and meaning: src/lab/misconfig.ts). */
export interface MisconfigRecord {
  name: string;
  value?: string;
}

/** `lab up --replica-env` as given. */
export interface ReplicaEnvFlags {
  /** `KEY=VALUE`: every replica. */
  all: Record<string, string>;
  /** `N:KEY=VALUE`: replica `owui-N` only. */
  byReplica: Record<number, Record<string, string>>;
}

export interface RedisNodeInfo extends DaemonInfo {
  role: 'master' | 'replica' | 'sentinel';
  port: number;
}

export interface RedisTopology {
  masterName: string;
  master: RedisNodeInfo;
  replica: RedisNodeInfo;
  sentinels: RedisNodeInfo[];
}

/** The lab's own Postgres cluster (src/lab/postgres/postgres.ts). */
export interface PostgresRecord extends DaemonInfo {
  port: number;
  dataDir: string;
  binDir: string;
  user: string;
  database: string;
  /** The OS user the cluster runs as, when the lab runs as root. */
  osUser?: string;
  version: string;
}

/** How to (re)start a replica: the exact command, args and env it was started with. */
export interface SpawnRecord {
  command: string;
  args: string[];
  env: Record<string, string>;
  logFile: string;
}

export interface LabReplicaRecord {
  name: string;
  port: number;
  url: string;
  mode: 'process' | 'docker';
  /** process mode: current pid (updated on restart). */
  pid?: number;
  /** docker mode */
  containerId?: string;
  containerName?: string;
  spawn: SpawnRecord;
  /** What runs: the lab's simulator (default) or real Open WebUI. */
  server?: 'simulator' | 'openwebui';
  /** Real Open WebUI: the installed version, then the version it reported at start. */
  version?: string;
  /** Spawn → /health and /ready both 200, at `lab up`. */
  startupMs?: number;
  /** Resident memory right after start-up (process and children). */
  rssBytes?: number;
}

export interface LabProxyRecord {
  name: string;
  listen: string;
  upstream: string;
}

export interface LabState {
  schemaVersion: 1;
  name: string;
  stateDir: string;
  createdAt: string;
  /** pid of the `lab up` process (may be gone; the lab outlives it). */
  ownerPid: number;
  replicasIn: 'process' | 'docker';
  buffering: 'on' | 'off';
  /** Which Open WebUI the replicas are (absent: the simulator, labs from before this field). */
  openwebui?: { server: 'simulator' | 'real'; version?: string; venv?: string };
  /** The lab's own Postgres cluster (real Open WebUI only). */
  postgres?: PostgresRecord;
  mockLlm?: DaemonInfo & { port: number; url: string };
  toxiproxy?: { url: string; port: number; real: boolean; daemon?: DaemonInfo; proxies: LabProxyRecord[] };
  redis?: RedisTopology;
  replicas: LabReplicaRecord[];
  nginx?: DaemonInfo & { port: number; url: string; configFile: string; prefix: string; binary: string };
  /** The lab's target file (DESIGN §3), YAML. */
  targetFile?: string;
  /** Lab credentials (local, throwaway). */
  admin?: { email: string; password: string };
  secretKey?: string;
  /** The misconfigurations the lab was built with (`lab up --misconfig`); absent/empty = healthy. */
  misconfig?: MisconfigRecord[];
  /** `lab up --replica-env` as given (already applied to each replica's `spawn.env`). */
  replicaEnv?: ReplicaEnvFlags;
}

export const STATE_FILE = 'state.json';

export function labStatePath(stateDir: string): string {
  return join(stateDir, STATE_FILE);
}

export function readLabState(stateDir: string): LabState | undefined {
  const file = labStatePath(stateDir);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as LabState;
}

/** Atomic write (rename), so a crash never leaves a half-written state file. */
export function writeLabState(state: LabState): void {
  mkdirSync(state.stateDir, { recursive: true });
  const file = labStatePath(state.stateDir);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2));
  renameSync(tmp, file);
}

/** Default state root: $OWUI_CHAOS_HOME, else ./.owui-chaos; each lab is `<root>/labs/<name>`. */
export function defaultLabStateDir(name = 'default', env: NodeJS.ProcessEnv = process.env): string {
  const root = env.OWUI_CHAOS_HOME ?? join(process.cwd(), '.owui-chaos');
  return join(root, 'labs', name);
}
