// Minimal real protocol clients for the lab integration tests: an SSE chat (mode A) read chunk by
// chunk over node:http, and a websocket-only Socket.IO client (ws + the shared protocol codec).
//
// `SioClient` deliberately speaks the RAW protocol instead of running the browser session
// (src/protocol/socket-session.ts): the lab tests check the SERVER step by step — a CONNECT without
// `user-join` (a socket in no room), `user-join` sent by hand to see the raw (empty) ack a replica
// with another WEBUI_SECRET_KEY gives, a socket that must stay open after a refused join, no
// reconnect after a kill. The session would join, close on a refused ack and reconnect by itself,
// hiding exactly what these tests look at. Tests that need a browser as the engine runs it use
// BrowserClient (src/engines/node/browser-client.ts), which is the session.

import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import WebSocket from 'ws';
import { decodeEio, encodeEio } from '../../../src/protocol/engineio.js';
import { decodeSio, eventParts, sioFrame } from '../../../src/protocol/socketio.js';
import { SOCKET_PATH, SOCKET_QUERY, socketUrl } from '../../../src/protocol/socket-session.js';
import { interpretChatData } from '../../../src/protocol/openai-stream.js';
import { SseParser } from '../../../src/protocol/sse-parser.js';
import { formatDirective, type GroundTruthDirective } from '../../../src/protocol/ground-truth.js';
import {
  buildSocketChatBody,
  interpretEnvelope,
  behaviourFor,
  parseVersion,
} from '../../../src/protocol/openwebui.js';

export const MODEL = 'owui-chaos-mock';

export async function signin(baseUrl: string, email: string, password: string): Promise<string> {
  const res = await fetch(`${baseUrl}/api/v1/auths/signin`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  const body = (await res.json()) as { token?: string };
  if (!res.ok || !body.token) throw new Error(`signin ${res.status}: ${JSON.stringify(body)}`);
  return body.token;
}

export interface SseResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  ttftMs?: number;
  e2eMs: number;
  content: string;
  done: boolean;
  /** The body ended with an error (reset, truncated chunked encoding). */
  error?: string;
  /** Network reads of the body. */
  reads: number;
  /** The start of a non-200 body, for error messages. */
  errorBody?: string;
}

/** POST /api/chat/completions (mode A) and read the SSE stream as it arrives. */
export function sseChat(
  baseUrl: string,
  token: string,
  directive: GroundTruthDirective,
  opts: { timeoutMs?: number; onFirstToken?: () => void } = {},
): Promise<SseResult> {
  const body = JSON.stringify({
    model: MODEL,
    stream: true,
    messages: [{ role: 'user', content: formatDirective(directive) }],
  });
  const url = new URL('/api/chat/completions', baseUrl);
  const start = performance.now();
  return new Promise((resolve) => {
    const parser = new SseParser();
    const result: SseResult = { status: 0, headers: {}, e2eMs: 0, content: '', done: false, reads: 0 };
    let settled = false;
    const finish = (error?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      result.e2eMs = performance.now() - start;
      if (error !== undefined && !result.done) result.error = error;
      resolve(result);
    };
    const req = request(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${token}`,
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        result.status = res.statusCode ?? 0;
        result.headers = res.headers;
        res.on('data', (chunk: Buffer) => {
          result.reads++;
          if (result.status !== 200 && result.errorBody === undefined)
            result.errorBody = chunk.toString('utf8', 0, 300);
          for (const ev of parser.push(new Uint8Array(chunk))) {
            const item = interpretChatData(ev.data);
            if (item.kind === 'content') {
              if (result.ttftMs === undefined) {
                result.ttftMs = performance.now() - start;
                opts.onFirstToken?.();
              }
              result.content += item.content;
            } else if (item.kind === 'done') result.done = true;
          }
        });
        res.on('end', () => finish(result.done ? undefined : 'ended without [DONE]'));
        res.on('aborted', () => finish('aborted'));
        res.on('error', (err) => finish(err.message));
        res.on('close', () => finish(result.done ? undefined : 'closed without [DONE]'));
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      finish('timeout');
    }, opts.timeoutMs ?? 30_000);
    req.on('error', (err) => finish(err.message));
    req.end(body);
  });
}

type Listener = (name: string, args: unknown[]) => void;

/** A websocket-only Socket.IO client, as the Open WebUI browser connects. */
export class SioClient {
  sid?: string;
  eioSid?: string;
  /** `X-OWUI-Replica` / `X-Upstream` of the upgrade response. */
  replica?: string;
  upstream?: string;
  readonly events: Array<{ name: string; args: unknown[]; at: number }> = [];
  readonly closed: Promise<void>;
  private ws: WebSocket;
  private listeners = new Set<Listener>();
  private acks = new Map<number, (args: unknown[]) => void>();
  private nextAck = 0;
  private connected: Promise<void>;

  constructor(baseUrl: string, token: string, opts: { origin?: string } = {}) {
    this.ws = new WebSocket(socketUrl(baseUrl), opts.origin !== undefined ? { origin: opts.origin } : {});
    this.ws.on('upgrade', (res) => {
      this.replica = String(res.headers['x-owui-replica'] ?? '');
      this.upstream = String(res.headers['x-upstream'] ?? '');
    });
    this.closed = new Promise((resolve) => this.ws.on('close', () => resolve()));
    this.connected = new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`socket to ${baseUrl} did not connect within 10 s`)),
        10_000,
      );
      this.ws.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      this.ws.on('message', (raw) => {
        const eio = decodeEio(raw.toString());
        if (eio.type === 'open') {
          this.eioSid = eio.data.sid;
          this.ws.send(sioFrame({ type: 'connect', nsp: '/', data: { token } }));
        } else if (eio.type === 'ping') {
          this.ws.send(encodeEio({ type: 'pong' }));
        } else if (eio.type === 'message') {
          const p = decodeSio(eio.data);
          if (p.type === 'connect') {
            const sid = (p.data as { sid?: string } | undefined)?.sid;
            if (sid !== undefined) this.sid = sid;
            clearTimeout(timer);
            resolve();
          } else if (p.type === 'connect_error') {
            clearTimeout(timer);
            reject(new Error(`connect_error ${JSON.stringify(p.data)}`));
          } else if (p.type === 'event') {
            const parts = eventParts(p);
            if (parts) {
              this.events.push({ ...parts, at: performance.now() });
              for (const l of this.listeners) l(parts.name, parts.args);
            }
          } else if (p.type === 'ack') {
            this.acks.get(p.id)?.(p.data);
            this.acks.delete(p.id);
          }
        }
      });
    });
  }

  ready(): Promise<void> {
    return this.connected;
  }

  emitWithAck(name: string, ...args: unknown[]): Promise<unknown[]> {
    const id = this.nextAck++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ack for ${name} within 5 s`)), 5000);
      this.acks.set(id, (a) => {
        clearTimeout(timer);
        resolve(a);
      });
      this.ws.send(sioFrame({ type: 'event', nsp: '/', id, data: [name, ...args] }));
    });
  }

  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.ws.terminate();
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }
}

