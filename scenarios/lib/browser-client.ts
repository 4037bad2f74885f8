// One browser client over k6 WebSockets (DESIGN §5, openwebui-protocol.md §5, §10.2), speaking
// Engine.IO v4 / Socket.IO v5 with the shared codec, measured by the Node engine's
// SnapshotRecorder so both engines apply the same definitions.
//
// Contract:
// - Connects websocket-only to `/ws/socket.io/?EIO=4&transport=websocket` with the site's `Origin`
//   (`sockets.origin`, default the base URL's origin, as a browser sends it), CONNECT with
//   `auth: {token}`, then `user-join` with an ack; connected + joined = `ws_connect_time` (from the
//   socket open start).
// - Every failed attempt is one `ws_connect_errors` sample tagged `reason`, decided by the same
//   shared code as the Node engine (protocol/browser-session.ts, measure/connect-recorder.ts). k6
//   reports a refused handshake only as an error event, so the client then repeats the handshake
//   once as a plain HTTP GET to read its status and body. At the end `ws_never_joined` (1/0).
// - A 2xx chat reply that is not Open WebUI's task reply is a `protocol_error` outcome; a chat
//   without any event within `eventGraceMs` of its accepted reply is lost at once.
// - Answers every Engine.IO ping with a pong; sends `heartbeat` every 30 s when the version has it.
// - Unplanned close → `ws_disconnects`, then reconnects with the web UI's jittered 1–5 s backoff
//   (shared `backoffDelay`), forever until the deadline; joined again → `ws_reconnects` and
//   `ws_reconnect_time` (disconnect → joined). A chat in flight survives a reconnect: the next
//   cumulative frame restores its text.
// - Chats in socket mode (`session_id` = current sid, our own message id); frames are routed by
//   message id and timed with the receive timestamp of the websocket message event. Chat timing:
//   `chatIntervalMs` undefined → back to back; > 0 → one start per interval; ≤ 0 → idle.
// - At the deadline every in-flight chat ends as `cancelled`, timers are cleared and the socket is
//   closed, so the k6 iteration (and the VU's event loop) ends.

import http from 'k6/http';
import { clearInterval, clearTimeout, setInterval, setTimeout } from 'k6/timers';
import { WebSocket } from 'k6/websockets';
import { backoffDelay } from '../../src/engines/measure/backoff.js';
import { ConnectRecorder } from '../../src/engines/measure/connect-recorder.js';
import {
  DEFAULT_EVENT_GRACE_MS,
  classifySocketChatReply,
  connectErrorFailure,
  handshakeFailure,
  joinAckFailure,
  siteOrigin,
} from '../../src/protocol/browser-session.js';
import { SnapshotRecorder } from '../../src/engines/measure/snapshot-recorder.js';
import { decodeEio, encodeEio } from '../../src/protocol/engineio.js';
import { generateTokens } from '../../src/protocol/ground-truth.js';
import {
  buildSocketChatBody,
  interpretEnvelope,
  uuid4,
  type OwuiBehaviour,
} from '../../src/protocol/openwebui.js';
import { decodeSioPacket, eventParts, sioFrame } from '../../src/protocol/socketio.js';
import { directivePrompt } from './api-chat.js';
import type { ScenarioConfig, UserToken } from './config.js';
import { k6Emit, record } from './metrics.js';

const HEARTBEAT_MS = 30_000;
const CHAT_PATH = '/api/chat/completions';
/** socket.io-client's connect timeout, and how long a `user-join` ack may take. */
const CONNECT_TIMEOUT_MS = 20_000;
const JOIN_TIMEOUT_MS = 10_000;

interface ChatState {
  recorder: SnapshotRecorder;
  timer: number;
}

export interface BrowserClientOptions {
  config: ScenarioConfig;
  behaviour: OwuiBehaviour;
  user: UserToken;
  /** Epoch ms at which the client stops. */
  endAtMs: number;
  random: () => number;
}

export class BrowserClient {
  private ws: WebSocket | undefined;
  private sid: string | undefined;
  private joined = false;
  private stopping = false;
  private attempt = 0;
  private connectStartMs = 0;
  private disconnectAtMs: number | undefined;
  private ackId = 0;
  private joinAckId = -1;
  private heartbeat: number | undefined;
  private readonly timers = new Set<number>();
  private readonly chats = new Map<string, ChatState>();
  private readonly emit = k6Emit();
  private readonly tags: Record<string, string> = { client: 'browser' };
  private chatLoopStarted = false;
  private waitingToChat = false;
  private opened = false;
  private attemptTimer: number | undefined;
  private readonly origin: string;
  private readonly connects: ConnectRecorder;

