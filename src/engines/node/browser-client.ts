// Browser client (DESIGN §5, docs/openwebui-protocol.md §5, §10.2): behaves like the Open WebUI web UI
// on the wire. The session itself (connect, join, heartbeat, ping watchdog, timeouts, reconnect,
// chat routing, every ws_* sample) is protocol/socket-session.ts, shared with the k6 scenarios;
// this file is its `ws` + undici adapter and the promise-shaped `chat()` the Node engine uses.
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
//   `reason: no_event`). Never throws. With `startMs` (an open schedule's intended start,
//   user-schedule.ts) ttft and e2e are measured from it instead of from the send.

import type { ClientRequest, IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import type { Dispatcher } from 'undici';
import {
  DEFAULT_EVENT_GRACE_MS,
  classifySocketChatReply,
  handshakeFailure,
  siteOrigin,
  type ConnectFailure,
} from '../../protocol/browser-session.js';
import { formatDirective, generateTokens, type GroundTruthDirective } from '../../protocol/ground-truth.js';
import { buildSocketChatBody, uuid4, type OwuiBehaviour } from '../../protocol/openwebui.js';
import {
  SessionRunner,
  SocketSession,
  VERSION_ENDPOINT,
  socketUrl,
  type ChatEndReason,
} from '../../protocol/socket-session.js';
import { backoffDelay } from '../measure/backoff.js';
import { epochNow, replicaOf, requestJson } from './http.js';
import { tagsJson, type Emit } from './sample-writer.js';
import { SnapshotRecorder, type ChatSummary } from '../measure/snapshot-recorder.js';
import { API_CHAT_PATH } from './api-client.js';

export { HEARTBEAT_MS, SOCKET_PATH } from '../../protocol/socket-session.js';

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
  end: (reason: ChatEndReason | undefined) => void;
}

export class BrowserClient {
  private ws: WebSocket | undefined;
  private wsConn = 0;
  private stopped = false;
  private readonly chats = new Map<string, ChatWaiter>();
  private readonly joinWaiters = new Set<() => void>();
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly base: string;
  private readonly session: SocketSession;
  private readonly runner: SessionRunner<NodeJS.Timeout>;
  readonly origin: string;

  constructor(private readonly o: BrowserClientOptions) {
    this.now = o.now ?? epochNow;
    this.random = o.random ?? Math.random;
    this.base = o.baseUrl.endsWith('/') ? o.baseUrl.slice(0, -1) : o.baseUrl;
    this.origin = siteOrigin(this.base, o.origin);
    this.session = new SocketSession({
      token: o.token,
      behaviour: o.behaviour,
      backoff: (n) => backoffDelay(n, this.random),
      ...(o.connectTimeoutMs !== undefined ? { connectTimeoutMs: o.connectTimeoutMs } : {}),
      ...(o.joinTimeoutMs !== undefined ? { joinTimeoutMs: o.joinTimeoutMs } : {}),
      ...(o.heartbeatMs !== undefined ? { heartbeatMs: o.heartbeatMs } : {}),
    });
    this.runner = new SessionRunner(this.session, {
      now: this.now,
      setTimer: (fn, ms) => setTimeout(fn, ms),
      clearTimer: (t) => clearTimeout(t),
      open: (conn) => this.open(conn),
      send: (conn, text) => {
        if (conn === this.wsConn && this.ws?.readyState === WebSocket.OPEN) this.ws.send(text);
      },
      close: (conn) => this.close(conn),
      fetchVersion: (conn) => this.fetchVersion(conn),
      metric: (name, value, tags) => o.emit(name, this.now(), value, tagsJson(tags)),
      joined: (joined) => {
        o.onJoinedChange?.(joined);
        if (joined) for (const wake of [...this.joinWaiters]) wake();
      },
      chatEvent: (id, event, at) => this.chats.get(id)?.recorder.onEvent(at, event),
      chatEnd: (id, reason) => {
        const waiter = this.chats.get(id);
        this.chats.delete(id);
        waiter?.end(reason);
      },
    });
  }

