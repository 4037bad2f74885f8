// What an Open WebUI version does differently on the wire (docs/openwebui-protocol.md §1). The simulator
// reads `OWUI_SIM_VERSION` once and asks this table; nothing else compares version numbers.
//
// Contract: `versionFeatures(v)` is pure. Boundaries come from the version matrix; where the matrix
// only names the two ends (JWT claims and the API-key switch: "0.6.x" vs "v0.11"), the switch is
// placed at 0.7.0 and marked "assumed" below.

/**
 * `responses` (≥ 0.12, verified on 0.12.4): text streams as `response:completion` events carrying
 * Responses-API `response.output_text.delta` increments; only the final `chat:completion` frame
 * (`done`, `output`) has the whole text.
 */
export type PayloadShape = 'content' | 'both' | 'output' | 'responses';
export type OriginCheck = 'none' | 'literal-star' | 'normal';

export interface VersionFeatures {
  version: string;
  /** Socket event carrying chat updates. */
  eventName: 'events' | 'chat-events';
  originCheck: OriginCheck;
  /** ≥ 0.6.37: emits go to room `user:{id}`; before, to the user's sids plus `session_id`. */
  emitToUserRoom: boolean;
  /** ≤ 0.6.40: `{p}:user_pool` hash (user → sids), never cleaned. */
  userPool: boolean;
  /** ≥ 0.6.41: `heartbeat` event, 120 s session reaper, sign-in rate limiter. */
  heartbeat: boolean;
  /** `/api/version` carries `deployment_id`. */
  deploymentId: boolean;
  /** JWT claims `{id, exp, jti, iat}` and the per-request revocation GETs (assumed from 0.7.0). */
  jwtFullClaims: boolean;
  /** The `iat` claim (absent on 0.8.12, verified; present on 0.11/0.12.4). */
  jwtIat: boolean;
  /** API-key switch name and default (assumed to change at 0.7.0). */
  apiKeySwitch: { env: 'ENABLE_API_KEYS' | 'ENABLE_API_KEY'; defaultOn: boolean };
  /** ≥ 0.8.11: `/ready`. */
  readyEndpoint: boolean;
  /** ≥ 0.9.0: reply `{status, task_ids, chat_id}`, chat created on `parent_id:null`, per-task stop admin-only. */
  taskIdsReply: boolean;
  payload: PayloadShape;
  /** ≤ 0.9.5: every config read is a Redis GET of `{p}:config:{key}`. */
  configReadsInRedis: boolean;
}

/** Parses `0.11.0`, `v0.6.30`, `0.6.30-dev` into a comparable triple; bad input throws. */
export function parseVersion(text: string): [number, number, number] {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not an Open WebUI version; use e.g. 0.11.0 or 0.6.30`);
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

export function compareVersions(a: string, b: string): number {
  const x = parseVersion(a);
  const y = parseVersion(b);
  for (let i = 0; i < 3; i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

export function versionFeatures(version: string): VersionFeatures {
  const atLeast = (v: string): boolean => compareVersions(version, v) >= 0;
  const atMost = (v: string): boolean => compareVersions(version, v) <= 0;
  const fullClaims = atLeast('0.7.0');
  return {
    version: parseVersion(version).join('.'),
    eventName: atLeast('0.6.34') ? 'events' : 'chat-events',
    originCheck: atMost('0.6.34') ? 'none' : atMost('0.6.35') ? 'literal-star' : 'normal',
    emitToUserRoom: atLeast('0.6.37'),
    userPool: atMost('0.6.40'),
    heartbeat: atLeast('0.6.41'),
    deploymentId: atLeast('0.6.42'),
    jwtFullClaims: fullClaims,
    jwtIat: atLeast('0.11.0'),
    apiKeySwitch: fullClaims
      ? { env: 'ENABLE_API_KEYS', defaultOn: false }
      : { env: 'ENABLE_API_KEY', defaultOn: true },
    readyEndpoint: atLeast('0.8.11'),
    taskIdsReply: atLeast('0.9.0'),
    // 0.8.12 streams `{content}` snapshots (verified), so `content` up to 0.9.6; `both` stays
    // selectable in code but no version maps to it any more.
    payload: atMost('0.9.6') ? 'content' : atLeast('0.12.0') ? 'responses' : 'output',
    configReadsInRedis: atMost('0.9.5'),
  };
}
