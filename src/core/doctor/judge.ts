// The doctor's verdicts as pure functions of what was measured (docs/doctor.md): each takes the
// measurements of one check and returns its status, one-line summary, evidence and fix. The
// measuring lives in src/app/doctor; keeping the judging here lets unit tests pin every branch
// (each mistake it must catch, and the healthy case it must leave alone) without a network.

import { FIXES } from './fixes.js';
import { CHECK_TITLES, type CheckId, type CheckResult, type EvidenceValue, type Fix } from './report.js';

export type Verdict = Omit<CheckResult, 'durationMs'>;

function verdict(
  id: CheckId,
  status: CheckResult['status'],
  summary: string,
  evidence: Record<string, EvidenceValue>,
  fix?: Fix,
): Verdict {
  return { id, title: CHECK_TITLES[id], status, summary, evidence, ...(fix ? { fix } : {}) };
}

export function skipped(id: CheckId, reason: string, evidence: Record<string, EvidenceValue> = {}): Verdict {
  return verdict(id, 'skip', reason, evidence);
}

// ─── identity ────────────────────────────────────────────────────────────────────────────────────

/** One HTTP GET as the doctor saw it. `status` 0 = no answer (then `error` says why). */
export interface HttpProbe {
  status: number;
  contentType?: string;
  /** Parsed JSON body, when the body was JSON. */
  json?: unknown;
  error?: string;
  ms?: number;
}

export interface IdentityMeasure {
  url: string;
  health: HttpProbe;
  version: HttpProbe;
  replicas: Array<{ name: string; url: string; health: HttpProbe; ready: HttpProbe; version: HttpProbe }>;
}

function statusText(p: HttpProbe): string {
  if (p.status === 0) return `no answer (${p.error ?? 'unreachable'})`;
  return `${p.status}${p.contentType ? ` ${p.contentType.split(';')[0]}` : ''}`;
}

function healthOk(p: HttpProbe): boolean {
  return p.status === 200 && isObj(p.json) && p.json['status'] === true;
}

function versionOf(p: HttpProbe): { version?: string; deploymentId?: string } {
  if (p.status !== 200 || !isObj(p.json)) return {};
  const v = p.json['version'];
  const d = p.json['deployment_id'];
  return {
    ...(typeof v === 'string' ? { version: v } : {}),
    ...(typeof d === 'string' ? { deploymentId: d } : {}),
  };
}

export function judgeIdentity(m: IdentityMeasure): Verdict {
  const ev: Record<string, EvidenceValue> = {
    'lb /health': statusText(m.health),
    'lb /api/version': statusText(m.version),
  };
  if (m.health.status === 0) {
    return verdict('identity', 'fail', `${m.url} does not answer: ${m.health.error ?? 'unreachable'}`, ev, {
      action: `check that ${m.url} is the load balancer's address and that it is up (curl -sS ${m.url}/health)`,
      guide: FIXES.notOpenWebui.guide,
    });
  }
  if (!healthOk(m.health)) {
    const html = (m.health.contentType ?? '').includes('text/html');
    return verdict(
      'identity',
      'fail',
      `${m.url} is not Open WebUI: GET /health answered ${statusText(m.health)}${html ? ' (a web page, not {"status":true})' : ' instead of {"status":true}'}`,
      ev,
      FIXES.notOpenWebui,
    );
  }
  const lb = versionOf(m.version);
  if (lb.version !== undefined) ev['version'] = lb.version;
  if (lb.deploymentId !== undefined)
    ev['deployment_id'] = lb.deploymentId === '' ? '(empty)' : lb.deploymentId;
  if (lb.version === undefined) {
    return verdict(
      'identity',
      'fail',
      `${m.url} answers /health but not /api/version (${statusText(m.version)}): is this Open WebUI?`,
      ev,
      FIXES.notOpenWebui,
    );
  }
  if (m.replicas.length === 0) {
    return verdict(
      'identity',
      'pass',
      `Open WebUI ${lb.version} answers through ${m.url}; replicas not checked one by one (the target lists no \`openwebui.replicas\`)`,
      { ...ev, replicas: 'not listed' },
    );
  }
  const down: string[] = [];
  const notReady: string[] = [];
  const versions = new Map<string, string[]>();
  const deployments = new Map<string, string[]>();
  for (const r of m.replicas) {
    const v = versionOf(r.version);
    ev[`${r.name}`] =
      `/health ${statusText(r.health)}, /ready ${readyText(r.ready)}, version ${v.version ?? '?'}` +
      (v.deploymentId !== undefined
        ? `, deployment_id ${v.deploymentId === '' ? '(empty)' : v.deploymentId}`
        : '');
    if (!healthOk(r.health)) {
      down.push(r.name);
      continue;
    }
    // /ready exists from 0.8.11; a 404 there is an older version, not a failure.
    if (r.ready.status !== 404 && !healthOk(r.ready)) notReady.push(`${r.name} (${readyText(r.ready)})`);
    if (v.version !== undefined) versions.set(v.version, [...(versions.get(v.version) ?? []), r.name]);
    if (v.deploymentId !== undefined)
      deployments.set(v.deploymentId, [...(deployments.get(v.deploymentId) ?? []), r.name]);
  }
  if (down.length > 0) {
    return verdict(
      'identity',
      'fail',
      `replica(s) ${down.join(', ')} do not answer /health directly`,
      ev,
      FIXES.replicaDown,
    );
  }
  if (notReady.length > 0) {
    return verdict('identity', 'fail', `replica(s) not ready: ${notReady.join(', ')}`, ev, FIXES.replicaDown);
  }
  if (versions.size > 1) {
    return verdict(
      'identity',
      'fail',
      `replicas run different versions: ${[...versions].map(([v, names]) => `${v} on ${names.join(', ')}`).join('; ')}`,
      ev,
      FIXES.versionMismatch,
    );
  }
  if (deployments.size > 1) {
    return verdict(
      'identity',
      'warn',
      `replicas report different deployment ids (${deployments.size}); browsers reload when they reconnect to another replica`,
      ev,
      FIXES.deploymentIdMismatch,
    );
  }
  return verdict(
    'identity',
    'pass',
    `Open WebUI ${lb.version} through ${m.url}; ${m.replicas.length} replica(s) healthy, ready and alike`,
    ev,
  );
}

