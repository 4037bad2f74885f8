// The one Socket.IO browser session as a pure state machine: frames and transport events in,
// effects out, a virtual clock. Both engines' browser clients are adapters of this, so what is
// proven here holds for the Node engine and the k6 scenarios alike.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sioFrame } from '../../../src/protocol/socketio.js';
import { behaviourFor, parseVersion } from '../../../src/protocol/openwebui.js';
import {
  SessionRunner,
  SocketSession,
  socketUrl,
  type ChatEndReason,
  type SessionMetric,
  type SocketSessionOptions,
} from '../../../src/protocol/socket-session.js';

const T0 = 1_700_000_000_000;
const TOKEN = 'jwt-1';

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

/** A virtual transport + clock around one session, driven through the real SessionRunner. */
class Harness {
  now = T0;
  private seq = 0;
  private timers: Timer[] = [];
  readonly opens: number[] = [];
  readonly closes: number[] = [];
  readonly sent: { conn: number; text: string }[] = [];
  readonly versions: number[] = [];
  readonly metrics: { name: SessionMetric; value: number; tags: Record<string, string>; at: number }[] = [];
  readonly joinedChanges: boolean[] = [];
  readonly chatEvents: { id: string; kind: string; at: number }[] = [];
  readonly chatEnds: { id: string; reason: ChatEndReason | undefined }[] = [];
  readonly backoffCalls: number[] = [];
  stoppedCalls = 0;
  readonly session: SocketSession;
  readonly runner: SessionRunner<number>;

  constructor(opts: Partial<SocketSessionOptions> = {}) {
    this.session = new SocketSession({
      token: TOKEN,
      behaviour: behaviourFor(parseVersion('0.11.0')),
      backoff: (n) => {
        this.backoffCalls.push(n);
        return 1000 * (n + 1);
      },
      ...opts,
    });
    this.runner = new SessionRunner<number>(this.session, {
      now: () => this.now,
      setTimer: (fn, ms) => {
        const id = ++this.seq;
        this.timers.push({ id, at: this.now + ms, fn });
        return id;
      },
      clearTimer: (id) => {
        this.timers = this.timers.filter((t) => t.id !== id);
      },
      open: (conn) => this.opens.push(conn),
      send: (conn, text) => this.sent.push({ conn, text }),
      close: (conn) => this.closes.push(conn),
      fetchVersion: (conn) => this.versions.push(conn),
      metric: (name, value, tags) => this.metrics.push({ name, value, tags, at: this.now }),
      joined: (j) => this.joinedChanges.push(j),
      chatEvent: (id, event, at) => this.chatEvents.push({ id, kind: event.kind, at }),
      chatEnd: (id, reason) => this.chatEnds.push({ id, reason }),
      stopped: () => this.stoppedCalls++,
    });
  }

  get conn(): number {
    return this.session.connection;
  }

  start(): this {
    this.runner.run((s, now) => s.start(now));
    return this;
  }

