// Browser client (DESIGN §5, openwebui-protocol.md §5, §10.2): behaves like the Open WebUI web UI
// on the wire. Socket.IO over a websocket only (no polling), the shared codec, reconnect forever.
//
// Contract:
// - Connects to `{base}/ws/socket.io/?EIO=4&transport=websocket` with the site's `Origin` header
//   (`origin`, default the base URL's origin: a browser always sends one), sends CONNECT with
//   `auth: {token}`, answers every Engine.IO ping with a pong, and closes a connection that has
//   not pinged for pingInterval + pingTimeout (engine.io-client's rule).
// - On EVERY connect: `GET /api/version` and `user-join` with `{auth:{token}}` (waiting for its
//   ack, at most `joinTimeoutMs`), then `heartbeat` `{}` every 30 s while connected (≥ 0.6.41).
//   The client counts as connected ("joined") only after both. A connect attempt that is not
//   joined within `connectTimeoutMs` (20 s, socket.io-client's default) is dropped and retried.
// - Reconnects forever with backoff.ts (1–5 s, ×2, ±50 %), attempt counter reset on success.
// - Every failed attempt is one `ws_connect_errors` sample tagged `reason` (ConnectRecorder and
//   protocol/browser-session.ts, shared with the k6 client): a refused handshake (its status and
//   body, read from the response), a network error, `connect_error`, an empty `user-join` ack, the
//   join or connect timeout, or a close before joining. `stop()` gives `ws_never_joined` (1/0).
// - Samples (tag `client: browser`, `replica` from the upgrade response when the proxy names one):
//   ws_connect_time per successful connect (open started → joined); ws_disconnects (1) per
//   unplanned loss of a joined connection; ws_reconnects (1) and ws_reconnect_time (disconnect →
//   joined again) per recovery.
// - `chat()` sends a socket-mode completion (session_id = our sid, uuid `id`, `parent_id: null`),
//   routes `events`/`chat-events` envelopes by OUR message id (frames may arrive before the HTTP
//   reply), takes text from the latest snapshot, and ends on done / `chat:tasks:cancel` /
//   `chat:message:error`, on `timeoutMs`, or when `signal` aborts (deadline: `cancelled`). It
//   survives reconnects: later cumulative frames restore the text. A 2xx reply that is not
//   Open WebUI's task reply (e.g. SSE) ends it at once as `protocol_error`; a chat that got no
//   event at all within `eventGraceMs` of an accepted reply ends at once as lost (`timeout`,
//   `reason: no_event`). Never throws.

