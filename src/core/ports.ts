// Ports: the interfaces core uses to reach the outside world. One adapter per technology lives in
// src/drivers/<tech>/ (dockerode, ioredis, toxiproxy-node-client, nginx binary, lab processes)
// and src/engines/<name>/. core never imports those adapters or their SDKs.

import type { ToxicType } from './faults/toxic-types.js';
import type { SampleSink } from './samples.js';

export type { RevertRecord } from './faults/revert-record.js';
export { TOXIC_ATTRIBUTES, TOXIC_TYPES, type ToxicType } from './faults/toxic-types.js';

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

export interface KillMasterResult {
  /** Set when the promotion was awaited. */
  newMaster?: RedisNodeAddress;
  /** Kill → promotion observed. */
  promotionMs?: number;
}

export interface ReplicationHealth {
  /** Empty when replication is as it should be. */
  problems: string[];
  /** The master the Sentinels agree on. */
  master?: string;
}

export interface SentinelDriver {
  /** The name Sentinel monitors the master under. */
  readonly masterName: string;
  /** The master a majority of the Sentinels names. */
  currentMaster(): Promise<RedisNodeAddress>;
  failover(budgetMs: number): Promise<FailoverResult>;
  /** Kills the data node at `node` (the master); with a budget, waits until Sentinel promotes another. */
  killNode(node: RedisNodeAddress, opts: { promotionBudgetMs?: number }): Promise<KillMasterResult>;
  /** Starts the node again if it does not answer, then waits until it rejoins (as a replica). */
  restartNode(node: RedisNodeAddress, budgetMs?: number): Promise<unknown>;
  replicationHealth(): Promise<ReplicationHealth>;
  close(): Promise<void>;
}

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
  getProxy(proxy: string): Promise<ProxyInfo>;
  addToxic(proxy: string, toxic: ToxicSpec): Promise<void>;
  /** Idempotent: a toxic that is already gone is not an error. */
  removeToxic(proxy: string, toxic: string): Promise<void>;
  /** Puts a toxic back as it was: updated when it still exists, added when it is gone. */
  restoreToxic(proxy: string, toxic: ToxicSpec): Promise<void>;
  /** Idempotent: setting the state a proxy already has is a no-op. */
  setEnabled(proxy: string, enabled: boolean): Promise<void>;
  /**
   * What has passed through the proxy by now (compare two readings with trafficBetween,
   * src/core/faults/traffic.ts), or undefined when it cannot be read from here.
   */
  traffic(proxy: string): Promise<ProxyTraffic | undefined>;
}

/** One reading of a proxy's traffic. */
export interface ProxyTraffic {
  /** Bytes of the connections that have closed (Toxiproxy's `-proxy-metrics` count), if kept. */
  closedBytes?: number;
  /** Each open connection's bytes by its peer, if the proxy listens on this machine. */
  open?: Record<string, number>;
}

export interface NginxDriver {
  /** Where the config lives: the file (as revert records name it), its container, and for messages. */
  readonly location: { configFile: string; container?: string; where: string };
  /** The config file's exact bytes. */
  readConfig(): Promise<Buffer>;
  /** Writes the bytes, runs `nginx -t`, reloads; restores the previous bytes if the test fails. */
  applyConfig(bytes: Buffer): Promise<void>;
  /**
   * `config` with `proxy_buffering on|off` (a lab-rendered marked block swapped whole), and what the
   * setting was before. Pure: nothing is written.
   */
  withBuffering(config: Buffer, on: boolean): { bytes: Buffer; was: string };
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
    /**
     * With `chatIntervalMs` > 0. Default `paced`: a chat starts every interval, but never before
     * the previous one ended (latency from the actual start). `open`: each client chats on its own
     * schedule from its phase, and an arrival whose previous chat still runs is a `missed_starts`
     * tagged `client: browser`; latency from the intended start (docs/capacity.md "Browser
     * users"). `think`: the classic closed loop — chat, wait for done, think the interval.
     */
    schedule?: 'paced' | 'open' | 'think';
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

/** A live change of a running load (docs/gameday.md): what is given changes, the rest stays. */
export interface LiveLoad {
  /** Closed model: API chat VUs. */
  chatVus?: number;
  /** Open model: API chat arrivals per second. */
  chatRate?: number;
  /** Browser clients (Socket.IO). */
  socketVus?: number;
}

export interface LoadEngine {
  readonly name: string;
  run(
    plan: LoadPlan,
    sink: SampleSink,
    opts: { signal?: AbortSignal; onProgress?: (p: LoadProgress) => void },
  ): Promise<void>;
  /**
   * Changes the load of the run in progress without restarting it (sockets stay connected).
   * Throws UsageError for a change the running plan cannot take. Engines without it refuse
   * live changes.
   */
  setLoad?(load: LiveLoad): void;
}