  constructor(private readonly o: BrowserClientOptions) {
    this.origin = siteOrigin(o.config.baseUrl, o.config.sockets?.origin);
    this.connects = new ConnectRecorder({ emit: this.emit, tags: () => JSON.stringify(this.tags) });
  }

  start(): void {
    this.later(() => this.stop(), Math.max(0, this.o.endAtMs - Date.now()));
    this.connect();
  }

  private socketPath(): string {
    return '/ws/socket.io/?EIO=4&transport=websocket';
  }

  private connect(): void {
    if (this.stopping) return;
    this.connectStartMs = Date.now();
    this.opened = false;
    this.connects.attempt();
    const url = `${this.o.config.baseUrl.replace(/^http/, 'ws')}${this.socketPath()}`;
    const ws = new WebSocket(url, null, { tags: this.tags, headers: { Origin: this.origin } });
    this.ws = ws;
    this.attemptTimer = this.later(() => {
      if (this.ws === ws && !this.joined) {
        this.connects.fail(Date.now(), { reason: 'connect_timeout' });
        ws.close();
      }
    }, CONNECT_TIMEOUT_MS);
    ws.onopen = () => {
      if (this.ws === ws) this.opened = true;
    };
    ws.onmessage = (event) => {
      if (this.ws !== ws || !event) return;
      const at = typeof event.timestamp === 'number' && event.timestamp > 1e12 ? event.timestamp : Date.now();
      if (typeof event.data === 'string') this.onFrame(event.data, at);
    };
    ws.onclose = () => this.onClosed(ws);
    ws.onerror = () => {
      if (this.ws === ws && !this.opened) this.probeHandshake();
      this.onClosed(ws);
    };
  }

  /**
   * k6 gives a refused handshake only as an error event: repeat it once as a plain GET with the
   * same upgrade headers to read the status and body a browser would see.
   */
  private probeHandshake(): void {
    http
      .asyncRequest('GET', `${this.o.config.baseUrl}${this.socketPath()}`, null, {
        headers: {
          Connection: 'Upgrade',
          Upgrade: 'websocket',
          'Sec-WebSocket-Version': '13',
          'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
          Origin: this.origin,
        },
        timeout: '5s',
        tags: { ...this.tags, endpoint: '/ws/socket.io/' },
      })
      .then(
        (res) => {
          const body = typeof res.body === 'string' ? res.body : '';
          this.connects.fail(
            Date.now(),
            res.status === 0 ? { reason: 'network', detail: res.error } : handshakeFailure(res.status, body),
          );
        },
        () => this.connects.fail(Date.now(), { reason: 'network' }),
      );
  }

  private send(text: string): void {
    // Number(): on k6's experimental websockets (0.4x) readyState is a Go-typed object, so
    // `=== 1` was never true and the client silently sent nothing (seen on a real v0.49.0).
    if (this.ws && Number(this.ws.readyState) === 1) this.ws.send(text);
  }

  private onFrame(frame: string, at: number): void {
    let eio;
    try {
      eio = decodeEio(frame);
    } catch {
      return; // a frame we cannot read is not a reason to drop the socket; the server's ping decides
    }
    switch (eio.type) {
      case 'open':
        this.send(sioFrame({ type: 'connect', nsp: '/', data: { token: this.o.user.token } }));
        return;
      case 'ping':
        this.send(encodeEio(eio.data === undefined ? { type: 'pong' } : { type: 'pong', data: eio.data }));
        return;
      case 'close':
        if (this.ws) this.ws.close();
        return;
      case 'message':
        this.onPacket(eio.data, at);
        return;
      default:
        return;
    }
  }

