// ONE Socket.IO browser session, as the Open WebUI web UI runs it (docs/browser-measure.md,
// docs/openwebui-protocol.md §5, §10.2): open → Engine.IO open → CONNECT `{token}` → `user-join`
// (ack) + `GET /api/version` → joined → heartbeat, ping watchdog, chat-envelope routing, and
// reconnect with backoff. Transport-free: frames and transport events go in, effects come out
// (open / send / close a socket, set / cancel a timer, fetch /api/version, a metric sample, a
// chat event or end). The Node engine (`ws`) and the k6 scenarios (k6 websockets) are thin
// adapters that carry out the effects, so both engines decide — and measure — everything the same.
//
// Contract (times are epoch ms given by the caller; nothing here reads a clock or schedules):
// - Connections are numbered (`conn`); input about any other than the current one is ignored, so
//   a late event of a replaced socket changes nothing.
// - Every attempt that does not join gives exactly ONE `ws_connect_errors` sample (tags `reason`,
//   and `status` for a refused handshake; reasons: protocol/browser-session.ts): the FIRST failure
//   reported for that attempt wins (a refused handshake, then its close, is one sample). A
//   transport error before the socket opened may be reported as `pending` (k6: the status is read
//   by a separate probe), then the attempt stays open until `onFailure` or `stop`.
// - The session closes a socket itself (effect `close`) on: Engine.IO close, Socket.IO disconnect,
//   CONNECT refused, `user-join` refused, join timeout (`joinTimeoutMs` after user-join), connect
//   timeout (`connectTimeoutMs` after the open started, not joined), and ping timeout (no ping for
//   pingInterval + pingTimeout: engine.io-client's rule). It treats that socket as closed at once.
// - Joined = the `user-join` ack names a user AND the /api/version request answered (any status;
//   ≥ 400 or none is an `http_errors` sample tagged `endpoint: /api/version`). On join:
//   `ws_connect_time` (open started → joined); after a loss also `ws_reconnects` (1) and
//   `ws_reconnect_time` (loss → joined); the backoff attempt counter resets; with
//   `behaviour.heartbeat`, `heartbeat {}` every `heartbeatMs` while joined.
// - Losing a joined socket (closed by either side) is one `ws_disconnects` sample; then a reconnect
//   is scheduled after `backoff(attempt++)` unless it would start at/after `endAtMs`.
// - `endAtMs`: the session stops itself then (a timer effect). `stop()`: every timer is cancelled,
//   the socket closed, an open attempt abandoned (no sample), every chat ends `cancelled`, and — once
//   per started session — `ws_never_joined` 1/0.
// - Chats: `beginChat(id)` (joined only) routes envelopes of `behaviour.chatEventName`, `events`,
//   `chat-events` whose `message_id` is `id` as `chat-event` effects; done / error / cancel end it
//   (`chat-end` without a reason). `chatAccepted` arms the event grace: no envelope within
//   `graceMs` ends it as `timeout` (`reason: no_event`, or `disconnected` when the socket dropped
//   since the chat began). `endChat(id, outcome)` ends it from outside (timeout, cancelled, HTTP
//   failure); timeout/cancelled get `reason: disconnected` when the socket dropped meanwhile. A
//   chat ends exactly once.
// - Metric tags: `client: browser`, plus `replica` when the transport reported one for the socket.

import { connectErrorFailure, joinAckFailure, type ConnectFailure } from './browser-session.js';
import { decodeEio, encodeEio } from './engineio.js';
import { interpretEnvelope, type ChatEnvelopeEvent, type OwuiBehaviour } from './openwebui.js';
import { decodeSioPacket, eventParts, sioFrame } from './socketio.js';

export const SOCKET_PATH = '/ws/socket.io/';
export const SOCKET_QUERY = '?EIO=4&transport=websocket';
export const HEARTBEAT_MS = 30_000;
/** socket.io-client's connect timeout. */
export const CONNECT_TIMEOUT_MS = 20_000;
export const JOIN_TIMEOUT_MS = 10_000;
export const VERSION_ENDPOINT = '/api/version';

/** The websocket URL of a site's Socket.IO endpoint (websocket transport only, as Open WebUI wants). */
export function socketUrl(baseUrl: string): string {
  const base = baseUrl.endsWith('/') ? baseUrl.slice(0, -1) : baseUrl;
  return `${base.replace(/^http/, 'ws')}${SOCKET_PATH}${SOCKET_QUERY}`;
}

