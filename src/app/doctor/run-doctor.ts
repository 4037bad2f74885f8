// The `owui-chaos doctor` use case (docs/doctor.md): read-only checks of a live deployment for the
// pitfalls of the Open WebUI HA guides, each backed by a measurement, judged by src/core/doctor.
// Also `run`'s preflight (`preflightChecks`).
//
// Contract:
// - Never injects a fault, never changes configuration. Load is small and bounded: at most two SSE
//   streams, a handful of handshakes, one browser socket, one socket-mode chat (the slow checks,
//   opt-in, add one stream and one socket held for ~65 s). At most one test user is created (when
//   the target provisions users), and a run signs in at most once per email.
// - Checks run in dependency order (identity → auth → secret → the rest) and are reported in the
//   order of CHECK_IDS. A check that cannot run says why (SKIP), e.g. when the target lists no
//   replica URLs, or when an earlier check it depends on failed.
// - Nothing prints: each finished check goes to `onCheck`.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Dispatcher } from 'undici';
import {
  judgeAuth,
  judgeCors,
  judgeDelivery,
  judgeIdentity,
  judgeLimits,
  judgeRedis,
  judgeSecret,
  judgeSse,
  judgeTimeouts,
  judgeWebsocket,
  refusalOf,
  skipped,
  type HandshakeMeasure,
  type Verdict,
} from '../../core/doctor/judge.js';
import {
  CHECK_IDS,
  buildReport,
  type CheckId,
  type CheckResult,
  type DoctorReport,
} from '../../core/doctor/report.js';
import { LAB_TARGET, loadTarget, type Target } from '../../core/config/target.js';
import { OwuiChaosError, UsageError, errorMessage } from '../../core/errors.js';
import { behaviourFor, parseVersion, REFERENCE_OPENWEBUI_VERSION } from '../../protocol/openwebui.js';
import { BrowserClient } from '../../engines/node/browser-client.js';
import { createAgent } from '../../engines/node/http.js';
import { authSourceFromTarget, provisionCredentials } from '../../engines/node/provisioning.js';
import { surveySentinels } from '../../drivers/sentinel/sentinel-survey.js';
import { defaultLabStateDir, readLabState } from '../../infra/lab-state.js';
import { bodyProbe, handshakeProbe, httpProbe, sseStream, tlsProbe, trimSlash } from './probes.js';

import { MOCK_MODEL_ID as MOCK_MODEL } from '../../protocol/ground-truth.js';
/** A foreign Origin for the CORS check (the `.invalid` TLD never resolves). */
export const FOREIGN_ORIGIN = 'https://owui-chaos-doctor.invalid';
/** The slow checks' silence: longer than nginx's default 60 s proxy_read_timeout. */
export const DEFAULT_SILENCE_MS = 65_000;

export interface DoctorOptions {
  /** Checks to run (default all). */
  only?: CheckId[];
  /** Run the slow timeout checks (a silence of `silenceMs` before a first token, an idle socket). */
  slowCheck?: boolean;
  silenceMs?: number;
  /** Upload this many bytes to find client_max_body_size (opt-in). */
  bodySizeBytes?: number;
  onCheck?: (c: CheckResult) => void;
  now?: () => number;
  /** How Open WebUI reaches Redis, when known (the lab's replica env): the pinned-address check. */
  redisConfig?: { redisUrl: string; sentinelHosts: string | undefined; source: string };
  /** A user token the caller already holds (run's preflight): no sign-in; `issuer` names who issued it. */
  user?: { token: string; issuer: string };
}

export interface DoctorRequest extends DoctorOptions {
  /** `lab` (default) or a target file. */
  target?: string;
  labName?: string;
  outDir?: string;
  env?: NodeJS.ProcessEnv;
}

