// One browser client over k6 WebSockets (DESIGN §5, docs/openwebui-protocol.md §5, §10.2). The
// session itself — connect, `user-join` + /api/version, heartbeat, ping watchdog, connect and join
// timeouts, reconnect with the web UI's backoff, chat routing by message id, and every ws_* sample
// — is protocol/socket-session.ts, the same code the Node engine runs; chats are measured by the
// Node engine's SnapshotRecorder. This file is the k6 adapter (k6/websockets from k6 v1.6,
// k6/experimental/websockets before: the bundler picks the module, src/engines/k6/bundle.ts) plus
// the scenario's chat loop.
//
// Contract:
// - Connects websocket-only to `/ws/socket.io/?EIO=4&transport=websocket` with the site's `Origin`
//   (`sockets.origin`, default the base URL's origin, as a browser sends it).
// - k6 reports a refused handshake only as an error event, so the client then repeats the
//   handshake once as a plain HTTP GET to read its status and body (the session waits for that
//   answer before it reconnects, so the failure is that attempt's).
// - k6 gives no upgrade response headers: samples carry no `replica` tag (the Node engine's do).
// - Chats in socket mode (`session_id` = current sid, our own message id) POSTed to `chatPath`;
//   frames are timed with the receive timestamp of the websocket message event. Chat timing:
//   `chatIntervalMs` undefined → back to back; > 0 → one start per interval; ≤ 0 → idle.
// - At `endAtMs` the session stops: every in-flight chat ends as `cancelled`, timers are cleared
//   and the socket is closed, so the k6 iteration (and the VU's event loop) ends.