function readyText(p: HttpProbe): string {
  if (p.status === 404) return '404 (no /ready before 0.8.11)';
  const detail = isObj(p.json) && typeof p.json['detail'] === 'string' ? ` "${p.json['detail']}"` : '';
  return `${statusText(p)}${detail}`;
}

// ─── auth ────────────────────────────────────────────────────────────────────────────────────────

export interface AuthMeasure {
  /** How the doctor got a user token: `signed in as x`, `provisioned x`, … */
  how: string;
  ok: boolean;
  error?: string;
  code?: string;
  /** A JWT for sockets (API keys cannot authenticate a socket). */
  hasUserToken: boolean;
}

export function judgeAuth(m: AuthMeasure): Verdict {
  const ev = { how: m.how, 'user token': m.hasUserToken };
  if (!m.ok) {
    return verdict(
      'auth',
      'fail',
      `${m.how} failed: ${m.error ?? 'unknown error'}`,
      { ...ev, code: m.code ?? null },
      FIXES.credentials,
    );
  }
  return verdict(
    'auth',
    'pass',
    m.hasUserToken ? `${m.how}` : `${m.how} (API key only: socket checks skip)`,
    ev,
  );
}

// ─── SSE ─────────────────────────────────────────────────────────────────────────────────────────

export interface SseStreamMeasure {
  outcome: string;
  status?: string;
  tokens: number;
  events: number;
  splitEvents: number;
  reads: number;
  /** Reads that carried content, and the largest number of tokens one read carried. */
  contentReads: number;
  maxTokensPerRead: number;
  ttftMs?: number;
  e2eMs?: number;
  /** Against the mock LLM's ground truth; undefined against a real model. */
  garbledRate?: number;
  contentType?: string;
  xAccelBuffering?: string;
  replica?: string;
}

export interface SseMeasure {
  url: string;
  /** Compared against the mock LLM's ground truth. */
  verified: boolean;
  streams: SseStreamMeasure[];
}

/**
 * Buffering shows as content arriving in few large reads: the whole reply at once (first token ≈
 * last) or many tokens per read. Thresholds: a stream of at least MIN_TOKENS tokens whose first
 * token came after BUFFERED_TTFT_SHARE of the stream, or whose reads carried BUFFERED_TOKENS_PER_READ
 * tokens on average. A healthy proxy gives ~1 token per read at the doctor's pacing (one token
 * every 40 ms); a 4–8 KB buffer holds 25–50 of the mock's tokens.
 */
export const SSE_THRESHOLDS = { minTokens: 20, bufferedTtftShare: 0.8, bufferedTokensPerRead: 4 } as const;