/** The ws_* (and http_errors) samples the session decides; names from the metric catalogue. */
export type SessionMetric =
  | 'ws_connect_time'
  | 'ws_disconnects'
  | 'ws_reconnects'
  | 'ws_reconnect_time'
  | 'ws_connect_errors'
  | 'ws_never_joined'
  | 'http_errors';

export type TimerKey = string;

/** Why a chat ended, in SnapshotRecorder.finish's terms; undefined = it reached a terminator. */
export interface ChatEndReason {
  outcome: 'timeout' | 'cancelled' | 'http_error' | 'protocol_error';
  status?: string;
  contentType?: string;
  reason?: string;
}

export type SessionEffect =
  | { type: 'open'; conn: number }
  | { type: 'send'; conn: number; text: string }
  | { type: 'close'; conn: number }
  | { type: 'timer'; key: TimerKey; ms: number }
  | { type: 'cancel-timer'; key: TimerKey }
  | { type: 'fetch-version'; conn: number }
  | { type: 'metric'; name: SessionMetric; value: number; tags: Record<string, string> }
  | { type: 'joined'; joined: boolean }
  | { type: 'chat-event'; id: string; event: ChatEnvelopeEvent; at: number }
  | { type: 'chat-end'; id: string; reason?: ChatEndReason }
  /** The session stopped for good (stop() or `endAtMs`): the adapter drops its own timers. */
  | { type: 'stopped' };

export interface SocketSessionOptions {
  token: string;
  behaviour: OwuiBehaviour;
  /** Delay before reconnect attempt n (0, 1, …): the web UI's backoff (engines/measure/backoff.ts). */
  backoff: (attempt: number) => number;
  connectTimeoutMs?: number;
  joinTimeoutMs?: number;
  heartbeatMs?: number;
  /** The session stops itself at this epoch ms (k6: the scenario's end). */
  endAtMs?: number;
}

interface ChatState {
  disconnectsAtStart: number;
  events: number;
}

const T = {
  connect: 'connect',
  join: 'join',
  ping: 'ping',
  heartbeat: 'heartbeat',
  reconnect: 'reconnect',
  end: 'end',
  grace: (id: string) => `grace:${id}`,
  chat: (id: string) => `chat:${id}`,
} as const;

export class SocketSession {
  private conn = 0;
  /** The current socket is live (opened by us, not yet closed). */
  private live = false;
  private transportOpen = false;
  private attemptOpen = false;
  private pendingFailure = false;
  private started = false;
  private stopped = false;
  private everJoined = false;
  private isJoined = false;
  private attempt = 0;
  private openStartMs = 0;
  private disconnectAtMs: number | undefined;
  private replica: string | undefined;
  private sid: string | undefined;
  private ackId = 0;
  private joinAckId: number | undefined;
  private joinAcked = false;
  private versionDone = false;
  private pingBudgetMs = 0;
  private readonly timers = new Set<TimerKey>();
  private readonly chats = new Map<string, ChatState>();
  private out: SessionEffect[] = [];
  /** Joined sockets lost, and recoveries (for progress and tests). */
  disconnects = 0;
  reconnects = 0;
  /** Failed attempts (one per ws_connect_errors sample) and the last failure. */
  failures = 0;
  lastFailure: ConnectFailure | undefined;

  constructor(private readonly o: SocketSessionOptions) {}

  get joined(): boolean {
    return this.isJoined;
  }

  /** The Socket.IO sid of the joined connection (a socket-mode chat's `session_id`). */
  get sessionId(): string | undefined {
    return this.isJoined ? this.sid : undefined;
  }

