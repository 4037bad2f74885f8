// The lab's state directory: `state.json` records every process and container the lab started,
// with enough to stop or re-spawn each one from a NEW process (after a crash of `lab up`, for
// `lab down`, for the lab-process replica driver and for `owui-chaos rollback`).

import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DaemonInfo } from './process/daemon.js';
import type { Misconfig, ReplicaEnvFlags } from './misconfig.js';
import type { RedisTopology } from './redis/redis-topology.js';

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
  misconfig?: Misconfig[];
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