export function judgeSse(m: SseMeasure): Verdict {
  const ev: Record<string, EvidenceValue> = { streams: m.streams.length, url: m.url };
  const broken = m.streams.filter((s) => s.outcome !== 'completed');
  const done = m.streams.filter((s) => s.outcome === 'completed');
  const first = m.streams[0];
  if (first?.contentType !== undefined) ev['content-type'] = first.contentType;
  ev['X-Accel-Buffering'] = first?.xAccelBuffering ?? '(not sent)';
  if (done.length > 0) {
    const tokens = sum(done.map((s) => s.tokens));
    const contentReads = sum(done.map((s) => s.contentReads));
    const events = sum(done.map((s) => s.events));
    ev['tokens'] = tokens;
    ev['tokens per read (mean)'] = round(tokens / Math.max(1, contentReads), 2);
    ev['tokens per read (max)'] = Math.max(...done.map((s) => s.maxTokensPerRead));
    ev['events split across reads'] = `${sum(done.map((s) => s.splitEvents))} of ${events}`;
    const ratios = done
      .filter((s) => s.ttftMs !== undefined && s.e2eMs !== undefined && s.e2eMs > 0)
      .map((s) => (s.ttftMs as number) / (s.e2eMs as number));
    if (ratios.length > 0) ev['ttft / whole stream'] = round(Math.max(...ratios), 2);
    const t = done[0];
    if (t?.ttftMs !== undefined) ev['ttft ms'] = Math.round(t.ttftMs);
    if (t?.e2eMs !== undefined) ev['whole stream ms'] = Math.round(t.e2eMs);
    ev['integrity'] = m.verified
      ? `garbled ${round(Math.max(...done.map((s) => s.garbledRate ?? 0)) * 100, 2)} % (mock LLM ground truth)`
      : 'unverified (not the mock LLM: no ground truth)';
  }
  if (broken.length > 0) {
    const b = broken[0]!;
    ev['outcome'] = `${b.outcome}${b.status ? ` (HTTP ${b.status})` : ''}`;
    return verdict(
      'sse',
      'fail',
      `${broken.length} of ${m.streams.length} chat stream(s) did not complete: ${b.outcome}${b.status ? ` HTTP ${b.status}` : ''}`,
      ev,
      b.status === '401' ? FIXES.secret : FIXES.buffering,
    );
  }
  const buffered = done.filter(
    (s) =>
      s.tokens >= SSE_THRESHOLDS.minTokens &&
      ((s.ttftMs !== undefined &&
        s.e2eMs !== undefined &&
        s.e2eMs > 0 &&
        s.ttftMs / s.e2eMs >= SSE_THRESHOLDS.bufferedTtftShare) ||
        s.tokens / Math.max(1, s.contentReads) >= SSE_THRESHOLDS.bufferedTokensPerRead),
  );
  const garbled = m.verified ? done.filter((s) => (s.garbledRate ?? 0) > 0) : [];
  if (buffered.length > 0) {
    return verdict(
      'sse',
      'fail',
      `the proxy buffers the stream: ${ev['tokens per read (mean)']} tokens per read, first token at ${ev['ttft / whole stream'] ?? '?'} of the stream (proxy_buffering on, or an HTTP/1.0 upstream)${garbled.length > 0 ? '; text garbled' : m.verified ? '; text intact' : ''}`,
      ev,
      FIXES.buffering,
    );
  }
  if (garbled.length > 0) {
    return verdict(
      'sse',
      'fail',
      `the streamed text differs from the mock LLM's ground truth`,
      ev,
      FIXES.buffering,
    );
  }
  if (done.length > 0 && done.every((s) => s.tokens < SSE_THRESHOLDS.minTokens)) {
    return verdict(
      'sse',
      'warn',
      `streams completed but carried only ${Math.max(...done.map((s) => s.tokens))} tokens: too short to tell buffering apart`,
      ev,
      FIXES.buffering,
    );
  }
  return verdict(
    'sse',
    'pass',
    `tokens arrive as they are generated (${ev['tokens per read (mean)']} per read, ttft ${ev['ttft ms'] ?? '?'} ms of ${ev['whole stream ms'] ?? '?'} ms); ${m.verified ? 'text matches the ground truth' : 'integrity unverified (real model)'}`,
    ev,
  );
}

// ─── WebSocket ───────────────────────────────────────────────────────────────────────────────────

