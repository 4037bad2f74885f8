// The HA guides' deployment mistakes as lab switches (`owui-chaos lab up --misconfig NAME,…`,
// docs/lab-misconfig.md). This module owns the catalogue: for every name, what it changes in the
// lab's nginx config and in each replica's environment. It is pure (no I/O), so the lab for the
// simulator, the lab for real Open WebUI and the tests all build a mistake from the same plan.
//
// Contract:
// - `parseMisconfigs` accepts `NAME[,NAME…]` (also several flags), `short-read-timeout[=DURATION]`;
//   an unknown name, a duplicate, or a value where none is taken throws a UsageError that lists the
//   valid names.
// - `planMisconfig(list, ctx)` returns the nginx tweaks and one env override per replica
//   (index 0 = `owui-1`). Overrides use Open WebUI's OWN variables (WEBUI_SECRET_KEY, REDIS_URL,
//   REDIS_SENTINEL_HOSTS, WEBSOCKET_REDIS_URL, WEBSOCKET_SENTINEL_HOSTS, WEBSOCKET_MANAGER,
//   CORS_ALLOW_ORIGIN), so applying them to real Open WebUI replicas builds the same mistake.
//   `null` means "unset this variable".
// - `parseReplicaEnv` reads `--replica-env KEY=VALUE` / `N:KEY=VALUE` (N is 1-based, as in
//   `owui-N`); `replicaEnvFor` merges, in this order (later wins): the lab's own env < the
//   misconfig plan < `--replica-env KEY=VALUE` < `--replica-env N:KEY=VALUE`.

import { parseDuration } from '../core/clock.js';
import { UsageError } from '../core/errors.js';
import type { MisconfigRecord, ReplicaEnvFlags } from '../infra/lab-state.js';
import { NGINX_DEFAULTS, type NginxConfigOptions } from './nginx/nginx-config.js';

export const MISCONFIG_NAMES = [
  'buffering',
  'http1.0-upstream',
  'no-upgrade-headers',
  'short-read-timeout',
  'secret-per-replica',
  'pinned-redis-master',
  'local-websocket-manager',
  'cors-mismatch',
] as const;
export type MisconfigName = (typeof MISCONFIG_NAMES)[number];

/** One switch as given (`value` only for the switches that take one). */
export interface Misconfig {
  name: MisconfigName;
  value?: string;
}

export interface MisconfigInfo {
  name: MisconfigName;
  /** Where the mistake lives. */
  layer: 'nginx' | 'replica-env';
  /** What the switch changes, in one line. */
  change: string;
  /** The symptom a user of the deployment sees. */
  symptom: string;
  /** Default of the switch's value, when it takes one. */
  defaultValue?: string;
}

export const DEFAULT_SHORT_READ_TIMEOUT = '5s';
/** An origin no lab site has: `cors-mismatch` allows only this one. */
export const FOREIGN_ORIGIN = 'https://owui.example.invalid';

export const MISCONFIG_CATALOGUE: Readonly<Record<MisconfigName, MisconfigInfo>> = {
  buffering: {
    name: 'buffering',
    layer: 'nginx',
    change:
      'nginx `proxy_buffering on` for plain HTTP (with the HTTP/1.0 upstream it comes with in the field)',
    symptom: 'SSE tokens arrive in bursts; time to first token approaches the whole stream time',
  },
  'http1.0-upstream': {
    name: 'http1.0-upstream',
    layer: 'nginx',
    change: 'nginx `proxy_http_version 1.0` to the replicas (nginx\u2019s default), in every location',
    symptom: 'websocket handshakes cannot be proxied (HTTP/1.0 has no Upgrade); no upstream keep-alive',
  },
  'no-upgrade-headers': {
    name: 'no-upgrade-headers',
    layer: 'nginx',
    change: 'nginx does not forward the `Upgrade` / `Connection` headers',
    symptom: 'every websocket handshake gets HTTP 400; browsers never connect their socket',
  },
  'short-read-timeout': {
    name: 'short-read-timeout',
    layer: 'nginx',
    change: 'nginx `proxy_read_timeout` short (default 5s) instead of the long stream timeout',
    symptom: 'a stream or socket silent for longer than the timeout is cut by nginx (504 or a closed socket)',
    defaultValue: DEFAULT_SHORT_READ_TIMEOUT,
  },
  'secret-per-replica': {
    name: 'secret-per-replica',
    layer: 'replica-env',
    change: 'each replica gets its own `WEBUI_SECRET_KEY`',
    symptom: 'a token signed by one replica gets HTTP 401 on another; sessions break at random',
  },
  'pinned-redis-master': {
    name: 'pinned-redis-master',
    layer: 'replica-env',
    change:
      '`REDIS_URL` / `WEBSOCKET_REDIS_URL` name the current master directly; no `REDIS_SENTINEL_HOSTS` / `WEBSOCKET_SENTINEL_HOSTS`',
    symptom: 'after a Sentinel failover the replicas keep writing to the demoted node: READONLY errors',
  },
  'local-websocket-manager': {
    name: 'local-websocket-manager',
    layer: 'replica-env',
    change: '`WEBSOCKET_MANAGER` unset: Socket.IO rooms are local to each replica',
    symptom: 'a chat answered by another replica than the browser\u2019s socket never reaches it',
  },
  'cors-mismatch': {
    name: 'cors-mismatch',
    layer: 'replica-env',
    change: `\`CORS_ALLOW_ORIGIN\` names another site (${FOREIGN_ORIGIN}) than the one users open`,
    symptom:
      'the Socket.IO handshake of every browser is refused ("… is not an accepted origin."); HTTP works',
  },
};

