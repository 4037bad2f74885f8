// Simulator configuration, built ONLY from environment variables so a replica started as a process
// and one started in a container are configured the same way. Names are Open WebUI's own where it
// has them (docs/openwebui-protocol.md §2, §4, §6.1); `OWUI_SIM_*` are the simulator's additions.
//
// Contract: `configFromEnv(env)` is pure except for one thing: when `WEBUI_SECRET_KEY` is unset it
// generates a random per-process key, as the real container entrypoint does (so tokens do not cross
// replicas). Invalid values throw an Error naming the variable and the accepted form.

import { randomBytes } from 'node:crypto';
import { capacityFromEnv, type CapacityModel } from './capacity.js';
import { versionFeatures, type VersionFeatures } from './version.js';
import { REFERENCE_OPENWEBUI_VERSION } from '../../protocol/openwebui.js';

// The simulator's instance header and the check on it live with the probes that read it.
export { INSTANCE_HEADER, answeredByInstance } from '../../infra/http-probe.js';

export interface RedisNatTarget {
  host: string;
  port: number;
}

export interface SimRedisConfig {
  /** Master-set name (the URL host) when Sentinel is used. */
  masterName: string;
  /** Standalone address (the URL host/port) when no Sentinel hosts are given. */
  host: string;
  port: number;
  username?: string;
  password?: string;
  db: number;
  sentinels: RedisNatTarget[];
  /** Total attempts per proxied command (`REDIS_SENTINEL_MAX_RETRY_COUNT`, values < 1 become 2). */
  maxRetryCount: number;
  /** Sleep between attempts (`REDIS_RECONNECT_DELAY`, ms). */
  reconnectDelayMs: number;
  /** Address rewrite for what Sentinel reports (`OWUI_SIM_REDIS_NATMAP`), e.g. to Toxiproxy ports. */
  natMap?: Record<string, RedisNatTarget>;
}

export type StoreConfig = { kind: 'memory' } | { kind: 'file'; dir: string };

export interface OwuiSimConfig {
  host: string;
  port: number;
  replicaName: string;
  /** Which lab slot this process serves (`X-OWUI-Sim-Instance`), so a health check knows it reached *this* replica. */
  instanceId?: string;
  version: string;
  features: VersionFeatures;
  /** `DEPLOYMENT_ID` (default empty); a changed value makes browser clients reload. */
  deploymentId: string;
  secretKey: string;
  /** True when no key was given and this process made one up. */
  secretGenerated: boolean;
  /** JWT lifetime in ms; undefined = no `exp` claim (`JWT_EXPIRES_IN=-1` or `0`). */
  jwtExpiresMs: number | undefined;
  redis: SimRedisConfig | undefined;
  /** `WEBSOCKET_MANAGER=redis`: cross-replica Socket.IO fan-out and the shared model registry. */
  websocketRedis: boolean;
  keyPrefix: string;
  /** OpenAI-compatible base URL, e.g. `http://127.0.0.1:P/v1`; empty = no upstream. */
  openaiBaseUrl: string;
  openaiApiKey: string;
  /** `CORS_ALLOW_ORIGIN` split on `;`. */
  corsAllowOrigin: string[];
  bypassModelAccessControl: boolean;
  enableApiKeys: boolean;
  userApiKeysPermission: boolean;
  enableSignup: boolean;
  enablePasswordAuth: boolean;
  defaultUserRole: 'pending' | 'user' | 'admin';
  store: StoreConfig;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  /** `CHAT_RESPONSE_STREAM_DELTA_CHUNK_SIZE` (default 1). */
  streamDeltaChunkSize: number;
  /** Session reaper period and idle limit (120 s each in Open WebUI). */
  sessionReaperIntervalMs: number;
  sessionIdleMs: number;
  /** `WEBSOCKET_REDIS_LOCK_TIMEOUT` in seconds. */
  lockTimeoutSec: number;
  /** `OWUI_SIM_MAX_STREAMS` & co (capacity.ts); undefined = no capacity limit. */
  capacity?: CapacityModel | undefined;
}

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** `JWT_EXPIRES_IN`: `4w`, `30m`, `1h30m`… ; `-1` or `0` → undefined (no expiry). */
export function parseJwtExpiry(text: string): number | undefined {
  const t = text.trim();
  if (t === '-1' || t === '0') return undefined;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(t); m; m = re.exec(t)) {
    total += Number(m[1]) * (DURATION_UNITS[m[2] ?? 'ms'] ?? 1);
    matched = re.lastIndex;
  }
  if (matched === 0 || matched !== t.length) {
    throw new Error(`JWT_EXPIRES_IN="${text}" is not a duration; use e.g. 4w, 1h, 30m, or -1 for no expiry`);
  }
  return Math.round(total);
}