/** One Engine.IO/Socket.IO handshake over a websocket, as far as it got. */
export interface HandshakeMeasure {
  url: string;
  origin?: string;
  /** HTTP status of the upgrade: 101, or the refusal (400, 426, 502…); 0 = no answer. */
  status: number;
  /** Body of a refused upgrade (Open WebUI says why: "Invalid WebSocket upgrade request", "… is not an accepted origin."). */
  body?: string;
  eioOpen: boolean;
  pingIntervalMs?: number;
  pingTimeoutMs?: number;
  sioConnected: boolean;
  error?: string;
  ms?: number;
  replica?: string;
}

export type HandshakeRefusal = 'none' | 'origin' | 'upgrade' | 'other';

export function refusalOf(h: HandshakeMeasure): HandshakeRefusal {
  if (h.status === 101 && h.eioOpen && h.sioConnected) return 'none';
  const body = h.body ?? '';
  if (/not an accepted origin/i.test(body)) return 'origin';
  // Real Open WebUI (0.12.4 under uvicorn) refuses a websocket from a refused Origin with a bare 403.
  if (h.status === 403 && h.origin !== undefined) return 'origin';
  if (h.status === 426 || (h.status === 400 && /upgrade/i.test(body))) return 'upgrade';
  return 'other';
}

function handshakeText(h: HandshakeMeasure): string {
  if (h.status === 0) return `no answer (${h.error ?? 'unreachable'})`;
  if (h.status !== 101) return `HTTP ${h.status}${h.body ? ` ${truncate(h.body, 80)}` : ''}`;
  if (!h.eioOpen) return `101 but no Engine.IO open packet${h.error ? ` (${h.error})` : ''}`;
  if (!h.sioConnected)
    return `101, Engine.IO open, no Socket.IO CONNECT reply${h.error ? ` (${h.error})` : ''}`;
  return `101, Engine.IO open (ping ${h.pingIntervalMs ?? '?'} ms / timeout ${h.pingTimeoutMs ?? '?'} ms), Socket.IO connected${h.ms !== undefined ? ` in ${Math.round(h.ms)} ms` : ''}`;
}

/**
 * `site`: the handshake through the proxy with the site's Origin. `noOrigin`: the same without an
 * Origin header, done when `site` was refused for its origin — that refusal is the CORS check's
 * finding; this check is about the proxy path. `direct`: a handshake on one replica directly,
 * when the proxy refused, to tell a proxy fault from a server one.
 */
export function judgeWebsocket(m: {
  site: HandshakeMeasure;
  noOrigin?: HandshakeMeasure;
  direct?: HandshakeMeasure & { replica: string };
}): Verdict {
  const ev: Record<string, EvidenceValue> = {
    url: m.site.url,
    [`with Origin ${m.site.origin ?? '(none)'}`]: handshakeText(m.site),
  };
  if (m.noOrigin) ev['without Origin'] = handshakeText(m.noOrigin);
  if (m.direct) ev[`directly on ${m.direct.replica}`] = handshakeText(m.direct);
  let probe = m.site;
  if (refusalOf(m.site) === 'origin' && m.noOrigin) probe = m.noOrigin;
  const refusal = refusalOf(probe);
  if (refusal === 'none') {
    const note = probe === m.site ? '' : ' (the site’s Origin is refused: see cors)';
    return verdict('websocket', 'pass', `the proxy upgrades /ws/socket.io to a websocket${note}`, ev);
  }
  const directOk = m.direct !== undefined && refusalOf(m.direct) !== 'upgrade' && m.direct.status === 101;
  if (refusal === 'upgrade') {
    return verdict(
      'websocket',
      'fail',
      `the websocket upgrade reaches Open WebUI without its Upgrade/Connection headers (${handshakeText(probe)})${directOk ? `; directly on ${m.direct!.replica} it works, so the proxy drops them` : ''}`,
      ev,
      FIXES.upgradeHeaders,
    );
  }
  if (refusal === 'origin') {
    return verdict('websocket', 'skip', 'every handshake was refused for its Origin (see cors)', ev);
  }
  return verdict(
    'websocket',
    'fail',
    `the websocket handshake through the proxy failed: ${handshakeText(probe)}${directOk ? `; directly on ${m.direct!.replica} it works` : ''}`,
    ev,
    FIXES.upgradeHeaders,
  );
}

// ─── CORS ────────────────────────────────────────────────────────────────────────────────────────

