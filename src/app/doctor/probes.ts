// The doctor's measurements (docs/doctor.md): small, bounded, read-only probes built on the
// project's protocol clients — HTTP GETs, one Engine.IO/Socket.IO handshake, a few SSE chat
// streams through the API client, one browser client for socket delivery, a TLS handshake. Each
// probe has its own time budget and never throws: failures come back as measurements.

import { connect as tlsConnect } from 'node:tls';
import type { Dispatcher } from 'undici';
import WebSocket from 'ws';
import type { HandshakeMeasure, HttpProbe, SseStreamMeasure } from '../../core/doctor/judge.js';
import { errorMessage } from '../../core/errors.js';
import { decodeEio } from '../../protocol/engineio.js';
import type { GroundTruthDirective } from '../../protocol/ground-truth.js';
import { decodeSio, sioFrame } from '../../protocol/socketio.js';
import { runApiStream } from '../../engines/node/api-client.js';
import { SOCKET_PATH } from '../../engines/node/browser-client.js';
import { replicaOf } from '../../engines/node/http.js';

export function trimSlash(url: string): string {
  return url.endsWith('/') ? url.slice(0, -1) : url;
}

/** GET `url`; JSON bodies are parsed. */
export async function httpProbe(
  url: string,
  opts: { timeoutMs?: number; token?: string; headers?: Record<string, string> } = {},
): Promise<HttpProbe & { headers?: Record<string, string> }> {
  const t0 = performance.now();
  try {
    const res = await fetch(url, {
      headers: {
        accept: 'application/json',
        ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
        ...opts.headers,
      },
      redirect: 'manual',
      signal: AbortSignal.timeout(opts.timeoutMs ?? 5000),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    const headers: Record<string, string> = {};
    res.headers.forEach((v, k) => (headers[k] = v));
    return {
      status: res.status,
      ...(res.headers.get('content-type') ? { contentType: res.headers.get('content-type')! } : {}),
      ...(json !== undefined ? { json } : {}),
      headers,
      ms: performance.now() - t0,
    };
  } catch (err) {
    return { status: 0, error: causeText(err), ms: performance.now() - t0 };
  }
}

/** Node's fetch hides the network error in `cause`. */
export function causeText(err: unknown): string {
  const cause =
    err instanceof Error ? (err.cause as { code?: string; message?: string } | undefined) : undefined;
  if (err instanceof Error && err.name === 'TimeoutError') return 'timed out';
  return cause?.code ?? cause?.message ?? errorMessage(err);
}

/**
 * One handshake as a browser does it: websocket upgrade of `/ws/socket.io/?EIO=4&transport=websocket`
 * (with `origin` when given), Engine.IO open, Socket.IO CONNECT (with the token when given), then
 * a clean close. Resolves with how far it got, within `timeoutMs`.
 */
export function handshakeProbe(
  baseUrl: string,
  opts: { origin?: string; token?: string; timeoutMs?: number } = {},
): Promise<HandshakeMeasure> {
  const url = trimSlash(baseUrl).replace(/^http/, 'ws') + `${SOCKET_PATH}?EIO=4&transport=websocket`;
  const t0 = performance.now();
  const m: HandshakeMeasure = {
    url: trimSlash(baseUrl),
    ...(opts.origin !== undefined ? { origin: opts.origin } : {}),
    status: 0,
    eioOpen: false,
    sioConnected: false,
  };
  return new Promise((resolve) => {
    let settled = false;
    let ws: WebSocket;
    const finish = (error?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error !== undefined && m.error === undefined) m.error = error;
      m.ms = performance.now() - t0;
      try {
        if (ws.readyState === WebSocket.OPEN) ws.close(1000);
        else ws.terminate();
      } catch {
        // already gone
      }
      resolve(m);
    };
    const timer = setTimeout(
      () => finish(`no complete handshake within ${opts.timeoutMs ?? 8000} ms`),
      opts.timeoutMs ?? 8000,
    );
    try {
      ws = new WebSocket(url, {
        perMessageDeflate: false,
        handshakeTimeout: opts.timeoutMs ?? 8000,
        ...(opts.origin !== undefined ? { origin: opts.origin } : {}),
      });
    } catch (err) {
      clearTimeout(timer);
      resolve({ ...m, error: errorMessage(err) });
      return;
    }
    ws.on('unexpected-response', (req, res) => {
      m.status = res.statusCode ?? 0;
      const rep = replicaOf(res.headers);
      if (rep !== undefined) m.replica = rep;
      let body = '';
      res.on('data', (d: Buffer) => {
        if (body.length < 2048) body += d.toString('utf8');
      });
      res.on('end', () => {
        m.body = body.slice(0, 2048);
        req.destroy();
        finish();
      });
      res.on('error', () => finish());
    });
    ws.on('upgrade', (res) => {
      m.status = 101;
      const rep = replicaOf(res.headers);
      if (rep !== undefined) m.replica = rep;
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) return;
      let packet;
      try {
        packet = decodeEio(data.toString());
      } catch {
        return;
      }
      if (packet.type === 'open') {
        m.eioOpen = true;
        m.pingIntervalMs = packet.data.pingInterval;
        m.pingTimeoutMs = packet.data.pingTimeout;
        ws.send(sioFrame({ type: 'connect', nsp: '/', data: opts.token ? { token: opts.token } : {} }));
      } else if (packet.type === 'message') {
        try {
          const p = decodeSio(packet.data);
          if (p.type === 'connect') {
            m.sioConnected = true;
            finish();
          } else if (p.type === 'connect_error') finish(`connect_error ${JSON.stringify(p.data)}`);
        } catch {
          // not a packet we read
        }
      }
    });
    ws.on('error', (err) => {
      if (m.status === 0) finish(causeText(err));
      // after an unexpected-response the body handler finishes
    });
    ws.on('close', () => finish(m.sioConnected ? undefined : 'closed before the Socket.IO CONNECT reply'));
  });
}