  /** Runs every timer due within `ms`, in time order, moving the clock. */
  advance(ms: number): this {
    const end = this.now + ms;
    for (;;) {
      const next = [...this.timers].sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!next || next.at > end) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.now = Math.max(this.now, next.at);
      next.fn();
    }
    this.now = end;
    return this;
  }

  frame(text: string, conn = this.conn): this {
    this.runner.run((s, now) => s.onFrame(conn, now, text));
    return this;
  }

  open(conn = this.conn, replica?: string): this {
    this.runner.run((s, now) => s.onOpen(conn, now, replica));
    return this;
  }

  close(conn = this.conn): this {
    this.runner.run((s, now) => s.onClose(conn, now));
    return this;
  }

  version(status = 200, conn = this.conn): this {
    this.runner.run((s, now) => s.onVersion(conn, now, status));
    return this;
  }

  stop(): this {
    this.runner.run((s, now) => s.stop(now));
    return this;
  }

  /** The id of the last `user-join` sent. */
  joinId(): number {
    const join = [...this.sent].reverse().find((s) => s.text.includes('"user-join"'));
    if (!join) throw new Error('no user-join sent');
    return Number(/^42(\d+)/.exec(join.text)![1]);
  }

  /** Engine.IO open → CONNECT → ack → version: a joined socket. */
  join(opts: { sid?: string; versionFirst?: boolean } = {}): this {
    this.open()
      .frame(EIO_OPEN)
      .frame(`40${JSON.stringify({ sid: opts.sid ?? 'sid-1' })}`);
    if (opts.versionFirst) this.version().frame(ack(this.joinId()));
    else this.frame(ack(this.joinId())).version();
    return this;
  }

  /** beginChat with its effects carried out; true when the chat is routed. */
  chat(id: string, opts: { timeoutMs?: number } = {}): boolean {
    const r = this.session.beginChat(id, this.now, opts);
    this.runner.apply(r.effects);
    return r.ok;
  }

  joinIdOr(fallback: number): number {
    return this.sent.some((s) => s.text.includes('"user-join"')) ? this.joinId() : fallback;
  }

  count(name: SessionMetric): number {
    return this.metrics.filter((m) => m.name === name).length;
  }

  values(name: SessionMetric): number[] {
    return this.metrics.filter((m) => m.name === name).map((m) => m.value);
  }

  errors(): string[] {
    return this.metrics.filter((m) => m.name === 'ws_connect_errors').map((m) => m.tags['reason']!);
  }

  get pendingTimers(): number {
    return this.timers.length;
  }
}

const EIO_OPEN = `0${JSON.stringify({ sid: 'eio', upgrades: [], pingInterval: 25_000, pingTimeout: 20_000, maxPayload: 1e6 })}`;
const ack = (id: number, args: unknown[] = [{ id: 'user-1', name: 'U' }]): string =>
  `43${id}${JSON.stringify(args)}`;
const envelope = (messageId: string, type: string, data: unknown, name = 'events'): string =>
  sioFrame({
    type: 'event',
    nsp: '/',
    data: [name, { chat_id: 'c', message_id: messageId, data: { type, data } }],
  });
const completion = (id: string, content: string, done = false): string =>
  envelope(id, 'chat:completion', done ? { content, done: true } : { content });