export function judgeCors(m: {
  siteOrigin: string;
  foreignOrigin: string;
  site: HandshakeMeasure;
  foreign: HandshakeMeasure;
  /** Where the handshakes went (the proxy, or a replica directly when the proxy refuses websockets). */
  where: string;
}): Verdict {
  const ev: Record<string, EvidenceValue> = {
    where: m.where,
    [`site Origin ${m.siteOrigin}`]: handshakeText(m.site),
    [`foreign Origin ${m.foreignOrigin}`]: handshakeText(m.foreign),
  };
  const site = refusalOf(m.site);
  const foreign = refusalOf(m.foreign);
  if (site === 'origin') {
    return verdict(
      'cors',
      'fail',
      `Open WebUI refuses sockets from the site's own origin ${m.siteOrigin}: every browser's websocket fails`,
      ev,
      FIXES.corsOwnOrigin(m.siteOrigin),
    );
  }
  if (site !== 'none') {
    return verdict(
      'cors',
      'skip',
      `the handshake fails before the origin check (${handshakeText(m.site)}; see websocket)`,
      ev,
    );
  }
  if (foreign === 'none') {
    return verdict(
      'cors',
      'warn',
      `any origin may open a socket (a foreign Origin was accepted): CORS_ALLOW_ORIGIN is \`*\` or too wide`,
      ev,
      FIXES.corsWildcard(m.siteOrigin),
    );
  }
  if (foreign === 'origin') {
    return verdict('cors', 'pass', `the site's origin is accepted, a foreign one refused`, ev);
  }
  return verdict(
    'cors',
    'skip',
    `the foreign-origin handshake failed for another reason (${handshakeText(m.foreign)})`,
    ev,
  );
}

// ─── shared secret ───────────────────────────────────────────────────────────────────────────────

export interface SecretMeasure {
  /** The replica that issued the token (signed in directly there). */
  issuer: string;
  /** Status of `GET /api/v1/auths/` with that token on every replica. */
  checks: Array<{ replica: string; status: number; error?: string }>;
}

export function judgeSecret(m: SecretMeasure): Verdict {
  const ev: Record<string, EvidenceValue> = { 'token issued by': m.issuer };
  for (const c of m.checks)
    ev[c.replica] = c.status === 0 ? `no answer (${c.error ?? ''})` : `HTTP ${c.status}`;
  const refused = m.checks.filter((c) => c.status === 401 || c.status === 403);
  const unanswered = m.checks.filter((c) => c.status === 0 || c.status >= 500);
  if (refused.length > 0) {
    return verdict(
      'secret',
      'fail',
      `a token issued by ${m.issuer} is refused by ${refused.map((c) => c.replica).join(', ')} (HTTP ${refused[0]!.status}): the replicas sign with different WEBUI_SECRET_KEYs`,
      ev,
      FIXES.secret,
    );
  }
  if (unanswered.length > 0) {
    return verdict(
      'secret',
      'fail',
      `${unanswered.map((c) => c.replica).join(', ')} did not answer the token check`,
      ev,
      FIXES.replicaDown,
    );
  }
  return verdict(
    'secret',
    'pass',
    `a token issued by ${m.issuer} is accepted by all ${m.checks.length} replicas`,
    ev,
  );
}

// ─── cross-replica delivery ──────────────────────────────────────────────────────────────────────

export interface DeliveryMeasure {
  postedTo: string;
  socketOn: string;
  joined: boolean;
  outcome?: string;
  ttftMs?: number;
  e2eMs?: number;
  /** HTTP status of the socket-mode POST. */
  httpStatus?: string;
  waitedMs: number;
  garbledRate?: number;
}

export function judgeDelivery(m: DeliveryMeasure): Verdict {
  const ev: Record<string, EvidenceValue> = {
    'chat posted to': m.postedTo,
    'socket held by': m.socketOn,
    joined: m.joined,
    outcome: m.outcome ?? 'none',
  };
  if (m.ttftMs !== undefined) ev['first frame ms'] = Math.round(m.ttftMs);
  if (m.e2eMs !== undefined) ev['done ms'] = Math.round(m.e2eMs);
  if (m.garbledRate !== undefined) ev['garbled'] = m.garbledRate;
  if (!m.joined) {
    return verdict(
      'delivery',
      'fail',
      `the socket on ${m.socketOn} never joined (no user-join ack within ${Math.round(m.waitedMs / 1000)} s)`,
      ev,
      FIXES.websocketManager,
    );
  }
  if (m.outcome === 'completed') {
    return verdict(
      'delivery',
      'pass',
      `a socket-mode chat sent to ${m.postedTo} reached the socket on ${m.socketOn} (done after ${ev['done ms'] ?? '?'} ms)`,
      ev,
    );
  }
  if (m.outcome === 'http_error') {
    return verdict(
      'delivery',
      'fail',
      `the socket-mode chat POST to ${m.postedTo} failed (HTTP ${m.httpStatus ?? '?'})`,
      ev,
      m.httpStatus === '401' ? FIXES.secret : FIXES.websocketManager,
    );
  }
  return verdict(
    'delivery',
    'fail',
    `a socket-mode chat sent to ${m.postedTo} never reached the socket on ${m.socketOn} within ${Math.round(m.waitedMs / 1000)} s (${m.outcome ?? 'no events'}): events stay on the replica that runs the chat`,
    ev,
    FIXES.websocketManager,
  );
}