  get hasJoined(): boolean {
    return this.everJoined;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** The connection the transport should be working on (0 before the first open). */
  get connection(): number {
    return this.conn;
  }

  start(now: number): SessionEffect[] {
    if (this.started || this.stopped) return [];
    this.started = true;
    if (this.o.endAtMs !== undefined) this.setTimer(T.end, Math.max(0, this.o.endAtMs - now));
    this.open(now);
    return this.flush();
  }

  stop(_now: number): SessionEffect[] {
    if (this.stopped) return [];
    this.stopped = true;
    this.attemptOpen = false;
    for (const id of [...this.chats.keys()]) this.endChatNow(id, { outcome: 'cancelled' });
    for (const key of [...this.timers]) this.cancelTimer(key);
    if (this.live) this.out.push({ type: 'close', conn: this.conn });
    this.live = false;
    if (this.isJoined) {
      this.isJoined = false;
      this.out.push({ type: 'joined', joined: false });
    }
    if (this.started) this.metric('ws_never_joined', this.everJoined ? 0 : 1);
    this.out.push({ type: 'stopped' });
    return this.flush();
  }

  /** The transport's socket opened (websocket 101); `replica` from the upgrade reply when known. */
  onOpen(conn: number, _now: number, replica?: string): SessionEffect[] {
    if (!this.current(conn)) return [];
    this.transportOpen = true;
    if (replica !== undefined) this.replica = replica;
    return this.flush();
  }

  /** A replica name learnt for this connection (e.g. from a refused handshake's reply). */
  onReplica(conn: number, replica: string | undefined): void {
    if (this.current(conn) && replica !== undefined) this.replica = replica;
  }

  /** One text frame of the current socket. */
  onFrame(conn: number, now: number, frame: string): SessionEffect[] {
    if (!this.current(conn)) return [];
    let eio;
    try {
      eio = decodeEio(frame);
    } catch {
      return []; // an unreadable frame is no reason to drop the socket; the ping watchdog decides
    }
    switch (eio.type) {
      case 'open':
        this.pingBudgetMs = eio.data.pingInterval + eio.data.pingTimeout;
        this.setTimer(T.ping, this.pingBudgetMs);
        this.send(sioFrame({ type: 'connect', nsp: '/', data: { token: this.o.token } }));
        break;
      case 'ping':
        if (this.pingBudgetMs > 0) this.setTimer(T.ping, this.pingBudgetMs);
        this.send(encodeEio(eio.data === undefined ? { type: 'pong' } : { type: 'pong', data: eio.data }));
        break;
      case 'close':
        this.closeNow(now);
        break;
      case 'message':
        this.onPacket(now, eio.data);
        break;
      default:
        break;
    }
    return this.flush();
  }

  /**
   * The attempt failed at the transport (refused handshake, network error): `failure`, or
   * `'pending'` when the adapter will report it later with `onFailure` (k6's handshake probe).
   * The socket counts as closed.
   */
  onTransportError(conn: number, now: number, failure: ConnectFailure | 'pending'): SessionEffect[] {
    if (!this.current(conn)) return [];
    if (failure === 'pending') {
      if (!this.transportOpen) this.pendingFailure = true;
    } else this.fail(failure);
    this.lost(now);
    return this.flush();
  }

  /** A failure learnt late for an attempt (k6's handshake probe); ignored once another counted. */
  onFailure(conn: number, now: number, failure: ConnectFailure): SessionEffect[] {
    if (conn !== this.conn || !this.pendingFailure || this.stopped) return [];
    this.pendingFailure = false;
    this.fail(failure);
    // The reconnect waited for this answer, so the failure belongs to ITS attempt.
    if (!this.live) this.scheduleReconnect(now);
    return this.flush();
  }

  /** The current socket closed (by the server, the network, or a close we asked for). */
  onClose(conn: number, now: number): SessionEffect[] {
    if (!this.current(conn)) return [];
    this.lost(now);
    return this.flush();
  }

  /** /api/version answered (`status` 0 = no answer). */
  onVersion(conn: number, now: number, status: number): SessionEffect[] {
    if (!this.current(conn) || this.versionDone) return [];
    this.versionDone = true;
    if (status === 0 || status >= 400)
      this.metric('http_errors', 1, { status: String(status), endpoint: VERSION_ENDPOINT });
    this.maybeJoined(now);
    return this.flush();
  }

  onTimer(key: TimerKey, now: number): SessionEffect[] {
    if (!this.timers.delete(key)) return [];
    switch (key) {
      case T.end:
        return this.stop(now);
      case T.reconnect:
        this.open(now);
        break;
      case T.connect:
        if (this.live && !this.isJoined) {
          this.fail({ reason: 'connect_timeout' });
          this.closeNow(now);
        }
        break;
      case T.join:
        if (this.live && !this.isJoined) {
          this.fail({ reason: 'join_timeout' });
          this.closeNow(now);
        }
        break;
      case T.ping:
        if (this.live) this.closeNow(now);
        break;
      case T.heartbeat:
        if (this.live && this.isJoined) {
          this.send(sioFrame({ type: 'event', nsp: '/', data: ['heartbeat', {}] }));
          this.setTimer(T.heartbeat, this.o.heartbeatMs ?? HEARTBEAT_MS);
        }
        break;
      default:
        if (key.startsWith('grace:')) this.onGrace(key.slice('grace:'.length));
        else if (key.startsWith('chat:')) this.endChatNow(key.slice('chat:'.length), { outcome: 'timeout' });
    }
    return this.flush();
  }

  /**
   * Starts routing a socket-mode chat with message id `id` (only while joined: false otherwise).
   * `timeoutMs`: the session ends it as `timeout` then (else the caller does, with `endChat`).
   */
  beginChat(
    id: string,
    _now: number,
    opts: { timeoutMs?: number } = {},
  ): { ok: boolean; effects: SessionEffect[] } {
    if (!this.isJoined || this.stopped || this.chats.has(id)) return { ok: false, effects: [] };
    this.chats.set(id, { disconnectsAtStart: this.disconnects, events: 0 });
    if (opts.timeoutMs !== undefined) this.setTimer(T.chat(id), opts.timeoutMs);
    return { ok: true, effects: this.flush() };
  }

  /** The chat's POST was accepted: without any envelope within `graceMs` it is lost. */
  chatAccepted(id: string, _now: number, graceMs: number): SessionEffect[] {
    const chat = this.chats.get(id);
    if (chat && chat.events === 0) this.setTimer(T.grace(id), graceMs);
    return this.flush();
  }

  /** Ends a chat from outside (its timeout, the run's cancel, a failed POST). */
  endChat(
    id: string,
    _now: number,
    reason: ChatEndReason,
    http?: { endpoint: string; replica?: string },
  ): SessionEffect[] {
    if (!this.chats.has(id)) return [];
    if (http && reason.status !== undefined)
      this.metric('http_errors', 1, {
        ...(http.replica !== undefined ? { replica: http.replica } : {}),
        status: reason.status,
        endpoint: http.endpoint,
      });
    this.endChatNow(id, reason);
    return this.flush();
  }

  /** The tags of this client's samples now: `client: browser`, and `replica` once known. */
  tags(): Record<string, string> {
    const tags: Record<string, string> = { client: 'browser' };
    if (this.replica !== undefined) tags['replica'] = this.replica;
    return tags;
  }

  hasChat(id: string): boolean {
    return this.chats.has(id);
  }

  // ---------------------------------------------------------------------------------------------

  private current(conn: number): boolean {
    return conn === this.conn && this.live && !this.stopped;
  }

  private open(now: number): void {
    if (this.stopped) return;
    this.conn++;
    this.live = true;
    this.transportOpen = false;
    this.pendingFailure = false;
    this.attemptOpen = true;
    this.sid = undefined;
    this.joinAckId = undefined;
    this.joinAcked = false;
    this.versionDone = false;
    this.pingBudgetMs = 0;
    this.openStartMs = now;
    this.out.push({ type: 'open', conn: this.conn });
    this.setTimer(T.connect, this.o.connectTimeoutMs ?? CONNECT_TIMEOUT_MS);
  }

  private onPacket(now: number, text: string): void {
    let p;
    try {
      p = decodeSioPacket(text);
    } catch {
      return;
    }
    switch (p.type) {
      case 'connect': {
        if (this.joinAckId !== undefined) return; // a second CONNECT on the same socket: ignore
        const data = p.data as { sid?: unknown } | undefined;
        this.sid = typeof data?.sid === 'string' ? data.sid : undefined;
        this.joinAckId = ++this.ackId;
        this.setTimer(T.join, this.o.joinTimeoutMs ?? JOIN_TIMEOUT_MS);
        this.send(
          sioFrame({
            type: 'event',
            nsp: '/',
            id: this.joinAckId,
            data: ['user-join', { auth: { token: this.o.token } }],
          }),
        );
        this.out.push({ type: 'fetch-version', conn: this.conn });
        return;
      }
      case 'connect_error':
        this.fail(connectErrorFailure(p.data));
        this.closeNow(now);
        return;
      case 'disconnect':
        this.closeNow(now);
        return;
      case 'ack': {
        if (this.joinAckId === undefined || p.id !== this.joinAckId || this.joinAcked) return;
        const refused = joinAckFailure(p.data);
        if (refused) {
          // Open WebUI keeps such a socket connected but in no room: it would never see a chat event.
          this.fail(refused);
          this.closeNow(now);
          return;
        }
        this.joinAcked = true;
        this.cancelTimer(T.join);
        this.maybeJoined(now);
        return;
      }
      case 'event': {
        const parts = eventParts(p);
        if (!parts) return;
        const { name, args } = parts;
        if (name === this.o.behaviour.chatEventName || name === 'events' || name === 'chat-events')
          this.onEnvelope(now, args[0]);
        return;
      }
      default:
        return;
    }
  }

  private maybeJoined(now: number): void {
    if (this.isJoined || !this.joinAcked || !this.versionDone || !this.live) return;
    this.isJoined = true;
    this.everJoined = true;
    this.attemptOpen = false;
    this.attempt = 0;
    this.cancelTimer(T.connect);
    this.metric('ws_connect_time', now - this.openStartMs);
    if (this.disconnectAtMs !== undefined) {
      this.reconnects++;
      this.metric('ws_reconnects', 1);
      this.metric('ws_reconnect_time', now - this.disconnectAtMs);
      this.disconnectAtMs = undefined;
    }
    if (this.o.behaviour.heartbeat) this.setTimer(T.heartbeat, this.o.heartbeatMs ?? HEARTBEAT_MS);
    this.out.push({ type: 'joined', joined: true });
  }

  private onEnvelope(now: number, payload: unknown): void {
    const env = interpretEnvelope(payload);
    if (!env || env.messageId === undefined) return;
    const chat = this.chats.get(env.messageId);
    if (!chat) return;
    chat.events++;
    this.cancelTimer(T.grace(env.messageId));
    const ev = env.event;
    this.out.push({ type: 'chat-event', id: env.messageId, event: ev, at: now });
    if ((ev.kind === 'completion' && ev.done) || ev.kind === 'error' || ev.kind === 'cancel')
      this.endChatNow(env.messageId, undefined);
  }

  private onGrace(id: string): void {
    const chat = this.chats.get(id);
    if (!chat || chat.events > 0) return;
    this.endChatNow(id, {
      outcome: 'timeout',
      reason: this.disconnects > chat.disconnectsAtStart ? 'disconnected' : 'no_event',
    });
  }

  private endChatNow(id: string, reason: ChatEndReason | undefined): void {
    const chat = this.chats.get(id);
    if (!chat) return;
    this.chats.delete(id);
    this.cancelTimer(T.grace(id));
    this.cancelTimer(T.chat(id));
    let why = reason;
    if (
      why &&
      why.reason === undefined &&
      (why.outcome === 'timeout' || why.outcome === 'cancelled') &&
      this.disconnects > chat.disconnectsAtStart
    )
      // A `done` lost because our socket dropped mid-chat (events in the reconnect gap are not
      // replayed, docs/openwebui-protocol.md §8.2) is told apart from a server that went silent.
      why = { ...why, reason: 'disconnected' };
    this.out.push(why ? { type: 'chat-end', id, reason: why } : { type: 'chat-end', id });
  }

  /** We close the current socket: it counts as closed now (a later close event is ignored). */
  private closeNow(now: number): void {
    if (!this.live) return;
    this.out.push({ type: 'close', conn: this.conn });
    this.lost(now);
  }

  /** The current socket is gone: account for it and schedule the next attempt. */
  private lost(now: number): void {
    if (!this.live) return;
    this.live = false;
    for (const key of [T.connect, T.join, T.ping, T.heartbeat]) this.cancelTimer(key);
    if (!this.isJoined && !this.pendingFailure) this.fail({ reason: 'closed' });
    if (this.isJoined) {
      this.isJoined = false;
      this.disconnects++;
      this.disconnectAtMs = now;
      this.metric('ws_disconnects', 1);
      this.out.push({ type: 'joined', joined: false });
    }
    // A failure still being read (k6's handshake probe) is reported before the next attempt opens.
    if (!this.pendingFailure) this.scheduleReconnect(now);
  }

  private scheduleReconnect(now: number): void {
    const delay = this.o.backoff(this.attempt++);
    if (this.o.endAtMs === undefined || now + delay < this.o.endAtMs) this.setTimer(T.reconnect, delay);
  }

  private fail(failure: ConnectFailure): void {
    if (!this.attemptOpen) return;
    this.attemptOpen = false;
    this.pendingFailure = false;
    this.failures++;
    this.lastFailure = failure;
    this.metric('ws_connect_errors', 1, {
      reason: failure.reason,
      ...(failure.status !== undefined ? { status: failure.status } : {}),
    });
  }

  private send(text: string): void {
    if (this.live) this.out.push({ type: 'send', conn: this.conn, text });
  }

  private metric(name: SessionMetric, value: number, extra?: Record<string, string>): void {
    const tags = this.tags();
    this.out.push({ type: 'metric', name, value, tags: extra ? { ...tags, ...extra } : tags });
  }

  private setTimer(key: TimerKey, ms: number): void {
    this.timers.add(key);
    this.out.push({ type: 'timer', key, ms: Math.max(0, ms) });
  }

  private cancelTimer(key: TimerKey): void {
    if (this.timers.delete(key)) this.out.push({ type: 'cancel-timer', key });
  }

  private flush(): SessionEffect[] {
    const out = this.out;
    this.out = [];
    return out;
  }
}

/** What an adapter provides to carry out a session's effects on a real transport and clock. */
export interface SessionHost<H> {
  now(): number;
  setTimer(fn: () => void, ms: number): H;
  clearTimer(handle: H): void;
  /** Open socket `conn` (socketUrl); report its events with the session's `on…` inputs. */
  open(conn: number): void;
  send(conn: number, text: string): void;
  close(conn: number): void;
  /** GET /api/version as the web UI does on every connect; answer with `onVersion`. */
  fetchVersion(conn: number): void;
  metric(name: SessionMetric, value: number, tags: Record<string, string>): void;
  joined?(joined: boolean): void;
  chatEvent?(id: string, event: ChatEnvelopeEvent, at: number): void;
  chatEnd?(id: string, reason: ChatEndReason | undefined): void;
  stopped?(): void;
}

/**
 * Carries out a session's effects through a host: the one effect interpreter both adapters use
 * (timers by key: setting a key again replaces its timer; a fired timer goes back to the session).
 */
export class SessionRunner<H> {
  private readonly timers = new Map<TimerKey, H>();