describe('SocketSession: connect and join', () => {
  it('opens, sends CONNECT {token}, then user-join with an ack id and GET /api/version; joined only after both', () => {
    const h = new Harness().start();
    expect(h.opens).toEqual([1]);
    h.open(1, 'r1').advance(120).frame(EIO_OPEN);
    expect(h.sent.at(-1)).toEqual({ conn: 1, text: `40${JSON.stringify({ token: TOKEN })}` });
    h.frame('40{"sid":"S1"}');
    expect(JSON.parse(h.sent.at(-1)!.text.replace(/^42\d+/, ''))).toEqual([
      'user-join',
      { auth: { token: TOKEN } },
    ]);
    expect(h.versions).toEqual([1]);
    h.frame(ack(h.joinId()));
    expect(h.session.joined).toBe(false);
    h.advance(30).version(200);
    expect(h.session.joined).toBe(true);
    expect(h.session.sessionId).toBe('S1');
    expect(h.metrics).toEqual([
      { name: 'ws_connect_time', value: 150, tags: { client: 'browser', replica: 'r1' }, at: T0 + 150 },
    ]);
    expect(h.joinedChanges).toEqual([true]);
    expect(h.errors()).toEqual([]);
  });

  it('the version may answer before the ack (any order); a failed version call is an http_errors sample, not a failed join', () => {
    const h = new Harness().start().open().frame(EIO_OPEN).frame('40{"sid":"S"}');
    h.version(503);
    expect(h.session.joined).toBe(false);
    h.frame(ack(h.joinId()));
    expect(h.session.joined).toBe(true);
    expect(h.metrics.find((m) => m.name === 'http_errors')?.tags).toEqual({
      client: 'browser',
      status: '503',
      endpoint: '/api/version',
    });
    const none = new Harness().start().join({ versionFirst: true });
    expect(none.count('http_errors')).toBe(0);
    const unanswered = new Harness().start().open().frame(EIO_OPEN).frame('40{}');
    unanswered.version(0).frame(ack(unanswered.joinId()));
    expect(unanswered.metrics.find((m) => m.name === 'http_errors')?.tags['status']).toBe('0');
  });

  it('answers every ping with a pong carrying its data; sends heartbeat {} every 30 s while joined (only where the version has it)', () => {
    const h = new Harness().start().join();
    h.frame('2').frame('2probe');
    expect(h.sent.slice(-2).map((s) => s.text)).toEqual(['3', '3probe']);
    const before = h.sent.length;
    for (let i = 0; i < 4; i++) h.advance(20_000).frame('2');
    const beats = h.sent.slice(before).filter((s) => s.text === '42["heartbeat",{}]');
    expect(beats).toHaveLength(2); // at 30 s and 60 s of 80 s
    const old = new Harness({ behaviour: behaviourFor(parseVersion('0.6.30')) }).start().join();
    old.advance(20_000).frame('2').advance(20_000).frame('2');
    expect(old.sent.filter((s) => s.text.includes('heartbeat'))).toHaveLength(0);
  });

  it('ignores what a server should not send: acks with other ids, a second ack, an ack before CONNECT, a second CONNECT, garbage', () => {
    const h = new Harness().start().open().frame(EIO_OPEN);
    h.frame(ack(1)).frame('garbage').frame('').frame('4not json').frame('42"not an array"');
    h.frame('40{"sid":"A"}');
    const id = h.joinId();
    h.frame(ack(id + 5)).version();
    expect(h.session.joined).toBe(false);
    h.frame('40{"sid":"B"}');
    expect(h.sent.filter((s) => s.text.includes('user-join'))).toHaveLength(1);
    h.frame(ack(id)).frame(ack(id, []));
    expect(h.session.joined).toBe(true);
    expect(h.session.sessionId).toBe('A');
    expect(h.errors()).toEqual([]);
    expect(h.closes).toEqual([]);
  });
});