// ─── Redis / Sentinel ────────────────────────────────────────────────────────────────────────────

export interface SentinelView {
  address: string;
  reachable: boolean;
  error?: string;
  master?: string;
  quorum?: number;
  otherSentinels?: number;
  downAfterMs?: number;
  failoverTimeoutMs?: number;
  flags?: string;
  ckquorum?: string;
  ckquorumOk?: boolean;
}

export interface RedisMeasure {
  masterName: string;
  sentinels: SentinelView[];
  /** INFO replication of the master Sentinel names. */
  master?: {
    address: string;
    role?: string;
    error?: string;
    offset?: number;
    replicas: Array<{ address: string; state: string; offset: number; lagS: number }>;
  };
  /**
   * How Open WebUI is configured to reach Redis, when the doctor can see it (the lab's replica env;
   * a real deployment's env is not visible from outside, and then this is absent).
   */
  configured?: { redisUrl: string; sentinelHosts: string | undefined; source: string };
}

export const REDIS_THRESHOLDS = { maxReplicaLagS: 10, maxOffsetGapBytes: 1024 * 1024 } as const;

export function judgeRedis(m: RedisMeasure): Verdict {
  const ev: Record<string, EvidenceValue> = { 'master name': m.masterName };
  for (const s of m.sentinels) {
    ev[`sentinel ${s.address}`] = s.reachable
      ? `master ${s.master ?? '?'}, quorum ${s.quorum ?? '?'}, other sentinels ${s.otherSentinels ?? '?'}, ${s.ckquorum ?? ''}`.trim()
      : `unreachable (${s.error ?? ''})`;
  }
  const up = m.sentinels.filter((s) => s.reachable && s.master !== undefined);
  const first = up[0];
  if (first?.downAfterMs !== undefined) ev['down-after-milliseconds'] = first.downAfterMs;
  if (first?.failoverTimeoutMs !== undefined) ev['failover-timeout'] = first.failoverTimeoutMs;
  if (m.master) {
    ev['master role'] = m.master.role ?? `? (${m.master.error ?? ''})`;
    ev['replicas'] =
      m.master.replicas.length === 0
        ? 'none connected'
        : m.master.replicas
            .map(
              (r) =>
                `${r.address} ${r.state} lag ${r.lagS} s offset gap ${(m.master!.offset ?? r.offset) - r.offset}`,
            )
            .join('; ');
  }
  const pinned = m.configured ? pinnedAddress(m.configured, m.masterName) : undefined;
  ev['Open WebUI REDIS_URL'] = m.configured
    ? `${redact(m.configured.redisUrl)}${m.configured.sentinelHosts ? ` with REDIS_SENTINEL_HOSTS ${m.configured.sentinelHosts}` : ', no REDIS_SENTINEL_HOSTS'} (${m.configured.source})`
    : 'not visible from outside (pinned-address check not run)';
  if (up.length === 0) {
    return verdict(
      'redis',
      'fail',
      `no Sentinel of ${m.sentinels.length} answers for master \`${m.masterName}\``,
      ev,
      FIXES.sentinelQuorum,
    );
  }
  const masters = new Set(up.map((s) => s.master));
  if (masters.size > 1) {
    return verdict(
      'redis',
      'fail',
      `the Sentinels disagree on the master: ${[...masters].join(' vs ')}`,
      ev,
      FIXES.sentinelDisagree,
    );
  }
  const noQuorum = up.filter((s) => s.ckquorumOk === false);
  const quorum = first?.quorum ?? 0;
  if (noQuorum.length > 0 || up.length < quorum) {
    return verdict(
      'redis',
      'fail',
      `the quorum (${quorum}) is not reachable: ${noQuorum[0]?.ckquorum ?? `${up.length} Sentinel(s) answer`}`,
      ev,
      FIXES.sentinelQuorum,
    );
  }
  if (m.master && m.master.role !== undefined && m.master.role !== 'master') {
    return verdict(
      'redis',
      'fail',
      `${m.master.address}, the master Sentinel names, reports role ${m.master.role}`,
      ev,
      FIXES.sentinelDisagree,
    );
  }
  const lagging = (m.master?.replicas ?? []).filter(
    (r) =>
      r.state !== 'online' ||
      r.lagS > REDIS_THRESHOLDS.maxReplicaLagS ||
      (m.master?.offset ?? r.offset) - r.offset > REDIS_THRESHOLDS.maxOffsetGapBytes,
  );
  if (m.master && m.master.replicas.length === 0) {
    return verdict(
      'redis',
      'fail',
      `the master ${m.master.address} has no connected replica: a failover has nothing to promote`,
      ev,
      FIXES.replicaSync,
    );
  }
  if (lagging.length > 0) {
    return verdict(
      'redis',
      'fail',
      `replica ${lagging[0]!.address} is not in sync (${lagging[0]!.state}, lag ${lagging[0]!.lagS} s)`,
      ev,
      FIXES.replicaSync,
    );
  }
  const master = [...masters][0]!;
  if (pinned !== undefined) {
    return verdict(
      'redis',
      'warn',
      `Open WebUI is pinned to the Redis address ${pinned} instead of following Sentinel's master \`${m.masterName}\` (now ${master}): it breaks at the first failover`,
      ev,
      FIXES.pinnedMaster,
    );
  }
  if (first?.downAfterMs !== undefined && first.downAfterMs > 30_000) {
    return verdict(
      'redis',
      'warn',
      `down-after-milliseconds is ${first.downAfterMs}: a dead master goes unnoticed for ${Math.round(first.downAfterMs / 1000)} s`,
      ev,
      {
        action: `Sentinel: \`sentinel down-after-milliseconds ${m.masterName} 5000\` (5–30 s is usual)`,
        guide: FIXES.sentinelQuorum.guide,
      },
    );
  }
  return verdict(
    'redis',
    'pass',
    `${up.length} Sentinel(s) agree on ${master}, quorum ${quorum} reachable, ${m.master?.replicas.length ?? 0} replica(s) in sync`,
    ev,
  );
}