function bool(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  return ['true', '1', 'yes', 'on'].includes(v.trim().toLowerCase());
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const v = env[name];
  if (v === undefined || v.trim() === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`${name}="${v}" is not a number`);
  return n;
}

/** Seconds (Open WebUI's unit for ping settings) → ms. */
function seconds(env: NodeJS.ProcessEnv, name: string, fallbackSec: number): number {
  return Math.round(int(env, name, fallbackSec) * 1000);
}

export function parseRedisUrl(
  url: string,
): Pick<SimRedisConfig, 'masterName' | 'host' | 'port' | 'username' | 'password' | 'db'> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`REDIS_URL="${url}" is not a URL; use redis://[:password@]host[:port][/db]`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new Error(`REDIS_URL scheme must be redis or rediss, got "${parsed.protocol.replace(':', '')}"`);
  }
  const host = parsed.hostname || 'mymaster';
  const dbText = parsed.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0)
    throw new Error(`REDIS_URL path "${parsed.pathname}" must be a database number`);
  const out: ReturnType<typeof parseRedisUrl> = {
    masterName: host,
    host,
    port: parsed.port ? Number(parsed.port) : 6379,
    db,
  };
  if (parsed.username) out.username = decodeURIComponent(parsed.username);
  if (parsed.password) out.password = decodeURIComponent(parsed.password);
  return out;
}

function parseNatMap(text: string | undefined): Record<string, RedisNatTarget> | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(
      'OWUI_SIM_REDIS_NATMAP is not JSON; use {"127.0.0.1:6379":{"host":"127.0.0.1","port":7001}}',
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('OWUI_SIM_REDIS_NATMAP must be an object mapping "host:port" to {host, port}');
  }
  const out: Record<string, RedisNatTarget> = {};
  for (const [key, target] of Object.entries(value as Record<string, unknown>)) {
    const t = target as { host?: unknown; port?: unknown } | null;
    if (!t || typeof t.host !== 'string' || typeof t.port !== 'number') {
      throw new Error(`OWUI_SIM_REDIS_NATMAP["${key}"] must be {"host": string, "port": number}`);
    }
    out[key] = { host: t.host, port: t.port };
  }
  return out;
}