/** Loads the target (`lab` means the running lab `labName`; doctor never starts one) and runs the checks. */
export async function runDoctorFromRequest(req: DoctorRequest): Promise<DoctorReport & { file?: string }> {
  const env = req.env ?? process.env;
  const ref = req.target ?? LAB_TARGET;
  let labTargetFile: string | undefined;
  let redisConfig: DoctorOptions['redisConfig'];
  if (ref === LAB_TARGET) {
    const labName = req.labName ?? 'default';
    const state = readLabState(defaultLabStateDir(labName, env));
    labTargetFile = state?.targetFile;
    // The lab is local: its replicas' env is the deployment's Redis configuration.
    const replicaEnv = state?.replicas[0]?.spawn.env;
    if (replicaEnv?.REDIS_URL !== undefined)
      redisConfig = {
        redisUrl: replicaEnv.REDIS_URL,
        sentinelHosts: replicaEnv.REDIS_SENTINEL_HOSTS,
        source: `env of lab replica ${state!.replicas[0]!.name}`,
      };
    if (labTargetFile === undefined) {
      throw new OwuiChaosError(`The lab \`${labName}\` is not up, and doctor never starts one`, {
        code: 'LAB_NOT_UP',
        exitCode: 3,
        suggestions: [`owui-chaos lab up --name ${labName}`, 'owui-chaos doctor --target ./my-target.yaml'],
      });
    }
  }
  const { target } = await loadTarget(ref, { env, ...(labTargetFile ? { labTargetFile } : {}) });
  const report = await runDoctor(target, {
    ...req,
    ...(redisConfig && req.redisConfig === undefined ? { redisConfig } : {}),
  });
  if (req.outDir !== undefined) {
    const dir = resolve(req.outDir);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'doctor.json');
    writeFileSync(file, JSON.stringify(report, null, 2));
    return { ...report, file };
  }
  return report;
}

interface Ctx {
  target: Target;
  base: string;
  replicas: Array<{ name: string; url: string }>;
  siteOrigin: string;
  verify: boolean;
  dispatcher: Dispatcher;
  results: Map<CheckId, CheckResult>;
  opts: DoctorOptions;
  version?: string;
  /** The doctor's user: a JWT (for sockets) issued by `issuer`, and a bearer for API streams. */
  user?: { token: string; email: string; issuer: string };
  apiToken?: string;
}

export async function runDoctor(target: Target, opts: DoctorOptions = {}): Promise<DoctorReport> {
  const now = opts.now ?? Date.now;
  const started = now();
  const wanted = new Set(opts.only ?? CHECK_IDS);
  const dispatcher = createAgent(8);
  const ctx: Ctx = {
    target,
    base: trimSlash(target.openwebui.url),
    replicas: target.openwebui.replicas ?? [],
    siteOrigin: new URL(target.openwebui.origin ?? target.openwebui.url).origin,
    verify: target.model === MOCK_MODEL,
    dispatcher,
    results: new Map(),
    opts,
  };
  // Dependency order; `identity` and `auth` run even when not asked for, because others need them
  // (they are reported only when asked for).
  const order: CheckId[] = [
    'identity',
    'auth',
    'secret',
    'sse',
    'websocket',
    'cors',
    'delivery',
    'redis',
    'timeouts',
    'limits',
  ];
  try {
    for (const id of order) {
      const needed =
        wanted.has(id) || (id === 'identity' && wanted.size > 0) || (id === 'auth' && needsAuth(wanted));
      if (!needed) continue;
      const t0 = now();
      let v: Verdict;
      try {
        v = await CHECKS[id](ctx);
      } catch (err) {
        v = { ...skipped(id, `the check itself failed: ${errorMessage(err)}`), status: 'fail' };
      }
      const result: CheckResult = { ...v, durationMs: now() - t0 };
      ctx.results.set(id, result);
      if (wanted.has(id)) opts.onCheck?.(result);
    }
  } finally {
    await dispatcher.close().catch(() => undefined);
  }
  const checks = CHECK_IDS.filter((id) => wanted.has(id)).map((id) => ctx.results.get(id)!);
  return buildReport({ name: target.name, url: target.openwebui.url }, checks, started, now());
}

function needsAuth(wanted: Set<CheckId>): boolean {
  return ['auth', 'secret', 'sse', 'delivery', 'timeouts'].some((id) => wanted.has(id as CheckId));
}