describe('SocketSession: failed attempts (one ws_connect_errors each)', () => {
  it('an empty user-join ack is join_refused: the socket is closed, not counted as a disconnect, and retried with backoff', () => {
    const h = new Harness().start().open().frame(EIO_OPEN).frame('40{}').version();
    h.frame(ack(h.joinId(), []));
    expect(h.errors()).toEqual(['join_refused']);
    expect(h.closes).toEqual([1]);
    h.close(1); // the transport's close event of the socket we closed: nothing more
    expect(h.errors()).toEqual(['join_refused']);
    expect(h.count('ws_disconnects')).toBe(0);
    h.advance(999);
    expect(h.opens).toEqual([1]);
    h.advance(1);
    expect(h.opens).toEqual([1, 2]);
  });

  it('CONNECT refused: connect_error, or origin_refused when python-engineio says so', () => {
    const a = new Harness().start().open().frame(EIO_OPEN).frame('44{"message":"Unauthorized"}');
    expect(a.errors()).toEqual(['connect_error']);
    const b = new Harness()
      .start()
      .open()
      .frame(EIO_OPEN)
      .frame('44{"message":"http://x is not an accepted origin."}');
    expect(b.errors()).toEqual(['origin_refused']);
  });

  it('join_timeout: no ack 10 s after user-join; connect_timeout: not joined 20 s after the open started', () => {
    const j = new Harness().start().open().frame(EIO_OPEN).frame('40{}').version();
    j.advance(9_999);
    expect(j.errors()).toEqual([]);
    j.advance(1);
    expect(j.errors()).toEqual(['join_timeout']);
    expect(j.closes).toEqual([1]);

    const c = new Harness().start().open(); // 101 but no Engine.IO open ever
    c.advance(20_000);
    expect(c.errors()).toEqual(['connect_timeout']);
    // acked but /api/version never answers: the connect budget, not the join's, runs out
    const v = new Harness().start().open().frame(EIO_OPEN).frame('40{}');
    v.frame(ack(v.joinId())).advance(20_000);
    expect(v.errors()).toEqual(['connect_timeout']);
    expect(v.session.joined).toBe(false);
  });

  it('a refused handshake is ONE sample with its status even though the close follows', () => {
    const h = new Harness().start();
    h.runner.run((s, now) => s.onTransportError(1, now, { reason: 'handshake', status: '400' }));
    h.close(1);
    expect(h.metrics.filter((m) => m.name === 'ws_connect_errors').map((m) => m.tags)).toEqual([
      { client: 'browser', reason: 'handshake', status: '400' },
    ]);
    expect(h.session.failures).toBe(1);
    expect(h.session.lastFailure).toMatchObject({ reason: 'handshake' });
  });

  it('k6: a pending failure holds the reconnect until the probe answers, so the sample belongs to its own attempt', () => {
    const h = new Harness().start();
    h.runner.run((s, now) => s.onTransportError(1, now, 'pending'));
    h.close(1).advance(60_000);
    expect(h.opens).toEqual([1]);
    expect(h.errors()).toEqual([]);
    h.runner.run((s, now) => s.onFailure(1, now, { reason: 'origin_refused', status: '403' }));
    h.runner.run((s, now) => s.onFailure(1, now, { reason: 'network' })); // a second answer: ignored
    expect(h.errors()).toEqual(['origin_refused']);
    h.advance(1000);
    expect(h.opens).toEqual([1, 2]);
  });

  it('a close before joining is `closed`; an error after the socket opened is not pending', () => {
    const h = new Harness().start().open().frame(EIO_OPEN).close();
    expect(h.errors()).toEqual(['closed']);
    const k = new Harness().start().open();
    k.runner.run((s, now) => s.onTransportError(1, now, 'pending'));
    expect(k.errors()).toEqual(['closed']);
    expect(k.pendingTimers).toBeGreaterThan(0);
  });

  it('the backoff attempt counter grows per failure and resets on join', () => {
    const h = new Harness().start();
    h.close().advance(1000).close().advance(2000).close().advance(3000);
    expect(h.backoffCalls).toEqual([0, 1, 2]);
    h.join().frame('1'); // server Engine.IO close after joining
    expect(h.backoffCalls).toEqual([0, 1, 2, 0]);
    expect(h.errors()).toEqual(['closed', 'closed', 'closed']);
  });
});

describe('SocketSession: losing and regaining a joined socket', () => {
  it('ping timeout (pingInterval + pingTimeout without a ping) closes the socket: disconnect, then reconnect timed from the loss', () => {
    const h = new Harness().start().join();
    h.advance(44_999);
    expect(h.closes).toEqual([]);
    h.advance(1);
    expect(h.closes).toEqual([1]);
    expect(h.metrics.filter((m) => m.name === 'ws_disconnects').map((m) => m.at)).toEqual([T0 + 45_000]);
    expect(h.joinedChanges).toEqual([true, false]);
    h.advance(1000);
    expect(h.opens).toEqual([1, 2]);
    h.advance(250).join();
    expect(h.values('ws_reconnects')).toEqual([1]);
    expect(h.values('ws_reconnect_time')).toEqual([1250]);
    expect(h.session.disconnects).toBe(1);
    expect(h.session.reconnects).toBe(1);
  });

  it('pings keep a socket alive indefinitely', () => {
    const h = new Harness().start().join();
    for (let i = 0; i < 40; i++) h.advance(25_000).frame('2');
    expect(h.closes).toEqual([]);
    expect(h.count('ws_disconnects')).toBe(0);
  });

  it('Engine.IO close, Socket.IO disconnect and a transport close each lose the socket once; late input of the old socket is ignored', () => {
    for (const lose of [
      (h: Harness) => h.frame('1'),
      (h: Harness) => h.frame('41'),
      (h: Harness) => h.close(),
    ]) {
      const h = new Harness().start().join();
      lose(h);
      h.close(1).frame('40{"sid":"late"}', 1).version(200, 1);
      expect(h.count('ws_disconnects')).toBe(1);
      h.advance(1000).open(2).frame(EIO_OPEN, 1).frame(ack(1), 1);
      expect(h.sent.filter((s) => s.conn === 2)).toEqual([]);
      expect(h.errors()).toEqual([]);
    }
  });

  it('failed reconnect attempts are connect errors, not further disconnects', () => {
    const h = new Harness().start().join().close();
    h.advance(1000).close().advance(2000).close().advance(3000).join();
    expect(h.count('ws_disconnects')).toBe(1);
    expect(h.errors()).toEqual(['closed', 'closed']);
    expect(h.values('ws_reconnect_time')).toEqual([6000]);
  });
});

