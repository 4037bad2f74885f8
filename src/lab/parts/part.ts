// One lab part (mock LLM, Toxiproxy, Redis + Sentinel, Postgres, replicas, nginx, admin) behind one
// small interface, so everything the lab knows about a part lives in that part's module and
// src/lab/lab.ts keeps only the order, the state file and the cleanup on failure (DESIGN §4).
//
// Contract for every part:
// - `check` looks for what the part needs (binaries, an install, a Docker daemon) and starts
//   nothing: every part's check runs before any part's `up`.
// - `up` starts the part, records it in `ctx.state` and saves the state right after each spawn
//   (so `lab down` from another process can always stop it), and resolves only once the part is
//   healthy; it throws a PreflightError naming the part otherwise.
// - `status` probes what the state records from outside and never changes anything.
// - `down` stops what the state records; idempotent; each stop goes through `d.attempt`, which
//   records the part as stopped or its error.
// - `endpoints` lists what the state records: table rows, pids and TCP ports.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type Docker from 'dockerode';
import type { LabProxyRecord, LabState } from '../../infra/lab-state.js';
import { spawnDaemon, type DaemonInfo } from '../../infra/process/daemon.js';
import type { MisconfigPlan } from '../misconfig.js';
import type { OpenWebuiInstall } from '../openwebui/install.js';
import { LAB_DIR_ENV, RUN_JS } from './names.js';

export type ReplicasIn = 'process' | 'docker';
export type Buffering = 'on' | 'off';

/** `labUp`'s options with their defaults applied. */
export interface LabUpSettings {
  name: string;
  stateDir: string;
  replicaCount: number;
  replicasIn: ReplicasIn;
  /** Budget for each part to become healthy. */
  budgetMs: number;
  openwebui: 'simulator' | 'real';
  openwebuiVersion: string;
  /** Budget for each real Open WebUI replica to become ready. */
  replicaBudgetMs: number;
}

/** What `check` found, for `up` (and for the state file: the Open WebUI install). */
export interface LabPrepared {
  nginxBinary?: string;
  install?: OpenWebuiInstall;
  docker?: Docker;
}

/** Values one part hands to later ones, each picked once, when first asked for. */
export interface LabWiring {
  /** nginx's port and every replica's, picked up front: nginx and CORS need them all. */
  ports(): Promise<{ nginx: number; replicas: number[] }>;
  /** The misconfiguration plan (needs the Redis master's proxy, so only after the Redis part). */
  plan(): MisconfigPlan;
}

/** What `check` sees: the settings, and where it leaves what it found. */
export type LabCheckContext = Pick<LabUpContext, 'settings' | 'prepared'>;

export interface LabUpContext {
  readonly settings: LabUpSettings;
  readonly state: LabState;
  readonly prepared: LabPrepared;
  readonly wiring: LabWiring;
  /** Writes the state file (atomic). */
  save(): void;
  progress(message: string): void;
}

export interface LabPartStatus {
  part: 'mock-llm' | 'toxiproxy' | 'redis' | 'sentinel' | 'postgres' | 'replica' | 'nginx';
  name: string;
  endpoint: string;
  pid?: number;
  containerId?: string;
  healthy: boolean;
  detail: string;
}

export interface SentinelView {
  name: string;
  port: number;
  master?: string;
  error?: string;
}

export interface NginxView {
  url: string;
  probes: number;
  upstreams: Record<string, number>;
  replicas: Record<string, number>;
  errors: number;
}

export interface ToxiproxyView {
  url: string;
  proxies: Array<{ name: string; listen: string; upstream: string; enabled: boolean; toxics: unknown[] }>;
}

/** One part's answer to `status`: its rows, and the views only it can give. */
export interface PartStatusReport {
  parts: LabPartStatus[];
  sentinels?: SentinelView[];
  nginx?: NginxView;
  toxiproxy?: ToxiproxyView;
}

export interface LabStatusOptions {
  nginxProbes?: number;
}

/** One row of the endpoint table (`lab up`). */
export interface LabEndpoint {
  part: string;
  name: string;
  endpoint: string;
  pid?: number;
  container?: string;
}

export interface PartEndpoints {
  rows: LabEndpoint[];
  /** Every pid the state records, with a part name. */
  pids: Array<{ part: string; pid: number }>;
  /** Every TCP port the state records (to check nothing listens after `lab down`). */
  ports: number[];
}

export interface LabDownContext {
  /** Runs one stop; records `label` as stopped, or its error. */
  attempt(label: string, stop: () => Promise<void>): Promise<void>;
  /** Containers removed (Docker replicas). */
  containersRemoved(ids: string[]): void;
}

export interface LabPart {
  readonly name: string;
  check?(ctx: LabCheckContext): Promise<void> | void;
  up(ctx: LabUpContext): Promise<void>;
  status(state: LabState, opts: LabStatusOptions): Promise<PartStatusReport>;
  down(state: LabState, d: LabDownContext): Promise<void>;
  endpoints(state: LabState): PartEndpoints;
}

export const NO_ENDPOINTS: PartEndpoints = { rows: [], pids: [], ports: [] };

/** The endpoints of a part that is one process on one port (mock LLM, nginx, Postgres). */
export function oneProcessEndpoints(
  part: string,
  rec: { pid: number; port: number; endpoint: string } | undefined,
): PartEndpoints {
  if (!rec) return NO_ENDPOINTS;
  return {
    rows: [{ part, name: part, endpoint: rec.endpoint, pid: rec.pid }],
    pids: [{ part, pid: rec.pid }],
    ports: [rec.port],
  };
}

/** `<stateDir>/<part>`, created. */
export function partDir(stateDir: string, part: string): string {
  const dir = join(stateDir, part);
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function hostPort(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  return { host: listen.slice(0, i) || '127.0.0.1', port: Number(listen.slice(i + 1)) };
}

/** The proxy a part created earlier (the lab's order guarantees it is there). */
export function proxyNamed(state: LabState, name: string): LabProxyRecord {
  const proxy = state.toxiproxy?.proxies.find((p) => p.name === name);
  if (!proxy) throw new Error(`the lab has no Toxiproxy proxy \`${name}\` yet (parts out of order?)`);
  return proxy;
}

/** Spawns `node bin/run.js <args>` as a detached lab daemon. */
export async function spawnCli(
  stateDir: string,
  dir: string,
  name: string,
  args: string[],
): Promise<DaemonInfo> {
  return spawnDaemon({
    name,
    command: process.execPath,
    args: [RUN_JS, ...args],
    logFile: join(dir, `${name}.log`),
    env: { ...process.env, [LAB_DIR_ENV]: stateDir },
    cwd: dir,
  });
}