/** Why a check that needs `dep` cannot run, or undefined when it can. */
function blocked(ctx: Ctx, ...deps: CheckId[]): string | undefined {
  const identity = ctx.results.get('identity');
  if (identity && identity.status === 'fail' && identity.evidence['version'] === undefined)
    return `${ctx.base} is not a reachable Open WebUI (see identity)`;
  for (const dep of deps) {
    const r = ctx.results.get(dep);
    if (r?.status === 'fail') return `${dep} failed (see ${dep})`;
    if (dep === 'auth' && ctx.user === undefined && ctx.apiToken === undefined)
      return 'no signed-in user (see auth)';
  }
  return undefined;
}

type Check = (ctx: Ctx) => Promise<Verdict>;

const CHECKS: Record<CheckId, Check> = {
  identity: async (ctx) => {
    const timeoutMs = ctx.target.openwebui.timeout ?? 5000;
    const [health, version] = await Promise.all([
      httpProbe(`${ctx.base}/health`, { timeoutMs }),
      httpProbe(`${ctx.base}/api/version`, { timeoutMs }),
    ]);
    const replicas = await Promise.all(
      ctx.replicas.map(async (r) => {
        const u = trimSlash(r.url);
        const [h, ready, v] = await Promise.all([
          httpProbe(`${u}/health`, { timeoutMs }),
          httpProbe(`${u}/ready`, { timeoutMs }),
          httpProbe(`${u}/api/version`, { timeoutMs }),
        ]);
        return { name: r.name, url: u, health: h, ready, version: v };
      }),
    );
    const v = judgeIdentity({ url: ctx.base, health, version, replicas });
    if (typeof v.evidence['version'] === 'string') ctx.version = v.evidence['version'];
    return v;
  },

  auth: async (ctx) => {
    const why = blocked(ctx);
    if (why) return skipped('auth', why);
    const given = ctx.opts.user;
    if (given) {
      ctx.user = { token: given.token, email: '(given)', issuer: given.issuer };
      ctx.apiToken = given.token;
      return judgeAuth({ how: `token from ${given.issuer}`, ok: true, hasUserToken: true });
    }
    // Sign in (or add the one test user) directly on the first replica when replicas are listed,
    // so the token's issuer is known to the secret check; else through the load balancer.
    const issuer = ctx.replicas[0] ?? { name: 'the load balancer', url: ctx.base };
    const source = authSourceFromTarget(ctx.target.auth, 1);
    const how = source.provision
      ? `test user provisioned by ${source.admin?.email ?? 'the admin'} on ${issuer.name}`
      : source.users?.[0]
        ? `${source.users[0].email} signed in on ${issuer.name}`
        : 'API key';
    try {
      const creds = await provisionCredentials(ctx.dispatcher, issuer.url, source);
      const u = creds.users[0];
      if (u) ctx.user = { token: u.token, email: u.email, issuer: issuer.name };
      if (creds.apiTokens[0] !== undefined) ctx.apiToken = creds.apiTokens[0];
      return judgeAuth({ how, ok: true, hasUserToken: u !== undefined });
    } catch (err) {
      const code = err instanceof OwuiChaosError ? err.code : undefined;
      return judgeAuth({
        how,
        ok: false,
        error: errorMessage(err),
        ...(code ? { code } : {}),
        hasUserToken: false,
      });
    }
  },

  secret: async (ctx) => {
    if (ctx.replicas.length < 2)
      return skipped(
        'secret',
        `needs at least two \`openwebui.replicas\` URLs in the target (it lists ${ctx.replicas.length})`,
      );
    const why = blocked(ctx, 'auth');
    if (why) return skipped('secret', why);
    if (!ctx.user) return skipped('secret', 'needs a user JWT (the target gives API keys only)');
    const token = ctx.user.token;
    const checks = await Promise.all(
      ctx.replicas.map(async (r) => {
        const p = await httpProbe(`${trimSlash(r.url)}/api/v1/auths/`, { token, timeoutMs: 5000 });
        return { replica: r.name, status: p.status, ...(p.error ? { error: p.error } : {}) };
      }),
    );
    return judgeSecret({ issuer: ctx.user.issuer, checks });
  },

  sse: async (ctx) => {
    const why = blocked(ctx, 'auth', 'secret');
    if (why) return skipped('sse', why);
    const token = ctx.apiToken ?? ctx.user?.token;
    const seed = Math.floor(Math.random() * 1_000_000);
    // 60 tokens at 25/s after 300 ms: ~2.7 s per stream, two at once.
    const streams = await Promise.all(
      [0, 1].map((i) =>
        sseStream({
          dispatcher: ctx.dispatcher,
          baseUrl: ctx.base,
          token,
          model: ctx.target.model,
          directive: { seed: seed + i, tokens: 60, tokensPerSecond: 25, firstTokenMs: 300 },
          verify: ctx.verify,
          timeoutMs: ctx.verify ? 20_000 : 90_000,
        }),
      ),
    );
    return judgeSse({ url: `${ctx.base}/api/chat/completions`, verified: ctx.verify, streams });
  },

  websocket: async (ctx) => {
    const why = blocked(ctx);
    if (why) return skipped('websocket', why);
    const site = await handshakeProbe(ctx.base, { origin: ctx.siteOrigin });
    const m: Parameters<typeof judgeWebsocket>[0] = { site };
    if (refusalOf(site) === 'origin') m.noOrigin = await handshakeProbe(ctx.base);
    const probe = m.noOrigin ?? site;
    const first = ctx.replicas[0];
    if (refusalOf(probe) !== 'none' && first) {
      m.direct = { ...(await handshakeProbe(first.url)), replica: first.name };
    }
    return judgeWebsocket(m);
  },

  cors: async (ctx) => {
    const why = blocked(ctx);
    if (why) return skipped('cors', why);
    let where = `${ctx.base} (through the proxy)`;
    let site = await handshakeProbe(ctx.base, { origin: ctx.siteOrigin });
    let foreign: HandshakeMeasure = await handshakeProbe(ctx.base, { origin: FOREIGN_ORIGIN });
    const first = ctx.replicas[0];
    const r = refusalOf(site);
    if (r !== 'none' && r !== 'origin' && first) {
      // The proxy refuses websockets (the websocket check's finding); the origin check is Open WebUI's.
      where = `${first.name} directly (the proxy refuses websockets)`;
      site = await handshakeProbe(first.url, { origin: ctx.siteOrigin });
      foreign = await handshakeProbe(first.url, { origin: FOREIGN_ORIGIN });
    }
    return judgeCors({ siteOrigin: ctx.siteOrigin, foreignOrigin: FOREIGN_ORIGIN, site, foreign, where });
  },

  delivery: async (ctx) => {
    if (ctx.replicas.length < 2)
      return skipped(
        'delivery',
        `needs at least two \`openwebui.replicas\` URLs in the target (it lists ${ctx.replicas.length})`,
      );
    // A refused Origin refuses the probe's own socket too (the replicas check it): say so once, in
    // cors, instead of failing delivery for a cause that is not the websocket manager.
    const why = blocked(ctx, 'auth', 'secret', 'cors');
    if (why) return skipped('delivery', why);
    if (!ctx.user) return skipped('delivery', 'needs a user JWT (API keys cannot authenticate a socket)');
    const [a, b] = [ctx.replicas[0]!, ctx.replicas[1]!];
    const behaviour = behaviourFor(parseVersion(ctx.version ?? REFERENCE_OPENWEBUI_VERSION));
    const client = new BrowserClient({
      baseUrl: b.url,
      token: ctx.user.token,
      dispatcher: ctx.dispatcher,
      behaviour,
      emit: () => undefined,
    });
    const joinBudget = 10_000;
    const chatBudget = ctx.verify ? 15_000 : 60_000;
    const t0 = performance.now();
    client.start();
    try {
      const joined = await client.waitJoined(AbortSignal.timeout(joinBudget));
      if (!joined)
        return judgeDelivery({
          postedTo: a.name,
          socketOn: b.name,
          joined: false,
          waitedMs: performance.now() - t0,
        });
      const summary = await client.chat({
        model: ctx.target.model,
        directive: {
          seed: Math.floor(Math.random() * 1_000_000),
          tokens: 20,
          tokensPerSecond: 50,
          firstTokenMs: 100,
        },
        verify: ctx.verify,
        timeoutMs: chatBudget,
        signal: new AbortController().signal,
        postBaseUrl: a.url,
      });
      return judgeDelivery({
        postedTo: a.name,
        socketOn: b.name,
        joined: true,
        ...(summary ? { outcome: summary.outcome } : {}),
        ...(summary?.ttftMs !== undefined ? { ttftMs: summary.ttftMs } : {}),
        ...(summary?.e2eMs !== undefined ? { e2eMs: summary.e2eMs } : {}),
        ...(summary?.garbledRate !== undefined ? { garbledRate: summary.garbledRate } : {}),
        waitedMs: chatBudget,
      });
    } finally {
      client.stop();
    }
  },

  redis: async (ctx) => {
    const redis = ctx.target.redis;
    if (!redis) return skipped('redis', 'the target names no `redis.sentinels`');
    const m = await surveySentinels({
      sentinels: redis.sentinels,
      masterName: redis.masterName,
      password: redis.password,
      sentinelPassword: redis.sentinelPassword,
    });
    return judgeRedis(ctx.opts.redisConfig ? { ...m, configured: ctx.opts.redisConfig } : m);
  },

  timeouts: async (ctx) => {
    const silence = ctx.opts.silenceMs ?? DEFAULT_SILENCE_MS;
    if (!ctx.opts.slowCheck)
      return skipped(
        'timeouts',
        `opt-in: --slow-check (holds a stream silent and a socket idle for ${Math.round(silence / 1000)} s)`,
      );
    const why = blocked(ctx, 'auth', 'secret');
    if (why) return skipped('timeouts', why);
    if (!ctx.verify)
      return skipped(
        'timeouts',
        `a real model cannot be asked to stay silent for ${Math.round(silence / 1000)} s (needs the mock LLM)`,
      );
    const behaviour = behaviourFor(parseVersion(ctx.version ?? REFERENCE_OPENWEBUI_VERSION));
    const socketSkipped =
      ctx.results.get('websocket')?.status === 'fail'
        ? 'websockets fail through the proxy (see websocket)'
        : !ctx.user
          ? 'needs a user JWT (API keys cannot authenticate a socket)'
          : undefined;
    const socket =
      ctx.user && socketSkipped === undefined
        ? new BrowserClient({
            baseUrl: ctx.base,
            token: ctx.user.token,
            dispatcher: ctx.dispatcher,
            behaviour,
            emit: () => undefined,
          })
        : undefined;
    socket?.start();
    try {
      const joined = socket ? await socket.waitJoined(AbortSignal.timeout(10_000)) : false;
      const t0 = performance.now();
      const stream = await sseStream({
        dispatcher: ctx.dispatcher,
        baseUrl: ctx.base,
        token: ctx.apiToken ?? ctx.user?.token,
        model: ctx.target.model,
        directive: { seed: 7, tokens: 5, tokensPerSecond: 50, firstTokenMs: silence },
        verify: true,
        timeoutMs: silence + 20_000,
      });
      // The socket is held at least as long as the silence.
      const left = silence - (performance.now() - t0);
      if (socket && left > 0) await new Promise((r) => setTimeout(r, left));
      return judgeTimeouts({
        firstTokenDelayMs: silence,
        slowStream: {
          outcome: stream.outcome,
          ...(stream.status ? { status: stream.status } : {}),
          ...(stream.ttftMs !== undefined ? { ttftMs: stream.ttftMs } : {}),
        },
        ...(socket
          ? { idleSocket: { joined, heldMs: performance.now() - t0, disconnects: socket.disconnects } }
          : { idleSocketSkipped: socketSkipped ?? 'no socket' }),
      });
    } finally {
      socket?.stop();
    }
  },

  limits: async (ctx) => {
    const why = blocked(ctx);
    if (why) return skipped('limits', why);
    const https = ctx.base.startsWith('https:');
    const [body, tls] = await Promise.all([
      ctx.opts.bodySizeBytes !== undefined ? bodyProbe(ctx.base, ctx.opts.bodySizeBytes) : undefined,
      https ? tlsProbe(ctx.base) : undefined,
    ]);
    return judgeLimits({ https, ...(body ? { body } : {}), ...(tls ? { tls } : {}) });
  },
};

/** `--body-size 50m` → bytes. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)b?$/i.exec(text.trim());
  if (!m)
    throw new UsageError(`\`${text}\` is not a size; use e.g. 20m, 512k or 1g`, {
      code: 'USAGE',
      suggestions: ['owui-chaos doctor --body-size 20m'],
    });
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.round(Number(m[1]) * mult);
}