  constructor(
    readonly session: SocketSession,
    private readonly host: SessionHost<H>,
  ) {}

  /** Feeds one session input: `runner.run((s, now) => s.onFrame(conn, now, text))`. */
  run(input: (session: SocketSession, now: number) => SessionEffect[]): void {
    this.apply(input(this.session, this.host.now()));
  }

  apply(effects: readonly SessionEffect[]): void {
    for (const e of effects) {
      switch (e.type) {
        case 'open':
          this.host.open(e.conn);
          break;
        case 'send':
          this.host.send(e.conn, e.text);
          break;
        case 'close':
          this.host.close(e.conn);
          break;
        case 'timer': {
          this.clear(e.key);
          const key = e.key;
          this.timers.set(
            key,
            this.host.setTimer(() => {
              this.timers.delete(key);
              this.run((s, now) => s.onTimer(key, now));
            }, e.ms),
          );
          break;
        }
        case 'cancel-timer':
          this.clear(e.key);
          break;
        case 'fetch-version':
          this.host.fetchVersion(e.conn);
          break;
        case 'metric':
          this.host.metric(e.name, e.value, e.tags);
          break;
        case 'joined':
          this.host.joined?.(e.joined);
          break;
        case 'chat-event':
          this.host.chatEvent?.(e.id, e.event, e.at);
          break;
        case 'chat-end':
          this.host.chatEnd?.(e.id, e.reason);
          break;
        case 'stopped':
          this.host.stopped?.();
          break;
      }
    }
  }

  /** Timers still set (0 after stop). */
  get pendingTimers(): number {
    return this.timers.size;
  }

  private clear(key: TimerKey): void {
    const h = this.timers.get(key);
    if (h !== undefined) {
      this.host.clearTimer(h);
      this.timers.delete(key);
    }
  }
}