describe('SocketSession: stop, end and never-joined', () => {
  it('a client that never joined says so (ws_never_joined 1) once; a joined one says 0; one never started says nothing', () => {
    const never = new Harness().start();
    never.close().advance(1000).close().advance(2000).stop().stop();
    expect(never.values('ws_never_joined')).toEqual([1]);
    expect(never.errors()).toEqual(['closed', 'closed']); // the attempt open at stop is abandoned, not a failure
    const joined = new Harness().start().join().close().stop();
    expect(joined.values('ws_never_joined')).toEqual([0]);
    const idle = new Harness().stop();
    expect(idle.metrics).toEqual([]);
  });

  it('stop cancels every timer, closes the live socket without a disconnect, ends chats as cancelled and then ignores all input', () => {
    const h = new Harness().start().join();
    h.chat('m1');
    h.stop();
    expect(h.pendingTimers).toBe(0);
    expect(h.runner.pendingTimers).toBe(0);
    expect(h.closes).toEqual([1]);
    expect(h.count('ws_disconnects')).toBe(0);
    expect(h.chatEnds).toEqual([{ id: 'm1', reason: { outcome: 'cancelled' } }]);
    expect(h.stoppedCalls).toBe(1);
    const n = h.metrics.length;
    h.frame('2').close().version().advance(120_000);
    expect(h.metrics.length).toBe(n);
    expect(h.opens).toEqual([1]);
  });

  it('endAtMs: the session stops itself then and schedules no reconnect that would start after it', () => {
    const h = new Harness({ endAtMs: T0 + 10_000 }).start().join();
    h.advance(8_500).close(); // backoff 1000 → 9 500 < end: scheduled
    h.advance(1000);
    expect(h.opens).toEqual([1, 2]);
    h.close(); // backoff 2000 → past the end: not scheduled
    h.advance(400);
    expect(h.opens).toEqual([1, 2]);
    h.advance(100);
    expect(h.values('ws_never_joined')).toEqual([0]);
    expect(h.pendingTimers).toBe(0);
  });
});