function validNamesText(): string {
  return MISCONFIG_NAMES.join(', ');
}

function misconfigUsage(message: string): UsageError {
  return new UsageError(`${message}. Valid --misconfig names: ${validNamesText()}`, {
    code: 'MISCONFIG_INVALID',
    suggestions: [
      'owui-chaos lab up --misconfig no-upgrade-headers',
      'owui-chaos lab up --misconfig short-read-timeout=5s,secret-per-replica',
    ],
  });
}

function isMisconfigName(name: string): name is MisconfigName {
  return (MISCONFIG_NAMES as readonly string[]).includes(name);
}

/** `NAME[,NAME…]`, possibly from several flags; values as `NAME=VALUE`. */
export function parseMisconfigs(input: string | readonly string[] | undefined): Misconfig[] {
  if (input === undefined) return [];
  const items = (typeof input === 'string' ? [input] : input)
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const out: Misconfig[] = [];
  for (const item of items) {
    const eq = item.indexOf('=');
    const name = (eq < 0 ? item : item.slice(0, eq)).trim();
    const value = eq < 0 ? undefined : item.slice(eq + 1).trim();
    if (!isMisconfigName(name)) throw misconfigUsage(`Unknown misconfiguration \`${name}\``);
    if (out.some((m) => m.name === name)) throw misconfigUsage(`Misconfiguration \`${name}\` is given twice`);
    const info = MISCONFIG_CATALOGUE[name];
    if (value !== undefined && info.defaultValue === undefined) {
      throw misconfigUsage(`Misconfiguration \`${name}\` takes no value (got \`${item}\`)`);
    }
    const m: Misconfig = { name };
    if (info.defaultValue !== undefined)
      m.value = value === undefined || value === '' ? info.defaultValue : value;
    if (name === 'short-read-timeout') readTimeoutSeconds(m.value!);
    out.push(m);
  }
  return out;
}

/** `short-read-timeout=5s` → 5; the value must be a positive duration below nginx's default 60 s. */
export function readTimeoutSeconds(value: string): number {
  let ms: number;
  try {
    ms = parseDuration(/^\d+(\.\d+)?$/.test(value.trim()) ? `${value}s` : value);
  } catch {
    throw misconfigUsage(`short-read-timeout=${value} is not a duration (use e.g. 5s or 500ms)`);
  }
  if (ms < 1 || ms >= 60_000) {
    throw misconfigUsage(
      `short-read-timeout=${value} is not short: use a duration from 1ms to 59s (nginx's default is 60s)`,
    );
  }
  return ms / 1000;
}

export function formatMisconfig(m: Misconfig): string {
  return m.value === undefined ? m.name : `${m.name}=${m.value}`;
}

/** The switches a state file records, as the catalogue knows them (unknown names are dropped). */
export function recordedMisconfigs(records: readonly MisconfigRecord[] | undefined): Misconfig[] {
  const known = new Set<string>(MISCONFIG_NAMES);
  return (records ?? []).flatMap((m) =>
    known.has(m.name)
      ? [{ name: m.name as MisconfigName, ...(m.value !== undefined ? { value: m.value } : {}) }]
      : [],
  );
}

export function formatMisconfigs(list: readonly Misconfig[]): string {
  return list.length === 0 ? 'none' : list.map(formatMisconfig).join(',');
}

// ─── the plan ───────────────────────────────────────────────────────────────────────────────────

/** What the misconfigurations change in the lab's nginx config (see NginxConfigOptions). */
export interface NginxTweaks {
  buffering?: 'on';
  httpVersion?: '1.0';
  upgradeHeaders?: false;
  readTimeoutS?: number;
}

/** The nginx render options for the tweaks (spread them over the lab's own options). */
export function nginxOptionsFor(
  tweaks: NginxTweaks,
): Pick<NginxConfigOptions, 'httpVersion' | 'upgradeHeaders' | 'readTimeoutS' | 'sendTimeoutS'> &
  Partial<Pick<NginxConfigOptions, 'buffering'>> {
  return {
    ...(tweaks.buffering ? { buffering: tweaks.buffering } : {}),
    ...(tweaks.httpVersion ? { httpVersion: tweaks.httpVersion } : {}),
    ...(tweaks.upgradeHeaders === false ? { upgradeHeaders: false } : {}),
    // Only reads are the mistake: sends keep the long default.
    ...(tweaks.readTimeoutS !== undefined
      ? { readTimeoutS: tweaks.readTimeoutS, sendTimeoutS: NGINX_DEFAULTS.readTimeoutS }
      : {}),
  };
}