export async function openSocket(
  baseUrl: string,
  token: string,
  opts: { origin?: string } = {},
): Promise<SioClient> {
  const c = new SioClient(baseUrl, token, opts);
  await c.ready();
  return c;
}

export interface SocketChatResult {
  status: number;
  /** Replica that served the POST. */
  postReplica: string;
  text: string;
  done: boolean;
  elapsedMs: number;
}

/** Mode B: POST with the socket's sid, wait for `done` on that socket (filtered by message id). */
export async function socketChat(
  postBaseUrl: string,
  token: string,
  socket: SioClient,
  directive: GroundTruthDirective,
  timeoutMs = 15_000,
): Promise<SocketChatResult> {
  const messageId = randomUUID();
  const body = buildSocketChatBody({
    model: MODEL,
    prompt: formatDirective(directive),
    sessionId: socket.sid ?? '',
    messageId,
    userMessageId: randomUUID(),
    behaviour: behaviourFor(parseVersion('0.11.0')),
    nowSeconds: Date.now() / 1000,
    backgroundTasks: false,
  });
  const start = performance.now();
  let text = '';
  let doneResolve: (done: boolean) => void = () => undefined;
  const done = new Promise<boolean>((resolve) => (doneResolve = resolve));
  const off = socket.on((name, args) => {
    if (name !== 'events') return;
    const env = interpretEnvelope(args[0]);
    if (!env || env.messageId !== messageId) return;
    if (env.event.kind === 'completion') {
      if (env.event.text !== undefined) text = env.event.text;
      if (env.event.done) doneResolve(true);
    } else if (env.event.kind === 'error' || env.event.kind === 'cancel') doneResolve(false);
  });
  const timer = setTimeout(() => doneResolve(false), timeoutMs);
  try {
    const res = await fetch(`${postBaseUrl}/api/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    const reply = await res.text();
    const postReplica = res.headers.get('x-owui-replica') ?? '';
    if (!res.ok)
      return {
        status: res.status,
        postReplica,
        text: reply,
        done: false,
        elapsedMs: performance.now() - start,
      };
    const ok = await done;
    return { status: res.status, postReplica, text, done: ok, elapsedMs: performance.now() - start };
  } finally {
    clearTimeout(timer);
    off();
  }
}

export interface HandshakeResult {
  status: number;
  body: string;
  /** `X-OWUI-Replica` (absent when nginx answered itself). */
  replica?: string;
}

/** One raw websocket handshake to `/ws/socket.io` (what a browser sends), closed right after. */
export function wsHandshake(baseUrl: string, opts: { origin?: string } = {}): Promise<HandshakeResult> {
  const url = new URL(`${SOCKET_PATH}${SOCKET_QUERY}`, baseUrl);
  return new Promise((resolve, reject) => {
    const req = request(url, {
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        ...(opts.origin !== undefined ? { origin: opts.origin } : {}),
      },
      timeout: 10_000,
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      const replica = res.headers['x-owui-replica'];
      resolve({ status: res.statusCode ?? 0, body: '', ...(replica ? { replica: String(replica) } : {}) });
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        const replica = res.headers['x-owui-replica'];
        resolve({ status: res.statusCode ?? 0, body, ...(replica ? { replica: String(replica) } : {}) });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no handshake answer from ${baseUrl} within 10 s`)));
    req.on('error', reject);
    req.end();
  });
}
