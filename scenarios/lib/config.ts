// Scenario configuration, read once in k6's init context from `__ENV` (DESIGN §8).
//
// Contract: `OWUI_CONFIG` holds a JSON `ScenarioConfig` (written by K6LoadEngine or
// `owui-chaos k6 export`); secrets never live in it: API streams take `OWUI_API_TOKENS`
// (comma-separated bearer tokens), browser clients `OWUI_USER_TOKENS` (JSON `[{token, id?}]`) or,
// when no tokens were provisioned (k6-operator), `OWUI_SIGNIN` (JSON `[{email, password}]`, each
// signed in ONCE in setup(): Open WebUI rate-limits sign-ins to 15 per 180 s per email).
// `owui-chaos load --engine k6` passes its tokens in `OWUI_SECRETS_FILE` instead (see readSecrets).
// Precedence: defaults < OWUI_CONFIG < the single-value env vars listed in ENV_OVERRIDES.

import type { ScenarioConfig } from '../../src/engines/k6/scenario-config.js';
import { MOCK_MODEL_ID } from '../../src/protocol/ground-truth.js';

export type { ScenarioConfig };

export const DEFAULTS: ScenarioConfig = {
  baseUrl: 'http://127.0.0.1:8080',
  chatPath: '/api/chat/completions',
  model: MOCK_MODEL_ID,
  version: '0.11.0',
  durationMs: 60_000,
  verify: true,
  sse: 'plain',
  gracefulStopMs: 30_000,
};

/** Single-value overrides for quick runs by hand (`k6 run -e OWUI_BASE_URL=… dist/scenarios/chat-sse.js`). */
const ENV_OVERRIDES: Record<string, (c: ScenarioConfig, v: string) => void> = {
  OWUI_BASE_URL: (c, v) => (c.baseUrl = v),
  OWUI_CHAT_PATH: (c, v) => (c.chatPath = v),
  OWUI_MODEL: (c, v) => (c.model = v),
  OWUI_VERSION: (c, v) => (c.version = v),
  OWUI_DURATION_MS: (c, v) => (c.durationMs = Number(v)),
  OWUI_VERIFY: (c, v) => (c.verify = v !== 'false' && v !== '0'),
  OWUI_SSE: (c, v) => (c.sse = v === 'xk6' ? 'xk6' : 'plain'),
  OWUI_LOOP_LAG_PROBE: (c, v) => (c.loopLagProbe = parseLoopLagProbe(v)),
};

/** `<everyMs>:<vus>` (e.g. `50:10`): the bench's timer-drift probe (lib/loop-lag.ts). */
export function parseLoopLagProbe(v: string): { everyMs: number; vus: number } {
  const m = /^(\d+):(\d+)$/.exec(v.trim());
  const everyMs = Number(m?.[1]);
  const vus = Number(m?.[2]);
  if (!m || everyMs < 1 || vus < 1)
    throw new Error(`OWUI_LOOP_LAG_PROBE must be <everyMs>:<vus> with both ≥ 1, e.g. 50:10; got "${v}"`);
  return { everyMs, vus };
}

export function readConfig(env: Record<string, string | undefined>): ScenarioConfig {
  const config: ScenarioConfig = { ...DEFAULTS };
  const json = env['OWUI_CONFIG'];
  if (json !== undefined && json !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(json);
    } catch (e) {
      // k6's JavaScript runtime may lack Error `cause`; the parse error's text is in the message.
      // eslint-disable-next-line preserve-caught-error
      throw new Error(`OWUI_CONFIG is not valid JSON: ${String(e)}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new Error('OWUI_CONFIG must be a JSON object');
    }
    Object.assign(config, parsed);
  }
  for (const [name, apply] of Object.entries(ENV_OVERRIDES)) {
    const v = env[name];
    if (v !== undefined && v !== '') apply(config, v);
  }
  if (!config.chat && !config.sockets) {
    // A bare `k6 run chat-sse.js` still does something useful: one API user.
    config.chat = { vus: 1, thinkTimeMs: 1000, tokens: 120, timeoutMs: 120_000 };
  }
  return config;
}

export interface UserToken {
  token: string;
  id?: string;
}

export interface Secrets {
  apiTokens: string[];
  userTokens: UserToken[];
  signIn: { email: string; password: string }[];
}

/**
 * The secrets from the env vars above and, when given, the text of `OWUI_SECRETS_FILE` (JSON
 * `{ apiTokens?: string[], userTokens?: [{token, id?}] }`, written by `owui-chaos load --engine k6`):
 * the file's entries come first.
 */
export function readSecrets(env: Record<string, string | undefined>, secretsFileText?: string): Secrets {
  const fromEnv = readEnvSecrets(env);
  if (secretsFileText === undefined) return fromEnv;
  let file: { apiTokens?: unknown; userTokens?: unknown };
  try {
    file = JSON.parse(secretsFileText) as typeof file;
  } catch (err) {
    // eslint-disable-next-line preserve-caught-error -- the scenarios' ES lib has no Error `cause`; the message carries it
    throw new Error(`OWUI_SECRETS_FILE is not JSON: ${String(err)}`);
  }
  if (typeof file !== 'object' || file === null) throw new Error('OWUI_SECRETS_FILE must hold a JSON object');
  const apiTokens = Array.isArray(file.apiTokens)
    ? file.apiTokens.filter((t): t is string => typeof t === 'string' && t !== '')
    : [];
  const userTokens = Array.isArray(file.userTokens) ? file.userTokens.filter(isUserToken) : [];
  return {
    apiTokens: [...apiTokens, ...fromEnv.apiTokens],
    userTokens: [...userTokens, ...fromEnv.userTokens],
    signIn: fromEnv.signIn,
  };
}

function isUserToken(u: unknown): u is UserToken {
  return typeof u === 'object' && u !== null && typeof (u as UserToken).token === 'string';
}

function readEnvSecrets(env: Record<string, string | undefined>): Secrets {
  const list = (name: string): unknown[] => {
    const v = env[name];
    if (v === undefined || v === '') return [];
    const parsed: unknown = JSON.parse(v);
    if (!Array.isArray(parsed)) throw new Error(`${name} must be a JSON array`);
    return parsed;
  };
  const apiTokens = (env['OWUI_API_TOKENS'] ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  const userTokens = list('OWUI_USER_TOKENS').filter(isUserToken);
  const signIn = list('OWUI_SIGNIN').filter(
    (u): u is { email: string; password: string } =>
      typeof u === 'object' && u !== null && typeof (u as { email: unknown }).email === 'string',
  );
  return { apiTokens, userTokens, signIn };
}
