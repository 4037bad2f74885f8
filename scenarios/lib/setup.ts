// setup() and the per-VU entry points shared by every scenario file.
//
// setup() runs once per k6 run: it signs in the `OWUI_SIGNIN` users (once each; Open WebUI
// rate-limits sign-ins) when no tokens were handed over, and logs which metrics plain k6 cannot
// measure. The returned data reaches every VU.

import { sleep } from 'k6';
import exec from 'k6/execution';
import http from 'k6/http';
import { behaviourFor, parseVersion } from '../../src/protocol/openwebui.js';
import { runPlainApiChat } from './api-chat.js';
import { BrowserClient } from './browser-client.js';
// Replaced by a stub in bundles built without xk6-sse (src/engines/k6/bundle.ts), so plain k6
// never sees an import of `k6/x/sse`.
import { runXk6ApiChat } from './api-chat-xk6.js';
import { readConfig, readSecrets, type ScenarioConfig, type UserToken } from './config.js';
import { startLoopLagProbe } from './loop-lag.js';

export const config: ScenarioConfig = readConfig(__ENV);

// `open` works only in the init context. Only the first init (__VU 0: options and setup) reads the
// secrets file; the VUs get the users from setup's data and keep no copy of the file.
const secretsFileText: string | undefined =
  __VU === 0 && __ENV['OWUI_SECRETS_FILE'] ? open(__ENV['OWUI_SECRETS_FILE']) : undefined;

export interface SetupData {
  apiTokens: string[];
  users: UserToken[];
}

export function sharedSetup(): SetupData {
  const secrets = readSecrets(__ENV, secretsFileText);
  const users = [...secrets.userTokens];
  if (users.length === 0) {
    for (const u of secrets.signIn) {
      const res = http.post(
        `${config.baseUrl}/api/v1/auths/signin`,
        JSON.stringify({ email: u.email, password: u.password }),
        {
          headers: { 'Content-Type': 'application/json' },
          tags: { endpoint: '/api/v1/auths/signin' },
        },
      );
      const body = res.status === 200 ? (res.json() as { token?: unknown; id?: unknown } | null) : null;
      if (!body || typeof body.token !== 'string') {
        exec.test.abort(
          `sign-in of ${u.email} failed with HTTP ${res.status}; check OWUI_SIGNIN (429 = wait 3 min)`,
        );
        break;
      }
      users.push(typeof body.id === 'string' ? { token: body.token, id: body.id } : { token: body.token });
    }
  }
  if (config.chat && config.sse === 'plain') {
    console.warn(
      'owui-chaos: plain k6 reads response bodies whole: ttft, itl, tpot, burst_size, client_lag and split_event_rate are NOT measured for API chats (ttfb is). Use the xk6-sse build to time events.',
    );
  }
  if (config.sockets && users.length === 0) {
    exec.test.abort(
      'browser clients need user tokens (OWUI_USER_TOKENS or OWUI_SIGNIN); API keys cannot open a socket',
    );
  }
  const apiTokens = secrets.apiTokens.length > 0 ? secrets.apiTokens : users.map((u) => u.token);
  return { apiTokens, users };
}

/** 31-bit seed per iteration, different across VUs and runners, for the ground-truth directive. */
function iterationSeed(): number {
  return Math.floor(Math.random() * 2_147_483_647);
}

function pick<T>(list: readonly T[], index: number): T | undefined {
  return list.length === 0 ? undefined : list[index % list.length];
}

export function apiChat(data: SetupData): void {
  const token = pick(data.apiTokens, exec.vu.idInTest);
  const input = { config, token, seed: iterationSeed() };
  if (config.sse === 'xk6') runXk6ApiChat(input);
  else runPlainApiChat(input);
  const think = config.chat?.ratePerSecond === undefined ? (config.chat?.thinkTimeMs ?? 0) : 0;
  if (think > 0) sleepMs(think);
}

export function browserClient(data: SetupData): void {
  const user = pick(data.users, exec.vu.idInTest);
  if (!user) return;
  const startedAt = exec.scenario.startTime;
  const probe = config.loopLagProbe;
  if (probe && exec.vu.idInTest <= probe.vus) startLoopLagProbe(probe.everyMs, startedAt + config.durationMs);
  new BrowserClient({
    config,
    behaviour: behaviourFor(parseVersion(config.version)),
    user,
    endAtMs: startedAt + config.durationMs,
    random: Math.random,
  }).start();
}

function sleepMs(ms: number): void {
  // k6's sleep takes seconds.
  sleep(ms / 1000);
}