describe('SocketSession: chat routing', () => {
  const joined = (): Harness => new Harness().start().join();

  it('only while joined; routes envelopes of OUR message id (any of the event names) and ends on done', () => {
    const h = new Harness().start();
    expect(h.chat('m1')).toBe(false);
    h.join();
    expect(h.chat('m1')).toBe(true);
    expect(h.chat('m1')).toBe(false);
    h.frame(completion('other', 'x')).frame(envelope('m1', 'chat:active', { active: true }, 'chat-events'));
    h.advance(5)
      .frame(completion('m1', 'a'))
      .frame(envelope('m1', 'response:completion', { type: 'response.output_text.delta', delta: 'b' }));
    h.frame(completion('m1', 'ab', true)).frame(completion('m1', 'abc', true));
    expect(h.chatEvents.map((e) => e.kind)).toEqual(['active', 'completion', 'delta', 'completion']);
    expect(h.chatEvents.every((e) => e.id === 'm1')).toBe(true);
    expect(h.chatEnds).toEqual([{ id: 'm1', reason: undefined }]);
  });

  it('frames may arrive before the POST reply: an accepted chat that already saw an event arms no grace', () => {
    const h = joined();
    h.chat('m1');
    h.frame(completion('m1', 'a'));
    h.runner.run((s, now) => s.chatAccepted('m1', now, 10_000));
    h.advance(60_000);
    expect(h.chatEnds).toEqual([]);
  });

  it('error and cancel end a chat (no reason: the recorder calls it truncated)', () => {
    const h = joined();
    h.chat('e');
    h.chat('c');
    h.frame(envelope('e', 'chat:message:error', { error: { content: 'boom' } }));
    h.frame(envelope('c', 'chat:tasks:cancel', {}));
    expect(h.chatEnds.map((e) => e.id).sort()).toEqual(['c', 'e']);
    expect(h.chatEnds.every((e) => e.reason === undefined)).toBe(true);
  });

  it('the event grace: nothing within it is lost as no_event — or disconnected when the socket dropped meanwhile', () => {
    const a = joined();
    a.chat('m');
    a.runner.run((s, now) => s.chatAccepted('m', now, 10_000));
    a.advance(10_000);
    expect(a.chatEnds).toEqual([{ id: 'm', reason: { outcome: 'timeout', reason: 'no_event' } }]);
    const b = joined();
    b.chat('m');
    b.close();
    b.runner.run((s, now) => s.chatAccepted('m', now, 10_000));
    b.advance(10_000);
    expect(b.chatEnds).toEqual([{ id: 'm', reason: { outcome: 'timeout', reason: 'disconnected' } }]);
  });

  it('a lost done: the socket drops mid-chat, the chat survives the reconnect and times out as disconnected', () => {
    const h = joined();
    expect(h.chat('m', { timeoutMs: 60_000 })).toBe(true);
    h.frame(completion('m', 'partial'));
    h.advance(45_000); // no pings: the watchdog drops the socket; `done` is sent while we are away
    h.advance(1000).join({ sid: 'sid-2' });
    h.frame(completion('m', 'partial and more')); // a later cumulative frame still reaches it
    h.advance(20_000);
    expect(h.chatEvents.filter((e) => e.id === 'm')).toHaveLength(2);
    expect(h.chatEnds).toEqual([{ id: 'm', reason: { outcome: 'timeout', reason: 'disconnected' } }]);
    const quiet = joined();
    quiet.chat('m', { timeoutMs: 5_000 });
    quiet.advance(5_000);
    expect(quiet.chatEnds).toEqual([{ id: 'm', reason: { outcome: 'timeout' } }]);
  });

  it('endChat from outside ends it once; a failed POST is also an http_errors sample with its endpoint and replica', () => {
    const h = joined();
    h.chat('m', { timeoutMs: 1000 });
    h.runner.run((s, now) =>
      s.endChat(
        'm',
        now,
        { outcome: 'http_error', status: '502' },
        { endpoint: '/api/chat/completions', replica: 'r2' },
      ),
    );
    h.advance(5000).frame(completion('m', 'x', true));
    expect(h.chatEnds).toEqual([{ id: 'm', reason: { outcome: 'http_error', status: '502' } }]);
    expect(h.metrics.find((m) => m.name === 'http_errors')?.tags).toEqual({
      client: 'browser',
      replica: 'r2',
      status: '502',
      endpoint: '/api/chat/completions',
    });
    h.runner.run((s, now) => s.endChat('m', now, { outcome: 'cancelled' }));
    expect(h.chatEnds).toHaveLength(1);
  });
});

