// Ports: the interfaces core uses to reach the outside world. One adapter per technology lives in
// src/drivers/<tech>/ (dockerode, ioredis, toxiproxy-node-client, nginx binary, lab processes)
// and src/engines/<name>/. core never imports those adapters or their SDKs.

import type { SampleSink } from './samples.js';

/** What every injected fault gives back. `revert()` is idempotent. */
export interface FaultHandle {
  /** Human description of what is injected, e.g. "latency 500 ms on proxy llm (downstream)". */
  readonly description: string;
  /** Serializable record of how to revert, persisted to the revert stack before injection. */
  readonly revertRecord: RevertRecord;
  revert(): Promise<void>;
}

/** A persisted revert: enough for `owui-chaos rollback` in a new process to undo the fault. */
export interface RevertRecord {
  /** `composite`: `args.records` holds several records, reverted last-first (e.g. two replicas killed). */
  driver: 'replicas' | 'sentinel' | 'toxiproxy' | 'nginx' | 'composite';
  op: string;
  args: Record<string, unknown>;
}

export interface ReplicaInfo {
  /** Stable id the driver understands (container id or lab replica name). */
  id: string;
  name: string;
  state: 'running' | 'paused' | 'stopped' | 'unknown';
  /** Direct URL of the replica when known. */
  url?: string;
}

export type ReplicaAction = 'kill' | 'stop' | 'pause';

/** Replicas as containers (dockerode) or as lab processes (signals). */
export interface ReplicaDriver {
  list(): Promise<ReplicaInfo[]>;
  kill(id: string, signal?: string): Promise<void>;
  stop(id: string): Promise<void>;
  start(id: string): Promise<void>;
  restart(id: string): Promise<void>;
  pause(id: string): Promise<void>;
  unpause(id: string): Promise<void>;
  /** Resolves when the replica answers `/health` (and `/ready` when present) within the budget. */
  waitHealthy(id: string, budgetMs: number): Promise<void>;
}

export interface RedisNodeAddress {
  host: string;
  port: number;
}

export interface FailoverResult {
  oldMaster: RedisNodeAddress;
  newMaster: RedisNodeAddress;
  /** SENTINEL FAILOVER sent → +switch-master observed. */
  promotionMs: number;
}

export interface SentinelDriver {
  currentMaster(): Promise<RedisNodeAddress>;
  failover(budgetMs: number): Promise<FailoverResult>;
  close(): Promise<void>;
}

export type ToxicType =
  'latency' | 'bandwidth' | 'slow_close' | 'timeout' | 'reset_peer' | 'slicer' | 'limit_data';

/** Each toxic type's attributes, as the Toxiproxy HTTP API names them. */
export const TOXIC_ATTRIBUTES: Record<ToxicType, readonly string[]> = {
  latency: ['latency', 'jitter'],
  bandwidth: ['rate'],
  slow_close: ['delay'],
  timeout: ['timeout'],
  reset_peer: ['timeout'],
  slicer: ['average_size', 'size_variation', 'delay'],
  limit_data: ['bytes'],
};

export interface ToxicSpec {
  name: string;
  type: ToxicType;
  stream: 'upstream' | 'downstream';
  toxicity: number;
  attributes: Record<string, number>;
}

export interface ProxyInfo {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
  toxics: ToxicSpec[];
}

export interface ToxiproxyDriver {
  listProxies(): Promise<ProxyInfo[]>;
  addToxic(proxy: string, toxic: ToxicSpec): Promise<void>;
  removeToxic(proxy: string, toxic: string): Promise<void>;
  setEnabled(proxy: string, enabled: boolean): Promise<void>;
  /** Enables every proxy and removes every toxic. */
  reset(): Promise<void>;
}

export interface NginxDriver {
  /** The config file's exact bytes. */
  readConfig(): Promise<Buffer>;
  /** Writes the bytes, runs `nginx -t`, reloads; restores the previous bytes if the test fails. */
  applyConfig(bytes: Buffer): Promise<void>;
}

/** What a load run should do; built from the experiment's `load` section or `owui-chaos load` flags. */
export interface LoadPlan {
  durationMs: number;
  baseUrl: string;
  model: string;
  chat?: {
    /** Closed model: virtual users with think time. */
    vus?: number;
    thinkTimeMs?: number;
    /** Open model: arrivals per second. */
    ratePerSecond?: number;
    maxInFlight?: number;
    tokens: number;
  };
  sockets?: {
    vus: number;
    chatIntervalMs?: number;
    tokens: number;
    /** `Origin` the browser clients send; default: the origin of `baseUrl` (what a browser on the site sends). */
    origin?: string;
    /** A socket chat without any event this long after its accepted POST counts as lost at once. */
    eventGraceMs?: number;
  };
}

export interface LoadProgress {
  elapsedMs: number;
  activeStreams: number;
  activeSockets: number;
  completed: number;
  errors: number;
  ttftP95Ms?: number;
}

export interface LoadEngine {
  readonly name: string;
  run(
    plan: LoadPlan,
    sink: SampleSink,
    opts: { signal?: AbortSignal; onProgress?: (p: LoadProgress) => void },
  ): Promise<void>;
}
