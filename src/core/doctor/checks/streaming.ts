// Streaming checks of the doctor (docs/doctor.md): SSE buffering, the WebSocket handshake, CORS.

import { FIXES } from '../fixes.js';
import type { EvidenceValue } from '../report.js';
import { round, sum, truncate, verdict, type Verdict } from './verdict.js';

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