/** KEY → value; `null` unsets the variable. */
export type EnvOverride = Record<string, string | null>;

export interface MisconfigContext {
  replicaCount: number;
  /** The lab's WEBUI_SECRET_KEY (the per-replica keys are derived from it). */
  secretKey: string;
  /** Where the replicas reach the current Redis master directly (the lab: its Toxiproxy proxy). */
  redisMaster: { host: string; port: number };
  /** Redis database of REDIS_URL. */
  redisDb?: number;
}

export interface MisconfigPlan {
  misconfigs: Misconfig[];
  nginx: NginxTweaks;
  /** One override per replica; index 0 is `owui-1`. */
  replicaEnv: EnvOverride[];
}

export function planMisconfig(list: readonly Misconfig[], ctx: MisconfigContext): MisconfigPlan {
  const nginx: NginxTweaks = {};
  const common: EnvOverride = {};
  const perReplica: EnvOverride[] = Array.from({ length: ctx.replicaCount }, () => ({}));
  for (const m of list) {
    switch (m.name) {
      case 'buffering':
        nginx.buffering = 'on';
        break;
      case 'http1.0-upstream':
        nginx.httpVersion = '1.0';
        break;
      case 'no-upgrade-headers':
        nginx.upgradeHeaders = false;
        break;
      case 'short-read-timeout':
        nginx.readTimeoutS = readTimeoutSeconds(m.value ?? DEFAULT_SHORT_READ_TIMEOUT);
        break;
      case 'secret-per-replica':
        perReplica.forEach((env, i) => (env.WEBUI_SECRET_KEY = `${ctx.secretKey}-replica-${i + 1}`));
        break;
      case 'pinned-redis-master': {
        const url = `redis://${ctx.redisMaster.host}:${ctx.redisMaster.port}/${ctx.redisDb ?? 0}`;
        Object.assign(common, {
          REDIS_URL: url,
          REDIS_SENTINEL_HOSTS: null,
          REDIS_SENTINEL_PORT: null,
          WEBSOCKET_REDIS_URL: url,
          WEBSOCKET_SENTINEL_HOSTS: null,
          WEBSOCKET_SENTINEL_PORT: null,
        });
        break;
      }
      case 'local-websocket-manager':
        common.WEBSOCKET_MANAGER = null;
        break;
      case 'cors-mismatch':
        common.CORS_ALLOW_ORIGIN = FOREIGN_ORIGIN;
        break;
    }
  }
  return {
    misconfigs: [...list],
    nginx,
    replicaEnv: perReplica.map((env) => ({ ...common, ...env })),
  };
}

// ─── --replica-env ──────────────────────────────────────────────────────────────────────────────

export function parseReplicaEnv(items: readonly string[] | undefined, replicaCount: number): ReplicaEnvFlags {
  const out: ReplicaEnvFlags = { all: {}, byReplica: {} };
  for (const raw of items ?? []) {
    const m = /^(?:(\d+):)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(raw);
    if (!m) {
      throw new UsageError(`--replica-env \`${raw}\` is not KEY=VALUE or N:KEY=VALUE`, {
        code: 'REPLICA_ENV_INVALID',
        suggestions: [
          'owui-chaos lab up --replica-env WEBSOCKET_MANAGER=',
          'owui-chaos lab up --replica-env 2:WEBUI_SECRET_KEY=other',
        ],
      });
    }
    const [, index, key, value] = m;
    if (index === undefined) {
      out.all[key!] = value!;
      continue;
    }
    const n = Number(index);
    if (n < 1 || n > replicaCount) {
      throw new UsageError(
        `--replica-env \`${raw}\` names replica ${n}, but the lab has replicas 1 to ${replicaCount}`,
        { code: 'REPLICA_ENV_INVALID', suggestions: [`owui-chaos lab up --replica-env 1:${key}=${value}`] },
      );
    }
    (out.byReplica[n] ??= {})[key!] = value!;
  }
  return out;
}

/** Applies overrides in order; `null` deletes. */
export function applyEnv(
  base: Record<string, string>,
  ...overrides: Array<EnvOverride | undefined>
): Record<string, string> {
  const env = { ...base };
  for (const o of overrides) {
    if (!o) continue;
    for (const [k, v] of Object.entries(o)) {
      if (v === null) delete env[k];
      else env[k] = v;
    }
  }
  return env;
}

/** The env of replica `index` (0-based): base < plan < --replica-env < --replica-env N:. */
export function replicaEnvFor(
  base: Record<string, string>,
  index: number,
  plan: MisconfigPlan | undefined,
  flags: ReplicaEnvFlags | undefined,
): Record<string, string> {
  return applyEnv(base, plan?.replicaEnv[index], flags?.all, flags?.byReplica[index + 1]);
}