  private onPacket(text: string, at: number): void {
    let p;
    try {
      p = decodeSioPacket(text);
    } catch {
      return;
    }
    switch (p.type) {
      case 'connect': {
        const data = p.data as { sid?: unknown } | undefined;
        this.sid = typeof data?.sid === 'string' ? data.sid : undefined;
        this.joinAckId = this.ackId++;
        const joinId = this.joinAckId;
        this.later(() => {
          if (!this.joined && this.joinAckId === joinId && this.ws) {
            this.connects.fail(Date.now(), { reason: 'join_timeout' });
            this.ws.close();
          }
        }, JOIN_TIMEOUT_MS);
        this.send(
          sioFrame({
            type: 'event',
            nsp: '/',
            id: this.joinAckId,
            data: ['user-join', { auth: { token: this.o.user.token } }],
          }),
        );
        return;
      }
      case 'connect_error':
        this.connects.fail(Date.now(), connectErrorFailure(p.data));
        if (this.ws) this.ws.close();
        return;
      case 'disconnect':
        if (this.ws) this.ws.close();
        return;
      case 'ack':
        if (p.id === this.joinAckId) {
          const refused = joinAckFailure(Array.isArray(p.data) ? p.data : []);
          if (refused) {
            // Open WebUI keeps such a socket connected but in no room: it would never see a chat.
            this.connects.fail(at, refused);
            if (this.ws) this.ws.close();
          } else this.onJoined(at);
        }
        return;
      case 'event': {
        const parts = eventParts(p);
        if (!parts) return;
        if (
          parts.name === this.o.behaviour.chatEventName ||
          parts.name === 'events' ||
          parts.name === 'chat-events'
        ) {
          this.onEnvelope(parts.args[0], at);
        }
        return;
      }
      default:
        return;
    }
  }

  private onJoined(at: number): void {
    this.joined = true;
    this.connects.joined();
    if (this.attemptTimer !== undefined) this.clearLater(this.attemptTimer);
    this.attempt = 0;
    record('ws_connect_time', at - this.connectStartMs, this.tags);
    if (this.disconnectAtMs !== undefined) {
      record('ws_reconnects', 1, this.tags);
      record('ws_reconnect_time', at - this.disconnectAtMs, this.tags);
      this.disconnectAtMs = undefined;
    }
    if (this.o.behaviour.heartbeat && this.heartbeat === undefined) {
      this.heartbeat = setInterval(
        () => this.send(sioFrame({ type: 'event', nsp: '/', data: ['heartbeat', {}] })),
        HEARTBEAT_MS,
      );
    }
    if (!this.chatLoopStarted) {
      this.chatLoopStarted = true;
      this.startChatLoop();
    } else if (this.waitingToChat) {
      this.waitingToChat = false;
      this.startChat();
    }
  }

  private onClosed(ws: WebSocket): void {
    if (this.ws !== ws) return; // a late event of a socket already replaced
    const wasJoined = this.joined;
    this.ws = undefined;
    this.joined = false;
    this.sid = undefined;
    if (this.heartbeat !== undefined) {
      clearInterval(this.heartbeat);
      this.heartbeat = undefined;
    }
    if (this.stopping) return;
    // The probe of a refused handshake reports that attempt; any other close before joining is one.
    if (!wasJoined && this.opened) this.connects.fail(Date.now(), { reason: 'closed' });
    // A failed (re)connect attempt is not a new disconnect: only losing a joined socket counts.
    if (wasJoined && this.disconnectAtMs === undefined) {
      this.disconnectAtMs = Date.now();
      record('ws_disconnects', 1, this.tags);
    }
    const delay = backoffDelay(this.attempt++, this.o.random);
    if (Date.now() + delay < this.o.endAtMs) this.later(() => this.connect(), delay);
  }

  private startChatLoop(): void {
    const interval = this.o.config.sockets?.chatIntervalMs;
    if (interval === undefined) {
      this.startChat();
    } else if (interval > 0) {
      this.startChat();
      const tick = (): void => {
        this.startChat();
        this.later(tick, interval);
      };
      this.later(tick, interval);
    }
  }