import http from 'k6/http';
import { clearTimeout, setTimeout } from 'k6/timers';
import { WebSocket } from 'k6/websockets';
import { backoffDelay } from '../../src/engines/measure/backoff.js';
import {
  DEFAULT_EVENT_GRACE_MS,
  classifySocketChatReply,
  handshakeFailure,
  siteOrigin,
} from '../../src/protocol/browser-session.js';
import { SnapshotRecorder } from '../../src/engines/measure/snapshot-recorder.js';
import { generateTokens } from '../../src/protocol/ground-truth.js';
import { buildSocketChatBody, uuid4, type OwuiBehaviour } from '../../src/protocol/openwebui.js';
import {
  SOCKET_PATH,
  SOCKET_QUERY,
  SessionRunner,
  SocketSession,
  VERSION_ENDPOINT,
  socketUrl,
  type ChatEndReason,
} from '../../src/protocol/socket-session.js';
import { directivePrompt } from './api-chat.js';
import type { ScenarioConfig, UserToken } from './config.js';
import { k6Emit, record } from './metrics.js';

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
  private wsConn = 0;
  private readonly session: SocketSession;
  private readonly runner: SessionRunner<number>;
  private readonly chats = new Map<string, SnapshotRecorder>();
  private readonly loopTimers = new Set<number>();
  private readonly emit = k6Emit();
  private readonly origin: string;
  private chatLoopStarted = false;
  private waitingToChat = false;

  constructor(private readonly o: BrowserClientOptions) {
    this.origin = siteOrigin(o.config.baseUrl, o.config.sockets?.origin);
    this.session = new SocketSession({
      token: o.user.token,
      behaviour: o.behaviour,
      backoff: (n) => backoffDelay(n, o.random),
      endAtMs: o.endAtMs,
    });
    this.runner = new SessionRunner<number>(this.session, {
      now: () => Date.now(),
      setTimer: (fn, ms) => setTimeout(fn, ms),
      clearTimer: (id) => clearTimeout(id),
      open: (conn) => this.open(conn),
      send: (conn, text) => {
        // Number(): on k6's experimental websockets (0.4x) readyState is a Go-typed object, so
        // `=== 1` was never true and the client silently sent nothing (seen on a real v0.49.0).
        if (conn === this.wsConn && this.ws && Number(this.ws.readyState) === 1) this.ws.send(text);
      },
      close: (conn) => {
        const ws = this.ws;
        if (conn !== this.wsConn || !ws) return;
        this.ws = undefined;
        ws.close();
      },
      fetchVersion: (conn) => this.fetchVersion(conn),
      metric: (name, value, tags) => record(name, value, tags),
      joined: (joined) => {
        if (joined) this.onJoined();
      },
      chatEvent: (id, event, at) => this.chats.get(id)?.onEvent(at, event),
      chatEnd: (id, reason) => this.onChatEnd(id, reason),
      stopped: () => {
        for (const t of this.loopTimers) clearTimeout(t);
        this.loopTimers.clear();
      },
    });
  }

  start(): void {
    this.runner.run((s, now) => s.start(now));
  }

  private open(conn: number): void {
    const ws = new WebSocket(socketUrl(this.o.config.baseUrl), null, {
      tags: this.session.tags(),
      headers: { Origin: this.origin },
    });
    this.ws = ws;
    this.wsConn = conn;
    let opened = false;
    const run = this.runner.run.bind(this.runner);
    ws.onopen = () => {
      opened = true;
      run((s, now) => s.onOpen(conn, now));
    };
    ws.onmessage = (event) => {
      if (!event || typeof event.data !== 'string') return;
      const at = typeof event.timestamp === 'number' && event.timestamp > 1e12 ? event.timestamp : Date.now();
      const frame = event.data;
      this.runner.apply(this.session.onFrame(conn, at, frame));
    };
    ws.onclose = () => run((s, now) => s.onClose(conn, now));
    ws.onerror = () => {
      if (opened) run((s, now) => s.onClose(conn, now));
      else {
        run((s, now) => s.onTransportError(conn, now, 'pending'));
        this.probeHandshake(conn);
      }
    };
  }

  /**
   * k6 gives a refused handshake only as an error event: repeat it once as a plain GET with the
   * same upgrade headers to read the status and body a browser would see.
   */
  private probeHandshake(conn: number): void {
    http
      .asyncRequest('GET', `${this.o.config.baseUrl}${SOCKET_PATH}${SOCKET_QUERY}`, null, {
        headers: {
          Connection: 'Upgrade',
          Upgrade: 'websocket',
          'Sec-WebSocket-Version': '13',
          'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
          Origin: this.origin,
        },
        timeout: '5s',
        tags: { ...this.session.tags(), endpoint: SOCKET_PATH },
      })
      .then(
        (res) => {
          const body = typeof res.body === 'string' ? res.body : '';
          const failure =
            res.status === 0
              ? { reason: 'network' as const, ...(res.error ? { detail: res.error } : {}) }
              : handshakeFailure(res.status, body);
          this.runner.run((s, now) => s.onFailure(conn, now, failure));
        },
        () => this.runner.run((s, now) => s.onFailure(conn, now, { reason: 'network' })),
      );
  }

  private fetchVersion(conn: number): void {
    http
      .asyncRequest('GET', `${this.o.config.baseUrl}${VERSION_ENDPOINT}`, null, {
        timeout: '10s',
        tags: { ...this.session.tags(), endpoint: VERSION_ENDPOINT },
      })
      .then(
        (res) => this.runner.run((s, now) => s.onVersion(conn, now, res.status)),
        () => this.runner.run((s, now) => s.onVersion(conn, now, 0)),
      );
  }

  private onJoined(): void {
    if (!this.chatLoopStarted) {
      this.chatLoopStarted = true;
      this.startChatLoop();
    } else if (this.waitingToChat) {
      this.waitingToChat = false;
      this.startChat();
    }
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
    if (this.session.isStopped || !sockets) return;
    const sid = this.session.sessionId;
    if (sid === undefined) {
      // Back-to-back mode waits for the next join; interval mode simply misses this tick.
      if (sockets.chatIntervalMs === undefined) this.waitingToChat = true;
      return;
    }
    const path = this.o.config.chatPath;
    const seed = Math.floor(this.o.random() * 2_147_483_647);
    const messageId = uuid4(this.o.random);
    const startMs = Date.now();
    const expected = this.o.config.verify ? generateTokens(seed, sockets.tokens) : undefined;
    const recorder = new SnapshotRecorder({
      startMs,
      expected,
      emit: this.emit,
      tagsJson: JSON.stringify(this.session.tags()),
    });
    const begun = this.session.beginChat(messageId, startMs, { timeoutMs: sockets.timeoutMs });
    if (!begun.ok) return;
    this.chats.set(messageId, recorder);
    this.runner.apply(begun.effects);
    const body = buildSocketChatBody({
      model: this.o.config.model,
      prompt: directivePrompt(this.o.config, seed, sockets.tokens),
      sessionId: sid,
      messageId,
      userMessageId: uuid4(this.o.random),
      behaviour: this.o.behaviour,
      nowSeconds: startMs / 1000,
      // Title/tags/follow-up generation are extra LLM calls unrelated to what we measure.
      backgroundTasks: false,
    });
    const end = (reason: ChatEndReason, failedHttp = false): void =>
      this.runner.run((s, now) =>
        s.endChat(messageId, now, reason, failedHttp ? { endpoint: path } : undefined),
      );
    http
      .asyncRequest('POST', `${this.o.config.baseUrl}${path}`, JSON.stringify(body), {
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${this.o.user.token}` },
        timeout: `${sockets.timeoutMs}ms`,
        tags: { ...this.session.tags(), endpoint: path },
      })
      .then(
        (res) => {
          if (res.status === 0 || res.status >= 400) {
            end({ outcome: 'http_error', status: String(res.status) }, true);
            return;
          }
          const ct = res.headers['Content-Type'] ?? res.headers['content-type'];
          const reply = classifySocketChatReply(res.status, ct, typeof res.body === 'string' ? res.body : '');
          if (!reply.ok) {
            end({ outcome: 'protocol_error', status: reply.status, contentType: reply.contentType });
            return;
          }
          // Accepted: the answer comes over the socket; nothing within the grace means never.
          this.runner.run((s, now) =>
            s.chatAccepted(messageId, now, sockets.eventGraceMs ?? DEFAULT_EVENT_GRACE_MS),
          );
        },
        () => end({ outcome: 'http_error', status: '0' }, true),
      );
  }

  private onChatEnd(id: string, reason: ChatEndReason | undefined): void {
    const recorder = this.chats.get(id);
    if (!recorder) return;
    this.chats.delete(id);
    recorder.finish(Date.now(), reason);
    if (this.o.config.sockets?.chatIntervalMs === undefined && !this.session.isStopped)
      this.later(() => this.startChat(), 0);
  }

  private later(fn: () => void, ms: number): void {
    const id: number = setTimeout(() => {
      this.loopTimers.delete(id);
      fn();
    }, ms);
    this.loopTimers.add(id);
  }
}