describe('SocketSession: invariants under any order of input (fast-check)', () => {
  type Step =
    | { k: 'frame'; f: string; old: boolean }
    | { k: 'open' }
    | { k: 'close'; old: boolean }
    | { k: 'error'; pending: boolean }
    | { k: 'failure' }
    | { k: 'version'; status: number }
    | { k: 'wait'; ms: number }
    | { k: 'chat'; id: string }
    | { k: 'accepted'; id: string }
    | { k: 'end'; id: string };
  const frames = [
    EIO_OPEN,
    '2',
    '1',
    '40{"sid":"S"}',
    '41',
    '44{"message":"no"}',
    '431[{"id":"u"}]',
    '432[{"id":"u"}]',
    '431[]',
    completion('a', 'x'),
    completion('a', 'xy', true),
    completion('b', 'z', true),
    envelope('b', 'chat:tasks:cancel', {}),
    'junk',
  ];
  const step: fc.Arbitrary<Step> = fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({
        k: fc.constant('frame' as const),
        f: fc.constantFrom(...frames),
        old: fc.boolean(),
      }),
    },
    fc.record({ k: fc.constant('open' as const) }),
    fc.record({ k: fc.constant('close' as const), old: fc.boolean() }),
    fc.record({ k: fc.constant('error' as const), pending: fc.boolean() }),
    fc.record({ k: fc.constant('failure' as const) }),
    fc.record({ k: fc.constant('version' as const), status: fc.constantFrom(0, 200, 500) }),
    {
      weight: 3,
      arbitrary: fc.record({ k: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 30_000 }) }),
    },
    fc.record({ k: fc.constant('chat' as const), id: fc.constantFrom('a', 'b') }),
    fc.record({ k: fc.constant('accepted' as const), id: fc.constantFrom('a', 'b') }),
    fc.record({ k: fc.constant('end' as const), id: fc.constantFrom('a', 'b') }),
  );

  it('every attempt ends as exactly one of joined / failed / abandoned; disconnects ≥ reconnects; each chat ends once; stop leaves nothing', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 80 }), (steps) => {
        const h = new Harness().start();
        const begun: string[] = [];
        for (const s of steps) {
          const conn =
            s.k === 'frame' || s.k === 'close' ? (s.old ? Math.max(1, h.conn - 1) : h.conn) : h.conn;
          switch (s.k) {
            case 'frame':
              if (s.f.startsWith('43') && s.f.length > 3)
                h.frame(s.f.replace(/^43\d/, `43${h.joinIdOr(1)}`), conn);
              else h.frame(s.f, conn);
              break;
            case 'open':
              h.open();
              break;
            case 'close':
              h.close(conn);
              break;
            case 'error':
              h.runner.run((x, now) =>
                x.onTransportError(h.conn, now, s.pending ? 'pending' : { reason: 'network' }),
              );
              break;
            case 'failure':
              h.runner.run((x, now) => x.onFailure(h.conn, now, { reason: 'handshake', status: '400' }));
              break;
            case 'version':
              h.version(s.status);
              break;
            case 'wait':
              h.advance(s.ms);
              break;
            case 'chat': {
              if (h.chat(s.id, { timeoutMs: 20_000 })) begun.push(s.id);
              break;
            }
            case 'accepted':
              h.runner.run((x, now) => x.chatAccepted(s.id, now, 5_000));
              break;
            case 'end':
              h.runner.run((x, now) => x.endChat(s.id, now, { outcome: 'cancelled' }));
              break;
          }
        }
        h.stop();
        const joins = h.count('ws_connect_time');
        const errors = h.count('ws_connect_errors');
        // the last attempt may be abandoned by stop (or still be waiting for its pending probe)
        expect(joins + errors).toBeGreaterThanOrEqual(h.opens.length - 1);
        expect(joins + errors).toBeLessThanOrEqual(h.opens.length);
        expect(h.count('ws_reconnects')).toBeLessThanOrEqual(h.count('ws_disconnects'));
        expect(h.count('ws_disconnects')).toBeLessThanOrEqual(joins);
        expect(h.values('ws_never_joined')).toEqual([joins > 0 ? 0 : 1]);
        expect(h.chatEnds.map((e) => e.id)).toEqual(begun);
        expect(h.pendingTimers).toBe(0);
        expect(h.session.joined).toBe(false);
        expect(h.metrics.every((m) => m.value >= 0 && Number.isFinite(m.value))).toBe(true);
      }),
      { numRuns: 400 },
    );
  });
});

it('socketUrl: websocket transport only, ws(s) scheme, one slash', () => {
  expect(socketUrl('http://127.0.0.1:8080/')).toBe(
    'ws://127.0.0.1:8080/ws/socket.io/?EIO=4&transport=websocket',
  );
  expect(socketUrl('https://chat.example.com')).toBe(
    'wss://chat.example.com/ws/socket.io/?EIO=4&transport=websocket',
  );
});