  private startChat(): void {
    const sockets = this.o.config.sockets;
    if (this.stopping || !sockets) return;
    if (!this.joined || this.sid === undefined) {
      // Back-to-back mode waits for the next join; interval mode simply misses this tick.
      if (this.o.config.sockets?.chatIntervalMs === undefined) this.waitingToChat = true;
      return;
    }
    const seed = Math.floor(this.o.random() * 2_147_483_647);
    const messageId = uuid4(this.o.random);
    const startMs = Date.now();
    const expected = this.o.config.verify ? generateTokens(seed, sockets.tokens) : undefined;
    const recorder = new SnapshotRecorder({
      startMs,
      expected,
      emit: this.emit,
      tagsJson: JSON.stringify(this.tags),
    });
    const timer = this.later(() => this.finishChat(messageId, { outcome: 'timeout' }), sockets.timeoutMs);
    this.chats.set(messageId, { recorder, timer });
    const body = buildSocketChatBody({
      model: this.o.config.model,
      prompt: directivePrompt(this.o.config, seed, sockets.tokens),
      sessionId: this.sid,
      messageId,
      userMessageId: uuid4(this.o.random),
      behaviour: this.o.behaviour,
      nowSeconds: startMs / 1000,
      // Title/tags/follow-up generation are extra LLM calls unrelated to what we measure.
      backgroundTasks: false,
    });
    http
      .asyncRequest('POST', `${this.o.config.baseUrl}${CHAT_PATH}`, JSON.stringify(body), {
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${this.o.user.token}` },
        timeout: `${sockets.timeoutMs}ms`,
        tags: { ...this.tags, endpoint: CHAT_PATH },
      })
      .then(
        (res) => {
          if (res.status === 0 || res.status >= 400) {
            const status = String(res.status);
            record('http_errors', 1, { ...this.tags, status, endpoint: CHAT_PATH });
            this.finishChat(messageId, { outcome: 'http_error', status });
            return;
          }
          const ct = res.headers['Content-Type'] ?? res.headers['content-type'];
          const reply = classifySocketChatReply(res.status, ct, typeof res.body === 'string' ? res.body : '');
          if (!reply.ok) {
            this.finishChat(messageId, {
              outcome: 'protocol_error',
              status: reply.status,
              contentType: reply.contentType,
            });
            return;
          }
          // Accepted: the answer comes over the socket; nothing within the grace means never.
          this.later(() => {
            const chat = this.chats.get(messageId);
            if (chat && chat.recorder.eventsSeen === 0 && !chat.recorder.terminated)
              this.finishChat(messageId, { outcome: 'timeout', reason: 'no_event' });
          }, sockets.eventGraceMs ?? DEFAULT_EVENT_GRACE_MS);
        },
        () => {
          record('http_errors', 1, { ...this.tags, status: '0', endpoint: CHAT_PATH });
          this.finishChat(messageId, { outcome: 'http_error', status: '0' });
        },
      );
  }

  private onEnvelope(envelope: unknown, at: number): void {
    const parsed = interpretEnvelope(envelope);
    if (!parsed || parsed.messageId === undefined) return;
    const chat = this.chats.get(parsed.messageId);
    if (!chat) return;
    chat.recorder.noteEvent();
    const event = parsed.event;
    switch (event.kind) {
      case 'completion':
        chat.recorder.onCompletion(at, event.text, event.done);
        if (event.done) this.finishChat(parsed.messageId);
        return;
      case 'error':
        chat.recorder.onError(event.message);
        this.finishChat(parsed.messageId);
        return;
      case 'cancel':
        chat.recorder.onCancel();
        this.finishChat(parsed.messageId);
        return;
      default:
        return;
    }
  }

  private finishChat(
    messageId: string,
    reason?: {
      outcome: 'timeout' | 'cancelled' | 'http_error' | 'protocol_error';
      status?: string;
      contentType?: string;
      reason?: string;
    },
  ): void {
    const chat = this.chats.get(messageId);
    if (!chat) return;
    this.chats.delete(messageId);
    this.clearLater(chat.timer);
    chat.recorder.finish(Date.now(), reason);
    if (this.o.config.sockets?.chatIntervalMs === undefined && !this.stopping)
      this.later(() => this.startChat(), 0);
  }

  private stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.connects.abandon();
    this.connects.end(Date.now());
    for (const id of [...this.chats.keys()]) this.finishChat(id, { outcome: 'cancelled' });
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    const ws = this.ws;
    this.ws = undefined;
    if (ws) ws.close();
  }

  private later(fn: () => void, ms: number): number {
    const id: number = setTimeout(() => {
      this.timers.delete(id);
      fn();
    }, ms);
    this.timers.add(id);
    return id;
  }

  private clearLater(id: number): void {
    clearTimeout(id);
    this.timers.delete(id);
  }
}