import type { ClientRequest, IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import type { Dispatcher } from 'undici';
import {
  DEFAULT_EVENT_GRACE_MS,
  classifySocketChatReply,
  connectErrorFailure,
  handshakeFailure,
  joinAckFailure,
  siteOrigin,
  type ConnectFailure,
} from '../../protocol/browser-session.js';
import { decodeEio, encodeEio } from '../../protocol/engineio.js';
import { formatDirective, generateTokens, type GroundTruthDirective } from '../../protocol/ground-truth.js';
import {
  buildSocketChatBody,
  interpretEnvelope,
  uuid4,
  type OwuiBehaviour,
} from '../../protocol/openwebui.js';
import { decodeSio, sioFrame } from '../../protocol/socketio.js';
import { backoffDelay } from '../measure/backoff.js';
import { ConnectRecorder } from '../measure/connect-recorder.js';
import { epochNow, replicaOf, requestJson } from './http.js';
import { tagsJson, type Emit } from './sample-writer.js';
import { SnapshotRecorder, type ChatSummary } from '../measure/snapshot-recorder.js';
import { withTags } from '../measure/stream-recorder.js';
import { API_CHAT_PATH } from './api-client.js';

export const SOCKET_PATH = '/ws/socket.io/';
export const HEARTBEAT_MS = 30_000;

export interface BrowserClientOptions {
  baseUrl: string;
  token: string;
  dispatcher: Dispatcher;
  behaviour: OwuiBehaviour;
  emit: Emit;
  random?: () => number;
  now?: () => number;
  connectTimeoutMs?: number;
  joinTimeoutMs?: number;
  heartbeatMs?: number;
  /** `Origin` of the site; default: the origin of `baseUrl`. */
  origin?: string;
  /** A socket chat with no event this long after its accepted POST is lost (default 10 s). */
  eventGraceMs?: number;
  /** Called when the client becomes joined (true) or loses a joined connection (false). */
  onJoinedChange?: (joined: boolean) => void;
}

interface ChatWaiter {
  recorder: SnapshotRecorder;
  wake: () => void;
}

export class BrowserClient {
  private ws: WebSocket | undefined;
  private stopped = false;
  private attempts = 0;
  private sid: string | undefined;
  private isJoined = false;
  private disconnectAtMs: number | undefined;
  private replica: string | undefined;
  private ackId = 0;
  private readonly acks = new Map<number, (args: unknown[]) => void>();
  private readonly chats = new Map<string, ChatWaiter>();
  private readonly joinWaiters = new Set<() => void>();
  private timers: {
    ping?: NodeJS.Timeout;
    heartbeat?: NodeJS.Timeout;
    connect?: NodeJS.Timeout;
    reconnect?: NodeJS.Timeout;
  } = {};
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly base: string;
  private started = false;
  /** Connections lost while joined, and recoveries, for tests and progress. */
  disconnects = 0;
  reconnects = 0;
  readonly connects: ConnectRecorder;
  readonly origin: string;

  constructor(private readonly o: BrowserClientOptions) {
    this.now = o.now ?? epochNow;
    this.random = o.random ?? Math.random;
    this.base = o.baseUrl.endsWith('/') ? o.baseUrl.slice(0, -1) : o.baseUrl;
    this.origin = siteOrigin(this.base, o.origin);
    this.connects = new ConnectRecorder({ emit: o.emit, tags: () => this.tags() });
  }

  get joined(): boolean {
    return this.isJoined;
  }

  get sessionId(): string | undefined {
    return this.sid;
  }

  start(): void {
    this.started = true;
    this.connect();
  }

  /** Closes for good; no disconnect is counted. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.connects.abandon();
    if (this.started) this.connects.end(this.now());
    this.clearTimers(true);
    const ws = this.ws;
    this.ws = undefined;
    if (this.isJoined) {
      this.isJoined = false;
      this.o.onJoinedChange?.(false);
    }
    ws?.removeAllListeners();
    ws?.on('error', () => undefined);
    if (ws && ws.readyState === WebSocket.OPEN) ws.close(1000);
    else ws?.terminate();
    for (const wake of this.joinWaiters) wake();
    this.joinWaiters.clear();
  }

  /** Resolves true once joined, false when `signal` aborts or the client stops first. */
  waitJoined(signal: AbortSignal): Promise<boolean> {
    if (this.isJoined) return Promise.resolve(true);
    if (this.stopped || signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (): void => {
        this.joinWaiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve(this.isJoined);
      };
      this.joinWaiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private tags(extra?: Record<string, string>): string {
    const t: Record<string, string> = { client: 'browser' };
    if (this.replica !== undefined) t['replica'] = this.replica;
    return tagsJson(extra ? { ...t, ...extra } : t);
  }

  private fail(failure: ConnectFailure): void {
    this.connects.fail(this.now(), failure);
  }

  private connect(): void {
    if (this.stopped) return;
    const t0 = this.now();
    const url = this.base.replace(/^http/, 'ws') + `${SOCKET_PATH}?EIO=4&transport=websocket`;
    this.connects.attempt();
    let ws: WebSocket;
    try {
      ws = new WebSocket(url, {
        perMessageDeflate: false,
        handshakeTimeout: this.o.connectTimeoutMs ?? 20_000,
        origin: this.origin,
      });
    } catch (err) {
      this.fail({ reason: 'network', detail: (err as Error).message });
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    this.sid = undefined;
    this.timers.connect = setTimeout(() => {
      if (!this.isJoined && this.ws === ws) {
        this.fail({ reason: 'connect_timeout' });
        ws.terminate();
      }
    }, this.o.connectTimeoutMs ?? 20_000);
    ws.on('upgrade', (res) => {
      this.replica = replicaOf(res.headers);
    });
    // A refused handshake: read the status and (the start of) the body, as a browser's devtools
    // would show them, then drop the request (ws then closes the socket and we reconnect).
    ws.on('unexpected-response', (req: ClientRequest, res: IncomingMessage) => {
      this.replica = replicaOf(res.headers) ?? this.replica;
      let body = '';
      const done = (): void => {
        if (this.ws === ws) this.fail(handshakeFailure(res.statusCode ?? 0, body));
        res.destroy();
        // terminate() while CONNECTING aborts the request and always emits 'error' then 'close'
        // (a destroy of the already finished request would emit neither: no reconnect).
        ws.terminate();
        req.destroy();
      };
      const timer = setTimeout(done, 2000);
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < 1000) body += chunk;
      });
      res.on('end', () => {
        clearTimeout(timer);
        done();
      });
      res.on('error', () => {
        clearTimeout(timer);
        done();
      });
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) this.onFrame(ws, data.toString(), t0);
    });
    ws.on('error', (err: Error & { code?: string }) => {
      if (this.ws === ws && ws.readyState !== WebSocket.OPEN)
        this.fail({ reason: 'network', detail: err.code ?? err.message });
    });
    ws.on('close', () => this.onClose(ws));
  }

  private onFrame(ws: WebSocket, frame: string, t0: number): void {
    let packet;
    try {
      packet = decodeEio(frame);
    } catch {
      return;
    }
    switch (packet.type) {
      case 'open': {
        const { pingInterval, pingTimeout } = packet.data;
        this.armPingTimer(ws, pingInterval + pingTimeout);
        ws.send(sioFrame({ type: 'connect', nsp: '/', data: { token: this.o.token } }));
        return;
      }
      case 'ping':
        this.timers.ping?.refresh();
        ws.send(
          encodeEio(packet.data === undefined ? { type: 'pong' } : { type: 'pong', data: packet.data }),
        );
        return;
      case 'close':
        ws.terminate();
        return;
      case 'message':
        this.onSio(ws, packet.data, t0);
        return;
      default:
        return;
    }
  }

  private onSio(ws: WebSocket, text: string, t0: number): void {
    let p;
    try {
      p = decodeSio(text);
    } catch {
      return;
    }
    switch (p.type) {
      case 'connect': {
        const data = p.data as { sid?: unknown } | undefined;
        this.sid = typeof data?.sid === 'string' ? data.sid : undefined;
        void this.join(ws, t0);
        return;
      }
      case 'connect_error':
        this.fail(connectErrorFailure(p.data));
        ws.terminate();
        return;
      case 'disconnect':
        ws.terminate();
        return;
      case 'ack': {
        const resolve = this.acks.get(p.id);
        if (resolve) {
          this.acks.delete(p.id);
          resolve(p.data);
        }
        return;
      }
      case 'event': {
        const [name, payload] = p.data;
        if (name === this.o.behaviour.chatEventName || name === 'events' || name === 'chat-events')
          this.onEnvelope(payload);
        return;
      }
      default:
        return;
    }
  }

  private async join(ws: WebSocket, t0: number): Promise<void> {
    const id = ++this.ackId;
    const ack = new Promise<ConnectFailure | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.acks.delete(id);
        resolve({ reason: 'join_timeout' });
      }, this.o.joinTimeoutMs ?? 10_000);
      this.acks.set(id, (args) => {
        clearTimeout(timer);
        resolve(joinAckFailure(args));
      });
    });
    ws.send(
      sioFrame({ type: 'event', nsp: '/', id, data: ['user-join', { auth: { token: this.o.token } }] }),
    );
    const version = requestJson(this.o.dispatcher, `${this.base}/api/version`, { timeoutMs: 10_000 }).then(
      (res) => {
        if (res.status >= 400)
          this.o.emit(
            'http_errors',
            this.now(),
            1,
            this.tags({ status: String(res.status), endpoint: '/api/version' }),
          );
      },
      () => this.o.emit('http_errors', this.now(), 1, this.tags({ status: '0', endpoint: '/api/version' })),
    );
    const [refused] = await Promise.all([ack, version]);
    if (this.ws !== ws || this.stopped) return;
    if (refused) {
      // Open WebUI keeps such a socket connected but in no room: it would never see a chat event.
      this.fail(refused);
      ws.terminate();
      return;
    }
    this.connects.joined();
    clearTimeout(this.timers.connect);
    const t = this.now();
    this.attempts = 0;
    this.isJoined = true;
    this.o.emit('ws_connect_time', t, t - t0, this.tags());
    if (this.disconnectAtMs !== undefined) {
      this.reconnects++;
      this.o.emit('ws_reconnects', t, 1, this.tags());
      this.o.emit('ws_reconnect_time', t, t - this.disconnectAtMs, this.tags());
      this.disconnectAtMs = undefined;
    }
    if (this.o.behaviour.heartbeat) {
      this.timers.heartbeat = setInterval(() => {
        if (this.ws === ws && ws.readyState === WebSocket.OPEN)
          ws.send(sioFrame({ type: 'event', nsp: '/', data: ['heartbeat', {}] }));
      }, this.o.heartbeatMs ?? HEARTBEAT_MS);
    }
    this.o.onJoinedChange?.(true);
    for (const wake of [...this.joinWaiters]) wake();
  }

  private armPingTimer(ws: WebSocket, ms: number): void {
    clearTimeout(this.timers.ping);
    this.timers.ping = setTimeout(() => {
      if (this.ws === ws) ws.terminate();
    }, ms);
  }

  private onClose(ws: WebSocket): void {
    if (this.ws !== ws) return;
    this.ws = undefined;
    this.clearTimers(false);
    // Pending acks (the join's) see the close, not an empty ack: the close is the failure.
    this.acks.clear();
    if (this.stopped) return;
    if (!this.isJoined) this.fail({ reason: 'closed' });
    if (this.isJoined) {
      this.isJoined = false;
      this.disconnects++;
      this.disconnectAtMs = this.now();
      this.o.emit('ws_disconnects', this.disconnectAtMs, 1, this.tags());
      this.o.onJoinedChange?.(false);
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    const delay = backoffDelay(this.attempts++, this.random);
    this.timers.reconnect = setTimeout(() => this.connect(), delay);
  }

  private clearTimers(all: boolean): void {
    clearTimeout(this.timers.ping);
    clearInterval(this.timers.heartbeat);
    clearTimeout(this.timers.connect);
    if (all) clearTimeout(this.timers.reconnect);
    this.timers = all ? {} : { ...(this.timers.reconnect ? { reconnect: this.timers.reconnect } : {}) };
  }

  private onEnvelope(payload: unknown): void {
    const env = interpretEnvelope(payload);
    if (!env || env.messageId === undefined) return;
    const waiter = this.chats.get(env.messageId);
    if (!waiter) return;
    const t = this.now();
    const ev = env.event;
    waiter.recorder.noteEvent();
    if (ev.kind === 'completion') waiter.recorder.onCompletion(t, ev.text, ev.done);
    else if (ev.kind === 'error') waiter.recorder.onError(ev.message);
    else if (ev.kind === 'cancel') waiter.recorder.onCancel();
    if (waiter.recorder.terminated) waiter.wake();
  }

  /** One socket-mode chat. Call when joined (otherwise it waits for the join within `timeoutMs`). */
  async chat(o: {
    model: string;
    directive: GroundTruthDirective;
    verify: boolean;
    timeoutMs: number;
    signal: AbortSignal;
    path?: string;
  }): Promise<ChatSummary | undefined> {
    const local = new AbortController();
    let reason: 'timeout' | 'cancelled' | undefined;
    const onAbort = (): void => {
      reason ??= 'cancelled';
      local.abort();
    };
    if (o.signal.aborted) return undefined;
    o.signal.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => {
      reason ??= 'timeout';
      local.abort();
    }, o.timeoutMs);
    const path = o.path ?? API_CHAT_PATH;
    let messageId: string | undefined;
    try {
      if (!(await this.waitJoined(local.signal)) || this.sid === undefined) return undefined;
      const startMs = this.now();
      const disconnectsAtStart = this.disconnects;
      messageId = uuid4(this.random);
      const prompt = formatDirective(o.directive);
      const body = buildSocketChatBody({
        model: o.model,
        prompt,
        sessionId: this.sid,
        messageId,
        userMessageId: uuid4(this.random),
        behaviour: this.o.behaviour,
        nowSeconds: Date.now() / 1000,
        // Title/tags/follow-up generation are extra LLM calls unrelated to what we measure.
        backgroundTasks: false,
      });
      const expected = o.verify ? generateTokens(o.directive.seed, o.directive.tokens) : undefined;
      const recorder = new SnapshotRecorder({ startMs, expected, emit: this.o.emit, tagsJson: this.tags() });
      let wake!: () => void;
      const terminated = new Promise<void>((resolve) => (wake = resolve));
      local.signal.addEventListener('abort', () => wake(), { once: true });
      this.chats.set(messageId, { recorder, wake });
      try {
        const res = await requestJson(this.o.dispatcher, `${this.base}${path}`, {
          method: 'POST',
          token: this.o.token,
          body,
          signal: local.signal,
          timeoutMs: o.timeoutMs,
        });
        const replica = replicaOf(res.headers);
        if (res.status >= 400) {
          const tags = this.tags(replica === undefined ? undefined : { replica });
          this.o.emit(
            'http_errors',
            this.now(),
            1,
            withTags(tags, { status: String(res.status), endpoint: path }),
          );
          return recorder.finish(this.now(), { outcome: 'http_error', status: String(res.status) });
        }
        const ct = res.headers['content-type'];
        const reply = classifySocketChatReply(res.status, Array.isArray(ct) ? ct[0] : ct, res.text);
        if (!reply.ok) {
          return recorder.finish(this.now(), {
            outcome: 'protocol_error',
            status: reply.status,
            contentType: reply.contentType,
          });
        }
      } catch {
        if (reason !== undefined) return recorder.finish(this.now(), { outcome: reason });
        this.o.emit('http_errors', this.now(), 1, this.tags({ status: '0', endpoint: path }));
        return recorder.finish(this.now(), { outcome: 'http_error', status: '0' });
      }
      // Accepted: the answer comes over the socket. Nothing at all within the grace means it
      // never will (no Redis fan-out to this socket's replica, a socket in no room): lost now,
      // not at the chat timeout.
      let lost = false;
      const grace =
        recorder.eventsSeen > 0 || recorder.terminated
          ? undefined
          : setTimeout(() => {
              if (recorder.eventsSeen === 0 && !recorder.terminated) {
                lost = true;
                wake();
              }
            }, this.o.eventGraceMs ?? DEFAULT_EVENT_GRACE_MS);
      if (!recorder.terminated) await terminated;
      clearTimeout(grace);
      if (lost && reason === undefined) {
        return recorder.finish(this.now(), {
          outcome: 'timeout',
          reason: this.disconnects > disconnectsAtStart ? 'disconnected' : 'no_event',
        });
      }
      // A `done` lost because our socket dropped mid-chat (events in the reconnect gap are not
      // replayed, openwebui-protocol.md §8.2) is told apart from a server that went silent.
      const droppedMidChat = this.disconnects > disconnectsAtStart;
      return recorder.finish(
        this.now(),
        recorder.terminated || reason === undefined
          ? undefined
          : { outcome: reason, ...(droppedMidChat ? { reason: 'disconnected' } : {}) },
      );
    } finally {
      clearTimeout(timer);
      o.signal.removeEventListener('abort', onAbort);
      if (messageId !== undefined) this.chats.delete(messageId);
    }
  }
}