/** The host:port Open WebUI is pinned to, or undefined when it resolves the master through Sentinel. */
export function pinnedAddress(
  c: { redisUrl: string; sentinelHosts: string | undefined },
  masterName: string,
): string | undefined {
  let host: string;
  let port: string;
  try {
    const u = new URL(c.redisUrl);
    host = u.hostname;
    port = u.port || '6379';
  } catch {
    return c.redisUrl;
  }
  // With Sentinel the URL's host is the master-set name (openwebui-protocol.md §6.3).
  if (c.sentinelHosts && c.sentinelHosts.trim() !== '' && host === masterName) return undefined;
  return `${host}:${port}`;
}

function redact(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}

// ─── timeouts ────────────────────────────────────────────────────────────────────────────────────

export interface TimeoutsMeasure {
  /** The silence asked of the first token, ms (≥ 60 s: nginx's default proxy_read_timeout). */
  firstTokenDelayMs: number;
  slowStream: { outcome: string; status?: string; ttftMs?: number; e2eMs?: number };
  /** Absent when the socket could not be tried (`idleSocketSkipped` says why). */
  idleSocket?: { heldMs: number; disconnects: number; joined: boolean };
  idleSocketSkipped?: string;
}

export function judgeTimeouts(m: TimeoutsMeasure): Verdict {
  const s = m.slowStream;
  const ev: Record<string, EvidenceValue> = {
    'first token asked after ms': m.firstTokenDelayMs,
    'slow stream': `${s.outcome}${s.status ? ` HTTP ${s.status}` : ''}${s.ttftMs !== undefined ? `, ttft ${Math.round(s.ttftMs)} ms` : ''}`,
    'idle socket': m.idleSocket
      ? `${m.idleSocket.joined ? 'joined' : 'never joined'}, held ${Math.round(m.idleSocket.heldMs / 1000)} s, ${m.idleSocket.disconnects} disconnect(s)`
      : `not measured: ${m.idleSocketSkipped ?? 'no socket'}`,
  };
  const problems: string[] = [];
  if (s.outcome !== 'completed')
    problems.push(
      `a stream whose first token takes ${Math.round(m.firstTokenDelayMs / 1000)} s ended ${s.outcome}${s.status ? ` (HTTP ${s.status})` : ''}`,
    );
  if (m.idleSocket && !m.idleSocket.joined) problems.push('the idle socket never joined');
  else if (m.idleSocket && m.idleSocket.disconnects > 0)
    problems.push(
      `an idle socket was dropped ${m.idleSocket.disconnects} time(s) in ${Math.round(m.idleSocket.heldMs / 1000)} s`,
    );
  if (problems.length > 0)
    return verdict(
      'timeouts',
      'fail',
      `${problems.join('; ')}: the proxy's read timeout is too short`,
      ev,
      FIXES.readTimeout,
    );
  if (!m.idleSocket)
    return verdict(
      'timeouts',
      'skip',
      `a ${Math.round(m.firstTokenDelayMs / 1000)} s silence before the first token survives; the idle socket was not measured (${m.idleSocketSkipped ?? 'no socket'})`,
      ev,
    );
  return verdict(
    'timeouts',
    'pass',
    `a ${Math.round(m.firstTokenDelayMs / 1000)} s silence before the first token and a ${Math.round((m.idleSocket?.heldMs ?? 0) / 1000)} s idle socket both survive`,
    ev,
  );
}