export function configFromEnv(env: NodeJS.ProcessEnv): OwuiSimConfig {
  const version = env.OWUI_SIM_VERSION?.trim() || REFERENCE_OPENWEBUI_VERSION;
  const features = versionFeatures(version);
  const givenSecret = env.WEBUI_SECRET_KEY || env.WEBUI_JWT_SECRET_KEY || '';
  const redisUrl = env.REDIS_URL?.trim() ?? '';
  const sentinelHosts = (env.REDIS_SENTINEL_HOSTS ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  const sentinelPort = int(env, 'REDIS_SENTINEL_PORT', 26379);
  let redis: SimRedisConfig | undefined;
  if (redisUrl !== '') {
    const retry = int(env, 'REDIS_SENTINEL_MAX_RETRY_COUNT', 2);
    const natMap = parseNatMap(env.OWUI_SIM_REDIS_NATMAP);
    redis = {
      ...parseRedisUrl(redisUrl),
      // A host may carry its own port (`h:p`); otherwise REDIS_SENTINEL_PORT applies to all.
      sentinels: sentinelHosts.map((h) => {
        const [host, port] = h.split(':');
        return { host: host ?? h, port: port ? Number(port) : sentinelPort };
      }),
      maxRetryCount: retry < 1 ? 2 : Math.floor(retry),
      reconnectDelayMs: Math.max(0, int(env, 'REDIS_RECONNECT_DELAY', 0)),
      ...(natMap ? { natMap } : {}),
    };
  }
  const dbUrl = env.DATABASE_URL?.trim() ?? '';
  let store: StoreConfig = { kind: 'memory' };
  if (dbUrl.startsWith('file:')) {
    const dir = dbUrl.slice('file:'.length).replace(/^\/\/(?=\/)/, '');
    if (dir === '') throw new Error('DATABASE_URL="file:" needs a directory, e.g. file:/tmp/owui-db');
    store = { kind: 'file', dir };
  }
  const role = (env.DEFAULT_USER_ROLE ?? 'pending').trim();
  if (role !== 'pending' && role !== 'user' && role !== 'admin') {
    throw new Error(`DEFAULT_USER_ROLE="${role}" must be pending, user or admin`);
  }
  const port = int(env, 'PORT', 8080);
  return {
    host: env.HOST?.trim() || '127.0.0.1',
    port,
    replicaName: env.OWUI_SIM_REPLICA_NAME?.trim() || `owui-${process.pid}`,
    ...(env.OWUI_SIM_INSTANCE_ID?.trim() ? { instanceId: env.OWUI_SIM_INSTANCE_ID.trim() } : {}),
    version,
    features,
    // Open WebUI's DEPLOYMENT_ID, default empty (verified on 0.12.4); OWUI_SIM_DEPLOYMENT_ID is the
    // simulator's older name for it.
    deploymentId: (env.DEPLOYMENT_ID ?? env.OWUI_SIM_DEPLOYMENT_ID ?? '').trim(),
    secretKey: givenSecret || randomBytes(12).toString('base64url'),
    secretGenerated: givenSecret === '',
    jwtExpiresMs: parseJwtExpiry(env.JWT_EXPIRES_IN ?? '4w'),
    redis,
    websocketRedis: (env.WEBSOCKET_MANAGER ?? '').trim().toLowerCase() === 'redis' && redis !== undefined,
    keyPrefix: env.REDIS_KEY_PREFIX?.trim() || 'open-webui',
    // Unset → no upstream at all (empty model list), rather than Open WebUI's api.openai.com
    // default: the lab never talks to anything but 127.0.0.1.
    openaiBaseUrl: (env.OPENAI_API_BASE_URL?.trim() ?? '').replace(/\/+$/, ''),
    openaiApiKey: env.OPENAI_API_KEY ?? '',
    corsAllowOrigin: (env.CORS_ALLOW_ORIGIN ?? '*')
      .split(';')
      .map((o) => o.trim())
      .filter(Boolean),
    bypassModelAccessControl: bool(env, 'BYPASS_MODEL_ACCESS_CONTROL', false),
    enableApiKeys: bool(env, features.apiKeySwitch.env, features.apiKeySwitch.defaultOn),
    userApiKeysPermission: bool(env, 'USER_PERMISSIONS_FEATURES_API_KEYS', false),
    enableSignup: bool(env, 'ENABLE_SIGNUP', true),
    enablePasswordAuth: bool(env, 'ENABLE_PASSWORD_AUTH', true),
    defaultUserRole: role,
    store,
    pingIntervalMs: seconds(env, 'WEBSOCKET_SERVER_PING_INTERVAL', 25),
    pingTimeoutMs: seconds(env, 'WEBSOCKET_SERVER_PING_TIMEOUT', 20),
    streamDeltaChunkSize: Math.max(1, Math.floor(int(env, 'CHAT_RESPONSE_STREAM_DELTA_CHUNK_SIZE', 1))),
    sessionReaperIntervalMs: 120_000,
    sessionIdleMs: 120_000,
    lockTimeoutSec: Math.max(1, int(env, 'WEBSOCKET_REDIS_LOCK_TIMEOUT', 60)),
    capacity: capacityFromEnv(env),
  };
}