  get joined(): boolean {
    return this.session.joined;
  }

  get sessionId(): string | undefined {
    return this.session.sessionId;
  }

  /** Connections lost while joined, and recoveries, for tests and progress. */
  get disconnects(): number {
    return this.session.disconnects;
  }

  get reconnects(): number {
    return this.session.reconnects;
  }

  /** Failed connection attempts so far and the last one's failure. */
  get connectFailures(): { count: number; last: ConnectFailure | undefined } {
    return { count: this.session.failures, last: this.session.lastFailure };
  }

  start(): void {
    this.runner.run((s, now) => s.start(now));
  }

  /** Closes for good; no disconnect is counted; chats still running end as `cancelled`. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.runner.run((s, now) => s.stop(now));
    this.close(this.wsConn);
    for (const wake of this.joinWaiters) wake();
    this.joinWaiters.clear();
  }

  /** Resolves true once joined, false when `signal` aborts or the client stops first. */
  waitJoined(signal: AbortSignal): Promise<boolean> {
    if (this.session.joined) return Promise.resolve(true);
    if (this.stopped || signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (): void => {
        this.joinWaiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve(this.session.joined);
      };
      this.joinWaiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private open(conn: number): void {
    const ws = this.connectWs(conn);
    if (!ws) return;
    this.ws = ws;
    this.wsConn = conn;
    const run = this.runner.run.bind(this.runner);
    ws.on('upgrade', (res) => this.session.onReplica(conn, replicaOf(res.headers)));
    ws.on('open', () => run((s, now) => s.onOpen(conn, now)));
    // A refused handshake: read the status and (the start of) the body, as a browser's devtools
    // would show them, then drop the request.
    ws.on('unexpected-response', (req: ClientRequest, res: IncomingMessage) => {
      this.session.onReplica(conn, replicaOf(res.headers));
      let body = '';
      const done = (): void => {
        run((s, now) => s.onTransportError(conn, now, handshakeFailure(res.statusCode ?? 0, body)));
        res.destroy();
        // terminate() while CONNECTING aborts the request and always emits 'error' then 'close'.
        ws.terminate();
        req.destroy();
      };
      const timer = setTimeout(done, 2000);
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < 1000) body += chunk;
      });
      const end = (): void => {
        clearTimeout(timer);
        done();
      };
      res.on('end', end);
      res.on('error', end);
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) run((s, now) => s.onFrame(conn, now, data.toString()));
    });
    ws.on('error', (err: Error & { code?: string }) => {
      if (ws.readyState !== WebSocket.OPEN)
        run((s, now) =>
          s.onTransportError(conn, now, { reason: 'network', detail: err.code ?? err.message }),
        );
    });
    ws.on('close', () => run((s, now) => s.onClose(conn, now)));
  }

  private connectWs(conn: number): WebSocket | undefined {
    try {
      return new WebSocket(socketUrl(this.base), {
        perMessageDeflate: false,
        handshakeTimeout: this.o.connectTimeoutMs ?? 20_000,
        origin: this.origin,
      });
    } catch (err) {
      const failure: ConnectFailure = { reason: 'network', detail: (err as Error).message };
      // The session asked for this socket inside an effect: answer after it, not re-entrantly.
      queueMicrotask(() => this.runner.run((s, now) => s.onTransportError(conn, now, failure)));
      return undefined;
    }
  }

  private close(conn: number): void {
    const ws = this.ws;
    if (!ws || conn !== this.wsConn) return;
    this.ws = undefined;
    ws.removeAllListeners();
    ws.on('error', () => undefined);
    if (this.stopped && ws.readyState === WebSocket.OPEN) ws.close(1000);
    else ws.terminate();
  }

  private fetchVersion(conn: number): void {
    requestJson(this.o.dispatcher, `${this.base}${VERSION_ENDPOINT}`, { timeoutMs: 10_000 }).then(
      (res) => this.runner.run((s, now) => s.onVersion(conn, now, res.status)),
      () => this.runner.run((s, now) => s.onVersion(conn, now, 0)),
    );
  }

  /** One socket-mode chat. Call when joined (otherwise it waits for the join within `timeoutMs`). */
  async chat(o: {
    model: string;
    directive: GroundTruthDirective;
    verify: boolean;
    timeoutMs: number;
    signal: AbortSignal;
    path?: string;
    /** Where the HTTP POST goes (default: the socket's base URL); the doctor posts to another replica. */
    postBaseUrl?: string;
    /**
     * The chat's INTENDED start (epoch ms) in an open schedule: ttft and e2e are measured from it,
     * so waiting for a join or a late scheduler shows as latency. Default: when it is sent.
     */
    startMs?: number;
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
      if (!(await this.waitJoined(local.signal))) return undefined;
      const sessionId = this.session.sessionId;
      if (sessionId === undefined) return undefined;
      const startMs = Math.min(o.startMs ?? Number.POSITIVE_INFINITY, this.now());
      const id = uuid4(this.random);
      const body = buildSocketChatBody({
        model: o.model,
        prompt: formatDirective(o.directive),
        sessionId,
        messageId: id,
        userMessageId: uuid4(this.random),
        behaviour: this.o.behaviour,
        nowSeconds: Date.now() / 1000,
        // Title/tags/follow-up generation are extra LLM calls unrelated to what we measure.
        backgroundTasks: false,
      });
      const expected = o.verify ? generateTokens(o.directive.seed, o.directive.tokens) : undefined;
      const recorder = new SnapshotRecorder({
        startMs,
        expected,
        emit: this.o.emit,
        tagsJson: tagsJson(this.tagsNow()),
      });
      const ended = new Promise<ChatEndReason | undefined>((resolve) =>
        this.chats.set(id, { recorder, end: resolve }),
      );
      const begun = this.session.beginChat(id, startMs);
      if (!begun.ok) {
        this.chats.delete(id);
        return undefined;
      }
      messageId = id;
      this.runner.apply(begun.effects);
      const end = (r: ChatEndReason, http?: { endpoint: string; replica?: string }): void =>
        this.runner.run((s, now) => s.endChat(id, now, r, http));
      local.signal.addEventListener('abort', () => end({ outcome: reason ?? 'cancelled' }), { once: true });
      try {
        const postBase = (o.postBaseUrl ?? this.base).replace(/\/$/, '');
        const res = await requestJson(this.o.dispatcher, `${postBase}${path}`, {
          method: 'POST',
          token: this.o.token,
          body,
          signal: local.signal,
          timeoutMs: o.timeoutMs,
        });
        const replica = replicaOf(res.headers);
        if (res.status >= 400) {
          end(
            { outcome: 'http_error', status: String(res.status) },
            { endpoint: path, ...(replica !== undefined ? { replica } : {}) },
          );
        } else {
          const ct = res.headers['content-type'];
          const reply = classifySocketChatReply(res.status, Array.isArray(ct) ? ct[0] : ct, res.text);
          if (!reply.ok)
            end({ outcome: 'protocol_error', status: reply.status, contentType: reply.contentType });
          // Accepted: the answer comes over the socket; nothing within the grace means never.
          else
            this.runner.run((s, now) =>
              s.chatAccepted(id, now, this.o.eventGraceMs ?? DEFAULT_EVENT_GRACE_MS),
            );
        }
      } catch {
        if (reason === undefined) end({ outcome: 'http_error', status: '0' }, { endpoint: path });
      }
      // The end first, then the clock: `finish(this.now(), await ended)` would read the clock
      // before the chat ended and stamp its outcome at the POST's answer.
      const endReason = await ended;
      return recorder.finish(this.now(), endReason);
    } finally {
      clearTimeout(timer);
      o.signal.removeEventListener('abort', onAbort);
      if (messageId !== undefined) this.chats.delete(messageId);
    }
  }

  /** The tags a chat started now carries (the socket's replica when known). */
  private tagsNow(): Record<string, string> {
    return this.session.tags();
  }
}