// ─── limits ──────────────────────────────────────────────────────────────────────────────────────

export interface LimitsMeasure {
  body?: { bytes: number; status: number; error?: string };
  tls?: { daysLeft: number; notAfter: string; subject: string } | { error: string };
  https: boolean;
}

export const TLS_WARN_DAYS = 14;

export function judgeLimits(m: LimitsMeasure): Verdict {
  const ev: Record<string, EvidenceValue> = {};
  const fails: Array<{ text: string; fix: Fix }> = [];
  const warns: Array<{ text: string; fix: Fix }> = [];
  if (m.body) {
    const mb = round(m.body.bytes / (1024 * 1024), 1);
    ev['upload of'] =
      `${mb} MB → ${m.body.status === 0 ? `no answer (${m.body.error ?? ''})` : `HTTP ${m.body.status}`}`;
    if (m.body.status === 413)
      fails.push({ text: `an upload of ${mb} MB is refused (413)`, fix: FIXES.bodySize });
    else if (m.body.status === 0)
      fails.push({
        text: `an upload of ${mb} MB got no answer (${m.body.error ?? ''})`,
        fix: FIXES.bodySize,
      });
  } else ev['upload'] = 'not tried (opt-in: --body-size SIZE)';
  if (m.https && m.tls) {
    if ('error' in m.tls) {
      ev['tls'] = m.tls.error;
      fails.push({ text: `TLS certificate check failed: ${m.tls.error}`, fix: FIXES.tlsExpiry });
    } else {
      ev['tls expires'] = `${m.tls.notAfter} (${m.tls.daysLeft} days)`;
      if (m.tls.daysLeft < 0)
        fails.push({ text: `the TLS certificate expired ${-m.tls.daysLeft} days ago`, fix: FIXES.tlsExpiry });
      else if (m.tls.daysLeft < TLS_WARN_DAYS)
        warns.push({ text: `the TLS certificate expires in ${m.tls.daysLeft} days`, fix: FIXES.tlsExpiry });
    }
  } else ev['tls'] = 'plain http: no certificate';
  ev['sign-in rate limit'] = 'not probed (it would lock the test user out for 3 minutes)';
  if (fails.length > 0)
    return verdict('limits', 'fail', fails.map((f) => f.text).join('; '), ev, fails[0]!.fix);
  if (warns.length > 0)
    return verdict('limits', 'warn', warns.map((f) => f.text).join('; '), ev, warns[0]!.fix);
  if (!m.body && !m.https)
    return verdict('limits', 'skip', 'nothing to check: plain http and no --body-size', ev);
  return verdict(
    'limits',
    'pass',
    [
      m.body
        ? `an upload of ${round(m.body.bytes / (1024 * 1024), 1)} MB passes the proxy (no 413; HTTP ${m.body.status} from behind it for the probe path)`
        : '',
      m.https ? `TLS certificate valid until ${ev['tls expires']}` : '',
    ]
      .filter(Boolean)
      .join('; '),
    ev,
  );
}

// ─── helpers ─────────────────────────────────────────────────────────────────────────────────────

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function truncate(s: string, n: number): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > n ? `${one.slice(0, n - 1)}…` : one;
}