/** One SSE chat stream through the API client, with per-read token counts and the response headers. */
export async function sseStream(o: {
  dispatcher: Dispatcher;
  baseUrl: string;
  token: string | undefined;
  model: string;
  directive: GroundTruthDirective;
  verify: boolean;
  timeoutMs: number;
}): Promise<SseStreamMeasure> {
  const bursts: number[] = [];
  let headers: Record<string, string> = {};
  let statusCode = 0;
  const summary = await runApiStream({
    dispatcher: o.dispatcher,
    baseUrl: o.baseUrl,
    token: o.token,
    model: o.model,
    directive: o.directive,
    verify: o.verify,
    timeoutMs: o.timeoutMs,
    signal: new AbortController().signal,
    emit: (metric, _t, value) => {
      if (metric === 'burst_size') bursts.push(value);
    },
    onResponse: (code, h) => {
      statusCode = code;
      headers = h;
    },
  });
  const status = summary.outcome === 'http_error' ? String(statusCode) : undefined;
  return {
    outcome: summary.outcome,
    ...(status !== undefined ? { status } : {}),
    tokens: summary.tokens,
    events: summary.events,
    splitEvents: summary.splitEvents,
    reads: summary.reads,
    contentReads: bursts.length,
    maxTokensPerRead: bursts.length > 0 ? Math.max(...bursts) : 0,
    ...(summary.ttftMs !== undefined ? { ttftMs: summary.ttftMs } : {}),
    ...(summary.e2eMs !== undefined ? { e2eMs: summary.e2eMs } : {}),
    ...(summary.garbledRate !== undefined ? { garbledRate: summary.garbledRate } : {}),
    ...(headers['content-type'] !== undefined ? { contentType: headers['content-type'] } : {}),
    ...(headers['x-accel-buffering'] !== undefined ? { xAccelBuffering: headers['x-accel-buffering'] } : {}),
    ...(replicaOf(headers) !== undefined ? { replica: replicaOf(headers)! } : {}),
  };
}

/** POST of `bytes` to a path no route serves: nginx answers 413 above client_max_body_size, else the upstream's 404/405. */
export async function bodyProbe(
  baseUrl: string,
  bytes: number,
  timeoutMs = 30_000,
): Promise<{ bytes: number; status: number; error?: string }> {
  try {
    const res = await fetch(`${trimSlash(baseUrl)}/api/v1/owui-chaos-doctor/body-size-probe`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: new Uint8Array(bytes),
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.arrayBuffer().catch(() => undefined);
    return { bytes, status: res.status };
  } catch (err) {
    return { bytes, status: 0, error: causeText(err) };
  }
}

/** The server certificate's expiry (https only). */
export function tlsProbe(
  url: string,
  timeoutMs = 5000,
): Promise<{ daysLeft: number; notAfter: string; subject: string } | { error: string }> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host: u.hostname,
      port: Number(u.port || 443),
      servername: u.hostname,
      rejectUnauthorized: false,
      timeout: timeoutMs,
    });
    const done = (v: { daysLeft: number; notAfter: string; subject: string } | { error: string }): void => {
      socket.destroy();
      resolve(v);
    };
    socket.once('secureConnect', () => {
      const cert = socket.getPeerCertificate();
      if (!cert || !cert.valid_to) return done({ error: 'no certificate' });
      const notAfter = new Date(cert.valid_to);
      const authorized = socket.authorized ? '' : ` (not trusted: ${String(socket.authorizationError)})`;
      done({
        daysLeft: Math.floor((notAfter.getTime() - Date.now()) / 86_400_000),
        notAfter: notAfter.toISOString().slice(0, 10),
        subject: `${String(cert.subject?.CN ?? '')}${authorized}`,
      });
    });
    socket.once('timeout', () => done({ error: `no TLS handshake within ${timeoutMs} ms` }));
    socket.once('error', (err) => done({ error: errorMessage(err) }));
  });
}
